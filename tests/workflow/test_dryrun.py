"""Planning: lint, dry runs of the demo and of small variant configs, job counts per rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from genomflow.germline import GERMLINE_TYPES, calling_groups
from genomflow.sheets import Cohort, load_sheets
from tests.conftest import REPO, TESTGENOME, copy_sheets, snakemake, write_config


def demo_sheet() -> Cohort:
    """The demo batch's sheets, as the workflow reads them."""
    return load_sheets(REPO / "config/samples.tsv", REPO / "config/units.tsv", base_dir=REPO)


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as rule -> count."""
    table = output.split("Job stats:", 1)[1]
    counts: dict[str, int] = {}
    for line in table.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match is None:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def dry_run(workdir: Path, config: dict[str, object]) -> dict[str, int]:
    done = snakemake(workdir, write_config(workdir, config), "--dry-run", "--cores", "2")
    return job_counts(done.stdout + done.stderr)


@pytest.fixture
def minimal_config(tmp_path: Path) -> dict[str, object]:
    samples, units = copy_sheets(tmp_path)
    return {
        "samples": str(samples),
        "units": str(units),
        "reference": {"fasta": str(TESTGENOME / "genome.fa")},
    }


def test_lint_is_clean() -> None:
    done = snakemake(REPO, REPO / "config" / "config.yaml", "--lint", check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_minimal_config_plans_the_whole_demo(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    counts = dry_run(tmp_path, minimal_config)
    # The demo sheet: a trio (one family, the proband with 2 lanes), cancer panel samples
    # (a tumour with its matched normal, a tumour-only sample, one more normal) and serial
    # plasma samples with UMIs.
    sheet = demo_sheet()
    n_units, n_samples = len(sheet.units), len(sheet.samples)
    umi_samples = {u.sample for u in sheet.units if u.umi}
    plasma = sheet.by_type("plasma")
    germline = [s for s in sheet.samples.values() if s.type in GERMLINE_TYPES]
    tumours = sheet.by_type("tumour")
    panel_samples = [s for s in sheet.samples.values() if s.assay == "panel"]
    groups = calling_groups(sheet)
    # Panels of normals: one per panel with a tumour-only sample (these demo normals are 2).
    pon_sets = {t.panel for t in tumours if not t.matched_normal}
    per_unit = {"fastp_trim": n_units, "bwa_mem": n_units}
    per_sample = {
        "samtools_markdup": n_samples - len(umi_samples),
        "alignment_deliver": n_samples,
        # samtools stats, mosdepth and the metrics JSON: one job per sample.
        "qc_metrics": n_samples,
        # The germline deliverable and its bcftools stats: one job per germline sample.
        "bcftools_view_sample": len(germline),
        "genomflow_report": n_samples,
    }
    # The default scatter window (50 Mb) keeps the whole test genome in one chunk.
    per_group = {
        "germline_ploidy": len(groups),
        "bcftools_call": len(groups),
        "germline_filter": len(groups),
    }
    cancer = {
        "bcftools_mpileup_somatic": len(tumours),
        "genomflow_somatic": len(tumours),
        "bcftools_norm_somatic": len(tumours),
        "bcftools_mpileup_pon": len(pon_sets),
        "genomflow_pon": len(pon_sets),
        "mosdepth_panel": len(panel_samples),
        "genomflow_coverage": len(panel_samples),
        "qc_panel_genes": 1 if panel_samples else 0,  # per-gene coverage for MultiQC
        # MSI of every tumour: microsatellites per target set of a tumour, the baseline of
        # the normals for the tumour-only sets, the batch's biomarker table.
        "genomflow_msi_scan": len({t.panel for t in tumours}),
        "genomflow_msi_baseline": len(pon_sets),
        "genomflow_msi": len(tumours),
        "genomflow_biomarkers_table": 1 if tumours else 0,
    }
    # Copy number (CNVkit): panel tumours, normals and germline samples (not plasma); the
    # bins and the reference once per panel, the accessible genome once.
    cnv_samples = [s for s in panel_samples if s.type in ("tumour", "normal", "germline")]
    cnv_panels = {s.panel for s in cnv_samples}
    cancer |= {
        "cnvkit_access": 1 if cnv_samples else 0,
        "genomflow_cnv_targets": len(cnv_panels),
        "cnvkit_antitarget": len(cnv_panels),
        "cnvkit_reference": len(cnv_panels),
        "cnvkit_coverage": len(cnv_samples),
        "cnvkit_call": len(cnv_samples),
        "genomflow_cnv": len(cnv_samples),
        "genomflow_cnv_multiqc": len(cnv_samples),
    }
    # Structural variants (delly): the calling groups' WGS germline samples, jointly.
    sv_groups = {
        g: [s for s in members if sheet.samples[s].assay == "wgs"] for g, members in groups.items()
    }
    cancer |= {
        "delly_call": sum(1 for members in sv_groups.values() if members),
        "delly_call_somatic": sum(1 for t in tumours if t.assay == "wgs"),
        "genomflow_sv": sum(len(members) for members in sv_groups.values())
        + sum(1 for t in tumours if t.assay == "wgs"),
    }
    # The batch's SV/CNV calls per sample, one MultiQC table.
    cancer["genomflow_sv_table"] = 1 if cnv_samples or cancer["genomflow_sv"] else 0
    ctdna = {
        "genomflow_consensus": len(umi_samples),
        "genomflow_ctdna_monitor": len(plasma),
        "genomflow_ctdna_timeline": 1 if plasma else 0,
    }
    cancer = {rule: n for rule, n in {**cancer, **ctdna}.items() if n}
    once = {
        "reference_prepare": 1,
        "reference_chunks": 1,
        "samtools_faidx": 1,
        "samtools_dict": 1,
        "bwa_index": 1,
        "genomflow_versions": 1,
        "genomflow_config": 1,
        "genomflow_refget": 1,
        "qc_status": 1,
        "multiqc_report": 1,
        "all": 1,
    }
    expected = {**per_unit, **per_sample, **per_group, **cancer, **once}
    assert counts == {**expected, "total": sum(expected.values())}


def test_wgs_copy_number_adds_cnvkit_jobs_for_the_germline_wgs_samples(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    panel = dry_run(tmp_path, minimal_config)
    counts = dry_run(tmp_path, {**minimal_config, "cnv": {"wgs": True}})
    wgs = [s for s in demo_sheet().samples.values() if s.assay == "wgs"]
    assert wgs and all(s.type == "germline" for s in wgs)
    # per WGS sample: coverage, call, report, plot; once: bins, antitargets, reference
    for rule in ("cnvkit_coverage", "cnvkit_call", "genomflow_cnv", "genomflow_cnv_multiqc"):
        assert counts[rule] == panel[rule] + len(wgs), rule
    for rule in ("genomflow_cnv_targets", "cnvkit_antitarget", "cnvkit_reference"):
        assert counts[rule] == panel[rule] + 1, rule
    assert counts["cnvkit_access"] == 1


def test_freebayes_replaces_bcftools_call(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    counts = dry_run(tmp_path, {**minimal_config, "germline": {"caller": "freebayes"}})
    assert counts["freebayes_call"] == len(calling_groups(demo_sheet()))
    assert "bcftools_call" not in counts


def test_cram_deliverables_replace_bam_with_the_same_jobs(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    bam_counts = dry_run(tmp_path, minimal_config)
    config = write_config(tmp_path, {**minimal_config, "alignment_format": "cram"})
    done = snakemake(tmp_path, config, "--dry-run", "--cores", "2", "--printshellcmds")
    output = done.stdout + done.stderr
    assert job_counts(output) == bam_counts
    for sample in demo_sheet().samples:
        assert f"results/samples/{sample}/{sample}.cram.crai" in output
        assert f"results/samples/{sample}/{sample}.bam" not in output
    assert "-O cram --reference results/reference/genome.fa --write-index" in output
    assert "samtools stats --reference results/reference/genome.fa" in output


def test_small_windows_scatter_calling_over_chunks(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    # 50 kb windows over the ~330 kb test genome (chr1 150 kb, chr2 110 kb, chrX, chrY).
    counts = dry_run(tmp_path, {**minimal_config, "scatter": {"window_size": 50_000}})
    groups = len(calling_groups(demo_sheet()))
    chunks, remainder = divmod(counts["bcftools_call"], groups)
    assert remainder == 0
    assert chunks >= 7  # at least 3 + 3 windows for chr1 and chr2, and the sex chromosomes
    assert counts["germline_filter"] == groups  # gathers the chunks
    assert counts["reference_chunks"] == 1


def test_singletons_are_called_alone(tmp_path: Path, minimal_config: dict[str, object]) -> None:
    samples = Path(str(minimal_config["samples"]))
    rows = [line.split("\t") for line in samples.read_text().splitlines()]
    family, father, mother = (rows[0].index(c) for c in ("family", "father", "mother"))
    for row in rows[1:]:
        row[family] = row[father] = row[mother] = ""
    samples.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    counts = dry_run(tmp_path, minimal_config)
    germline = [s for s in demo_sheet().samples.values() if s.type in GERMLINE_TYPES]
    assert counts["bcftools_call"] == len(germline)
    assert counts["germline_ploidy"] == len(germline)
    assert counts["bcftools_view_sample"] == len(germline)


def test_a_load_url_adds_the_load_rule(tmp_path: Path, minimal_config: dict[str, object]) -> None:
    assert "genomflow_load" not in dry_run(tmp_path, minimal_config)
    db = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    assert dry_run(tmp_path, {**minimal_config, "load": {"db": db}})["genomflow_load"] == 1


def test_identity_sites_add_genotyping_and_the_identity_check(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    counts = dry_run(tmp_path, minimal_config)
    assert "bcftools_identity" not in counts
    assert "qc_identity" not in counts
    reference = {
        "fasta": str(TESTGENOME / "genome.fa"),
        "identity_sites": str(TESTGENOME / "common_snps.vcf.gz"),
    }
    counts = dry_run(tmp_path, {**minimal_config, "reference": reference})
    assert counts["bcftools_identity"] == len(demo_sheet().samples)
    assert counts["qc_identity"] == 1
    assert counts["qc_status"] == 1


def test_gene_models_add_tumour_mutational_burden(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    assert "genomflow_tmb" not in dry_run(tmp_path, minimal_config)
    reference = {
        "fasta": str(TESTGENOME / "genome.fa"),
        "gff3": str(TESTGENOME / "genes.gff3"),
    }
    counts = dry_run(tmp_path, {**minimal_config, "reference": reference})
    assert counts["genomflow_tmb"] == len(demo_sheet().by_type("tumour"))
    assert counts["genomflow_biomarkers_table"] == 1


def _set_columns(samples: Path, values: dict[str, dict[str, str]]) -> None:
    """Set cells of samples.tsv (sample -> column -> value), adding missing columns."""
    rows = [line.split("\t") for line in samples.read_text().splitlines()]
    for column in {c for cells in values.values() for c in cells}:
        if column not in rows[0]:
            for row in rows:
                row.append(column if row is rows[0] else "")
    for row in rows[1:]:
        for column, value in values.get(row[0], {}).items():
            row[rows[0].index(column)] = value
    samples.write_text("\n".join("\t".join(r) for r in rows) + "\n")


def test_hpo_terms_plan_rare_disease_ranking(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    samples = Path(str(minimal_config["samples"]))
    _set_columns(
        samples,
        {"RD001": {"hpo": "HP:0001250"}, "RD002": {"affected": "no"}, "RD003": {"affected": "no"}},
    )
    # Without gene models there are no candidates to rank (documented in the config schema).
    assert "genomflow_rare_rank_family" not in dry_run(tmp_path, minimal_config)
    reference = {"fasta": str(TESTGENOME / "genome.fa"), "gff3": str(TESTGENOME / "genes.gff3")}
    counts = dry_run(tmp_path, {**minimal_config, "reference": reference})
    assert counts["genomflow_rare_rank_family"] == 1
    assert counts["genomflow_rare_table"] == 1  # the MultiQC section
    assert "genomflow_rare_rank_sample" not in counts
    done = snakemake(
        tmp_path,
        write_config(tmp_path, {**minimal_config, "reference": reference}),
        "--dry-run",
        "--cores",
        "1",
        "results/families/FAM001/FAM001.candidates.tsv",
    )
    assert "genomflow_rare_rank_family" in done.stdout + done.stderr
    # The trio is WGS: its SVs (joint delly calls, each member's deliverable) join the list.
    assert "delly_call" in done.stdout + done.stderr
    assert "results/samples/RD001/RD001.sv.vcf.gz" in done.stdout + done.stderr


def test_a_singleton_with_hpo_terms_gets_its_own_candidates(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    samples = Path(str(minimal_config["samples"]))
    rows = [line.split("\t") for line in samples.read_text().splitlines()]
    family, father, mother = (rows[0].index(c) for c in ("family", "father", "mother"))
    for row in rows[1:]:
        row[family] = row[father] = row[mother] = ""
    samples.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    _set_columns(samples, {"RD001": {"hpo": "HP:0001250"}})
    reference = {"fasta": str(TESTGENOME / "genome.fa"), "gff3": str(TESTGENOME / "genes.gff3")}
    counts = dry_run(tmp_path, {**minimal_config, "reference": reference})
    assert counts["genomflow_rare_rank_sample"] == 1
    assert "genomflow_rare_rank_family" not in counts
