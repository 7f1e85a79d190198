"""UMI families and consensus reads: one read pair per original molecule.

**UMIs.** A read's UMI is its ``RX`` tag (``ACGT`` or ``ACGT-TTGA``, as fgbio and umi_tools
write it), else the part of its name after the last ``:`` (``NAME:ACGT``, or with both reads'
UMIs ``NAME:ACGT_TTGA``, as ``fastp --umi`` writes them; a non-ACGTN token such as fastp's
``UMI_`` prefix is dropped). Read structures are fgbio's (``8M142T 8M142T``, ``3M2S+T 3M2S+T``):
when both reads carry a molecular barcode (``M``) the library can be read as duplex.

**Families.** A template (read pair; secondary, supplementary, QC-failed and unpaired reads
and pairs split over contigs are skipped, duplicates are kept: UMIs are the deduplication)
belongs to the family of its contig, the 5' ends and strands of its two reads (unclipped,
using the mate's ``MC`` tag; without ``MC`` the leftmost aligned positions) and its UMI
group. With one UMI per template, read 1 at the left end and read 1 at the right end are two
families (the two strands of a molecule cannot be matched). With two UMIs (duplex) the key
is the UMI of the left read then of the right read, and the family has two strands: *A*
(read 1 on the left) and *B* (read 1 on the right) of the same molecule.

**UMI groups.** The UMIs of one position are grouped by umi_tools' directional adjacency
method, so that a sequencing error in a UMI does not split a family: UMI *a* takes UMI *b*
when they differ at ``umi_edit_distance`` bases or fewer and *a* has at least
``2 * b - 1`` templates (``group_umis``). Duplex keys are grouped as the pair (left UMI,
right UMI), which is the same for both strands, so the strands stay paired.

**Single-strand consensus** (per strand, for read 1 and read 2 apart): the members whose
alignment (start, CIGAR, strand) is the commonest are kept (others are counted as
discarded), and at each position the consensus base maximises the likelihood of the
members' bases given their qualities (an error of quality ``q`` is any of the three other
bases with probability ``10^(-q/10) / 3``); its quality is the phred of the posterior error,
capped at ``max_quality``; a base whose quality is below ``min_quality`` (or with no base)
becomes ``N`` at quality 2. A strand needs ``min_family_size`` templates.

**Duplex consensus**: the A and B consensus of the same end (A's read 1 with B's read 2, and
A's read 2 with B's read 1) must share their alignment; bases that agree get the summed
quality (capped), bases that disagree become ``N``. A duplex molecule needs
``min_family_size`` templates over both strands and at least one on each; a molecule seen on
one strand only (or whose strands align differently) gets its single-strand consensus when
that strand has ``min_family_size`` templates, unless ``require_duplex``.

The consensus reads keep the coordinates and CIGAR of their members (no re-alignment), are
named ``m<number>``, and carry ``RX`` (UMI), ``MI`` (molecule number), ``cD`` (templates),
``aD``/``bD`` (templates per strand, duplex) and ``MC``. The metrics give the families of
exact UMIs merged by grouping, the family-size distribution (templates per family, before
the size filter) and the consensus error rate:
mismatches against the reference over consensus bases (not ``N``), leaving out positions
where a non-reference base reaches ``variant_fraction`` of the consensus reads (variants).
"""

from __future__ import annotations

import array
import bisect
import heapq
import re
import warnings
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pysam
from numpy.typing import NDArray

from genomflow import __version__
from genomflow.ctdna.counts import close_reader
from genomflow.errors import GenomflowError

_SEGMENT = re.compile(r"([0-9]+|\+)([TBMSC])")
_UMI_TOKEN = re.compile(r"^[ACGTN]+$")
_BASE_CODES = bytes(
    {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}.get(i, 4) for i in range(256)
)
_LETTERS = np.frombuffer(b"ACGTN", dtype=np.uint8)
#: Quality assumed for reads stored without qualities ('*'): Q30.
_MISSING_QUALITY = "?"
#: Quality of a masked (N) consensus base, as fgbio writes it.
MASKED_QUALITY = 2
#: Read flags skipped when grouping: unmapped, secondary, QC fail, supplementary.
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x800
_MATCH_OPS = frozenset({0, 7, 8})
_CLIP = 4
_REFERENCE_OPS = frozenset({0, 2, 3, 7, 8})
#: Log-likelihoods of a base of quality q (index) being right / being one given wrong base;
#: the last entry (an N) contributes nothing.
_MAX_PHRED = 93
_ERROR = np.clip(10.0 ** (-np.arange(_MAX_PHRED + 1) / 10.0), 1e-9, 0.75)
_LOG_MATCH = np.append(np.log1p(-_ERROR), 0.0)
_LOG_MISMATCH = np.append(np.log(_ERROR / 3), 0.0)
#: Substitutions between two UMIs of one family (umi_tools' ``--edit-distance-threshold``).
DEFAULT_UMI_EDIT_DISTANCE = 1


