"""Cancer inputs: bad panels, matched normals and GFF3 stop the run before any job; the
annotation steps join the plan only when their files are configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import REPO, TESTGENOME, copy_sheets, snakemake, write_config
from tests.workflow.test_dryrun import demo_sheet, dry_run

TESTCANCER = REPO / "resources" / "testcancer"


def _edit(path: Path, sample: str, column: str, value: str) -> int:
    """Set one cell of the row of ``sample``; return that row's line number."""
    rows = [r.split("\t") for r in path.read_text().splitlines()]
    line = next(i for i, r in enumerate(rows) if r[0] == sample)
    rows[line][rows[0].index(column)] = value
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    return line + 1


def _config(tmp_path: Path, **extra: object) -> dict[str, object]:
    samples, units = copy_sheets(tmp_path)
    return {
        "samples": str(samples),
        "units": str(units),
        "reference": {"fasta": str(TESTGENOME / "genome.fa")},
        **extra,
    }


def _fails_before_any_job(tmp_path: Path, config: dict[str, object]) -> str:
    done = snakemake(tmp_path, write_config(tmp_path, config), "--cores", "1", check=False)
    assert done.returncode != 0
    assert not (tmp_path / "results").exists()
    return done.stdout + done.stderr


def test_unknown_panel_names_sheet_line_and_column(tmp_path: Path) -> None:
    config = _config(tmp_path)
    samples = Path(str(config["samples"]))
    line = _edit(samples, "CA002T", "panel", "gf-onco-v9")
    output = _fails_before_any_job(tmp_path, config)
    assert f"{samples} line {line}, column 'panel': panel 'gf-onco-v9' not found" in output
    assert "gf-onco-v9.bed does not exist" in output


def test_panel_bed_off_the_reference_names_file_and_line(tmp_path: Path) -> None:
    panels = tmp_path / "panels"
    panels.mkdir()
    lines = (REPO / "resources/panels/gf-onco-v1.bed").read_text().splitlines()
    chrom, start, _, name = lines[3].split("\t")
    lines[3] = f"{chrom}\t{start}\t999999\t{name}"
    (panels / "gf-onco-v1.bed").write_text("\n".join(lines) + "\n")
    output = _fails_before_any_job(tmp_path, _config(tmp_path, panels={"dir": str(panels)}))
    assert f"{panels / 'gf-onco-v1.bed'} line 4: {chrom}:{start}-999999 ends past the end" in output


def test_matched_normal_that_is_not_a_normal_sample(tmp_path: Path) -> None:
    config = _config(tmp_path)
    samples = Path(str(config["samples"]))
    line = _edit(samples, "CA001T", "matched_normal", "CA002T")
    output = _fails_before_any_job(tmp_path, config)
    assert f"{samples} line {line}, column 'matched_normal': 'CA002T' is of type tumour" in output


def test_gff3_on_other_contig_names_file_and_line(tmp_path: Path) -> None:
    lines = (TESTGENOME / "genes.gff3").read_text().splitlines()
    lines[10] = "\t".join(["chr9", *lines[10].split("\t")[1:]])
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text("\n".join(lines) + "\n")
    config = _config(tmp_path)
    config["reference"] = {"fasta": str(TESTGENOME / "genome.fa"), "gff3": str(gff3)}
    output = _fails_before_any_job(tmp_path, config)
    assert f"{gff3} line 11: contig 'chr9' is not in the reference" in output


def test_tumour_only_needs_normals_for_its_panel_of_normals(tmp_path: Path) -> None:
    config = _config(tmp_path)
    samples = Path(str(config["samples"]))
    _edit(samples, "CA003N", "type", "germline")  # one normal of the panel is left
    line = _edit(samples, "CA002T", "purity", "0.6")
    output = _fails_before_any_job(tmp_path, config)
    assert f"{samples} line {line}: tumour-only sample 'CA002T' (panel gf-onco-v1)" in output


@pytest.mark.parametrize("clinvar", [False, True])
def test_annotation_steps_join_the_plan_when_configured(tmp_path: Path, clinvar: bool) -> None:
    config = _config(tmp_path)
    config["reference"] = {
        "fasta": str(TESTGENOME / "genome.fa"),
        "gff3": str(TESTGENOME / "genes.gff3"),
    }
    if clinvar:
        config["annotation"] = {"clinvar_vcf": str(TESTCANCER / "clinvar.vcf.gz")}
    counts = dry_run(tmp_path, config)
    sheet = demo_sheet()
    tumours = len(sheet.by_type("tumour"))
    groups = counts["germline_filter"]
    assert counts["snpeff_ann_germline"] == groups
    assert counts["snpeff_ann_somatic"] == tumours
    assert counts["snpeff_build"] == 1  # one database for every group and tumour
    assert counts.get("bcftools_annotate_germline", 0) == (groups if clinvar else 0)
    assert counts.get("bcftools_annotate_somatic", 0) == (tumours if clinvar else 0)


def test_wgs_tumours_call_the_whole_genome_with_a_wgs_panel_of_normals(tmp_path: Path) -> None:
    config = _config(tmp_path)
    samples = Path(str(config["samples"]))
    for sample in demo_sheet().samples:
        if sample.startswith("CA"):  # the panel samples: tumours, normals and plasma
            _edit(samples, sample, "assay", "wgs")
            _edit(samples, sample, "panel", "")
    counts = dry_run(tmp_path, config)
    assert counts["genomflow_genome_regions"] == 1
    assert counts["bcftools_mpileup_somatic"] == len(demo_sheet().by_type("tumour"))
    assert counts["genomflow_pon"] == 1
    assert "mosdepth_panel" not in counts and "genomflow_coverage" not in counts
