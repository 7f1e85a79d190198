"""Molecules supporting ref, alt and other at tracked loci, and the off-target background.

**Molecules.** At a locus every read that passes the filters (not unmapped, secondary,
supplementary, QC-failed or a marked duplicate; mapping quality at least
``min_mapping_quality``) gives an allele: the read's bases over the variant's reference span
(and, for an insertion or deletion, the bases it inserts and one aligned base past the span,
so that a read ending inside a repeat does not pass for reference) compared with REF and ALT.
Bases below ``min_base_quality`` (the lowest base of the allele) make the read
low-quality, not evidence. A template (a read pair, or a consensus read pair of one
molecule) counts once: the two mates of one name are merged, and mates that disagree count
as ``discordant`` (reported with ``other``, never as ref or alt). This works the same on a
consensus BAM (one template per molecule) and on a deduplicated one (one per surviving
read pair).

**Context.** SNVs are classed by the pyrimidine of the pair (C>A, C>G, C>T, T>A, T>C, T>G;
a G>T is the C>A of the other strand) with the trinucleotide context read from the same
strand (``ACG`` for the C of an ``ACG``, and for a ``CGT`` on the plus strand).

**Off-target background.** While a locus is read, up to ``background_reads / loci`` of its
reads with an ungapped alignment are kept, and every one of their bases outside
``exclude_flank`` bp of a tracked locus is compared with the reference: the mismatch rate of
each substitution class is ``mismatches / bases`` of that class's reference bases, over
positions whose commonest non-reference base stays below ``germline_fraction`` of the reads
there (a higher share is a germline SNP or a mapping artefact, not an error). Bases of both
mates count: it is a rate per sequenced base.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pysam
from numpy.typing import NDArray

#: Read flags that exclude a read: unmapped, secondary, QC fail, duplicate, supplementary.
SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
#: The six substitution classes, named by the pyrimidine of the pair.
SUBSTITUTION_CLASSES: tuple[str, ...] = ("C>A", "C>G", "C>T", "T>A", "T>C", "T>G")
#: Class of insertions and deletions (and of MNVs and complex alleles).
INDEL_CLASS = "indel"
MNV_CLASS = "mnv"
_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")
#: A, C, G, T -> 0..3; anything else -> 4.
_BASE_CODES = bytes(
    {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}.get(i, 4) for i in range(256)
)
_BASES = "ACGT"
_CIGAR_MATCH_OPS = frozenset({0, 7, 8})  # M, =, X


class Allele(enum.IntEnum):
    """What one read (or template) shows at a locus."""

    REF = 0
    ALT = 1
    OTHER = 2
    LOW_QUALITY = 3
    DISCORDANT = 4
    NONE = 5  # the read does not cover the locus well enough to tell


@dataclass(frozen=True)
class Locus:
    """A tracked variant (VCF coordinates: 1-based ``pos``, REF and ALT as written)."""

    chrom: str
    pos: int
    ref: str
    alt: str
    #: Allele fraction of the variant in the tumour (before purity correction), if known.
    tumour_vaf: float | None = None

    @property
    def key(self) -> str:
        """``chrom:pos:ref:alt``."""
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    @property
    def start(self) -> int:
        """0-based first reference base of REF."""
        return self.pos - 1

    @property
    def end(self) -> int:
        """0-based end (exclusive) of REF."""
        return self.pos - 1 + len(self.ref)

    @property
    def is_indel(self) -> bool:
        return len(self.ref) != len(self.alt)

    @property
    def kind(self) -> str:
        """``snv``, ``mnv``, ``insertion``, ``deletion`` or ``complex``."""
        if len(self.ref) == len(self.alt):
            return "snv" if len(self.ref) == 1 else "mnv"
        if len(self.ref) == 1 and self.alt[0] == self.ref[0]:
            return "insertion"
        if len(self.alt) == 1 and self.ref[0] == self.alt[0]:
            return "deletion"
        return "complex"


@dataclass(frozen=True)
class AlleleCounts:
    """Templates (molecules) at one locus by what they show."""

    ref: int = 0
    alt: int = 0
    other: int = 0
    discordant: int = 0
    low_quality: int = 0

    @property
    def informative(self) -> int:
        """Molecules showing ref or alt: the depth of the binomial model."""
        return self.ref + self.alt

    @property
    def vaf(self) -> float:
        return self.alt / self.informative if self.informative else 0.0


@dataclass(frozen=True)
class CountSettings:
    """Read filters and the off-target background sampling."""

    min_base_quality: int = 20
    min_mapping_quality: int = 30
    #: Reads kept, over all loci, for the off-target background.
    background_reads: int = 200_000
    #: Bases this close to a tracked locus are not background.
    exclude_flank: int = 3
    #: A non-reference base in at least this share of a position's reads marks a variant.
    germline_fraction: float = 0.2


@dataclass(frozen=True)
class ClassRates:
    """Mismatches and bases per substitution class in off-target positions."""

    errors: dict[str, int] = field(default_factory=dict)
    bases: dict[str, int] = field(default_factory=dict)
    #: Positions left out as variants (non-reference share >= germline_fraction).
    variant_positions: int = 0

    def rate(self, klass: str) -> float | None:
        """``(errors + 1/2) / (bases + 1)`` of a class (Jeffreys' estimate, never 0), or None
        without bases."""
        bases = self.bases.get(klass, 0)
        if bases == 0:
            return None
        return (self.errors.get(klass, 0) + 0.5) / (bases + 1)

    def merged(self, other: ClassRates) -> ClassRates:
        keys = set(self.bases) | set(other.bases)
        return ClassRates(
            errors={k: self.errors.get(k, 0) + other.errors.get(k, 0) for k in keys},
            bases={k: self.bases.get(k, 0) + other.bases.get(k, 0) for k in keys},
            variant_positions=self.variant_positions + other.variant_positions,
        )


# --- context and class -----------------------------------------------------------------------


def reverse_complement(sequence: str) -> str:
    """>>> reverse_complement("ACGTN")
    'NACGT'"""
    return sequence.upper().translate(_COMPLEMENT)[::-1]


def substitution_class(ref: str, alt: str) -> str:
    """Class of a substitution with strand collapsing; ``indel`` / ``mnv`` otherwise.

    >>> [substitution_class(r, a) for r, a in (("C", "T"), ("G", "A"), ("A", "C"), ("AT", "A"))]
    ['C>T', 'C>T', 'T>G', 'indel']
    """
    ref, alt = ref.upper(), alt.upper()
    if len(ref) != len(alt):
        return INDEL_CLASS
    if len(ref) > 1:
        return MNV_CLASS
    if ref in "AG":
        ref, alt = ref.translate(_COMPLEMENT), alt.translate(_COMPLEMENT)
    return f"{ref}>{alt}"


def trinucleotide_context(reference: pysam.FastaFile, chrom: str, pos: int) -> str:
    """The base at 1-based ``pos`` with its neighbours, read on the pyrimidine's strand.

    Positions past a contig end read as ``N``.
    """
    start = pos - 2
    left_pad = "N" if start < 0 else ""
    length = reference.get_reference_length(chrom)
    right_pad = "N" if pos + 1 > length else ""
    context = left_pad + reference.fetch(chrom, max(0, start), min(length, pos + 1)).upper()
    context += right_pad
    return reverse_complement(context) if context[1:2] in ("A", "G") else context


def locus_context(reference: pysam.FastaFile, locus: Locus) -> tuple[str, str]:
    """(substitution class, context): the context is ``-`` for non-SNVs."""
    klass = substitution_class(locus.ref, locus.alt)
    if klass in (INDEL_CLASS, MNV_CLASS):
        return klass, "-"
    return klass, trinucleotide_context(reference, locus.chrom, locus.pos)


# --- alleles of reads ------------------------------------------------------------------------


def merge_mates(first: Allele, second: Allele) -> Allele:
    """What a template shows given what its two mates show.

    >>> merge_mates(Allele.ALT, Allele.NONE).name, merge_mates(Allele.REF, Allele.ALT).name
    ('ALT', 'DISCORDANT')
    >>> merge_mates(Allele.LOW_QUALITY, Allele.REF).name
    'REF'
    """
    weak = (Allele.NONE, Allele.LOW_QUALITY)
    if first in weak or second in weak:
        if first is Allele.NONE:
            return second
        if second is Allele.NONE:
            return first
        return second if first is Allele.LOW_QUALITY else first
    return first if first is second else Allele.DISCORDANT


def _compare(bases: str, locus: Locus) -> Allele:
    if bases == locus.ref:
        return Allele.REF
    if bases == locus.alt:
        return Allele.ALT
    return Allele.OTHER


def read_allele(read: pysam.AlignedSegment, locus: Locus, min_base_quality: int) -> Allele:
    """The allele one read shows at ``locus`` (filters on flags and MAPQ are the caller's)."""
    sequence = read.query_sequence
    if not sequence:
        return Allele.NONE
    qualities = read.query_qualities_str or ""
    cigar = read.cigartuples or []
    start = read.reference_start
    need_end = locus.end + (1 if locus.is_indel else 0)
    if len(cigar) == 1 and cigar[0][0] in _CIGAR_MATCH_OPS:
        if start > locus.start or start + cigar[0][1] < need_end:
            return Allele.NONE
        offset = locus.start - start
        bases = sequence[offset : offset + len(locus.ref)]
        quality = min(qualities[offset : offset + len(locus.ref)], default="~")
        if ord(quality) - 33 < min_base_quality:
            return Allele.LOW_QUALITY
        return _compare(bases.upper(), locus)
    return _gapped_read_allele(read, locus, sequence, qualities, min_base_quality)


def _gapped_read_allele(
    read: pysam.AlignedSegment,
    locus: Locus,
    sequence: str,
    qualities: str,
    min_base_quality: int,
) -> Allele:
    """Allele of a read with indels or clips: its bases over the REF span, with insertions
    after span bases for indel loci, and the first reference base after the span aligned."""
    bases: list[str] = []
    quality = 255
    in_span = False
    anchored = False
    covers_after = not locus.is_indel
    for qpos, rpos in read.get_aligned_pairs():
        if rpos is None:
            if in_span and qpos is not None and locus.is_indel:
                bases.append(sequence[qpos])
                quality = min(quality, ord(qualities[qpos]) - 33)
            continue
        if rpos < locus.start:
            continue
        if rpos >= locus.end:
            covers_after = covers_after or qpos is not None
            break
        in_span = True
        if qpos is None:
            continue
        anchored = anchored or rpos == locus.start
        bases.append(sequence[qpos])
        quality = min(quality, ord(qualities[qpos]) - 33)
    if not in_span or not covers_after:
        return Allele.NONE
    if not anchored and not locus.is_indel:
        return Allele.OTHER  # the SNV/MNV base itself is deleted in this read
    if quality < min_base_quality:
        return Allele.LOW_QUALITY
    return _compare("".join(bases).upper(), locus)


def template_counts(alleles: Iterable[Allele]) -> AlleleCounts:
    """Tally of template alleles (NONE is not counted).

    >>> template_counts([Allele.REF, Allele.REF, Allele.ALT, Allele.NONE])
    AlleleCounts(ref=2, alt=1, other=0, discordant=0, low_quality=0)
    """
    tally = Counter(alleles)
    return AlleleCounts(
        ref=tally[Allele.REF],
        alt=tally[Allele.ALT],
        other=tally[Allele.OTHER],
        discordant=tally[Allele.DISCORDANT],
        low_quality=tally[Allele.LOW_QUALITY],
    )


# --- counting --------------------------------------------------------------------------------


@dataclass
class _BackgroundReads:
    """Ungapped reads kept at one locus for the off-target tally."""

    starts: list[int] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    qualities: list[str] = field(default_factory=list)


def count_locus(
    bam: pysam.AlignmentFile,
    locus: Locus,
    settings: CountSettings,
    keep: int = 0,
) -> tuple[AlleleCounts, _BackgroundReads]:
    """Molecules at one locus, and up to ``keep`` ungapped reads for the background.

    An SNV is counted from htslib's pileup of its column (:func:`_pileup_snv_counts`), and its
    background reads are the first ``keep`` ungapped reads of the fetch
    (:func:`_background_reads`); other loci, and SNV columns holding a read without bases or
    qualities, read by read (:func:`_count_reads`). Both ways give the counts of
    :func:`read_allele` and :func:`merge_mates` applied to every read.
    """
    if len(locus.ref) == 1 and len(locus.alt) == 1:
        tally = _pileup_snv_counts(bam, locus, settings)
        if tally is not None:
            return tally, _background_reads(bam, locus, settings, keep)
    return _count_reads(bam, locus, settings, keep)


#: Depth cap of the pileup: far above any depth (htslib's default of 8,000 drops reads).
_PILEUP_MAX_DEPTH = 2**31 - 1
#: Bits of the alleles in a template's mask (NONE is 0): merging mates is a bitwise OR.
_REF_BIT, _ALT_BIT, _OTHER_BIT, _LOW_BIT = 1, 2, 4, 8


def _pileup_snv_counts(
    bam: pysam.AlignmentFile, locus: Locus, settings: CountSettings
) -> AlleleCounts | None:
    """Molecules at an SNV from the pileup column of its position, or None when a read there
    has base quality 0 or 255 (a read without bases or qualities shows so in a pileup, and
    :func:`read_allele` gives it NONE: the caller counts read by read).

    The pileup takes the reads of :func:`_count_reads` (same flags and mapping quality; no
    depth cap, overlap or orphan filtering, or BAQ) and shows each read's base at the
    position, or none where the read has a deletion or a skip there (OTHER, as
    :func:`read_allele` says). Mates are merged by name as :func:`merge_mates` merges them:
    it is a bitwise OR of the alleles' bits (NONE 0, LOW_QUALITY 8, REF 1, ALT 2, OTHER 4),
    where more than one of REF, ALT and OTHER is DISCORDANT.
    """
    columns = bam.pileup(
        locus.chrom,
        locus.start,
        locus.start + 1,
        truncate=True,
        stepper="samtools",
        flag_filter=SKIP_FLAGS,
        min_mapping_quality=settings.min_mapping_quality,
        min_base_quality=0,
        ignore_overlaps=False,
        ignore_orphans=False,
        compute_baq=False,
        max_depth=_PILEUP_MAX_DEPTH,
    )
    column = next(columns, None)
    if column is None:
        return AlleleCounts()
    names: list[str] = column.get_query_names()
    if not names:
        return AlleleCounts()
    qualities = np.array(column.get_query_qualities(), dtype=np.int64)
    if np.any((qualities == 0) | (qualities == 255)):
        return None
    # One base per read ("" where deleted or skipped; lower case on the reverse strand).
    bases: list[str] = column.get_query_sequences()
    has_base = np.fromiter(map(len, bases), dtype=np.int64, count=len(bases)) > 0
    letters = np.frombuffer("".join(bases).upper().encode("ascii"), dtype=np.uint8)
    masks = np.full(len(names), _OTHER_BIT, dtype=np.int64)
    masks[has_base] = np.where(
        letters == ord(locus.ref),
        _REF_BIT,
        np.where(letters == ord(locus.alt), _ALT_BIT, _OTHER_BIT),
    )
    masks[has_base & (qualities < settings.min_base_quality)] = _LOW_BIT
    return _merged_template_counts(names, masks)


def _merged_template_counts(names: Sequence[str], masks: NDArray[np.int64]) -> AlleleCounts:
    """Template counts from the reads' names and allele bits (see :func:`_pileup_snv_counts`).

    Templates whose reads all show REF (most of them) are counted from the number of
    distinct names; the others are merged one read at a time.
    """
    mixed: dict[str, int] = dict.fromkeys(
        (names[i] for i in np.flatnonzero(masks != _REF_BIT).tolist()), 0
    )
    templates = len(set(names))
    if mixed:
        member = np.fromiter(map(mixed.__contains__, names), dtype=bool, count=len(names))
        for i in np.flatnonzero(member).tolist():
            mixed[names[i]] |= int(masks[i])
    tally = Counter(_MASK_ALLELE[mask] for mask in mixed.values())
    return AlleleCounts(
        ref=templates - len(mixed) + tally[Allele.REF],
        alt=tally[Allele.ALT],
        other=tally[Allele.OTHER],
        discordant=tally[Allele.DISCORDANT],
        low_quality=tally[Allele.LOW_QUALITY],
    )


def _mask_allele(mask: int) -> Allele:
    strong = mask & (_REF_BIT | _ALT_BIT | _OTHER_BIT)
    if strong == 0:
        return Allele.LOW_QUALITY if mask & _LOW_BIT else Allele.NONE
    if strong & (strong - 1):  # two or more bits
        return Allele.DISCORDANT
    return {_REF_BIT: Allele.REF, _ALT_BIT: Allele.ALT}.get(strong, Allele.OTHER)


_MASK_ALLELE = tuple(_mask_allele(mask) for mask in range(16))


def _background_reads(
    bam: pysam.AlignmentFile, locus: Locus, settings: CountSettings, keep: int
) -> _BackgroundReads:
    """The first ``keep`` reads of the fetch at ``locus`` that :func:`_count_reads` keeps:
    passing the filters, one match operation covering the locus, with bases and qualities."""
    kept = _BackgroundReads()
    if keep <= 0:
        return kept
    min_mapq = settings.min_mapping_quality
    need_end = locus.end + (1 if locus.is_indel else 0)
    for read in bam.fetch(locus.chrom, locus.start, locus.start + 1):
        if read.flag & SKIP_FLAGS or read.mapping_quality < min_mapq:
            continue
        cigar = read.cigartuples
        if not cigar or len(cigar) != 1 or cigar[0][0] not in _CIGAR_MATCH_OPS:
            continue
        read_start = read.reference_start
        sequence = read.query_sequence
        qualities = read.query_qualities_str
        if not sequence or not qualities or read_start + cigar[0][1] < need_end:
            continue
        kept.starts.append(read_start)
        kept.sequences.append(sequence)
        kept.qualities.append(qualities)
        if len(kept.starts) >= keep:
            break
    return kept


def _count_reads(
    bam: pysam.AlignmentFile,
    locus: Locus,
    settings: CountSettings,
    keep: int = 0,
) -> tuple[AlleleCounts, _BackgroundReads]:
    """:func:`count_locus` read by read.

    Ungapped reads (the vast majority) take an inlined fast path equivalent to
    :func:`read_allele`; others go through it.
    """
    templates: dict[str, Allele] = {}
    kept = _BackgroundReads()
    min_mapq, min_bq = settings.min_mapping_quality, settings.min_base_quality
    start, ref, alt, width = locus.start, locus.ref, locus.alt, len(locus.ref)
    need_end = locus.end + (1 if locus.is_indel else 0)
    snv = width == 1 and len(alt) == 1
    for read in bam.fetch(locus.chrom, start, start + 1):
        if read.flag & SKIP_FLAGS or read.mapping_quality < min_mapq:
            continue
        cigar = read.cigartuples
        if cigar and len(cigar) == 1 and cigar[0][0] in _CIGAR_MATCH_OPS:
            read_start = read.reference_start
            sequence = read.query_sequence
            qualities = read.query_qualities_str
            if not sequence or not qualities or read_start + cigar[0][1] < need_end:
                allele = Allele.NONE
            else:
                offset = start - read_start
                if snv:
                    base = sequence[offset]
                    low = ord(qualities[offset]) - 33 < min_bq
                else:
                    base = sequence[offset : offset + width]
                    low = ord(min(qualities[offset : offset + width])) - 33 < min_bq
                if low:
                    allele = Allele.LOW_QUALITY
                elif base == ref:
                    allele = Allele.REF
                elif base == alt:
                    allele = Allele.ALT
                else:
                    allele = Allele.OTHER
                if len(kept.starts) < keep:
                    kept.starts.append(read_start)
                    kept.sequences.append(sequence)
                    kept.qualities.append(qualities)
        else:
            allele = read_allele(read, locus, min_bq)
        name = read.query_name or ""
        previous = templates.get(name)
        if previous is None:
            templates[name] = allele
        elif previous is not allele:
            templates[name] = merge_mates(previous, allele)
    return template_counts(templates.values()), kept


def count_loci(
    bam: pysam.AlignmentFile,
    reference: pysam.FastaFile,
    loci: Sequence[Locus],
    settings: CountSettings,
) -> tuple[list[AlleleCounts], ClassRates]:
    """Molecules at every locus (contigs must be in the BAM) and the off-target class rates
    measured around them."""
    keep = max(50, settings.background_reads // max(1, len(loci)))
    excluded = _excluded_positions(loci, settings.exclude_flank)
    counts: list[AlleleCounts] = []
    rates = ClassRates()
    for locus in loci:
        tally, kept = count_locus(bam, locus, settings, keep)
        counts.append(tally)
        if kept.starts:
            rates = rates.merged(
                offtarget_rates(
                    reference, locus.chrom, kept, excluded.get(locus.chrom, ()), settings
                )
            )
    return counts, rates


def _excluded_positions(loci: Sequence[Locus], flank: int) -> dict[str, NDArray[np.int64]]:
    by_contig: dict[str, list[int]] = {}
    for locus in loci:
        by_contig.setdefault(locus.chrom, []).extend(range(locus.start - flank, locus.end + flank))
    return {chrom: np.unique(np.array(pos, dtype=np.int64)) for chrom, pos in by_contig.items()}


#: Class index of (reference base, read base) with A, C, G, T = 0..3; -1 on the diagonal.
_CLASS_INDEX = np.array(
    [
        [-1, SUBSTITUTION_CLASSES.index("T>G"), SUBSTITUTION_CLASSES.index("T>C"), 3],
        [0, -1, 1, 2],
        [2, 1, -1, 0],
        [3, SUBSTITUTION_CLASSES.index("T>C"), SUBSTITUTION_CLASSES.index("T>G"), -1],
    ]
)
#: Which reference bases are the denominator of each class: C/G for C>N, A/T for T>N.
_CLASS_OF_REFERENCE_BASE = np.array([1, 0, 0, 1])  # 0: the C group, 1: the T group


def _read_matrices(
    reads: _BackgroundReads, lengths: NDArray[np.int64], width: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Base codes (N-padded) and qualities (0-padded) of the reads, one row each."""
    rows = len(reads.sequences)
    if np.all(lengths == width):
        codes = np.frombuffer(
            "".join(reads.sequences).upper().encode().translate(_BASE_CODES), dtype=np.uint8
        ).reshape(rows, width)
        quals = np.frombuffer("".join(reads.qualities).encode(), dtype=np.uint8).reshape(
            rows, width
        )
        return codes, quals.astype(np.int64) - 33
    codes = np.full((rows, width), 4, dtype=np.uint8)
    qual_matrix = np.zeros((rows, width), dtype=np.int64)
    for row, (sequence, quality) in enumerate(zip(reads.sequences, reads.qualities, strict=True)):
        codes[row, : len(sequence)] = np.frombuffer(
            sequence.upper().encode().translate(_BASE_CODES), dtype=np.uint8
        )
        qual_matrix[row, : len(quality)] = np.frombuffer(quality.encode(), dtype=np.uint8) - 33
    return codes, qual_matrix


def offtarget_rates(
    reference: pysam.FastaFile,
    chrom: str,
    reads: _BackgroundReads,
    excluded: Sequence[int] | NDArray[np.int64],
    settings: CountSettings,
) -> ClassRates:
    """Mismatches per class of ungapped reads against the reference, outside ``excluded``
    (0-based positions) and outside positions that look like variants."""
    lengths = np.array([len(s) for s in reads.sequences], dtype=np.int64)
    starts = np.array(reads.starts, dtype=np.int64)
    width = int(lengths.max(initial=0))
    if width == 0:
        return ClassRates()
    window_start = int(starts.min())
    window_end = int((starts + lengths).max())
    ref_codes = np.frombuffer(
        reference.fetch(chrom, window_start, window_end).upper().encode().translate(_BASE_CODES),
        dtype=np.uint8,
    )
    codes, quals = _read_matrices(reads, lengths, width)
    offsets = (starts - window_start)[:, None] + np.arange(width)[None, :]
    inside = offsets < ref_codes.size
    offsets = np.where(inside, offsets, 0)
    window = ref_codes.size
    keep_position = np.ones(window, dtype=bool)
    excluded_arr = np.asarray(excluded, dtype=np.int64) - window_start
    excluded_arr = excluded_arr[(excluded_arr >= 0) & (excluded_arr < window)]
    keep_position[excluded_arr] = False
    keep_position &= ref_codes < 4
    usable = inside & (codes < 4) & (quals >= settings.min_base_quality)
    usable &= keep_position[offsets]
    per_position = np.bincount(offsets[usable] * 4 + codes[usable], minlength=window * 4).reshape(
        window, 4
    )
    depth = per_position.sum(axis=1)
    ref_safe = np.where(ref_codes < 4, ref_codes, 0)
    mismatches = per_position.copy()
    mismatches[np.arange(window), ref_safe] = 0
    variant = (depth > 0) & (mismatches.max(axis=1) >= settings.germline_fraction * depth)
    variant &= mismatches.max(axis=1) >= 2
    good = (depth > 0) & keep_position & ~variant
    errors = dict.fromkeys(SUBSTITUTION_CLASSES, 0)
    bases = dict.fromkeys(SUBSTITUTION_CLASSES, 0)
    for ref_base in range(4):
        at = good & (ref_codes == ref_base)
        if not at.any():
            continue
        group_depth = int(depth[at].sum())
        for klass_index, klass in enumerate(SUBSTITUTION_CLASSES):
            if (klass_index < 3) == (_CLASS_OF_REFERENCE_BASE[ref_base] == 0):
                bases[klass] += group_depth
        for read_base in range(4):
            index = int(_CLASS_INDEX[ref_base, read_base])
            if index >= 0:
                errors[SUBSTITUTION_CLASSES[index]] += int(mismatches[at, read_base].sum())
    return ClassRates(errors=errors, bases=bases, variant_positions=int(variant.sum()))