# --- read structures and UMIs ----------------------------------------------------------------


@dataclass(frozen=True)
class ReadStructure:
    """One read's structure: (length or None for ``+``, kind) segments."""

    segments: tuple[tuple[int | None, str], ...]

    @property
    def umi_length(self) -> int | None:
        """Bases of molecular barcode (None: a variable ``+M``)."""
        lengths = [n for n, kind in self.segments if kind == "M"]
        return None if None in lengths else sum(n or 0 for n in lengths)

    @property
    def has_umi(self) -> bool:
        return any(kind == "M" for _, kind in self.segments)


def parse_read_structure(text: str) -> ReadStructure:
    """Parse one read's structure in fgbio notation.

    >>> parse_read_structure("3M2S+T").segments
    ((3, 'M'), (2, 'S'), (None, 'T'))
    >>> parse_read_structure("8M142T").umi_length
    8
    """
    segments = _SEGMENT.findall(text)
    if not text or "".join(n + k for n, k in segments) != text:
        raise GenomflowError(
            f"read structure {text!r}: not in fgbio notation (e.g. 8M142T or 3M2S+T)"
        )
    parsed = tuple((None if n == "+" else int(n), k) for n, k in segments)
    if sum(1 for n, _ in parsed if n is None) > 1:
        raise GenomflowError(f"read structure {text!r}: only one '+' segment is allowed")
    return ReadStructure(parsed)


def parse_read_structures(text: str) -> tuple[ReadStructure, ...]:
    """Structures of read 1 and read 2 (space-separated), as in units.tsv's ``umi``."""
    return tuple(parse_read_structure(part) for part in text.split())


def duplex_capable(structures: Sequence[ReadStructure]) -> bool:
    """Both reads carry a molecular barcode.

    >>> duplex_capable(parse_read_structures("3M2S+T 3M2S+T"))
    True
    >>> duplex_capable(parse_read_structures("8M+T +T"))
    False
    """
    return len(structures) == 2 and all(s.has_umi for s in structures)


def read_umis(read: pysam.AlignedSegment) -> tuple[str, ...]:
    """The UMI(s) of a read: from its RX tag, else its name after the last ':'.

    Raises ``ValueError`` when there is none.
    """
    if read.has_tag("RX"):
        parts = str(read.get_tag("RX")).upper().split("-")
    else:
        name = read.query_name or ""
        if ":" not in name:
            raise ValueError(f"read {name}: no UMI (no RX tag and no ':UMI' in the name)")
        parts = name.rsplit(":", 1)[1].upper().split("_")
    umis = tuple(p for p in parts if _UMI_TOKEN.match(p))
    if not umis:
        raise ValueError(f"read {read.query_name}: no UMI (no RX tag and no ':UMI' in the name)")
    return umis


# --- settings and metrics --------------------------------------------------------------------


@dataclass(frozen=True)
class ConsensusSettings:
    """Consensus calling settings."""

    min_family_size: int = 2
    min_quality: int = 10
    max_quality: int = 60
    #: None: duplex when the reads carry two UMIs; True/False: force.
    duplex: bool | None = None
    require_duplex: bool = False
    #: UMIs of one position this many substitutions apart (or fewer) are grouped by
    #: umi_tools' directional method; 0: exact UMIs only.
    umi_edit_distance: int = DEFAULT_UMI_EDIT_DISTANCE
    #: Families end this far (bp) behind the reads being read (longer than any read).
    flush_margin: int = 1000
    variant_fraction: float = 0.05


@dataclass
class ConsensusMetrics:
    """Counts of a consensus run; ``family_sizes``: templates per family -> families."""

    reads_in: int = 0
    reads_skipped: int = 0
    templates: int = 0
    #: Families of exact UMIs, and those of them grouped into another family (UMI errors).
    umi_families: int = 0
    families_merged: int = 0
    families: int = 0
    family_sizes: Counter[int] = field(default_factory=Counter)
    too_small: int = 0
    discarded_reads: int = 0
    molecules: int = 0
    duplex_molecules: int = 0
    single_strand_molecules: int = 0
    consensus_bases: int = 0
    mismatches: int = 0
    variant_positions: int = 0
    variant_bases: int = 0
    variant_mismatches: int = 0

    @property
    def error_rate(self) -> float | None:
        bases = self.consensus_bases - self.variant_bases
        if bases <= 0:
            return None
        return (self.mismatches - self.variant_mismatches) / bases

    def as_dict(self, sample: str | None = None) -> dict[str, Any]:
        sizes = sorted(self.family_sizes.items())
        mean = sum(s * n for s, n in sizes) / self.families if self.families else None
        return {
            "sample": sample,
            "reads_in": self.reads_in,
            "reads_skipped": self.reads_skipped,
            "templates": self.templates,
            "umi_families": self.umi_families,
            "umi_families_merged": self.families_merged,
            "families": self.families,
            "mean_family_size": mean,
            "family_sizes": {str(size): count for size, count in sizes},
            "families_too_small": self.too_small,
            "reads_discarded_alignment": self.discarded_reads,
            "molecules": self.molecules,
            "duplex_molecules": self.duplex_molecules,
            "single_strand_molecules": self.single_strand_molecules,
            "consensus_bases": self.consensus_bases,
            "consensus_mismatches": self.mismatches - self.variant_mismatches,
            "variant_positions_skipped": self.variant_positions,
            "consensus_error_rate": self.error_rate,
            "genomflow_version": __version__,
        }


