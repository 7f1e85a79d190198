"""CRAM alignments (``alignment_format: cram``): every step reads them, results equal BAM's.

One run of the demo batch (germline, cancer and plasma samples) with CRAM,
and the identity SNP sites so that identity genotyping reads the CRAMs too, compared with the
BAM runs of the session (``demo_run``, and ``demo_qc_run`` for the identity genotypes).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pysam
import pytest

from genomflow import paths
from genomflow.germline import GERMLINE_TYPES
from genomflow.report.vrs import read_sequence_dict
from genomflow.sheets import load_sheets
from tests.conftest import REPO, TESTGENOME, demo_config, keep_samples, snakemake, vcf_records

pytestmark = pytest.mark.e2e

SHEET = load_sheets(REPO / "config/samples.tsv", REPO / "config/units.tsv", base_dir=REPO)
SAMPLES = tuple(SHEET.samples)
PLASMA = tuple(s.sample for s in SHEET.by_type("plasma"))
TRIO = ("RD001", "RD002", "RD003")
GERMLINE = tuple(s.sample for s in SHEET.samples.values() if s.type in GERMLINE_TYPES)
TUMOURS = tuple(s.sample for s in SHEET.by_type("tumour"))
PANEL = tuple(s for s in SAMPLES if SHEET.samples[s].assay == "panel")
REF = Path("results/reference/genome.fa")


@pytest.fixture(scope="module")
def cram_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("cram")
    reference = {
        "fasta": str(TESTGENOME / "genome.fa"),
        "identity_sites": str(TESTGENOME / "common_snps.vcf.gz"),
    }
    config = demo_config(workdir, alignment_format="cram", reference=reference)
    keep_samples(workdir / "samples.tsv", SAMPLES)
    keep_samples(workdir / "units.tsv", SAMPLES)
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def sample_file(sample: str, suffix: str) -> Path:
    return Path("results/samples") / sample / f"{sample}{suffix}"


def test_cram_and_crai_are_the_deliverables(cram_run: Path) -> None:
    for sample in SAMPLES:
        assert (cram_run / sample_file(sample, ".cram")).stat().st_size > 0
        assert (cram_run / sample_file(sample, ".cram.crai")).stat().st_size > 0
    assert not list((cram_run / "results").rglob("*.bam"))
    assert not list((cram_run / "results").rglob("*.bai"))


@pytest.mark.parametrize("sample", SAMPLES)
def test_cram_header_has_the_reference_md5s(cram_run: Path, sample: str) -> None:
    expected = read_sequence_dict(cram_run / "results/reference/genome.dict")
    cram = cram_run / sample_file(sample, ".cram")
    with pysam.AlignmentFile(str(cram), reference_filename=str(cram_run / REF)) as reader:
        assert reader.is_cram
        sq = reader.header.to_dict()["SQ"]
        assert next(reader.fetch(until_eof=True)).query_sequence  # decodes
    assert {line["SN"]: (line["LN"], line["M5"]) for line in sq} == expected
    assert all(line["UR"].endswith("results/reference/genome.fa") for line in sq)


def test_cram_is_smaller_than_bam(cram_run: Path, demo_run: Path) -> None:
    crams = sum((cram_run / sample_file(s, ".cram")).stat().st_size for s in SAMPLES)
    bams = sum((demo_run / sample_file(s, ".bam")).stat().st_size for s in SAMPLES)
    print(f"CRAM/BAM size ratio: {crams}/{bams} = {crams / bams:.3f}")
    assert crams < 0.8 * bams


@pytest.mark.parametrize("sample", GERMLINE)
def test_germline_calls_equal_the_bam_run(cram_run: Path, demo_run: Path, sample: str) -> None:
    vcf = sample_file(sample, ".germline.vcf.gz")
    records = vcf_records(cram_run / vcf)
    assert records
    assert records == vcf_records(demo_run / vcf)


@pytest.mark.parametrize("sample", TUMOURS)
def test_somatic_calls_equal_the_bam_run(cram_run: Path, demo_run: Path, sample: str) -> None:
    vcf = sample_file(sample, ".somatic.vcf.gz")
    assert vcf_records(cram_run / vcf) == vcf_records(demo_run / vcf)


def _stats_summary(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.startswith("SN\t")]


@pytest.mark.parametrize("sample", SAMPLES)
def test_qc_metrics_equal_the_bam_run(cram_run: Path, demo_run: Path, sample: str) -> None:
    metrics = Path(paths.qc_metrics(sample))
    assert json.loads((cram_run / metrics).read_text()) == json.loads(
        (demo_run / metrics).read_text()
    )
    stats = Path(paths.samtools_stats(sample))
    assert _stats_summary(cram_run / stats) == _stats_summary(demo_run / stats)
    summary = Path(paths.mosdepth_summary(sample))
    assert (cram_run / summary).read_text() == (demo_run / summary).read_text()


@pytest.mark.parametrize("sample", PANEL)
def test_panel_coverage_equals_the_bam_run(cram_run: Path, demo_run: Path, sample: str) -> None:
    for path in (
        sample_file(sample, ".coverage.tsv"),
        sample_file(sample, ".gaps.bed"),
        Path("results/coverage/genomflow_coverage") / f"{sample}.metrics.tsv",
    ):
        assert (cram_run / path).read_text() == (demo_run / path).read_text(), path


@pytest.mark.parametrize("sample", TRIO)
def test_identity_genotypes_equal_the_bam_run(
    cram_run: Path, demo_qc_run: Path, sample: str
) -> None:
    vcf = Path("results/qc/bcftools_identity") / f"{sample}.vcf.gz"
    records = vcf_records(cram_run / vcf)
    assert records
    assert records == vcf_records(demo_qc_run / vcf)


@pytest.mark.parametrize("sample", SAMPLES)
def test_report_lists_the_cram_checksums(cram_run: Path, sample: str) -> None:
    report = json.loads((cram_run / sample_file(sample, ".report.json")).read_text())
    files = {entry["role"]: entry for entry in report["files"]}
    for role, suffix in (("alignments", ".cram"), ("alignments_index", ".cram.crai")):
        path = cram_run / sample_file(sample, suffix)
        assert files[role]["path"] == path.name
        assert files[role]["size"] == path.stat().st_size
        assert files[role]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sample", PLASMA)
def test_ctdna_results_equal_the_bam_run(cram_run: Path, demo_run: Path, sample: str) -> None:
    # The UMI-consensus CRAM is what the monitor reads: same molecules, same call.
    path = sample_file(sample, ".ctdna.json")
    cram, bam = (json.loads((run / path).read_text()) for run in (cram_run, demo_run))
    fields = ("tumour_fraction", "ci_low", "ci_high", "p_value", "status", "informative_molecules")
    assert {k: cram[k] for k in fields} == {k: bam[k] for k in fields}
    assert cram["mutant_molecules"] == bam["mutant_molecules"]


DELIVERED = (TRIO[0], PLASMA[0])


@pytest.fixture(scope="module")
def delivered_kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Only the deliverable CRAMs of a germline and a UMI sample, internal files kept."""
    workdir = tmp_path_factory.mktemp("cram-delivered")
    config = demo_config(workdir, alignment_format="cram")
    targets = [str(sample_file(sample, ".cram")) for sample in DELIVERED]
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"), "--notemp", *targets)
    return workdir


@pytest.mark.parametrize("sample", DELIVERED)
def test_delivery_survives_snakemakes_touch_of_its_outputs(
    delivered_kept: Path, sample: str
) -> None:
    # After each job Snakemake touches its outputs in order (alignment, then index) and fails
    # the job if an output is older than an input. The alignment is a hard link of its input,
    # so the check holds only if the index is not also its input's file (a CI failure).
    umi = (delivered_kept / paths.consensus_alignment(sample, "cram")).exists()
    source = paths.deduplicated_alignment(sample, "cram", umi=umi)
    inputs = [delivered_kept / source, delivered_kept / paths.index_of(source)]
    outputs = [delivered_kept / sample_file(sample, suffix) for suffix in (".cram", ".cram.crai")]
    assert umi == (sample in PLASMA)
    assert outputs[0].samefile(inputs[0])  # no copy of the reads
    start = max(path.stat().st_mtime_ns for path in inputs + outputs) + 1_000_000
    for step, path in enumerate(outputs):
        os.utime(path, ns=(start + step, start + step))
    newest_input = max(path.stat().st_mtime_ns for path in inputs)
    assert all(path.stat().st_mtime_ns >= newest_input for path in outputs)
