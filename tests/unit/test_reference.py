"""Reference preparation rejects broken FASTA files with the file named."""

from __future__ import annotations

import gzip
from pathlib import Path

import pysam
import pytest

from genomflow.errors import GenomflowError
from genomflow.reference import prepare


def test_prepare_writes_a_plain_indexed_copy_of_gzip_input(tmp_path: Path) -> None:
    src = tmp_path / "ref.fa.gz"
    with gzip.open(src, "wt") as handle:
        handle.write(">c1 description\nACGTN\nacgt\n>c2\n" + "A" * 130 + "\n")
    out = tmp_path / "genome.fa"
    assert prepare(src, out) == {"c1": 9, "c2": 130}
    pysam.faidx(str(out))
    with pysam.FastaFile(str(out)) as fasta:
        assert fasta.fetch("c1") == "ACGTNacgt"
        assert fasta.get_reference_length("c2") == 130
    assert max(len(line) for line in out.read_text().splitlines()) == 60


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not a fasta\n", "not a FASTA file"),
        (">c1\nACGT\n>c1\nACGT\n", "contig 'c1' appears twice"),
        (">c1\n>c2\nACGT\n", "contig 'c1' has no sequence"),
        (">c1\nACGT-XX\n", "contig 'c1' has letters that are not nucleotides: -X"),
        ("", "not a FASTA file"),
    ],
)
def test_broken_fasta_is_rejected_and_nothing_is_written(
    tmp_path: Path, text: str, expected: str
) -> None:
    src = tmp_path / "bad.fa"
    src.write_text(text)
    out = tmp_path / "genome.fa"
    with pytest.raises(GenomflowError, match=expected) as err:
        prepare(src, out)
    assert str(src) in str(err.value)
    assert not out.exists()


def test_missing_fasta(tmp_path: Path) -> None:
    with pytest.raises(GenomflowError, match="reference FASTA not found"):
        prepare(tmp_path / "nope.fa", tmp_path / "out.fa")