# --- consensus of bases ----------------------------------------------------------------------


def consensus_bases(
    codes: NDArray[np.uint8], quals: NDArray[np.int64], settings: ConsensusSettings
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Consensus codes (0-3, 4 = N) and qualities of aligned reads (rows).

    >>> c, q = consensus_bases(np.array([[0, 1], [0, 2]], dtype=np.uint8),
    ...                        np.array([[30, 30], [30, 30]]), ConsensusSettings())
    >>> c.tolist(), q.tolist()
    ([0, 4], [60, 2])
    """
    rows, width = codes.shape
    index = np.where(codes < 4, np.clip(quals, 0, _MAX_PHRED), _MAX_PHRED + 1)
    mismatch = _LOG_MISMATCH[index]
    gain = _LOG_MATCH[index] - mismatch
    columns = np.broadcast_to(np.arange(width), (rows, width))
    likelihood = np.bincount(
        (np.minimum(codes, 4).astype(np.int64) * width + columns).ravel(),
        weights=gain.ravel(),
        minlength=5 * width,
    ).reshape(5, width)[:4] + mismatch.sum(axis=0)
    best = likelihood.argmax(axis=0)
    others = np.exp(likelihood - likelihood[best, np.arange(width)]).sum(axis=0) - 1.0
    with np.errstate(divide="ignore"):
        phred = -10 * np.log10(others / (1.0 + others))
    quality = np.floor(np.minimum(phred, settings.max_quality)).astype(np.int64)
    masked = (quality < settings.min_quality) | ~(codes < 4).any(axis=0)
    result_codes = np.where(masked, 4, best).astype(np.uint8)
    result_quals = np.where(masked, MASKED_QUALITY, quality).astype(np.int64)
    return result_codes, result_quals


def duplex_bases(
    a: tuple[NDArray[np.uint8], NDArray[np.int64]],
    b: tuple[NDArray[np.uint8], NDArray[np.int64]],
    settings: ConsensusSettings,
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Combine two single-strand consensus reads of one end: agreeing bases sum their
    qualities (capped), disagreeing or N bases are masked.

    >>> c, q = duplex_bases((np.array([0, 1], dtype=np.uint8), np.array([40, 40])),
    ...                     (np.array([0, 2], dtype=np.uint8), np.array([40, 40])),
    ...                     ConsensusSettings())
    >>> c.tolist(), q.tolist()
    ([0, 4], [60, 2])
    """
    agree = (a[0] == b[0]) & (a[0] < 4)
    codes = np.where(agree, a[0], 4).astype(np.uint8)
    quals = np.where(agree, np.minimum(a[1] + b[1], settings.max_quality), MASKED_QUALITY)
    return codes, quals.astype(np.int64)


# --- families --------------------------------------------------------------------------------


def _clip(cigar: Sequence[tuple[int, int]], leading: bool) -> int:
    total = 0
    for op, length in cigar if leading else reversed(cigar):
        if op == _CLIP or op == 5:
            total += length if op == _CLIP else 0
        else:
            break
    return total


def _reference_length(cigar: Sequence[tuple[int, int]]) -> int:
    return sum(length for op, length in cigar if op in _REFERENCE_OPS)


def _parse_cigar(text: str) -> list[tuple[int, int]]:
    ops = "MIDNSHP=X"
    return [(ops.index(op), int(n)) for n, op in re.findall(r"([0-9]+)([MIDNSHP=X])", text)]


def five_prime(start: int, cigar: Sequence[tuple[int, int]], reverse: bool) -> int:
    """Unclipped 5' position of an alignment (0-based).

    >>> five_prime(100, [(4, 5), (0, 95)], False), five_prime(100, [(0, 95), (4, 5)], True)
    (95, 199)
    """
    if reverse:
        return start + _reference_length(cigar) + _clip(cigar, leading=False) - 1
    return start - _clip(cigar, leading=True)


def _ends(read: pysam.AlignedSegment) -> tuple[tuple[int, bool], tuple[int, bool]]:
    """(5' position, reverse) of the read and of its mate."""
    cigar = read.cigartuples or []
    if read.has_tag("MC"):
        own = five_prime(read.reference_start, cigar, read.is_reverse)
        mate_cigar = _parse_cigar(str(read.get_tag("MC")))
        mate = five_prime(read.next_reference_start, mate_cigar, read.mate_is_reverse)
    else:
        own, mate = read.reference_start, read.next_reference_start
    return (own, read.is_reverse), (mate, read.mate_is_reverse)


@dataclass
class _Family:
    """Reads of one family by (strand, read number)."""

    end: int
    umi: str
    reads: dict[tuple[str, int], list[pysam.AlignedSegment]] = field(default_factory=dict)


def family_key(read: pysam.AlignedSegment, duplex: bool) -> tuple[tuple[Any, ...], str, str, int]:
    """(position key, strand A/B, UMI text, last position of the key) of a read: a family
    is a position key and a group of UMIs (see ``group_umis``)."""
    own, mate = _ends(read)
    umis = read_umis(read)
    self_left = own < mate or (own == mate and read.is_read1)
    left, right = (own, mate) if self_left else (mate, own)
    read1_left = self_left == read.is_read1
    last = max(own[0], mate[0])
    if duplex:
        if len(umis) != 2:
            raise ValueError(
                f"read {read.query_name}: duplex consensus needs two UMIs, found {len(umis)}"
            )
        first, second = umis if read1_left else (umis[1], umis[0])
        umi = f"{first}-{second}"
        return (read.reference_id, left, right), "A" if read1_left else "B", umi, last
    umi = "-".join(umis)
    return (read.reference_id, left, right, read1_left), "A", umi, last


# --- error-tolerant UMI groups ---------------------------------------------------------------


def _directional(counts: dict[bytes, int], max_distance: int) -> list[list[bytes]]:
    """umi_tools' directional clusters of ``counts`` (UMIs of one length), each with its UMI
    of most templates first. umi_tools is imported here, when first needed: it pulls in
    scipy.stats and matplotlib (about 1.5 s), which the other ctdna commands do not need."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # its numpy.matlib import
        from umi_tools import UMIClusterer

    clusters = UMIClusterer(cluster_method="directional")(counts, max_distance)
    return [[bytes(umi) for umi in cluster] for cluster in clusters]


def group_umis(counts: Mapping[str, int], max_distance: int) -> list[list[str]]:
    """Groups of the UMIs of one position by umi_tools' directional adjacency: UMI ``a``
    takes UMI ``b`` (and what ``b`` takes) when they differ at ``max_distance`` bases or
    fewer (an ``N`` is compared as a letter: unlike a base, like an ``N``) and
    ``count_a >= 2 * count_b - 1``.
    ``counts`` are templates per UMI; UMIs of different lengths are never grouped. Each
    group lists its UMI with the most templates first; 0 groups identical UMIs only.

    >>> group_umis({"AAAA": 10, "AAAT": 2, "AANA": 1, "CCCC": 5, "CCCG": 4}, 1)
    [['AAAA', 'AAAT', 'AANA'], ['CCCC'], ['CCCG']]
    >>> group_umis({"AAAA": 10, "AAAT": 2}, 0)
    [['AAAA'], ['AAAT']]
    """
    if max_distance < 0:
        raise ValueError(f"UMI edit distance must be at least 0, not {max_distance}")
    if max_distance == 0 or len(counts) < 2:
        return [[umi] for umi in sorted(counts, key=lambda u: (-counts[u], u))]
    by_length: dict[int, dict[bytes, int]] = {}
    for umi in sorted(counts):  # a fixed order: umi_tools breaks count ties by it
        by_length.setdefault(len(umi), {})[umi.encode()] = counts[umi]
    groups: list[list[str]] = []
    for length in sorted(by_length):
        same_length = by_length[length]
        if len(same_length) == 1:
            groups += [[umi.decode() for umi in same_length]]
            continue
        clusters = _directional(same_length, max_distance)
        groups += [[umi.decode() for umi in cluster] for cluster in clusters]
    return groups


def _family_templates(family: _Family) -> int:
    return _templates(family, "A") + _templates(family, "B")


def _merged(families: Sequence[_Family], umi: str) -> _Family:
    """One family of the reads of ``families``, under the UMI ``umi``."""
    merged = _Family(families[0].end, umi)
    for family in families:
        for role, reads in family.reads.items():
            merged.reads.setdefault(role, []).extend(reads)
    return merged


def group_families(
    families: Sequence[_Family], settings: ConsensusSettings, metrics: ConsensusMetrics
) -> list[_Family]:
    """The families of exact UMIs of one position, grouped (``group_umis``) so that a UMI
    with a sequencing error joins its own family; duplex families are keyed on the left
    read's UMI then the right read's, so both strands of a molecule stay in one group."""
    if len(families) == 1:  # most positions: nothing to group
        metrics.umi_families += 1
        return list(families)
    by_umi = {family.umi: family for family in families}
    counts = {umi: _family_templates(family) for umi, family in by_umi.items()}
    groups = group_umis(counts, settings.umi_edit_distance)
    metrics.umi_families += len(by_umi)
    metrics.families_merged += len(by_umi) - len(groups)
    return [
        by_umi[group[0]] if len(group) == 1 else _merged([by_umi[u] for u in group], group[0])
        for group in groups
    ]


# --- consensus of families -------------------------------------------------------------------


@dataclass(frozen=True)
class _Strand:
    """A single-strand consensus of one read number."""

    template: pysam.AlignedSegment
    codes: NDArray[np.uint8]
    quals: NDArray[np.int64]
    mapq: int


def _strand_consensus(
    reads: Sequence[pysam.AlignedSegment], settings: ConsensusSettings, metrics: ConsensusMetrics
) -> _Strand | None:
    groups: dict[tuple[int, str, bool], list[pysam.AlignedSegment]] = {}
    for read in reads:
        key = (read.reference_start, read.cigarstring or "", read.is_reverse)
        groups.setdefault(key, []).append(read)
    members = max(groups.values(), key=len)
    metrics.discarded_reads += len(reads) - len(members)
    length = members[0].query_length
    if length == 0 or any(not r.query_sequence for r in members):
        return None
    codes = np.frombuffer(
        "".join(r.query_sequence or "" for r in members).upper().encode().translate(_BASE_CODES),
        dtype=np.uint8,
    ).reshape(len(members), length)
    qualities = "".join(r.query_qualities_str or _MISSING_QUALITY * length for r in members)
    raw = np.frombuffer(qualities.encode(), dtype=np.uint8).reshape(len(members), length)
    quals: NDArray[np.int64] = raw.astype(np.int64) - 33
    cons_codes, cons_quals = consensus_bases(codes, quals, settings)
    mapq = min(r.mapping_quality for r in members)
    return _Strand(members[0], cons_codes, cons_quals, mapq)


def _templates(family: _Family, strand: str) -> int:
    names = {r.query_name for role in (1, 2) for r in family.reads.get((strand, role), [])}
    return len(names)


def _pair(
    family: _Family, strand: str, settings: ConsensusSettings, metrics: ConsensusMetrics
) -> tuple[_Strand, _Strand] | None:
    first = family.reads.get((strand, 1))
    second = family.reads.get((strand, 2))
    if not first or not second:
        return None
    one = _strand_consensus(first, settings, metrics)
    two = _strand_consensus(second, settings, metrics)
    return (one, two) if one and two else None


def _same_alignment(a: _Strand, b: _Strand) -> bool:
    return (
        a.template.reference_start == b.template.reference_start
        and a.template.cigarstring == b.template.cigarstring
        and a.codes.size == b.codes.size
    )


@dataclass(frozen=True)
class _Molecule:
    """Consensus of one molecule: its two ends and the family sizes."""

    first: _Strand
    second: _Strand
    umi: str
    templates: int
    a_templates: int | None = None
    b_templates: int | None = None


def molecule_consensus(
    family: _Family, duplex: bool, settings: ConsensusSettings, metrics: ConsensusMetrics
) -> _Molecule | None:
    """The consensus of one family, or None when it is too small or incomplete."""
    a_size, b_size = _templates(family, "A"), _templates(family, "B")
    size = a_size + b_size
    metrics.families += 1
    metrics.family_sizes[size] += 1
    if size < settings.min_family_size:
        metrics.too_small += 1
        return None
    if duplex and a_size and b_size:
        a = _pair(family, "A", settings, metrics)
        b = _pair(family, "B", settings, metrics)
        if a and b and _same_alignment(a[0], b[1]) and _same_alignment(a[1], b[0]):
            first = _combined(a[0], b[1], settings)
            second = _combined(a[1], b[0], settings)
            metrics.duplex_molecules += 1
            return _Molecule(first, second, family.umi, size, a_size, b_size)
    if duplex and settings.require_duplex:
        metrics.too_small += 1
        return None
    strand, strand_size = ("A", a_size) if a_size >= b_size else ("B", b_size)
    if strand_size < settings.min_family_size:
        metrics.too_small += 1
        return None
    pair = _pair(family, strand, settings, metrics)
    if pair is None:
        metrics.too_small += 1
        return None
    metrics.single_strand_molecules += 1
    return _Molecule(pair[0], pair[1], family.umi, strand_size)


def _combined(a: _Strand, b: _Strand, settings: ConsensusSettings) -> _Strand:
    codes, quals = duplex_bases((a.codes, a.quals), (b.codes, b.quals), settings)
    return _Strand(a.template, codes, quals, min(a.mapq, b.mapq))


def _record(
    strand: _Strand,
    mate: _Strand,
    molecule: _Molecule,
    number: int,
    header: pysam.AlignmentHeader,
) -> pysam.AlignedSegment:
    source = strand.template
    read = pysam.AlignedSegment(header)
    read.query_name = f"m{number}"
    read.flag = source.flag & ~0x400
    read.reference_id = source.reference_id
    read.reference_start = source.reference_start
    read.mapping_quality = strand.mapq
    read.cigartuples = source.cigartuples
    read.next_reference_id = mate.template.reference_id
    read.next_reference_start = mate.template.reference_start
    read.template_length = source.template_length
    read.query_sequence = _LETTERS[strand.codes].tobytes().decode()
    read.query_qualities = array.array("B", strand.quals.astype(np.uint8).tobytes())
    if mate.template.is_reverse:
        read.flag |= 0x20
    else:
        read.flag &= ~0x20
    tags: list[tuple[str, Any]] = [
        ("RX", molecule.umi),
        ("MI", str(number)),
        ("cD", molecule.templates),
        ("MC", mate.template.cigarstring or ""),
    ]
    if molecule.a_templates is not None:
        tags += [("aD", molecule.a_templates), ("bD", molecule.b_templates)]
    if source.has_tag("RG"):
        tags.append(("RG", source.get_tag("RG")))
    read.set_tags(tags)
    return read


# --- the run ---------------------------------------------------------------------------------


class _ErrorTally:
    """Mismatches of consensus reads against the reference, per position."""

    def __init__(
        self,
        reference: pysam.FastaFile | None,
        skip: dict[str, NDArray[np.int64]] | None = None,
    ) -> None:
        self.reference = reference
        self.skip = skip or {}
        self.mismatch_at: Counter[tuple[int, int]] = Counter()
        self.starts: dict[int, list[int]] = {}
        self.ends: dict[int, list[int]] = {}
        self.bases = 0

    def add(self, read: pysam.AlignedSegment, contig: str) -> None:
        if self.reference is None:
            return
        for start, end in read.get_blocks():
            self.starts.setdefault(read.reference_id, []).append(start)
            self.ends.setdefault(read.reference_id, []).append(end)
        codes = np.frombuffer(
            (read.query_sequence or "").encode().translate(_BASE_CODES), dtype=np.uint8
        )
        cigar = read.cigartuples or []
        if len(cigar) == 1 and cigar[0][0] in _MATCH_OPS:
            query = np.arange(cigar[0][1], dtype=np.int64)
            ref_pos = read.reference_start + query
        else:
            pairs = read.get_aligned_pairs(matches_only=True)
            if not pairs:
                return
            query = np.array([q for q, _ in pairs], dtype=np.int64)
            ref_pos = np.array([r for _, r in pairs], dtype=np.int64)
        span = self.reference.fetch(contig, int(ref_pos.min()), int(ref_pos.max()) + 1)
        ref_codes = np.frombuffer(span.upper().encode().translate(_BASE_CODES), dtype=np.uint8)
        read_codes = codes[query]
        truth = ref_codes[ref_pos - ref_pos.min()]
        called = (read_codes < 4) & (truth < 4)
        if contig in self.skip:
            called &= ~np.isin(ref_pos, self.skip[contig])
        self.bases += int(called.sum())
        for position in ref_pos[called & (read_codes != truth)]:
            self.mismatch_at[(read.reference_id, int(position))] += 1

    def finish(self, metrics: ConsensusMetrics, settings: ConsensusSettings) -> None:
        metrics.consensus_bases = self.bases
        metrics.mismatches = sum(self.mismatch_at.values())
        starts = {tid: sorted(v) for tid, v in self.starts.items()}
        ends = {tid: sorted(v) for tid, v in self.ends.items()}
        for (tid, position), count in self.mismatch_at.items():
            depth = bisect.bisect_right(starts[tid], position) - bisect.bisect_right(
                ends[tid], position
            )
            if count >= 2 and count >= settings.variant_fraction * depth:
                metrics.variant_positions += 1
                metrics.variant_bases += depth
                metrics.variant_mismatches += count


def _positions(
    bam: pysam.AlignmentFile, duplex: bool, settings: ConsensusSettings, metrics: ConsensusMetrics
) -> Iterator[dict[str, _Family]]:
    """The families of exact UMIs of each position key (by UMI), in the order the positions
    complete, from a coordinate-sorted BAM."""
    pending: dict[tuple[Any, ...], dict[str, _Family]] = {}
    queue: list[tuple[int, int, tuple[Any, ...]]] = []
    order = 0
    contig = -1
    for read in bam.fetch(until_eof=True):
        metrics.reads_in += 1
        if read.reference_id != contig or read.reference_start < 0:
            yield from (pending.pop(k) for _, _, k in sorted(queue) if k in pending)
            queue.clear()
            contig = read.reference_id
        while queue and queue[0][0] + settings.flush_margin < read.reference_start:
            _, _, key = heapq.heappop(queue)
            if key in pending:
                yield pending.pop(key)
        flags = read.flag
        if (
            flags & _SKIP_FLAGS
            or not flags & 0x1
            or flags & 0x8
            or read.next_reference_id != read.reference_id
        ):
            metrics.reads_skipped += 1
            continue
        try:
            key, strand, umi, last = family_key(read, duplex)
        except ValueError as err:
            raise GenomflowError(f"{bam.filename.decode()}: {err}") from None
        position = pending.get(key)
        if position is None:
            position = pending[key] = {}
            order += 1
            heapq.heappush(queue, (last, order, key))
        family = position.get(umi)
        if family is None:
            family = position[umi] = _Family(last, umi)
        family.reads.setdefault((strand, 2 if read.is_read2 else 1), []).append(read)
        if read.is_read1:
            metrics.templates += 1
    yield from (pending.pop(k) for _, _, k in sorted(queue) if k in pending)


def _families(
    bam: pysam.AlignmentFile, duplex: bool, settings: ConsensusSettings, metrics: ConsensusMetrics
) -> Iterator[_Family]:
    """Complete families (UMIs grouped per position), from a coordinate-sorted BAM."""
    for position in _positions(bam, duplex, settings, metrics):
        yield from group_families(list(position.values()), settings, metrics)


def _is_duplex(bam_path: Path, settings: ConsensusSettings, structures: str | None) -> bool:
    if settings.duplex is not None:
        return settings.duplex
    if structures:
        return duplex_capable(parse_read_structures(structures))
    with pysam.AlignmentFile(str(bam_path)) as bam:
        for read in bam.fetch(until_eof=True):
            if not read.flag & _SKIP_FLAGS and read.flag & 0x1:
                try:
                    return len(read_umis(read)) == 2
                except ValueError as err:
                    raise GenomflowError(f"{bam_path}: {err}") from None
    return False


def call_consensus(
    in_path: Path,
    out_path: Path,
    settings: ConsensusSettings,
    read_structure: str | None = None,
    reference: Path | None = None,
    known_variants: Path | None = None,
) -> ConsensusMetrics:
    """Write the consensus BAM (coordinate-sorted, indexed) of a coordinate-sorted BAM.

    With ``reference`` the consensus error rate is measured; the positions of
    ``known_variants`` (a VCF, e.g. the tumour's somatic calls) are left out of it.
    """
    if not in_path.is_file():
        raise GenomflowError(f"{in_path}: BAM not found")
    try:
        bam = pysam.AlignmentFile(str(in_path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{in_path}: cannot read the BAM ({err})") from None
    sort_order = bam.header.to_dict().get("HD", {}).get("SO")
    if sort_order != "coordinate":
        close_reader(bam)
        raise GenomflowError(
            f"{in_path}: must be coordinate-sorted (header SO:{sort_order or 'missing'})"
        )
    duplex = _is_duplex(in_path, settings, read_structure)
    fasta = None
    if reference is not None:
        try:
            fasta = pysam.FastaFile(str(reference))
        except (OSError, ValueError) as err:
            raise GenomflowError(f"{reference}: cannot read the reference FASTA ({err})") from None
    header = bam.header.to_dict()
    header["HD"] = {**header.get("HD", {}), "SO": "unsorted"}
    header.setdefault("PG", []).append(
        {"ID": "genomflow.ctdna.consensus", "PN": "genomflow", "VN": __version__}
    )
    metrics = ConsensusMetrics()
    tally = _ErrorTally(fasta, variant_positions(known_variants) if known_variants else None)
    unsorted = out_path.with_name(out_path.name + ".unsorted.bam")
    try:
        with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
            number = 0
            for family in _families(bam, duplex, settings, metrics):
                molecule = molecule_consensus(family, duplex, settings, metrics)
                if molecule is None:
                    continue
                number += 1
                metrics.molecules += 1
                for strand, mate in (
                    (molecule.first, molecule.second),
                    (molecule.second, molecule.first),
                ):
                    read = _record(strand, mate, molecule, number, out.header)
                    out.write(read)
                    tally.add(read, read.reference_name or "")
    except OSError as err:
        unsorted.unlink(missing_ok=True)
        raise GenomflowError(f"{in_path}: cannot read the alignments ({err})") from None
    finally:
        close_reader(bam)
    sorted_tmp = out_path.with_name(out_path.name + ".tmp.bam")
    pysam.sort("-o", str(sorted_tmp), str(unsorted))
    unsorted.unlink()
    pysam.index(str(sorted_tmp))
    Path(f"{sorted_tmp}.bai").replace(f"{out_path}.bai")
    sorted_tmp.replace(out_path)
    tally.finish(metrics, settings)
    if fasta is not None:
        close_reader(fasta)
    return metrics


def variant_positions(vcf: Path) -> dict[str, NDArray[np.int64]]:
    """0-based reference positions covered by the REF alleles of a VCF, per contig."""
    positions: dict[str, list[int]] = {}
    try:
        with pysam.VariantFile(str(vcf)) as records:
            for record in records:
                positions.setdefault(record.chrom, []).extend(range(record.start, record.stop))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{vcf}: cannot read the VCF of known variants ({err})") from None
    return {chrom: np.unique(np.array(p, dtype=np.int64)) for chrom, p in positions.items()}


def family_size_section(sample: str, metrics: ConsensusMetrics) -> dict[str, Any]:
    """MultiQC custom content: the family-size distribution of one sample (% of families);
    files of several samples with this id are merged into one plot by MultiQC."""
    from genomflow.qc.multiqc import CTDNA_DESCRIPTION  # pandas: not for ``ctdna monitor``

    total = metrics.families or 1
    return {
        "id": "genomflow_ctdna_family_sizes",
        "parent_id": "genomflow_ctdna",
        "parent_name": "ctDNA",
        "parent_description": CTDNA_DESCRIPTION,
        "section_name": "UMI family sizes",
        "description": "Read pairs per UMI family (before the minimum family size).",
        "plot_type": "linegraph",
        "pconfig": {
            "id": "genomflow_ctdna_family_sizes_plot",
            "title": "ctDNA: UMI family sizes",
            "xlab": "read pairs per family",
            "ylab": "% of families",
            "ymin": 0,
        },
        "data": {
            sample: {
                size: round(100 * count / total, 4)
                for size, count in sorted(metrics.family_sizes.items())
            }
        },
    }


def consensus_table_section(sample: str, metrics: ConsensusMetrics) -> dict[str, Any]:
    """MultiQC custom content: one row of consensus metrics per sample (files of several
    samples with this id are merged into one table by MultiQC)."""
    from genomflow.qc.multiqc import CTDNA_DESCRIPTION  # pandas: not for ``ctdna monitor``

    values = metrics.as_dict(sample)
    molecules = metrics.molecules or 0
    return {
        "id": "genomflow_ctdna_consensus",
        "parent_id": "genomflow_ctdna",
        "parent_name": "ctDNA",
        "parent_description": CTDNA_DESCRIPTION,
        "section_name": "UMI consensus",
        "description": (
            "Consensus molecules from UMI families; the error rate counts consensus bases that "
            "differ from the reference at non-variant positions."
        ),
        "plot_type": "table",
        "pconfig": {"id": "genomflow_ctdna_consensus_table", "title": "ctDNA: UMI consensus"},
        "headers": {
            "read_pairs": {"title": "Read pairs", "format": "{:,.0f}"},
            "molecules": {"title": "Molecules", "format": "{:,.0f}"},
            "duplex_percent": {"title": "Duplex", "suffix": "%", "format": "{:,.1f}"},
            "mean_family_size": {"title": "Mean family size", "format": "{:,.2f}"},
            "umi_families_merged": {
                "title": "UMI families merged",
                "description": "Families of a UMI with a sequencing error, grouped into the "
                "family of the UMI they came from (umi_tools directional)",
                "format": "{:,.0f}",
            },
            "consensus_error_rate": {"title": "Consensus error rate", "format": "{:.2e}"},
        },
        "data": {
            sample: {
                "read_pairs": metrics.templates,
                "molecules": molecules,
                "duplex_percent": round(100 * metrics.duplex_molecules / molecules, 2)
                if molecules
                else None,
                "mean_family_size": values["mean_family_size"],
                "umi_families_merged": metrics.families_merged,
                "consensus_error_rate": metrics.error_rate,
            }
        },
    }


def qc_metrics(metrics: ConsensusMetrics) -> dict[str, float | None]:
    """The consensus metrics the QC status checks (genomflow.qc names): mean family size and
    the duplicate rate (read pairs beyond the first of each family)."""
    values = metrics.as_dict()
    return {
        "family_size": values["mean_family_size"],
        "duplicate_rate": 1 - metrics.families / metrics.templates if metrics.templates else None,
    }
