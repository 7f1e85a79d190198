"""The one FASTA-index reader and the one BED reader: every fault names the file and the line,
in the same words, whichever command reads the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genomflow.errors import GenomflowError
from genomflow.germline_evaluate import read_regions
from genomflow.intervals import read_bed
from genomflow.panels import PanelError, read_panel
from genomflow.reference import read_fai, reference_contigs

CONTIGS = {"chr1": 1000, "chr2": 500}


def test_read_fai_in_reference_order(tmp_path: Path) -> None:
    fai = tmp_path / "ref.fa.fai"
    fai.write_text("chr2\t500\t6\t60\t61\nchr1\t1000\t520\t60\t61\n")
    assert list(read_fai(fai).items()) == [("chr2", 500), ("chr1", 1000)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("chr1\t1000\n", "line 1: not a FASTA index line"),
        ("chr1\t1000\t6\t60\t61\nchr2\tten\t6\t60\t61\n", "line 2: not a FASTA index line"),
        ("", "empty FASTA index"),
    ],
)
def test_read_fai_faults_name_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    fai = tmp_path / "ref.fa.fai"
    fai.write_text(text)
    with pytest.raises(GenomflowError) as caught:
        read_fai(fai)
    assert str(caught.value).startswith(os.fspath(fai))
    assert problem in str(caught.value)


def test_a_fresh_but_broken_index_is_reported_not_skipped(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">c1\nACGT\n")
    Path(f"{fasta}.fai").write_text("c1 4\n")
    with pytest.raises(GenomflowError, match=r"ref\.fa\.fai line 1: not a FASTA index line"):
        reference_contigs(fasta)


def test_read_bed_records(tmp_path: Path) -> None:
    path = tmp_path / "r.bed"
    path.write_text("track name=x\n# c\nchr1\t10\t20\tA\tB\n\nchr2\t0\t5\n")
    records = read_bed(path, contigs=CONTIGS)
    assert [(r.contig, r.start, r.end, r.extra, r.line) for r in records] == [
        ("chr1", 10, 20, ("A", "B"), 3),
        ("chr2", 0, 5, (), 5),
    ]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("chr1\t10\n", "line 1: expected at least 3 tab-separated columns"),
        ("chr1\tten\t20\n", "line 1: start and end must be whole numbers"),
        ("chr1\t10\t20\nchr1\t20\t20\n", "line 2: start 20 is not before end 20"),
        ("chr9\t1\t10\n", "line 1: contig 'chr9' is not in the reference"),
        ("chr2\t1\t501\n", "line 1: chr2:1-501 ends past the end of chr2 (500 bp)"),
    ],
)
def test_the_three_bed_readers_say_the_same(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "r.bed"
    path.write_text(text)
    panel_text = "".join(line + "\tG:e1\n" for line in text.splitlines())
    panel = tmp_path / "p.bed"
    panel.write_text(panel_text)
    readers = [lambda: read_bed(path, contigs=CONTIGS)]
    if "contig" not in problem and "past" not in problem:
        readers.append(lambda: read_regions(path))  # no reference to check against
    if "columns" not in problem:
        readers.append(lambda: read_panel(panel, CONTIGS))
    for reader in readers:
        with pytest.raises(GenomflowError) as caught:
            reader()
        message = str(caught.value)
        assert message.startswith(str(tmp_path)) and problem in message, message
    with pytest.raises(PanelError):
        read_panel(panel, CONTIGS)
