"""genomflow.cnv: the copy-number plan, the CNVkit reference and the deliverables."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pysam
import pytest

from genomflow.cli import main
from genomflow.cnv import calls, reference
from genomflow.cnv.setup import WGS, CnvSample, CnvSetup, WgsSettings, setup
from genomflow.errors import GenomflowError
from genomflow.sheets import load_sheets
from tests.conftest import REPO

GENOME = REPO / "resources" / "testgenome" / "genome.fa"
PANEL = REPO / "resources" / "panels" / "gf-onco-v1.bed"
PANEL_OF = {s: "gf-onco-v1" for s in ("CA001T", "CA001N", "CA002T", "CA003N", "CA001P1", "CA001P2")}


def demo_setup(min_normals: int = 1) -> CnvSetup:
    cohort = load_sheets(REPO / "config" / "samples.tsv", REPO / "config" / "units.tsv")
    return setup(cohort, PANEL_OF, min_normals)


# --- the plan ----------------------------------------------------------------------------------


def test_plan_calls_tumours_and_normals_not_plasma_and_pools_the_normals() -> None:
    plan = demo_setup()
    assert list(plan.samples) == ["CA001T", "CA001N", "CA002T", "CA003N"]
    assert plan.normals == {"gf-onco-v1": ("CA001N", "CA003N")}
    assert plan.reference_options("gf-onco-v1") == "--normal CA001N --normal CA003N"
    assert plan.reference_coverages("gf-onco-v1")[:2] == [
        "results/cnv/cnvkit_coverage/CA001N.targetcoverage.cnn",
        "results/cnv/cnvkit_coverage/CA001N.antitargetcoverage.cnn",
    ]
    assert plan.deliverables("CA002T") == [
        "results/samples/CA002T/CA002T.cnv.tsv",
        "results/samples/CA002T/CA002T.cnv.vcf.gz",
        "results/samples/CA002T/CA002T.cnv.vcf.gz.tbi",
        "results/samples/CA002T/CA002T.cnv.png",
    ]
    assert plan.deliverables("CA001P1") == []


def test_wgs_copy_number_plans_the_germline_wgs_samples_on_their_own_reference() -> None:
    cohort = load_sheets(REPO / "config" / "samples.tsv", REPO / "config" / "units.tsv")
    plan = setup(cohort, PANEL_OF, 1, wgs=WgsSettings(enabled=True, bin_size=2000))
    wgs = [s for s, record in plan.samples.items() if record.panel == WGS]
    assert wgs == ["RD001", "RD002", "RD003"]
    assert plan.normals[WGS] == ()  # no WGS normal in the demo: a flat reference
    assert plan.targets_options(WGS, "access.bed") == "--access access.bed --bin-size 2000"
    assert plan.report_options("RD001").endswith("--min-length 10000 --genotype")
    assert "--genotype" not in plan.report_options("CA001N")
    assert WGS not in demo_setup().panels  # off by default
    with pytest.raises(GenomflowError, match="a panel is named 'wgs'"):
        setup(cohort, {"CA001T": WGS}, 1, wgs=WgsSettings(enabled=True))


def test_wgs_bins_tile_the_accessible_genome(tmp_path: Path) -> None:
    access = tmp_path / "access.bed"
    access.write_text("chr1\t0\t10400\nchr1\t12000\t12300\nchr2\t0\t5000\n")
    out = tmp_path / "bins.bed"
    assert main(["cnv", "targets", "--access", str(access), "--bin-size", "1000",
                 "--reference", str(GENOME), "--out", str(out)]) == 0  # fmt: skip
    rows = [line.split("\t") for line in out.read_text().splitlines()]
    assert len(rows) == 10 + 5 and rows[0] == ["chr1", "0", "1040", "-"]
    assert rows[9][:3] == ["chr1", "9360", "10400"] and rows[10][:3] == ["chr2", "0", "1000"]


def test_wgs_vcf_keeps_long_events_with_a_genotype(tmp_path: Path) -> None:
    fasta = tmp_path / "genome.fa"
    shutil.copy(GENOME, fasta)
    segments = [
        calls.Segment("chr1", 20000, 35000, (), -0.9, 1, "loss", 15),
        calls.Segment("chr1", 40000, 45000, (), -0.9, 1, "loss", 5),  # too short
        calls.Segment("chr2", 10000, 22000, (), -9.0, 0, "deletion", 12),
        calls.Segment("chr2", 78000, 93000, (), 1.0, 4, "gain", 15),
        calls.Segment("chrX", 1000, 30000, (), 0.6, 3, "gain", 29),
    ]
    context = calls.VcfContext(
        "G", "flat", "flat", None, "germline", sex="male", genotype=True, min_length=10_000
    )
    vcf = tmp_path / "G.cnv.vcf.gz"
    assert calls.write_vcf(vcf, segments, fasta, context) == 4
    with pysam.VariantFile(str(vcf)) as reader:
        rows = [(r.chrom, r.info["SVTYPE"], r.samples["G"]["GT"], r.samples["G"]["CN"])
                for r in reader]  # fmt: skip
    assert rows == [
        ("chr1", "DEL", (0, 1), 1),
        ("chr2", "DEL", (1, 1), 0),
        ("chr2", "DUP", (None, 1), 4),
        ("chrX", "DUP", (1,), 3),  # a male's X: one copy expected
    ]
    subprocess.run(["bcftools", "view", "-Ou", "-o", "/dev/null", str(vcf)], check=True)


def test_too_few_normals_give_a_flat_reference() -> None:
    plan = demo_setup(min_normals=3)
    assert plan.normals == {"gf-onco-v1": ()}
    assert plan.reference_coverages("gf-onco-v1") == []
    assert plan.reference_options("gf-onco-v1") == "--available CA001N --available CA003N"
    flat = reference.summarise("gf-onco-v1", [], 3, ["CA001N"])
    assert flat.flagged and "1 normal sample(s) of panel gf-onco-v1" in flat.note
    summary = reference.summarise("gf-onco-v1", ["CA001N", "CA003N"], 3)
    assert summary.flagged
    assert summary.note.startswith(
        "flat reference: 2 normal sample(s) of panel gf-onco-v1 in the batch (at least 3 needed)"
    )


def test_call_options_carry_purity_and_sex_and_a_tumour_without_purity_is_flagged() -> None:
    plan = demo_setup()
    assert plan.call_options("CA002T") == "--center median --purity 0.6 --sample-sex male"
    assert plan.call_options("CA001N") == "--center median --sample-sex female"
    assert plan.report_options("CA001T") == "--sex female --type tumour --purity 0.8"
    no_purity = CnvSample("T9", "p", "tumour", "unknown", None)
    assert no_purity.purity_missing
    assert CnvSetup({"T9": no_purity}, center="none").call_options("T9") == ""


# --- the reference -------------------------------------------------------------------------------


def test_reference_command_is_flat_without_normals(tmp_path: Path) -> None:
    flat = reference.summarise("p", [], 1)
    command = reference.cnvkit_command(
        flat, [], tmp_path / "t.bed", tmp_path / "a.bed", GENOME, tmp_path / "r.cnn"
    )
    assert command[:2] == ["cnvkit.py", "reference"] and "-t" in command and "-a" in command
    pooled = reference.summarise("p", ["N1"], 1)
    command = reference.cnvkit_command(
        pooled, [Path("N1.t.cnn"), Path("N1.a.cnn")], tmp_path / "t.bed", tmp_path / "a.bed",
        GENOME, tmp_path / "r.cnn",
    )  # fmt: skip
    assert command[-2:] == ["N1.t.cnn", "N1.a.cnn"] and "-t" not in command


def test_reference_with_a_coverage_missing_is_refused(tmp_path: Path) -> None:
    pooled = reference.summarise("p", ["N1", "N2"], 1)
    with pytest.raises(GenomflowError, match="2 coverage files for 2 normals"):
        reference.build(
            pooled, [Path("a"), Path("b")], Path("t"), Path("a"), GENOME,
            tmp_path / "r.cnn", tmp_path / "r.json",
        )  # fmt: skip
    assert not (tmp_path / "r.cnn").exists() and not (tmp_path / "r.json").exists()


def test_a_bad_reference_summary_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ref.json"
    path.write_text("{}")
    with pytest.raises(GenomflowError, match=f"{path}: not a copy-number reference summary"):
        reference.read_summary(path)


def test_flat_reference_is_built_by_cnvkit_and_flagged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fasta = tmp_path / "genome.fa"
    shutil.copy(GENOME, fasta)  # CNVkit indexes the FASTA beside it
    targets, antitargets = tmp_path / "t.bed", tmp_path / "a.bed"
    assert main(["cnv", "targets", "--panel", str(PANEL), "--reference", str(fasta),
                 "--out", str(targets)]) == 0  # fmt: skip
    antitargets.write_text("chr1\t1000\t6000\tAntitarget\nchr2\t1000\t6000\tAntitarget\n")
    out = tmp_path / "ref.cnn"
    code = main(["cnv", "reference", "--panel-name", "gf-onco-v1", "--targets", str(targets),
                 "--antitargets", str(antitargets), "--fasta", str(fasta), "--out", str(out),
                 "--summary-out", str(tmp_path / "ref.json")])  # fmt: skip
    assert code == 0
    assert (
        "WARNING: flat reference: no normal sample of panel gf-onco-v1" in capsys.readouterr().err
    )
    assert json.loads((tmp_path / "ref.json").read_text())["kind"] == "flat"
    table = pd.read_csv(out, sep="\t")
    assert len(table) == 34 and (table["log2"] == 0).all()


# --- calls and deliverables ----------------------------------------------------------------------


def test_classify_and_expected_copies() -> None:
    assert [calls.classify(c, 2, 6) for c in (0, 1, 2, 4, 6)] == [
        "deletion", "loss", "neutral", "gain", "amplification",
    ]  # fmt: skip
    assert calls.classify(0, 1, 6) == "deletion"
    assert calls.expected_copies("chrX", "male") == 1
    assert calls.expected_copies("chrX", "unknown") == 2


def _tables(tmp_path: Path) -> tuple[Path, Path, Path]:
    bins = pd.DataFrame(
        {
            "chromosome": ["chr1"] * 6 + ["chr2"] * 3,
            "start": [100, 300, 500, 96954, 97991, 99723, 41541, 42238, 60000],
            "end": [200, 400, 600, 97263, 98155, 99859, 41788, 42371, 65000],
            "gene": ["GFC3"] * 3 + ["GFB2"] * 3 + ["GFD4", "GFD4", "Antitarget"],
            "log2": [0.1, -0.1, 0.0, 1.4, 1.6, 1.5, -1.3, -1.4, 0.05],
        }
    )
    observed = pd.DataFrame(
        {
            "chromosome": ["chr1", "chr1", "chr2", "chr2"],
            "start": [100, 96954, 41541, 60000],
            "end": [600, 99859, 42371, 65000],
            "gene": ["GFC3", "GFB2", "GFD4", "-"],
            "log2": [0.0, 1.5, -1.35, 0.05],
            "probes": [3, 3, 2, 1],
        }
    )
    called = observed.assign(log2=[0.0, 2.0, -9.0, 0.05], cn=[2, 8, 0, 2])
    paths = (tmp_path / "x.cnr", tmp_path / "x.cns", tmp_path / "x.call.cns")
    for table, path in zip((bins, observed, called), paths, strict=True):
        table.to_csv(path, sep="\t", index=False)
    return paths


def test_segments_keep_the_observed_log2_and_genes_take_their_segment(tmp_path: Path) -> None:
    cnr, cns, called = _tables(tmp_path)
    segments = calls.read_segments(called, ["GFC3", "GFB2", "GFD4"], "female", 6, cns)
    assert [(s.copies, s.call, s.log2) for s in segments] == [
        (2, "neutral", 0.0),
        (8, "amplification", 1.5),
        (0, "deletion", -1.35),
        (2, "neutral", 0.05),
    ]
    genes = calls.gene_copies(calls.read_bins(cnr), segments, ["GFC3", "GFB2", "GFD4", "GFX9"])
    assert [(g.gene, g.copies, g.call) for g in genes] == [
        ("GFC3", 2, "neutral"), ("GFB2", 8, "amplification"), ("GFD4", 0, "deletion"),
    ]  # fmt: skip
    assert calls.noise(calls.read_bins(cnr), segments) == pytest.approx(0.05, abs=0.01)


def test_segments_from_other_calls_are_refused(tmp_path: Path) -> None:
    _, cns, called = _tables(tmp_path)
    other = pd.read_csv(cns, sep="\t").iloc[:2]
    other.to_csv(cns, sep="\t", index=False)
    with pytest.raises(GenomflowError, match="not the segments"):
        calls.read_segments(called, ["GFB2"], "female", 6, cns)


def test_a_table_that_is_not_cnvkit_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.cnr"
    path.write_text("a\tb\n1\t2\n")
    with pytest.raises(GenomflowError, match=f"{path}: not a CNVkit table"):
        calls.read_bins(path)


def test_report_of_a_tumour_without_purity_flags_it_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cnr, cns, called = _tables(tmp_path)
    summary = tmp_path / "ref.json"
    summary.write_text(json.dumps({"panel": "gf-onco-v1", "kind": "flat", "normals": [],
                                   "note": "flat reference: no normal sample"}))  # fmt: skip
    fasta = tmp_path / "genome.fa"
    shutil.copy(GENOME, fasta)
    out = {k: tmp_path / f"T1.{k}" for k in ("tsv", "vcf.gz", "genes", "png", "qc")}
    code = main(
        ["cnv", "report", "--sample", "T1", "--type", "tumour", "--sex", "female",
         "--bins", str(cnr), "--segments", str(called), "--observed", str(cns),
         "--reference-summary", str(summary), "--panel", str(PANEL), "--fasta", str(fasta),
         "--tsv", str(out["tsv"]), "--vcf", str(out["vcf.gz"]), "--genes-out", str(out["genes"]),
         "--png", str(out["png"]), "--qc-out", str(out["qc"])]
    )  # fmt: skip
    assert code == 0
    err = capsys.readouterr().err
    assert "WARNING: T1: tumour without purity: copy numbers are not corrected" in err
    assert "WARNING: T1: flat reference: no normal sample" in err
    with pysam.VariantFile(str(out["vcf.gz"])) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        records = list(vcf)
    assert meta["tumour_purity"].startswith("unknown")
    assert meta["cnv_reference"] == "flat"
    summary_of = [
        (r.chrom, r.pos, r.stop, r.alts, r.info["SVTYPE"], r.samples["T1"]["CN"]) for r in records
    ]
    assert summary_of == [
        ("chr1", 96954, 99859, ("<DUP>",), "DUP", 8),
        ("chr2", 41541, 42371, ("<DEL>",), "DEL", 0),
    ]  # fmt: skip
    assert records[1].info["SVLEN"] == -830 and records[0].info["GENES"] == ("GFB2",)
    assert Path(f"{out['vcf.gz']}.tbi").is_file()
    if shutil.which("bcftools"):
        subprocess.run(
            ["bcftools", "view", "-Ou", "-o", "/dev/null", str(out["vcf.gz"])], check=True
        )
    assert out["png"].read_bytes()[:4] == b"\x89PNG"
    assert json.loads(out["qc"].read_text())["cnv_noise"] == pytest.approx(0.05, abs=0.01)
    assert out["tsv"].read_text().splitlines()[0].split("\t") == list(calls.TSV_COLUMNS)


def test_cnv_vcf_names_the_gff3_genes_exons_and_coding_disruption(tmp_path: Path) -> None:
    from genomflow.sv.genes import read_genes

    fasta = tmp_path / "genome.fa"
    shutil.copy(GENOME, fasta)
    deletion = calls.Segment("chr2", 41541, 42371, ("GFD4",), -1.4, 0, "deletion", 2)
    context = calls.VcfContext("T1", "pooled", "pooled from N1", 0.6, "tumour")
    out = tmp_path / "T1.cnv.vcf.gz"
    models = read_genes(REPO / "resources" / "testgenome" / "genes.gff3")
    assert calls.write_vcf(out, [deletion], fasta, context, models) == 1
    with pysam.VariantFile(str(out)) as vcf:
        (record,) = list(vcf)
    assert record.info["GENES"] == ("GFD4",)
    assert record.info["EXONS"] == ("GFD4:exon1", "GFD4:exon2")
    assert "CODING" in record.info


# --- the log2 floor before segmentation ----------------------------------------------------------


def _bins(path: Path, log2: list[float]) -> Path:
    """CNVkit bins of 1 kb on one contig with the given log2 ratios (the layout of `fix`)."""
    rows = [
        f"chr20\t{i * 1000}\t{(i + 1) * 1000}\t-\t{v:.5f}\t30\t0.96" for i, v in enumerate(log2)
    ]
    path.write_text("chromosome\tstart\tend\tgene\tlog2\tdepth\tweight\n" + "\n".join(rows) + "\n")
    return path


def test_floor_raises_only_the_bins_below_it_and_names_a_bad_file(tmp_path: Path) -> None:
    cnr = _bins(tmp_path / "s.cnr", [0.01, -10.541, -24.8971, -4.99])
    out = tmp_path / "floored.cnr"
    assert calls.floor_bins(cnr, out) == 2
    before, after = cnr.read_text().splitlines(), out.read_text().splitlines()
    assert after[0] == before[0] and after[1] == before[1] and after[4] == before[4]
    assert [line.split("\t")[4] for line in after[2:4]] == ["-5", "-5"]
    assert before[2].split("\t")[:4] == after[2].split("\t")[:4]
    (tmp_path / "bad.cnr").write_text("chromosome\tstart\tend\n")
    with pytest.raises(GenomflowError, match=r"bad\.cnr: not CNVkit bins"):
        calls.floor_bins(tmp_path / "bad.cnr", out)


def _segments(cnr: Path, out: Path) -> list[tuple[int, int, float]]:
    """CNVkit's CBS segments of ``cnr`` with the pipeline's options (cnvkit_call)."""
    subprocess.run(
        ["cnvkit.py", "segment", str(cnr), "-m", "cbs", "-t", "0.0001", "-o", str(out)],
        check=True,
        capture_output=True,
    )
    table = pd.read_csv(out, sep="\t")
    return [(int(r.start), int(r.end), float(r.log2)) for r in table.itertuples()]


def test_a_homozygous_deletion_edge_bin_no_longer_hides_the_contigs_other_events(
    tmp_path: Path,
) -> None:
    # The pattern found on ART reads of real sequence (bench/sv/README.md, 2026-12-05): a
    # heterozygous deletion (40-55 kb) and a duplication (95-111 kb) on the contig of a
    # homozygous deletion (150-162 kb), whose first bin the junction reads reach (-10.5).
    rng = np.random.default_rng(7)
    log2 = list(rng.normal(0.0, 0.12, 225))
    for i in range(40, 55):
        log2[i] += -1.0
    for i in range(95, 111):
        log2[i] += 0.585
    log2[150] = -10.541
    for i in range(151, 162):
        log2[i] = -24.8971
    raw = _bins(tmp_path / "raw.cnr", log2)
    missed = _segments(raw, tmp_path / "raw.cns")
    assert not any(start == 40000 for start, _, _ in missed)  # the failure, without the floor
    assert main(["cnv", "floor", "--cnr", str(raw), "--out", str(tmp_path / "s.cnr")]) == 0
    found = _segments(tmp_path / "s.cnr", tmp_path / "s.cns")
    events = [(start, end, round(value)) for start, end, value in found if abs(value) > 0.4]
    assert events == [(40000, 55000, -1), (95000, 111000, 1), (150000, 162000, -5)]
