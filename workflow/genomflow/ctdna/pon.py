"""Build the panel of normal plasmas that ``genomflow ctdna monitor --background`` reads.

``genomflow ctdna pon --bams N1.bam N2.bam ... --targets PANEL.bed --reference REF.fa --out
PON.tsv`` writes the table of :func:`genomflow.ctdna.background.read_pon`, one row per normal,
target position and alt allele::

    chrom  pos  ref  alt  alt_count  depth  normal

Every position of the targets (BED, 0-based half-open; overlapping targets are merged) whose
reference base is A, C, G or T is written 1-based with each of the three other bases as
``alt``. The counts are those :func:`genomflow.ctdna.counts.count_locus` gives for the SNV
``pos ref>alt``, computed for all positions and alts from one pass over each normal's reads:

* reads are filtered as monitor filters them (:data:`~genomflow.ctdna.counts.SKIP_FLAGS`:
  unmapped, secondary, QC-failed, duplicate, supplementary; mapping quality below
  ``--min-mapping-quality``);
* a read shows, at each reference position it aligns to, its base, or ``other`` where it has
  a deletion or a skip; a base below ``--min-base-quality`` is low quality, no evidence;
* the reads of one name (the two mates of a pair, or a consensus pair) are one template, merged
  as :func:`~genomflow.ctdna.counts.merge_mates` merges them: a template shows base ``b`` when
  every read of it with evidence at the position shows ``b``; mates that disagree are
  discordant and count for no base;
* ``alt_count`` is the templates showing ``alt``, ``depth`` the informative templates
  (ref + alt, as in :attr:`~genomflow.ctdna.counts.AlleleCounts.informative`).

Rows with depth 0 are left out. The sample name of a normal is the ``SM`` of its ``@RG``
lines, else its file stem; two normals of one name are an error. A BAM (or CRAM) must be
indexed and aligned to ``--reference`` (:func:`genomflow.ctdna.monitor.check_same_reference`);
every target must lie on the reference. The table is written under a temporary name and
renamed into place.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam
from numpy.typing import NDArray

from genomflow import __version__, atomic
from genomflow.ctdna import monitor
from genomflow.ctdna.background import PON_COLUMNS, PON_NORMAL
from genomflow.ctdna.counts import SKIP_FLAGS, CountSettings, close_reader
from genomflow.errors import GenomflowError
from genomflow.intervals import merge_spans, read_bed
from genomflow.progress import progress

BASES = "ACGT"
#: What a read or template shows at a position: A, C, G, T are 0..3, then these.
OTHER = 4  # no base of the reference position: N (any non-ACGT letter), deletion or skip
DISCORDANT = 5  # reads of one template that disagree
NO_EVIDENCE = 255  # not covered, or a base below the minimum base quality
_BASE_CODES = bytes(
    {ord("A"): 0, ord("C"): 1, ord("G"): 2, ord("T"): 3}.get(i, OTHER) for i in range(256)
)
_MATCH_OPS = ("M", "=", "X")
#: Positions counted at once (memory: templates x positions bytes per rank of read).
WINDOW = 256
#: Targets closer than this are read with one fetch (a BAM index bin of the linear index is
#: 16 kb: reads that far before a target are decoded by its fetch anyway).
FETCH_GAP = 16_384
#: Characters a normal's name cannot hold (it is one field of a tab-separated table whose
#: reader skips ``#`` comments).
_BAD_NAME_CHARACTERS = ("\t", "\n", "\r", "#")


@dataclass(frozen=True)
class Target:
    """A merged stretch of target positions, 0-based half-open."""

    chrom: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Normal:
    """One normal plasma's alignments and its name in the table."""

    path: Path
    name: str


@dataclass(frozen=True)
class PonSummary:
    """What was written."""

    normals: int
    positions: int
    rows: int


# --- targets ---------------------------------------------------------------------------------


