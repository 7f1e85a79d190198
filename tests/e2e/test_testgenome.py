"""End to end on the shipped test genome: the trio from FASTQ to deliverables.

The germline VCF of each sample is compared with the planted truth of the generator.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pysam
import pytest
import yaml

from genomflow.germline_evaluate import Evaluation, compare
from tests.conftest import REPO, TESTGENOME, demo_config, snakemake

pytestmark = pytest.mark.e2e

SAMPLES = ("RD001", "RD002", "RD003")
SEX = {"RD001": "male", "RD002": "male", "RD003": "female"}


@pytest.fixture(scope="module", params=["bcftools", "freebayes"])
def run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo batch with each germline caller (bcftools, the default, is the shared run)."""
    if request.param == "bcftools":
        run: Path = request.getfixturevalue("demo_run")
        return run
    workdir = tmp_path_factory.mktemp(f"demo-{request.param}")
    config = demo_config(workdir, germline={"caller": request.param})
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


@pytest.fixture(scope="module")
def evaluations(run: Path) -> dict[str, Evaluation]:
    return {
        sample: compare(
            TESTGENOME / "truth" / "germline.vcf.gz",
            run / f"results/samples/{sample}/{sample}.germline.vcf.gz",
            TESTGENOME / "genome.fa",
            truth_sample=sample,
        )
        for sample in SAMPLES
    }


def deliverable(run: Path, sample: str, suffix: str) -> Path:
    return run / "results" / "samples" / sample / f"{sample}{suffix}"


