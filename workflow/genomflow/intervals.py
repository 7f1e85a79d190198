"""Half-open genomic intervals ``(start, end)`` on one contig."""

from __future__ import annotations

from collections.abc import Iterable


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of spans; overlapping or touching spans become one.

    >>> merge_spans([(10, 20), (0, 5), (15, 30), (30, 31)])
    [(0, 5), (10, 31)]
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
