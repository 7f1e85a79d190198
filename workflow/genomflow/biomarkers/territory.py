"""The coding territory of a tumour: CDS of the gene models, inside the targets, at depth.

* :func:`read_cds` reads the CDS features of a GFF3 (merged per contig);
* :func:`intersect` cuts them to the panel's targets (a WGS tumour keeps the genome's CDS);
* :func:`callable_spans` keeps the bases a BAM covers at the minimum depth.

Spans are half-open, 0-based ``(start, end)`` per contig, sorted and merged.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pysam

from genomflow.errors import GenomflowError
from genomflow.intervals import merge_spans

Spans = dict[str, list[tuple[int, int]]]

#: Reads a depth does not count: unmapped, secondary, QC-failed, duplicate, supplementary.
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800


def _lines(path: Path) -> Iterable[tuple[int, str]]:
    try:
        with path.open("rb") as handle:
            gz = handle.read(2) == b"\x1f\x8b"
        opener: Any = gzip.open if gz else open
        with opener(path, "rt") as text:
            yield from enumerate(text, start=1)
    except FileNotFoundError:
        raise GenomflowError(f"{path}: GFF3 file not found") from None
    except (OSError, UnicodeDecodeError, EOFError) as err:
        raise GenomflowError(f"{path}: cannot read the GFF3 ({err})") from None


def read_cds(path: Path) -> Spans:
    """Merged CDS spans of a GFF3 per contig (GFF3 is 1-based, inclusive).

    A GFF3 with transcripts but no CDS gives an empty mapping: callers state that there is
    no coding territory rather than reporting a burden of zero. A file with no feature at
    all is not gene models: an error.
    """
    spans: dict[str, list[tuple[int, int]]] = {}
    features = 0
    for number, raw in _lines(path):
        if raw.startswith("##FASTA"):
            break
        if raw.startswith("#") or not raw.strip():
            continue
        features += 1
        fields = raw.rstrip("\r\n").split("\t")
        if len(fields) != 9:
            raise GenomflowError(
                f"{os.fspath(path)} line {number}: expected 9 tab-separated GFF3 columns, "
                f"found {len(fields)}"
            )
        if fields[2] != "CDS":
            continue
        try:
            start, end = int(fields[3]) - 1, int(fields[4])
        except ValueError:
            raise GenomflowError(
                f"{os.fspath(path)} line {number}: CDS start and end must be whole numbers"
            ) from None
        spans.setdefault(fields[0], []).append((start, end))
    if features == 0:
        raise GenomflowError(f"{os.fspath(path)}: no GFF3 feature (an empty gene-model file)")
    return {contig: merge_spans(items) for contig, items in spans.items()}


def intersect(
    a: Mapping[str, list[tuple[int, int]]], b: Mapping[str, list[tuple[int, int]]]
) -> Spans:
    """Bases in both sets of merged spans.

    >>> intersect({"c": [(0, 10), (20, 30)]}, {"c": [(5, 25)], "d": [(0, 1)]})
    {'c': [(5, 10), (20, 25)]}
    """
    out: Spans = {}
    for contig, left in a.items():
        right = b.get(contig, [])
        i = j = 0
        found: list[tuple[int, int]] = []
        while i < len(left) and j < len(right):
            start = max(left[i][0], right[j][0])
            end = min(left[i][1], right[j][1])
            if start < end:
                found.append((start, end))
            if left[i][1] < right[j][1]:
                i += 1
            else:
                j += 1
        if found:
            out[contig] = found
    return out


def size(spans: Mapping[str, list[tuple[int, int]]]) -> int:
    """Bases in merged spans.

    >>> size({"c": [(0, 10), (20, 25)]})
    15
    """
    return sum(end - start for items in spans.values() for start, end in items)


def spans_of(records: Iterable[tuple[str, int, int]]) -> Spans:
    """Merged spans from ``(contig, start, end)`` records."""
    out: dict[str, list[tuple[int, int]]] = {}
    for contig, start, end in records:
        out.setdefault(contig, []).append((start, end))
    return {contig: merge_spans(items) for contig, items in out.items()}


def _runs(mask: np.ndarray[Any, np.dtype[np.bool_]], offset: int) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as spans shifted by ``offset``.

    >>> _runs(np.array([True, True, False, True]), 10)
    [(10, 12), (13, 14)]
    """
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return [
        (offset + int(s), offset + int(e)) for s, e in zip(edges[::2], edges[1::2], strict=True)
    ]


def callable_spans(
    bam: Path,
    spans: Mapping[str, list[tuple[int, int]]],
    min_depth: int,
    min_mapping_quality: int,
    reference: Path | None = None,
) -> Spans:
    """The bases of ``spans`` that at least ``min_depth`` reads cover (any base quality;
    duplicates, secondary, supplementary and QC-failed reads and reads below
    ``min_mapping_quality`` not counted)."""

    def counted(read: pysam.AlignedSegment) -> bool:
        return not (read.flag & _SKIP_FLAGS) and read.mapping_quality >= min_mapping_quality

    out: Spans = {}
    options: dict[str, Any] = {"reference_filename": os.fspath(reference)} if reference else {}
    try:
        alignments = pysam.AlignmentFile(os.fspath(bam), **options)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{bam}: cannot read the alignments ({err})") from None
    with alignments:
        known = set(alignments.references)
        for contig, items in spans.items():
            if contig not in known:
                continue
            found: list[tuple[int, int]] = []
            for start, end in items:
                counts = alignments.count_coverage(
                    contig, start, end, quality_threshold=0, read_callback=counted
                )
                depth = np.sum(np.asarray(counts, dtype=np.int64), axis=0)
                found += _runs(depth >= min_depth, start)
            if found:
                out[contig] = merge_spans(found)
    return out


def overlaps(spans: Mapping[str, list[tuple[int, int]]], contig: str, start: int, end: int) -> bool:
    """Whether ``[start, end)`` on ``contig`` shares a base with the merged ``spans``.

    >>> overlaps({"c": [(10, 20)]}, "c", 19, 21), overlaps({"c": [(10, 20)]}, "c", 20, 21)
    (True, False)
    """
    import bisect

    items = spans.get(contig, [])
    index = bisect.bisect_right(items, (start, float("inf"))) - 1
    for candidate in items[max(index, 0) : index + 2]:
        if candidate[0] < end and start < candidate[1]:
            return True
    return False
