"""Structural variants and copy-number calls scored against planted truth (issue #16).

A call matches a planted event of the same type on the same contig when both breakpoints lie
within ``max_distance`` bp (100) of the event's, or, for an event of at least ``large`` bp
(10 kb), when the two overlap reciprocally by at least ``min_overlap`` (0.5): the criteria of
the issue. Recall counts the planted events with a matching call; precision the calls that
match a planted event (delly reports an inversion as its two junctions: both match it).

truvari is the field's tool for this; it is not used because its dependencies build from
source here (pywfa, pyabpoa, pytabix are sdists), and planted truth needs only this much.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from genomflow.errors import GenomflowError

MAX_DISTANCE = 100
MIN_OVERLAP = 0.5
LARGE = 10_000


@dataclass(frozen=True)
class Event:
    """A structural variant: contig, first and last base (VCF POS and END), type."""

    contig: str
    start: int
    end: int
    svtype: str

    @property
    def length(self) -> int:
        return self.end - self.start


def reciprocal_overlap(a: Event, b: Event) -> float:
    """The smaller of the shares of ``a`` and ``b`` that they have in common.

    >>> reciprocal_overlap(Event("c", 0, 100, "DEL"), Event("c", 50, 250, "DEL"))
    0.25
    >>> reciprocal_overlap(Event("c", 0, 100, "DEL"), Event("d", 0, 100, "DEL"))
    0.0
    """
    if a.contig != b.contig:
        return 0.0
    shared = max(0, min(a.end, b.end) - max(a.start, b.start))
    return min(shared / max(1, a.length), shared / max(1, b.length))


def matches(
    call: Event,
    truth: Event,
    max_distance: int = MAX_DISTANCE,
    min_overlap: float = MIN_OVERLAP,
    large: int = LARGE,
) -> bool:
    """Same contig and type, and both breakpoints within ``max_distance`` (any event) or a
    reciprocal overlap of at least ``min_overlap`` (events of at least ``large`` bp).

    >>> truth = Event("c", 10_000, 25_000, "DEL")
    >>> matches(Event("c", 10_050, 24_960, "DEL"), truth)
    True
    >>> matches(Event("c", 12_000, 26_000, "DEL"), truth), matches(Event("c", 12_000, 26_000,
    ...     "DUP"), truth)
    (True, False)
    >>> matches(Event("c", 1_300, 3_400, "DEL"), Event("c", 1_000, 3_200, "DEL"))
    False
    """
    if call.contig != truth.contig or call.svtype != truth.svtype:
        return False
    close = abs(call.start - truth.start) <= max_distance and abs(call.end - truth.end) <= (
        max_distance
    )
    return close or (truth.length >= large and reciprocal_overlap(call, truth) >= min_overlap)


@dataclass(frozen=True)
class Score:
    """Planted events found and missed, calls matching one and false calls."""

    found: tuple[Event, ...]
    missed: tuple[Event, ...]
    true_calls: tuple[Event, ...]
    false_calls: tuple[Event, ...]

    @property
    def recall(self) -> float | None:
        planted = len(self.found) + len(self.missed)
        return len(self.found) / planted if planted else None

    @property
    def precision(self) -> float | None:
        called = len(self.true_calls) + len(self.false_calls)
        return len(self.true_calls) / called if called else None

    def summary(self) -> str:
        """>>> Score((), (Event("c", 1, 9, "DEL"),), (), ()).summary()
        'recall 0/1, precision 0/0'
        """
        planted = len(self.found) + len(self.missed)
        called = len(self.true_calls) + len(self.false_calls)
        return f"recall {len(self.found)}/{planted}, precision {len(self.true_calls)}/{called}"


def score(
    calls: Sequence[Event],
    truth: Sequence[Event],
    max_distance: int = MAX_DISTANCE,
    min_overlap: float = MIN_OVERLAP,
    large: int = LARGE,
) -> Score:
    """Score ``calls`` against ``truth`` with the criteria of :func:`matches`."""

    def match(call: Event, event: Event) -> bool:
        return matches(call, event, max_distance, min_overlap, large)

    found = tuple(t for t in truth if any(match(c, t) for c in calls))
    missed = tuple(t for t in truth if t not in found)
    true_calls = tuple(c for c in calls if any(match(c, t) for t in truth))
    false_calls = tuple(c for c in calls if c not in true_calls)
    return Score(found, missed, true_calls, false_calls)


def read_calls(path: Path, passing: bool = True) -> list[Event]:
    """The records of a VCF (SV or copy-number) as events; ``passing``: FILTER PASS only.
    Breakends (no END on the contig) are events of length 0."""
    try:
        reader = pysam.VariantFile(str(path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF: {err}") from None
    with reader:
        return [
            Event(r.chrom, r.pos, r.stop, str(r.info.get("SVTYPE", "BND")))
            for r in reader
            if not passing or list(r.filter) == ["PASS"]
        ]


def read_truth(path: Path, sample: str) -> list[Event]:
    """The planted events of a truth VCF that ``sample`` carries (a non-reference allele)."""
    try:
        reader = pysam.VariantFile(str(path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read truth VCF: {err}") from None
    with reader:
        if sample not in reader.header.samples:
            raise GenomflowError(f"{path}: no sample {sample!r} in the truth")
        return [
            Event(r.chrom, r.pos, r.stop, str(r.info["SVTYPE"]))
            for r in reader
            if any(a for a in r.samples[sample]["GT"] if a)
        ]