@pytest.mark.parametrize("sample", SAMPLES)
def test_germline_accuracy_against_planted_truth(
    evaluations: dict[str, Evaluation], sample: str
) -> None:
    ev = evaluations[sample]
    print(f"\n{sample}\n{ev.table()}")
    assert ev.snv.recall is not None and ev.snv.recall >= 0.98, ev.snv.false_negatives
    assert ev.snv.precision is not None and ev.snv.precision >= 0.98, ev.snv.false_positives
    assert ev.indel.recall is not None and ev.indel.recall >= 0.90, ev.indel.false_negatives
    assert ev.indel.precision is not None and ev.indel.precision >= 0.95, ev.indel.false_positives
    concordant = ev.snv.gt_concordant + ev.indel.gt_concordant
    assert concordant / (ev.snv.tp + ev.indel.tp) >= 0.97, (
        ev.snv.genotype_mismatches + ev.indel.genotype_mismatches
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_germline_vcf_is_bgzipped_indexed_normalised_single_sample(run: Path, sample: str) -> None:
    vcf = deliverable(run, sample, ".germline.vcf.gz")
    assert vcf.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF, not plain gzip
    assert Path(f"{vcf}.tbi").is_file()
    with pysam.VariantFile(str(vcf)) as reader:
        assert list(reader.header.samples) == [sample]
        records = list(reader.fetch())
    assert records
    assert all(r.alts is not None and len(r.alts) == 1 for r in records)  # split multi-allelics
    keys = [(r.chrom, r.pos, r.ref, r.alts) for r in records]
    assert len(keys) == len(set(keys))
    # bcftools norm in check mode changes nothing in a normalised file
    done = subprocess.run(
        ["bcftools", "norm", "-f", str(TESTGENOME / "genome.fa"), "-m", "-any", str(vcf)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "total/split/realigned/skipped:" in done.stderr
    assert f"total/split/realigned/skipped:\t{len(records)}/0/0/0" in done.stderr


def test_males_are_haploid_on_x_and_have_y_calls_females_have_none(run: Path) -> None:
    def genotypes(sample: str, contig: str) -> list[tuple[int | None, ...]]:
        with pysam.VariantFile(str(deliverable(run, sample, ".germline.vcf.gz"))) as reader:
            return [r.samples[sample]["GT"] for r in reader.fetch(contig)]

    assert {len(gt) for gt in genotypes("RD002", "chrX")} == {1}
    assert {len(gt) for gt in genotypes("RD003", "chrX")} == {2}
    assert genotypes("RD002", "chrY")
    assert genotypes("RD003", "chrY") == []


@pytest.mark.parametrize("sample", SAMPLES)
def test_bam_has_read_groups_per_unit_duplicates_marked_and_bai(run: Path, sample: str) -> None:
    bam = deliverable(run, sample, ".bam")
    assert Path(f"{bam}.bai").is_file()
    with (REPO / "config/units.tsv").open() as sheet:
        units = [
            row["unit"] for row in csv.DictReader(sheet, delimiter="\t") if row["sample"] == sample
        ]
    with pysam.AlignmentFile(str(bam)) as reader:
        groups = reader.header.to_dict()["RG"]
        assert sorted(g["ID"] for g in groups) == sorted(f"{sample}.{u}" for u in units)
        assert {g["SM"] for g in groups} == {sample}
        assert reader.header.to_dict()["HD"]["SO"] == "coordinate"
        assert reader.check_index()
    stats = subprocess.run(
        ["samtools", "flagstat", "-O", "json", str(bam)], capture_output=True, text=True, check=True
    )
    flagstat = json.loads(stats.stdout)["QC-passed reads"]
    assert flagstat["duplicates"] > 0
    assert flagstat["mapped %"] > 95


def test_versions_name_every_tool(run: Path) -> None:
    versions = yaml.safe_load((run / "results" / "versions.yml").read_text())
    assert versions["tools"]["bwa"].startswith("0.7.17")
    assert set(versions["tools"]) >= {
        "bwa",
        "samtools",
        "bcftools",
        "fastp",
        "mosdepth",
        "freebayes",
    }
    assert versions["python"]["snakemake"].startswith("9.")


def test_multiqc_report_has_every_tool_section_and_the_batch_title(run: Path) -> None:
    report = run / "results" / "qc" / "multiqc_report.html"
    html = report.read_text()
    assert "e2e test batch" in html
    data = json.loads((run / "results/qc/multiqc_report_data/multiqc_data.json").read_text())
    sources = data["report_data_sources"]
    for module in ("fastp", "Samtools", "Mosdepth", "Bcftools"):
        assert module in sources, sorted(sources)
    general = data["report_general_stats_data"]
    # The demo batch also holds the cancer panel samples (tests/e2e/test_cancer.py); bcftools
    # stats are of germline VCFs: the trio and the normals.
    with (REPO / "config/samples.tsv").open() as sheet:
        rows = list(csv.DictReader(sheet, delimiter="\t"))
    expected = {
        "samtools": {r["sample"] for r in rows},
        "mosdepth": {r["sample"] for r in rows},
        "bcftools": {r["sample"] for r in rows if r["type"] in ("germline", "normal")},
    }
    assert set(SAMPLES) <= expected["bcftools"]
    for module, samples in expected.items():
        assert set(general[module]) == samples, (module, sorted(general[module]))
    assert "markdup" in json.dumps(sources["Samtools"])


def _rules_under(root: Path) -> set[str]:
    """Rule names from ``<root>/<stage>/<rule>/...`` or ``<root>/<stage>/<rule>.<ext>``."""
    names = set()
    for path in root.rglob("*"):
        if path.is_file():
            parts = path.relative_to(root).parts
            names.add(parts[1] if len(parts) > 2 else parts[1].split(".")[0])
    return names


def _caller(run: Path) -> str:
    config = yaml.safe_load((run / "config.yaml").read_text())
    return str(config.get("germline", {}).get("caller", "bcftools"))


def test_every_rule_left_a_log_and_tool_rules_a_benchmark(run: Path) -> None:
    tools = {
        "fastp_trim",
        "bwa_mem",
        "samtools_markdup",
        "qc_metrics",
        f"{_caller(run)}_call",
        "germline_filter",
        "bcftools_view_sample",
        "multiqc_report",
        "samtools_faidx",
        "samtools_dict",
        "bwa_index",
    }
    benchmarks = _rules_under(run / "benchmarks")
    assert tools <= benchmarks, tools - benchmarks
    logs = _rules_under(run / "logs")
    assert tools | {"germline_ploidy", "reference_prepare", "genomflow_versions"} <= logs
