"""Scatter-gather over the genome: windows planned at parse time, made N-free at run time.

The number of chunks must be known when Snakemake plans the run, so it is derived from the
contig lengths alone (the FASTA index, or one pass over the FASTA): large contigs are cut into
windows of about ``window_size`` bp and consecutive small contigs are packed together, whole.
At run time each chunk becomes a BED of its N-free intervals (runs of N of at least
``MIN_GAP`` bp are left out), so that no caller walks a gap and boundaries fall in gaps.
"""

from __future__ import annotations

import argparse
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.reference import reference_contigs

MIN_GAP = 100
"""Runs of N at least this long are left out of the chunks."""


@dataclass(frozen=True)
class Interval:
    """A half-open interval ``[start, end)`` on a contig (BED coordinates)."""

    contig: str
    start: int
    end: int


Chunk = tuple[Interval, ...]


def plan_chunks(lengths: Mapping[str, int], window_size: int) -> list[Chunk]:
    """Windows of about ``window_size`` bp in reference order; small contigs packed whole.

    >>> for chunk in plan_chunks({"a": 25, "b": 4, "c": 3}, 10):
    ...     print(" ".join(f"{i.contig}:{i.start}-{i.end}" for i in chunk))
    a:0-8
    a:8-17
    a:17-25
    b:0-4 c:0-3
    """
    if window_size < 1:
        raise GenomflowError(f"scatter window size must be positive, not {window_size}")
    chunks: list[Chunk] = []
    packed: list[Interval] = []
    packed_size = 0
    for contig, length in lengths.items():
        if length > window_size:
            if packed:
                chunks.append(tuple(packed))
                packed, packed_size = [], 0
            count = -(-length // window_size)
            bounds = [round(i * length / count) for i in range(count + 1)]
            chunks += [(Interval(contig, s, e),) for s, e in itertools.pairwise(bounds)]
            continue
        if packed and packed_size + length > window_size:
            chunks.append(tuple(packed))
            packed, packed_size = [], 0
        packed.append(Interval(contig, 0, length))
        packed_size += length
    if packed:
        chunks.append(tuple(packed))
    return chunks


def chunk_names(count: int) -> list[str]:
    """Stable names of ``count`` chunks, sorting in genome order."""
    width = max(4, len(str(count)))
    return [f"chunk{i:0{width}d}" for i in range(1, count + 1)]


def n_free(sequence: str, offset: int, contig: str, min_gap: int = MIN_GAP) -> list[Interval]:
    """The parts of ``sequence`` (starting at ``offset``) outside runs of >= ``min_gap`` N.

    >>> n_free("ACGTNNNNACGT", 100, "c", min_gap=3)
    [Interval(contig='c', start=100, end=104), Interval(contig='c', start=108, end=112)]
    """
    intervals: list[Interval] = []
    start = 0
    for gap in re.finditer(f"[Nn]{{{min_gap},}}", sequence):
        if gap.start() > start:
            intervals.append(Interval(contig, offset + start, offset + gap.start()))
        start = gap.end()
    if start < len(sequence):
        intervals.append(Interval(contig, offset + start, offset + len(sequence)))
    return intervals


def write_chunk_beds(fasta: Path, chunks: Sequence[Chunk], beds: Sequence[Path]) -> None:
    """Write each chunk's N-free intervals as a BED file (atomically)."""
    if len(chunks) != len(beds):
        raise GenomflowError(
            f"{fasta}: the reference gives {len(chunks)} chunks but {len(beds)} were planned; "
            "the reference changed since the run was planned"
        )
    with pysam.FastaFile(str(fasta)) as reader:
        for chunk, bed in zip(chunks, beds, strict=True):
            lines = []
            for interval in chunk:
                sequence = reader.fetch(interval.contig, interval.start, interval.end)
                for part in n_free(sequence, interval.start, interval.contig):
                    lines.append(f"{part.contig}\t{part.start}\t{part.end}\n")
            atomic.write_text(bed, "".join(lines))


def _cmd_chunks(args: argparse.Namespace) -> int:
    chunks = plan_chunks(reference_contigs(args.fasta), args.window_size)
    write_chunk_beds(args.fasta, chunks, args.out)
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("scatter", help="genome chunks for scatter-gather")
    sub = parser.add_subparsers(dest="scatter_command", required=True)
    chunks = sub.add_parser("chunks", help="write the N-free BED of every chunk")
    chunks.add_argument("--fasta", type=Path, required=True)
    chunks.add_argument("--window-size", type=int, required=True)
    chunks.add_argument("--out", type=Path, nargs="+", required=True, help="one BED per chunk")
    chunks.set_defaults(func=_cmd_chunks)


def chunk_count(fasta: Path, window_size: int) -> int:
    """How many chunks the reference gives (what the DAG needs at parse time)."""
    return len(plan_chunks(reference_contigs(fasta), window_size))
