"""Whole data sets: files written, byte-for-byte determinism, the CLI and the committed copy."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import itertools
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.simulate import (
    COHORT_TSV,
    DEFAULT_SEED,
    GENOME_FASTA,
    TRUTH_VCF,
    DatasetSpec,
    cohort_rows,
    generate,
    make_testgenome_spec,
    read_cohort_tsv,
    scale_coverage,
)
from genomflow.simulate.cohort import write_cohort_tsv

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "resources" / "testgenome"
EXPECTED_FILES = (
    "genome.fa",
    "genes.gff3",
    "features.bed",
    "common_snps.vcf.gz",
    "common_snps.vcf.gz.tbi",
    "truth/germline.vcf.gz",
    "truth/germline.vcf.gz.tbi",
    "cohort.tsv",
    "cohort.ped",
)


def quick_spec() -> DatasetSpec:
    """The test genome at 1/30 of its coverage and a fast gzip level."""
    return dataclasses.replace(scale_coverage(make_testgenome_spec(), 1 / 30), gzip_level=1)


def digests(directory: Path) -> dict[str, str]:
    return {
        str(path.relative_to(directory)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


def test_same_seed_gives_identical_bytes_and_another_seed_differs(tmp_path: Path) -> None:
    generate(quick_spec(), tmp_path / "a", seed=11)
    generate(quick_spec(), tmp_path / "b", seed=11)
    generate(quick_spec(), tmp_path / "c", seed=12)
    first, again, other = (digests(tmp_path / name) for name in "abc")
    assert first == again
    assert set(first) == set(other)
    assert all(first[name] != other[name] for name in first if not name.startswith("cohort."))
    assert set(EXPECTED_FILES) <= set(first)


def test_cohort_sheet_lists_the_trio_and_its_units(tmp_path: Path) -> None:
    generate(quick_spec(), tmp_path, seed=5)
    rows = read_cohort_tsv(tmp_path / COHORT_TSV)
    assert rows == cohort_rows(quick_spec())
    assert [(r["sample"], r["unit"]) for r in rows] == [
        ("RD002", "L001"),
        ("RD003", "L001"),
        ("RD001", "L001"),
        ("RD001", "L002"),
    ]
    proband = [r for r in rows if r["sample"] == "RD001"]
    assert {(r["sex"], r["role"], r["father"], r["mother"], r["family"]) for r in proband} == {
        ("M", "proband", "RD002", "RD003", "FAM001")
    }
    for row in rows:
        for column in ("fastq_1", "fastq_2"):
            assert (tmp_path / row[column]).stat().st_size > 0
    ped = (tmp_path / "cohort.ped").read_text().splitlines()
    assert "FAM001\tRD001\tRD002\tRD003\t1\t2" in ped


def test_full_spec_coverage_matches_the_brief() -> None:
    rows = cohort_rows(make_testgenome_spec())
    coverage = {
        sample: sum(float(r["coverage"]) for r in group)
        for sample, group in itertools.groupby(rows, key=lambda r: r["sample"])
    }
    assert coverage == {"RD002": 25.0, "RD003": 25.0, "RD001": 30.0}


def test_cli_writes_a_small_benchmark_genome(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench"
    argv = ["simulate", "benchgenome", "--out", str(out), "--length-mb", "0.2", "--coverage", "2"]
    assert main([*argv, "--seed", "3"]) == 0
    assert "BENCH01" in capsys.readouterr().out
    with pysam.FastaFile(str(out / GENOME_FASTA)) as fasta:
        assert list(fasta.references) == ["chr1", "chr2", "chr3"]
        assert 190_000 <= sum(fasta.lengths) <= 200_000
    with pysam.VariantFile(str(out / TRUTH_VCF)) as vcf:
        assert list(vcf.header.samples) == ["BENCH01"]


def test_cli_reports_bad_arguments_as_errors(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["simulate", "benchgenome", "--out", "/nonexistent", "--length-mb", "0"]
    assert main(argv) == 2
    assert "--length-mb" in capsys.readouterr().err


def test_a_bad_cohort_sheet_is_named(tmp_path: Path) -> None:
    path = tmp_path / COHORT_TSV
    write_cohort_tsv(path, quick_spec())
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines[:2], lines[2].rsplit("\t", 1)[0], *lines[3:]]) + "\n")
    with pytest.raises(
        GenomflowError, match=r"cohort\.tsv: cannot read cohort sheet \(line 3 has 9"
    ):
        read_cohort_tsv(path)
    path.write_bytes(b"sample\tsex\nRD\xff01\tfemale\n")
    with pytest.raises(GenomflowError, match=r"cohort\.tsv: cannot read cohort sheet \(.*utf-8"):
        read_cohort_tsv(path)


@pytest.mark.skipif(not (COMMITTED / COHORT_TSV).exists(), reason="test genome not generated")
def test_committed_testgenome_matches_its_cohort_sheet() -> None:
    for name in EXPECTED_FILES:
        assert (COMMITTED / name).is_file(), name
    rows = read_cohort_tsv(COMMITTED / COHORT_TSV)
    assert rows == cohort_rows(make_testgenome_spec())
    with pysam.VariantFile(str(COMMITTED / TRUTH_VCF)) as vcf:
        assert set(vcf.header.samples) == {r["sample"] for r in rows}
        seed_lines = [str(r) for r in vcf.header.records if r.key == "genomflow_simulate_seed"]
        assert seed_lines == [f"##genomflow_simulate_seed={DEFAULT_SEED}\n"]
    for row in rows:
        prefix = f"@{row['sample']}.{row['unit']}."
        for column in ("fastq_1", "fastq_2"):
            path = COMMITTED / row[column]
            with gzip.open(path, "rt") as handle:
                assert handle.readline().startswith(prefix)
    total = sum(p.stat().st_size for p in COMMITTED.rglob("*") if p.is_file())
    assert total < 14 * 1024 * 1024
