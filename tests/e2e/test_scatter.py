"""Scatter-gather: germline calling over small genome chunks gives the unscattered records."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_config, snakemake, vcf_records

pytestmark = pytest.mark.e2e

TRIO = ("RD001", "RD002", "RD003")


@pytest.fixture(scope="module")
def scattered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("scatter")
    config = demo_config(workdir, scatter={"window_size": 50_000})
    targets = [f"results/samples/{s}/{s}.germline.vcf.gz" for s in TRIO]
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"), *targets)
    return workdir


def test_genome_was_cut_into_at_least_four_n_free_chunks(scattered: Path) -> None:
    beds = sorted((scattered / "results/reference/reference_chunks").glob("*.bed"))
    assert len(beds) >= 4
    with pysam.FastaFile(str(scattered / "results/reference/genome.fa")) as fasta:
        for bed in beds:
            for line in bed.read_text().splitlines():
                contig, start, end = line.split("\t")
                assert "N" not in fasta.fetch(contig, int(start), int(end)).upper()
    calls = list((scattered / "results/germline/bcftools_call").rglob("*.bcf"))
    logs = list((scattered / "logs/germline/bcftools_call").rglob("*.log"))
    assert not calls  # temporary per-chunk calls are gone once gathered
    assert len(logs) == len(beds)  # one calling job per chunk for the trio's family


@pytest.mark.parametrize("sample", TRIO)
def test_gathered_vcf_has_the_records_of_the_unscattered_run(
    scattered: Path, demo_run: Path, sample: str
) -> None:
    vcf = Path("results/samples") / sample / f"{sample}.germline.vcf.gz"
    gathered = vcf_records(scattered / vcf)
    assert gathered
    assert gathered == vcf_records(demo_run / vcf)
