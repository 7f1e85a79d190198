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

**Molecule kinds.** A molecule's chance of showing a wrong base depends on how it was read:
where both mates cover a position and agree, one sequencing error is not enough (it makes
the mates disagree, and the molecule is discordant); where one mate covers it, it is. A
duplex consensus (a molecule read on both strands, tags ``aD`` and ``bD`` above 0) errs less
than a single-strand one. So each ref or alt molecule is counted under its kind,
``one_mate`` or ``both_mates`` (mates with evidence at the position), prefixed ``duplex_``
for duplex consensus molecules, and the background is measured per kind.

**Context.** SNVs are classed by the pyrimidine of the pair (C>A, C>G, C>T, T>A, T>C, T>G;
a G>T is the C>A of the other strand) with the trinucleotide context read from the same
strand (``ACG`` for the C of an ``ACG``, and for a ``CGT`` on the plus strand).

**Off-target background, counted as the loci are.** While a locus is read, up to
``background_reads / loci`` of its reads with an ungapped alignment are kept, and every
position they cover outside ``exclude_flank`` bp of a tracked locus is a molecule
observation made by the rule of the loci: the mates of one name are merged (both with
evidence and agreeing: one ``both_mates`` molecule; disagreeing: discordant, not counted;
one with evidence: a ``one_mate`` molecule), bases below ``min_base_quality`` are no
evidence, and where the mate of a kept read was not kept but may cover the position (from its
start and its ``MC`` CIGAR, or the read's own length without ``MC``) the position is not
used, since its molecule cannot be told. The rate of each substitution class and kind is
``errors / molecules`` at reference bases of the class, over positions whose commonest
non-reference base stays below ``germline_fraction`` of the molecules there (a higher share
is a germline SNP or a mapping artefact, not an error).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import operator
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pysam
from numpy.typing import NDArray

try:  # the compiled twin of _count_reads for SNVs (setup.py); counted in Python without it
    from genomflow.ctdna import _snvcount
except ModuleNotFoundError:  # pragma: no cover - only in a source tree that was not built
    _snvcount = None  # type: ignore[assignment]

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
_REFERENCE_OPS = re.compile(r"([0-9]+)[MDN=X]")

#: Molecule kinds: how many mates had evidence at the position, and whether the molecule is a
#: duplex consensus.
ONE_MATE, BOTH_MATES = "one_mate", "both_mates"
DUPLEX_ONE_MATE, DUPLEX_BOTH_MATES = "duplex_one_mate", "duplex_both_mates"
MOLECULE_KINDS: tuple[str, ...] = (ONE_MATE, BOTH_MATES, DUPLEX_ONE_MATE, DUPLEX_BOTH_MATES)


def close_reader(handle: pysam.AlignmentFile | pysam.FastaFile | pysam.VariantFile) -> None:
    """Close a file opened for reading, ignoring a failure to close it.

    After a read error htslib leaves the error set and ``close`` raises it once more (pysam:
    "Closing failed"), which would replace the error that says what was wrong with the file.
    Nothing is lost by closing a reader quietly.
    """
    with contextlib.suppress(OSError):
        handle.close()


def molecule_kind(mates: int, duplex: bool) -> str:
    """The kind of a molecule read by ``mates`` mates with evidence.

    >>> molecule_kind(2, False), molecule_kind(1, True)
    ('both_mates', 'duplex_one_mate')
    """
    return MOLECULE_KINDS[(2 if duplex else 0) + (1 if mates >= 2 else 0)]


def is_duplex(read: pysam.AlignedSegment) -> bool:
    """A duplex consensus read: templates on both strands (``aD`` and ``bD`` above 0)."""
    if not read.has_tag("bD") or not read.has_tag("aD"):
        return False
    return int(read.get_tag("aD")) > 0 and int(read.get_tag("bD")) > 0


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
    #: (kind, ref, alt) of the ref and alt molecules by molecule kind (kinds with none left
    #: out); their sums are ``ref`` and ``alt``.
    kinds: tuple[tuple[str, int, int], ...] = ()

    def by_kind(self) -> dict[str, tuple[int, int]]:
        """(ref, alt) molecules of each kind (all ``one_mate`` when the kinds are unknown)."""
        if not self.kinds:
            return {ONE_MATE: (self.ref, self.alt)} if self.informative else {}
        return {kind: (ref, alt) for kind, ref, alt in self.kinds}

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


#: Alleles that are evidence of the read: it shows a base (or a deletion) at the locus.
_EVIDENCE = frozenset({Allele.REF, Allele.ALT, Allele.OTHER})


@dataclass(frozen=True)
class Template:
    """What the reads of one name show: the merged allele, how many of them are evidence
    (REF, ALT or OTHER), and whether the template is a duplex consensus."""

    allele: Allele = Allele.NONE
    mates: int = 0
    duplex: bool = False

    def add(self, allele: Allele, duplex: bool = False) -> Template:
        """The template with one more read (:func:`merge_mates`).

        >>> Template().add(Allele.REF).add(Allele.LOW_QUALITY)
        Template(allele=<Allele.REF: 0>, mates=1, duplex=False)
        """
        return Template(
            merge_mates(self.allele, allele),
            self.mates + (allele in _EVIDENCE),
            self.duplex or duplex,
        )

    @property
    def kind(self) -> str:
        return molecule_kind(self.mates, self.duplex)


def template_counts(templates: Iterable[Template]) -> AlleleCounts:
    """Tally of templates by allele (NONE is not counted), ref and alt by molecule kind.

    >>> template_counts([Template(Allele.REF, 2), Template(Allele.ALT, 1), Template()])
    AlleleCounts(ref=1, alt=1, other=0, discordant=0, low_quality=0, \
kinds=(('one_mate', 0, 1), ('both_mates', 1, 0)))
    """
    tally: Counter[Allele] = Counter()
    kinds: Counter[tuple[str, Allele]] = Counter()
    for template in templates:
        tally[template.allele] += 1
        if template.allele is Allele.REF or template.allele is Allele.ALT:
            kinds[(template.kind, template.allele)] += 1
    return _counts(tally, kinds)


def _counts(tally: Counter[Allele], kinds: Counter[tuple[str, Allele]]) -> AlleleCounts:
    return AlleleCounts(
        ref=tally[Allele.REF],
        alt=tally[Allele.ALT],
        other=tally[Allele.OTHER],
        discordant=tally[Allele.DISCORDANT],
        low_quality=tally[Allele.LOW_QUALITY],
        kinds=tuple(
            (kind, kinds[(kind, Allele.REF)], kinds[(kind, Allele.ALT)])
            for kind in MOLECULE_KINDS
            if kinds[(kind, Allele.REF)] or kinds[(kind, Allele.ALT)]
        ),
    )


_NO_READ = Template()

# --- counting --------------------------------------------------------------------------------


@dataclass
class _BackgroundReads:
    """Ungapped reads kept at one locus for the off-target tally, with where their mates lie
    (``mate_start``/``mate_end``: 0-based span of the mate on this contig, -1 without one)."""

    starts: list[int] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    qualities: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    mate_starts: list[int] = field(default_factory=list)
    mate_ends: list[int] = field(default_factory=list)
    duplex: list[bool] = field(default_factory=list)
    #: Whether the BAM holds duplex consensus reads (otherwise no read's tags are looked at).
    duplex_bam: bool = False

    def add(self, read: pysam.AlignedSegment, sequence: str, qualities: str) -> None:
        start, name = _START_AND_NAME(read)
        self.starts.append(start)
        self.sequences.append(sequence)
        self.qualities.append(qualities)
        self.names.append(name or "")
        mate_start, mate_end = _mate_span(read, len(sequence))
        self.mate_starts.append(mate_start)
        self.mate_ends.append(mate_end)
        self.duplex.append(self.duplex_bam and is_duplex(read))


#: One call each for what the background keeps of a read (faster than attribute by attribute).
_START_AND_NAME = operator.attrgetter("reference_start", "query_name")
_MATE_FIELDS = operator.attrgetter(
    "is_paired", "mate_is_unmapped", "next_reference_id", "reference_id", "next_reference_start"
)
_FILTER_FIELDS = operator.attrgetter("flag", "mapping_quality", "cigartuples")
_BASE_FIELDS = operator.attrgetter("reference_start", "query_sequence", "query_qualities_str")


def _mate_span(read: pysam.AlignedSegment, length: int) -> tuple[int, int]:
    """The 0-based reference span of a read's mate on the read's contig, or (-1, -1).

    Its end comes from the ``MC`` tag (the mate's CIGAR), else the read's own ``length``.
    """
    paired, mate_unmapped, mate_contig, contig, start = _MATE_FIELDS(read)
    if not paired or mate_unmapped or mate_contig != contig or start < 0:
        return -1, -1
    try:
        cigar = str(read.get_tag("MC"))
    except KeyError:
        return start, start + length
    return start, start + (_reference_span(cigar) or length)


@functools.lru_cache(maxsize=4096)
def _reference_span(cigar: str) -> int:
    """Reference bases of a CIGAR string (0 when it has none).

    >>> _reference_span("5S100M2D40M"), _reference_span("*")
    (142, 0)
    """
    return sum(int(n) for n in _REFERENCE_OPS.findall(cigar))


def count_locus(
    bam: pysam.AlignmentFile,
    locus: Locus,
    settings: CountSettings,
    keep: int = 0,
    duplex: bool = False,
) -> tuple[AlleleCounts, _BackgroundReads]:
    """Molecules at one locus, and up to ``keep`` ungapped reads for the background.

    An SNV of a BAM without duplex consensus reads is counted by the compiled
    :func:`genomflow.ctdna._snvcount.snv_molecules` (:func:`_compiled_snv_counts`); other
    loci, SNVs with a read it leaves undecided (no bases or qualities, a padding CIGAR
    operation), every locus of a BAM with duplex consensus reads (``duplex``: their kind is
    read from tags), and every locus when the compiled module was not built, read by read in
    Python (:func:`_count_reads`, the reference). Both give the counts of :func:`read_allele`
    and :meth:`Template.add` applied to every read, and keep the same reads.
    """
    if len(locus.ref) == 1 and len(locus.alt) == 1 and not duplex and _snvcount is not None:
        counted = _compiled_snv_counts(bam, locus, settings, keep)
        if counted is not None:
            return counted
    return _count_reads(bam, locus, settings, keep, duplex)


def _compiled_snv_counts(
    bam: pysam.AlignmentFile, locus: Locus, settings: CountSettings, keep: int
) -> tuple[AlleleCounts, _BackgroundReads] | None:
    """:func:`_count_reads` of an SNV, in C (None: a read the compiled path leaves to it)."""
    assert _snvcount is not None
    found = _snvcount.snv_molecules(
        bam,
        locus.chrom,
        locus.start,
        locus.ref,
        locus.alt,
        settings.min_mapping_quality,
        settings.min_base_quality,
        keep,
    )
    if found is None:
        return None
    (tally, (one_ref, one_alt, both_ref, both_alt)), reads = found
    ref, alt, other, discordant, low_quality = tally
    kinds = ((ONE_MATE, one_ref, one_alt), (BOTH_MATES, both_ref, both_alt))
    counts = AlleleCounts(
        ref=ref,
        alt=alt,
        other=other,
        discordant=discordant,
        low_quality=low_quality,
        kinds=tuple(kind for kind in kinds if kind[1] or kind[2]),
    )
    kept = _BackgroundReads()
    for read in reads:
        kept.add(read, read.query_sequence or "", read.query_qualities_str or "")
    return counts, kept


def _count_reads(
    bam: pysam.AlignmentFile,
    locus: Locus,
    settings: CountSettings,
    keep: int = 0,
    duplex: bool = False,
) -> tuple[AlleleCounts, _BackgroundReads]:
    """:func:`count_locus` read by read.

    Ungapped reads (the vast majority) take an inlined fast path equivalent to
    :func:`read_allele`; others go through it.
    """
    templates: dict[str, Template] = {}
    kept = _BackgroundReads(duplex_bam=duplex)
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
                    kept.add(read, sequence, qualities)
        else:
            allele = read_allele(read, locus, min_bq)
        name = read.query_name or ""
        templates[name] = templates.get(name, _NO_READ).add(allele, duplex and is_duplex(read))
    return template_counts(templates.values()), kept


#: Reads looked at for duplex consensus tags before counting.
_DUPLEX_PROBE_READS = 10_000


def has_duplex_reads(bam: pysam.AlignmentFile) -> bool:
    """Whether the first reads of ``bam`` hold duplex consensus reads (:func:`is_duplex`)."""
    return any(is_duplex(read) for read in bam.head(_DUPLEX_PROBE_READS))


#: Off-target rates of each molecule kind.
KindRates = dict[str, ClassRates]


def count_loci(
    bam: pysam.AlignmentFile,
    reference: pysam.FastaFile,
    loci: Sequence[Locus],
    settings: CountSettings,
) -> tuple[list[AlleleCounts], KindRates]:
    """Molecules at every locus (contigs must be in the BAM) and the off-target class rates
    of each molecule kind, measured around them."""
    keep = max(50, settings.background_reads // max(1, len(loci)))
    excluded = _excluded_positions(loci, settings.exclude_flank)
    duplex = has_duplex_reads(bam)
    counts: list[AlleleCounts] = []
    rates: KindRates = {}
    for locus in loci:
        tally, kept = count_locus(bam, locus, settings, keep, duplex)
        counts.append(tally)
        if kept.starts:
            found = offtarget_rates(
                reference, locus.chrom, kept, excluded.get(locus.chrom, ()), settings
            )
            for kind, measured in found.items():
                rates[kind] = rates[kind].merged(measured) if kind in rates else measured
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
) -> KindRates:
    """Errors per class and molecule kind of ungapped reads against the reference, mates
    merged, outside ``excluded`` (0-based positions) and outside positions that look like
    variants (see the module docstring)."""
    lengths = np.array([len(s) for s in reads.sequences], dtype=np.int64)
    starts = np.array(reads.starts, dtype=np.int64)
    width = int(lengths.max(initial=0))
    if width == 0:
        return {}
    window_start = int(starts.min())
    window_end = int((starts + lengths).max())
    ref_codes = np.frombuffer(
        reference.fetch(chrom, window_start, window_end).upper().encode().translate(_BASE_CODES),
        dtype=np.uint8,
    )
    window = ref_codes.size
    codes, quals = _read_matrices(reads, lengths, width)
    columns = np.arange(width)[None, :]
    offsets = (starts - window_start)[:, None] + columns
    inside = (columns < lengths[:, None]) & (offsets < window)
    offsets = np.where(inside, offsets, 0)
    keep_position = np.ones(window, dtype=bool)
    excluded_arr = np.asarray(excluded, dtype=np.int64) - window_start
    excluded_arr = excluded_arr[(excluded_arr >= 0) & (excluded_arr < window)]
    keep_position[excluded_arr] = False
    keep_position &= ref_codes < 4
    usable = inside & keep_position[offsets]
    evidence = usable & (codes < 4) & (quals >= settings.min_base_quality)
    molecules = _molecules(reads, starts, lengths, codes, evidence, usable)
    total = np.zeros((window, 4), dtype=np.int64)
    per_kind: dict[str, NDArray[np.int64]] = {}
    for kind, (where, base) in molecules.items():
        counts = np.bincount(offsets[where] * 4 + base, minlength=window * 4).reshape(window, 4)
        per_kind[kind] = counts
        total += counts
    variant = _variant_positions(total, ref_codes, settings.germline_fraction)
    good = keep_position & ~variant
    return {
        kind: _class_rates(counts, ref_codes, good, int(variant.sum()))
        for kind, counts in per_kind.items()
    }


def _molecules(
    reads: _BackgroundReads,
    starts: NDArray[np.int64],
    lengths: NDArray[np.int64],
    codes: NDArray[np.uint8],
    evidence: NDArray[np.bool_],
    usable: NDArray[np.bool_],
) -> dict[str, tuple[NDArray[np.bool_], NDArray[np.int64]]]:
    """For each molecule kind, the read matrix cells that count one molecule of that kind,
    and the base each shows (cells are counted on one read of a template: see the module
    docstring)."""
    rows, width = codes.shape
    partner = _partners(reads.names)
    columns = np.arange(width)[None, :]
    positions = starts[:, None] + columns
    has_partner = partner >= 0
    mate = np.where(has_partner, partner, np.arange(rows))
    mate_column = positions - starts[mate][:, None]
    covered = has_partner[:, None] & (mate_column >= 0) & (mate_column < lengths[mate][:, None])
    # The mate's cell at the same position: one gather from the flattened matrices.
    mate_cell = (mate * width)[:, None] + np.clip(mate_column, 0, width - 1)
    mate_codes = codes.ravel()[mate_cell]
    mate_evidence = covered & evidence.ravel()[mate_cell]
    first = (has_partner & (partner > np.arange(rows)))[:, None]
    mate_start = np.array(reads.mate_starts, dtype=np.int64)[:, None]
    mate_end = np.array(reads.mate_ends, dtype=np.int64)[:, None]
    unknown = ~has_partner[:, None] & (positions >= mate_start) & (positions < mate_end)
    # Cells where this read's molecule is counted: not covered by a kept mate that counts it,
    # and not where a mate that was not kept may lie.
    alone = usable & ~unknown & ~(covered & ~first)
    both = alone & first & evidence & mate_evidence & (codes == mate_codes)
    own = alone & evidence & ~mate_evidence
    from_mate = alone & first & ~evidence & mate_evidence
    duplex = np.array(reads.duplex, dtype=bool)
    duplex = (duplex | duplex[mate])[:, None]
    any_duplex = bool(duplex.any())
    result: dict[str, tuple[NDArray[np.bool_], NDArray[np.uint8]]] = {}
    for is_duplex_kind in (False, True) if any_duplex else (False,):
        strand = duplex if is_duplex_kind else ~duplex
        for mates, cells, base in ((1, own, codes), (2, both, codes), (1, from_mate, mate_codes)):
            where = cells & strand if any_duplex else cells
            if not where.any():
                continue
            kind = molecule_kind(mates, is_duplex_kind)
            if kind in result:
                previous, previous_base = result[kind]
                result[kind] = (previous | where, np.where(where, base, previous_base))
            else:
                result[kind] = (where, base)
    return {kind: (where, base[where].astype(np.int64)) for kind, (where, base) in result.items()}


def _partners(names: Sequence[str]) -> NDArray[np.int64]:
    """For each read, the row of the other read of its name (-1 without one).

    >>> _partners(["a", "b", "a"]).tolist()
    [2, -1, 0]
    """
    partner = np.full(len(names), -1, dtype=np.int64)
    first: dict[str, int] = {}
    for row, name in enumerate(names):
        other = first.setdefault(name, row)
        if other != row:
            partner[row], partner[other] = other, row
    return partner


def _variant_positions(
    per_position: NDArray[np.int64], ref_codes: NDArray[np.uint8], fraction: float
) -> NDArray[np.bool_]:
    """Positions whose commonest non-reference base reaches ``fraction`` of the molecules
    (and at least 2): germline variants or mapping artefacts, not errors."""
    window = ref_codes.size
    depth = per_position.sum(axis=1)
    ref_safe = np.where(ref_codes < 4, ref_codes, 0)
    mismatches = per_position.copy()
    mismatches[np.arange(window), ref_safe] = 0
    top = mismatches.max(axis=1)
    result: NDArray[np.bool_] = (depth > 0) & (top >= fraction * depth) & (top >= 2)
    return result


def _class_rates(
    per_position: NDArray[np.int64],
    ref_codes: NDArray[np.uint8],
    good: NDArray[np.bool_],
    variant_positions: int,
) -> ClassRates:
    """Errors and molecules of each substitution class at the ``good`` positions."""
    depth = per_position.sum(axis=1)
    good = good & (depth > 0)
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
                errors[SUBSTITUTION_CLASSES[index]] += int(per_position[at, read_base].sum())
    return ClassRates(errors=errors, bases=bases, variant_positions=variant_positions)
