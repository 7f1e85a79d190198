"""FASTQ pairs: no silent loss of reads, no empty or non-FASTQ unit (issue #14)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.fastq import FastqError, check_pair, kept_reads


def _fastq(path: Path, names: list[str]) -> Path:
    text = "".join(f"@{name}\nACGTACGTAC\n+\nIIIIIIIIII\n" for name in names)
    path.write_bytes(gzip.compress(text.encode()))
    return path


def _pair(tmp_path: Path, n1: int, n2: int) -> tuple[Path, Path]:
    r1 = _fastq(tmp_path / "S_R1.fastq.gz", [f"read{i}/1" for i in range(n1)])
    r2 = _fastq(tmp_path / "S_R2.fastq.gz", [f"read{i}/2" for i in range(n2)])
    return r1, r2


def test_mates_pass(tmp_path: Path) -> None:
    assert check_pair(*_pair(tmp_path, 50, 50)).pairs == 50


def test_r2_longer_than_r1_fails_naming_both_files(tmp_path: Path) -> None:
    r1, r2 = _pair(tmp_path, 1000, 14750)
    with pytest.raises(FastqError) as err:
        check_pair(r1, r2)
    assert str(err.value) == (
        f"{r1} has 1,000 reads but {r2} has 14,750: the files are not a pair "
        "(truncated or from different runs)"
    )


def test_r1_longer_than_r2_fails(tmp_path: Path) -> None:
    r1, r2 = _pair(tmp_path, 20, 7)
    with pytest.raises(FastqError, match=r"has 20 reads but .* has 7"):
        check_pair(r1, r2)


def test_read_names_that_disagree_fail(tmp_path: Path) -> None:
    r1 = _fastq(tmp_path / "a_R1.fq.gz", ["x/1", "y/1", "z/1"])
    r2 = _fastq(tmp_path / "a_R2.fq.gz", ["x/2", "q/2", "z/2"])
    with pytest.raises(FastqError) as err:
        check_pair(r1, r2)
    assert str(r1) in str(err.value) and str(r2) in str(err.value)
    assert "read 2 is 'y' in the first and 'q' in the second" in str(err.value)


def test_gzip_holding_text_fails(tmp_path: Path) -> None:
    r1 = tmp_path / "h_R1.fastq.gz"
    r1.write_bytes(gzip.compress(b"hello\n"))
    r2 = _fastq(tmp_path / "h_R2.fastq.gz", [])
    with pytest.raises(FastqError, match="no reads"):
        check_pair(r1, r2)


def test_no_reads_fails(tmp_path: Path) -> None:
    with pytest.raises(FastqError, match="no reads"):
        check_pair(*_pair(tmp_path, 0, 0))


def test_fasta_is_not_fastq(tmp_path: Path) -> None:
    r1 = tmp_path / "f_R1.fa.gz"
    r1.write_bytes(gzip.compress(b">read0\nACGT\n"))
    r2 = _fastq(tmp_path / "f_R2.fq.gz", ["read0"])
    with pytest.raises(FastqError, match="FASTA, not FASTQ"):
        check_pair(r1, r2)


def test_truncated_gzip_fails(tmp_path: Path) -> None:
    r1, r2 = _pair(tmp_path, 3000, 3000)
    r1.write_bytes(r1.read_bytes()[:-100])
    with pytest.raises(FastqError, match="unexpected end of file"):
        check_pair(r1, r2)


def _fastp_json(path: Path, before: int, after: int) -> Path:
    summary = {
        "before_filtering": {"total_reads": before},
        "after_filtering": {"total_reads": after},
    }
    path.write_text(json.dumps({"summary": summary}))
    return path


def test_kept_reads(tmp_path: Path) -> None:
    assert kept_reads(_fastp_json(tmp_path / "ok.json", 100, 90)) == 90
    with pytest.raises(FastqError, match="trimming kept no reads"):
        kept_reads(_fastp_json(tmp_path / "none.json", 100, 0))
    (tmp_path / "x.json").write_text("hello")
    with pytest.raises(FastqError, match="not a fastp JSON report"):
        kept_reads(tmp_path / "x.json")


def test_cli_exit_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    r1, r2 = _pair(tmp_path, 3, 4)
    assert main(["fastq", "check", "--fq1", str(r1), "--fq2", str(r2)]) == 2
    assert capsys.readouterr().err.startswith("genomflow: error: ")
    r1, r2 = _pair(tmp_path, 4, 4)
    assert main(["fastq", "check", "--fq1", str(r1), "--fq2", str(r2)]) == 0