def read_targets(path: Path, contigs: Mapping[str, int]) -> list[Target]:
    """The targets of a BED (3 or more columns), checked against the reference's ``contigs``
    and merged where they overlap or touch, in reference order."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for record in read_bed(path, what="targets BED", contigs=contigs):
        spans.setdefault(record.contig, []).append((record.start, record.end))
    order = {name: index for index, name in enumerate(contigs)}
    targets = []
    for chrom in sorted(spans, key=order.__getitem__):
        for start, end in merge_spans(spans[chrom]):
            targets.append(Target(chrom, start, end))
    return targets


# --- normals ---------------------------------------------------------------------------------


def sample_name(bam: pysam.AlignmentFile, path: Path) -> str:
    """The ``SM`` of the ``@RG`` lines, else the file stem."""
    names = {str(rg["SM"]) for rg in bam.header.to_dict().get("RG", []) if rg.get("SM")}
    if len(names) > 1:
        raise GenomflowError(
            f"{path}: read groups of several samples ({', '.join(sorted(names))}); a normal "
            "of the panel is one sample"
        )
    name = names.pop() if names else path.stem
    bad = [c for c in _BAD_NAME_CHARACTERS if c in name]
    if bad or not name.strip():
        raise GenomflowError(
            f"{path}: sample name {name!r} cannot be a normal's name in the panel (empty, or "
            "holds a tab, line break or '#')"
        )
    return name


def unique_names(normals: Sequence[Normal]) -> None:
    """Raise when two normals share a name (their rows could not be told apart)."""
    seen: dict[str, Path] = {}
    for normal in normals:
        if normal.name in seen:
            raise GenomflowError(
                f"{seen[normal.name]} and {normal.path} are both normal {normal.name!r} (from "
                "@RG SM, else the file name): each normal of the panel needs its own name"
            )
        seen[normal.name] = normal.path


# --- counting --------------------------------------------------------------------------------


@dataclass
class _Reads:
    """Reads of one rank within their template (the first read of each name seen, or the
    second ...): the reads of one rank never share a template."""

    starts: list[int] = field(default_factory=list)
    sequences: list[str] = field(default_factory=list)
    qualities: list[str] = field(default_factory=list)
    templates: list[int] = field(default_factory=list)
    #: Reads with indels, skips or clips: (reference positions, codes, template).
    gapped: list[tuple[NDArray[np.int64], NDArray[np.uint8], int]] = field(default_factory=list)


@dataclass
class _Window:
    """Up to :data:`WINDOW` positions of one target, and the reads over them so far."""

    span: Target
    target: int  # index of its target
    offset: int  # of its first position in the target
    seen: dict[str, int] = field(default_factory=dict)  # read name -> template
    reads_of: list[int] = field(default_factory=list)  # template -> reads so far
    ranks: list[_Reads] = field(default_factory=list)

    def counts(self, min_base_quality: int) -> NDArray[np.int64]:
        """Templates showing A, C, G and T at each position (``length x 4``)."""
        merged = np.full((len(self.reads_of), self.span.length), NO_EVIDENCE, dtype=np.uint8)
        for reads in self.ranks:
            codes = _rank_codes(reads, self.span, len(self.reads_of), min_base_quality)
            merged = merge_codes(merged, codes)
        return base_counts(merged)


def count_targets(
    bam: pysam.AlignmentFile, targets: Sequence[Target], settings: CountSettings
) -> list[NDArray[np.int64]]:
    """Templates showing A, C, G and T at each position of each target (``length x 4``).

    Targets (in reference order, not overlapping) are cut into windows of at most
    :data:`WINDOW` positions. Targets less than :data:`FETCH_GAP` apart are read with one
    fetch, in which each read is handed to the windows it overlaps; a window is counted as
    soon as the reads have passed it. Within a window the reads are sorted by rank within
    their template (first read of a name, second, ...); each rank's evidence becomes a
    ``templates x positions`` matrix of codes, and the ranks are merged with
    :func:`merge_codes`.
    """
    result = [np.zeros((t.length, 4), dtype=np.int64) for t in targets]
    windows = [
        _Window(Target(t.chrom, start, min(t.end, start + WINDOW)), index, start - t.start)
        for index, t in enumerate(targets)
        for start in range(t.start, t.end, WINDOW)
    ]
    min_mapq, min_bq = settings.min_mapping_quality, settings.min_base_quality

    def finish(window: _Window) -> None:
        counts = window.counts(min_bq)
        result[window.target][window.offset : window.offset + window.span.length] = counts
        window.ranks, window.seen, window.reads_of = [], {}, []  # free the reads

    for group in _fetch_groups(windows):
        first = group[0].span
        pending = deque(group)  # not yet reached by the reads
        active: deque[_Window] = deque()  # reached, not yet passed
        for read in bam.fetch(first.chrom, first.start, group[-1].span.end):
            if read.flag & SKIP_FLAGS or read.mapping_quality < min_mapq:
                continue
            start, end = read.reference_start, read.reference_end or read.reference_start
            while active and active[0].span.end <= start:
                finish(active.popleft())
            while pending and pending[0].span.start < end:
                active.append(pending.popleft())
            if not active or active[0].span.start >= end:
                continue  # between targets
            sequence = read.query_sequence
            quality = read.query_qualities_str
            if not sequence or not quality:
                continue  # no bases or no qualities: no evidence (as in count_locus)
            cigar = read.cigarstring or ""
            gapped = None
            if not (cigar[-1:] in _MATCH_OPS and cigar[:-1].isdigit()):  # not one M (=, X)
                gapped = gapped_evidence(read, sequence, quality, min_bq)
            name = read.query_name or ""
            for window in active:  # (inlined: this runs once per read and window)
                if window.span.start >= end:
                    break
                if window.span.end <= start:
                    continue
                template = window.seen.get(name)
                if template is None:
                    template = window.seen[name] = len(window.reads_of)
                    window.reads_of.append(1)
                    rank = 0
                else:
                    rank = window.reads_of[template]
                    window.reads_of[template] = rank + 1
                if rank == len(window.ranks):
                    window.ranks.append(_Reads())
                reads = window.ranks[rank]
                if gapped is None:
                    reads.starts.append(start)
                    reads.sequences.append(sequence)
                    reads.qualities.append(quality)
                    reads.templates.append(template)
                else:
                    reads.gapped.append((gapped[0], gapped[1], template))
        for window in active:
            finish(window)
    return result


def _fetch_groups(windows: Sequence[_Window]) -> list[list[_Window]]:
    """Windows (in reference order) grouped for one fetch each: same contig, less than
    :data:`FETCH_GAP` apart."""
    groups: list[list[_Window]] = []
    for window in windows:
        last = groups[-1][-1].span if groups else None
        if last and last.chrom == window.span.chrom and window.span.start - last.end < FETCH_GAP:
            groups[-1].append(window)
        else:
            groups.append([window])
    return groups


def _rank_codes(
    reads: _Reads, window: Target, templates: int, min_base_quality: int
) -> NDArray[np.uint8]:
    """The ``templates x positions`` codes of one rank's reads (``NO_EVIDENCE`` where a
    template has no read of this rank, or it does not cover the position, or its base there
    is below ``min_base_quality``)."""
    codes = np.full((templates, window.length), NO_EVIDENCE, dtype=np.uint8)
    flat = codes.reshape(-1)
    if reads.sequences:
        # int32 throughout: a window's templates x positions stays far below 2**31.
        lengths = np.fromiter(map(len, reads.sequences), dtype=np.int32, count=len(reads.starts))
        offsets = np.cumsum(lengths, dtype=np.int32) - lengths  # of each read in the concatenation
        bases = np.frombuffer("".join(reads.sequences).encode().translate(_BASE_CODES), np.uint8)
        quals = np.frombuffer("".join(reads.qualities).encode(), dtype=np.uint8)
        # Reference position (within the window) and flat matrix index of every base.
        shift = np.asarray(reads.starts, dtype=np.int64) - window.start
        positions = np.arange(bases.size, dtype=np.int32)
        positions += np.repeat((shift - offsets).astype(np.int32), lengths)
        keep = (positions >= 0) & (positions < window.length)
        keep &= quals >= min_base_quality + 33
        rows = np.asarray(reads.templates, dtype=np.int32) * np.int32(window.length)
        flat[np.repeat(rows, lengths)[keep] + positions[keep]] = bases[keep]
    for read_positions, read_codes, template in reads.gapped:
        inside = (read_positions >= window.start) & (read_positions < window.end)
        codes[template, read_positions[inside] - window.start] = read_codes[inside]
    return codes


def gapped_evidence(
    read: pysam.AlignedSegment, sequence: str, qualities: str, min_base_quality: int
) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
    """(reference position, code) of a read with indels, skips or clips, as
    :func:`genomflow.ctdna.counts.read_allele` reads an SNV: a deleted or skipped reference
    position shows ``other``; a base below ``min_base_quality`` is no evidence."""
    positions: list[int] = []
    codes: list[int] = []
    for qpos, rpos in read.get_aligned_pairs():
        if rpos is None:
            continue  # inserted or clipped bases: not at a reference position
        if qpos is None:
            positions.append(rpos)
            codes.append(OTHER)
        elif ord(qualities[qpos]) - 33 >= min_base_quality:
            positions.append(rpos)
            codes.append(_BASE_CODES[ord(sequence[qpos])])
    return np.asarray(positions, dtype=np.int64), np.asarray(codes, dtype=np.uint8)


def merge_codes(first: NDArray[np.uint8], second: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """What templates show given what two of their reads show (code by code), as
    :func:`genomflow.ctdna.counts.merge_mates` merges alleles: no evidence gives way to
    evidence, equal codes stay, different codes are ``DISCORDANT``.

    >>> first = np.array([0, 0, 0, 255, 255], np.uint8)
    >>> merge_codes(first, np.array([0, 2, 255, 3, 255], np.uint8)).tolist()
    [0, 5, 0, 3, 255]
    """
    merged = np.where(first == NO_EVIDENCE, second, first)
    clash = (first != second) & (first != NO_EVIDENCE) & (second != NO_EVIDENCE)
    merged[clash] = DISCORDANT
    return merged


def base_counts(codes: NDArray[np.uint8]) -> NDArray[np.int64]:
    """Templates (rows) showing A, C, G, T at each position (column): ``positions x 4``.

    >>> base_counts(np.array([[0, 4], [0, 3], [5, 255]], np.uint8)).tolist()
    [[2, 0, 0, 0], [0, 0, 0, 1]]
    """
    return np.stack([(codes == base).sum(axis=0) for base in range(4)], axis=1).astype(np.int64)


def count_normal(
    normal: Normal,
    reference: Path,
    fasta: pysam.FastaFile,
    targets: Sequence[Target],
    settings: CountSettings,
) -> list[NDArray[np.int64]]:
    """Templates per base at every target position of one normal (one array per target)."""
    bam = monitor.open_alignments(normal.path, reference)
    try:
        monitor.check_same_reference(
            bam, fasta, normal.path, reference, sorted({t.chrom for t in targets})
        )
        in_header = set(bam.references)
        for target in targets:
            if target.chrom not in in_header:
                raise GenomflowError(
                    f"{normal.path}: contig {target.chrom} of the targets is not in its header"
                )
        try:
            return count_targets(bam, targets, settings)
        except OSError as err:
            raise GenomflowError(f"{normal.path}: cannot read the alignments ({err})") from None
    finally:
        close_reader(bam)


# --- the table -------------------------------------------------------------------------------


def pon_lines(
    name: str,
    targets: Sequence[Target],
    references: Sequence[str],
    tallies: Sequence[NDArray[np.int64]],
) -> list[str]:
    """Rows of one normal (depth > 0), tab-separated, without line ends."""
    lines = []
    for target, ref_bases, tally in zip(targets, references, tallies, strict=True):
        for offset, ref in enumerate(ref_bases):
            ref_code = BASES.find(ref)
            if ref_code < 0:
                continue
            row = tally[offset]
            ref_count = int(row[ref_code])
            for alt_code, alt in enumerate(BASES):
                if alt_code == ref_code:
                    continue
                alt_count = int(row[alt_code])
                depth = ref_count + alt_count
                if depth:
                    pos = target.start + offset + 1
                    lines.append(
                        f"{target.chrom}\t{pos}\t{ref}\t{alt}\t{alt_count}\t{depth}\t{name}"
                    )
    return lines


def build_pon(
    bams: Sequence[Path],
    targets_bed: Path,
    reference: Path,
    out: Path,
    settings: CountSettings,
) -> PonSummary:
    """Count every normal over the targets and write the panel atomically."""
    if not bams:
        raise GenomflowError("no normal BAMs given")
    fasta = monitor.open_reference(reference)
    try:
        contigs = dict(zip(fasta.references, fasta.lengths, strict=True))
        targets = read_targets(targets_bed, contigs)
        normals = [_normal(path, reference) for path in bams]
        unique_names(normals)
        references = [fasta.fetch(t.chrom, t.start, t.end).upper() for t in targets]
        header = [
            f"# genomflow {__version__} ctdna pon: normals {len(normals)}, targets "
            f"{targets_bed.name}, min base quality {settings.min_base_quality}, min mapping "
            f"quality {settings.min_mapping_quality}",
            "\t".join((*PON_COLUMNS, PON_NORMAL)),
        ]
        rows = 0
        with atomic.open_atomic(out) as table:
            table.write("\n".join(header) + "\n")
            for normal in progress(normals, "counting normals", unit="BAM"):
                tallies = count_normal(normal, reference, fasta, targets, settings)
                lines = pon_lines(normal.name, targets, references, tallies)
                rows += len(lines)
                if lines:
                    table.write("\n".join(lines) + "\n")
    finally:
        close_reader(fasta)
    positions = sum(sum(base in BASES for base in bases) for bases in references)
    return PonSummary(normals=len(normals), positions=positions, rows=rows)


def _normal(path: Path, reference: Path) -> Normal:
    bam = monitor.open_alignments(path, reference)
    try:
        return Normal(path, sample_name(bam, path))
    finally:
        close_reader(bam)
