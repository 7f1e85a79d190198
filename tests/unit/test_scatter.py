"""Scatter planning: windows, packing of small contigs, N-free chunk BEDs."""

from __future__ import annotations

import itertools
from pathlib import Path

import pysam
import pytest

from genomflow.errors import GenomflowError
from genomflow.scatter import (
    Interval,
    chunk_names,
    n_free,
    plan_chunks,
    reference_contigs,
    write_chunk_beds,
)


def test_large_contigs_are_cut_into_even_windows_covering_them_exactly() -> None:
    chunks = plan_chunks({"chr1": 1000}, 300)
    assert [c[0].end - c[0].start for c in chunks] == [250, 250, 250, 250]
    assert chunks[0][0].start == 0
    assert chunks[-1][0].end == 1000
    assert all(a[0].end == b[0].start for a, b in itertools.pairwise(chunks))


def test_small_contigs_are_packed_whole_in_reference_order() -> None:
    chunks = plan_chunks({"a": 40, "b": 50, "c": 30, "big": 200, "d": 5}, 100)
    assert chunks == [
        (Interval("a", 0, 40), Interval("b", 0, 50)),
        (Interval("c", 0, 30),),
        (Interval("big", 0, 100),),
        (Interval("big", 100, 200),),
        (Interval("d", 0, 5),),
    ]


def test_window_size_must_be_positive() -> None:
    with pytest.raises(GenomflowError, match="window size must be positive"):
        plan_chunks({"a": 1}, 0)


def test_chunk_names_sort_in_genome_order() -> None:
    names = chunk_names(12)
    assert names[0] == "chunk0001"
    assert names == sorted(names)
    assert len(set(names)) == 12


def test_n_runs_are_left_out_but_short_ones_kept() -> None:
    sequence = "A" * 10 + "N" * 150 + "C" * 10 + "N" * 5 + "G" * 10
    assert n_free(sequence, 0, "x") == [Interval("x", 0, 10), Interval("x", 160, 185)]
    assert n_free("N" * 200, 0, "x") == []


def test_chunk_beds_cover_every_base_except_long_n_runs(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    seq1 = "ACGT" * 50 + "N" * 120 + "ACGT" * 70
    fasta.write_text(f">one\n{seq1}\n>two\n{'GATTACA' * 10}\n")
    lengths = reference_contigs(fasta)
    assert lengths == {"one": 600, "two": 70}
    chunks = plan_chunks(lengths, 250)
    beds = [tmp_path / f"{name}.bed" for name in chunk_names(len(chunks))]
    write_chunk_beds(fasta, chunks, beds)
    covered = []
    for bed in beds:
        for line in bed.read_text().splitlines():
            contig, start, end = line.split("\t")
            covered.append((contig, int(start), int(end)))
    pysam.faidx(str(fasta))
    with pysam.FastaFile(str(fasta)) as reader:
        bases = sum(end - start for _, start, end in covered)
        n_bases = reader.fetch("one").count("N")
        assert bases == 600 + 70 - n_bases
        for contig, start, end in covered:
            assert "N" not in reader.fetch(contig, start, end)


def test_fai_is_used_when_fresh(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">a\nACGT\n")
    pysam.faidx(str(fasta))
    assert reference_contigs(fasta) == {"a": 4}


def test_planned_and_found_chunk_counts_must_agree(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">a\nACGT\n")
    with pytest.raises(GenomflowError, match="the reference changed since the run was planned"):
        write_chunk_beds(fasta, plan_chunks({"a": 4}, 10), [tmp_path / "1.bed", tmp_path / "2.bed"])
