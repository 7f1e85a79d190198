"""Bad input stops the run before any job, with one message naming the file and the fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import TESTGENOME, copy_sheets, snakemake, write_config


def _edit(path: Path, line: int, column: str, value: str) -> None:
    rows = [r.split("\t") for r in path.read_text().splitlines()]
    rows[line - 1][rows[0].index(column)] = value
    path.write_text("\n".join("\t".join(r) for r in rows) + "\n")


def _stops_before_any_job(tmp_path: Path, samples: Path, units: Path) -> str:
    """Run the batch of these sheets: it must fail before any job; returns its output."""
    config = write_config(
        tmp_path,
        {
            "samples": str(samples),
            "units": str(units),
            "reference": {"fasta": str(TESTGENOME / "genome.fa")},
        },
    )
    done = snakemake(tmp_path, config, "--cores", "1", check=False)
    assert done.returncode != 0
    assert not (tmp_path / "results").exists()
    return done.stderr + done.stdout


@pytest.mark.parametrize(
    ("sheet", "line", "column", "value", "expected"),
    [
        ("samples", 3, "sex", "Male", "line 3, column 'sex'"),
        ("samples", 2, "father", "RD999", "line 2, column 'father'"),
        ("samples", 4, "sample", "RD002", "line 4, column 'sample'"),
        ("units", 3, "fq1", "/nonexistent/x_R1.fastq.gz", "line 3, column 'fq1'"),
        ("units", 5, "sample", "RD404", "line 5, column 'sample'"),
    ],
)
def test_sheet_fault_stops_before_any_job(
    tmp_path: Path, sheet: str, line: int, column: str, value: str, expected: str
) -> None:
    samples, units = copy_sheets(tmp_path)
    path = samples if sheet == "samples" else units
    _edit(path, line, column, value)
    assert f"{path} {expected}" in _stops_before_any_job(tmp_path, samples, units)


def test_config_typo_stops_before_any_job(tmp_path: Path) -> None:
    samples, units = copy_sheets(tmp_path)
    config = write_config(
        tmp_path,
        {
            "samples": str(samples),
            "units": str(units),
            "reference": {"fasta": str(TESTGENOME / "genome.fa")},
            "germline": {"calller": "bcftools"},
        },
    )
    done = snakemake(tmp_path, config, "--cores", "1", check=False)
    assert done.returncode != 0
    assert "key 'germline'" in done.stderr + done.stdout
    assert "'calller' was unexpected" in done.stderr + done.stdout
    assert not (tmp_path / "results").exists()


def _plasma_line(samples: Path) -> int:
    lines = samples.read_text().splitlines()
    header = lines[0].split("\t")
    return next(
        n for n, row in enumerate(lines, 1) if row.split("\t")[header.index("type")] == "plasma"
    )


@pytest.mark.parametrize(
    ("sheet", "column", "value", "expected"),
    [
        (
            "samples",
            "tumour_sample",
            "CA009T",
            "tumour_sample 'CA009T' is neither a sample of this run nor given in the config's "
            "ctdna.tumour_variants",
        ),
        ("units", "umi", "10T8M+T 8M+T", "fastp extracts a UMI only at the start of a read"),
    ],
)
def test_plasma_fault_stops_before_any_job(
    tmp_path: Path, sheet: str, column: str, value: str, expected: str
) -> None:
    samples, units = copy_sheets(tmp_path)
    line = _plasma_line(samples)
    if sheet == "units":  # the first plasma sample's unit
        plasma = samples.read_text().splitlines()[line - 1].split("\t")[0]
        rows = units.read_text().splitlines()
        line = next(n for n, row in enumerate(rows, 1) if row.split("\t")[0] == plasma)
    _edit(samples if sheet == "samples" else units, line, column, value)
    output = _stops_before_any_job(tmp_path, samples, units)
    assert expected in output
    assert str(samples if sheet == "samples" else units) in output
