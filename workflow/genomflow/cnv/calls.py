"""CNVkit's bins and called segments into the copy-number deliverables.

* ``{sample}.cnv.tsv``: every segment (contig, 0-based start, end, genes, log2, copy number,
  call, bins);
* ``{sample}.cnv.vcf.gz``: one record per non-neutral segment, ``<DEL>``/``<DUP>`` with
  ``SVTYPE``, ``END``, ``SVLEN``, ``GENES``, ``CNCALL``, FORMAT ``CN`` and ``L2R``;
* per panel gene, the copy number of the segment holding most of its bins;
* the noise metric: the median absolute deviation of the bins' log2 ratios from their
  segment's (so that real copy-number changes do not count as noise).

Whole-genome germline samples (``cnv.wgs``) are binned over the genome's accessible regions
(:func:`genome_bins`); their VCF keeps the non-neutral segments of at least ``min_length``
bp, each with a genotype from its copy number (:func:`genotype`).
"""

from __future__ import annotations

import itertools
import math
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.thresholds import CNV_NOISE
from genomflow.sv.genes import Gene, overlap

AMPLIFICATION = "amplification"
GAIN = "gain"
NEUTRAL = "neutral"
LOSS = "loss"
DELETION = "deletion"
CALLS = (AMPLIFICATION, GAIN, NEUTRAL, LOSS, DELETION)
__all__ = ["CNV_NOISE"]

TSV_COLUMNS = ("contig", "start", "end", "genes", "log2", "copy_number", "call", "bins")
GENE_COLUMNS = ("gene", "contig", "start", "end", "log2", "copy_number", "call")
#: CNVkit's name of bins outside the targets.
ANTITARGET = "Antitarget"


#: The lowest log2 ratio segmentation sees: 2 * 2**-5 = 0.06 copies, a homozygous deletion to
#: copy-number calling either way. CNVkit gives a bin with no reads about -25 and a bin that
#: the reads at a deletion's junction reach partly -10; to CBS these differ widely, and one such
#: edge bin in a long segment swells its variance until nothing else in it splits off. On ART
#: reads of real sequence a heterozygous deletion and a duplication on the contig of a
#: homozygous deletion were both missed that way (bench/sv/README.md, 2026-12-05).
MIN_SEGMENT_LOG2 = -5.0


def floor_bins(cnr: Path, out: Path, min_log2: float = MIN_SEGMENT_LOG2) -> int:
    """Copy CNVkit's bins (``.cnr``) to ``out`` with every log2 ratio below ``min_log2``
    raised to it, the other fields as they were; returns how many bins were raised."""
    try:
        lines = cnr.read_text().splitlines(keepends=True)
    except (OSError, UnicodeDecodeError) as err:
        raise GenomflowError(f"{cnr}: cannot read CNVkit bins ({err})") from None
    header = lines[0].rstrip("\n").split("\t") if lines else []
    if "log2" not in header:
        raise GenomflowError(f"{cnr}: not CNVkit bins (no log2 column)")
    column = header.index("log2")
    raised = 0
    rows = [lines[0]]
    for number, line in enumerate(lines[1:], start=2):
        fields = line.rstrip("\n").split("\t")
        try:
            low = float(fields[column]) < min_log2
        except (IndexError, ValueError):
            raise GenomflowError(f"{cnr}: line {number}: no log2 ratio") from None
        if low:
            fields[column] = f"{min_log2:g}"
            line = "\t".join(fields) + "\n"
            raised += 1
        rows.append(line)
    atomic.write_text(out, "".join(rows))
    return raised


@dataclass(frozen=True)
class Segment:
    """A called segment: 0-based half-open, the panel genes it holds, log2 and copies."""

    contig: str
    start: int
    end: int
    genes: tuple[str, ...]
    log2: float
    copies: int
    call: str
    bins: int


def genotype(copies: int, expected: int) -> tuple[int | None, ...]:
    """A copy-number segment's GT where ``expected`` copies are normal: on two copies, 0 ->
    1/1 (both deleted), 1 -> 0/1 (one deleted), 3 -> 0/1 (one duplicated), 4 or more -> ./1
    (duplicated, on one copy or both: read depth cannot tell); on one copy (a male's X or Y)
    the one allele.

    >>> [genotype(c, 2) for c in (0, 1, 3, 4, 7)]
    [(1, 1), (0, 1), (0, 1), (None, 1), (None, 1)]
    >>> genotype(0, 1), genotype(3, 1)
    ((1,), (1,))
    """
    if expected < 2:
        return (1,)
    if copies == 0:
        return (1, 1)
    if copies in (1, 3):
        return (0, 1)
    return (None, 1)


def read_bed(path: Path) -> list[tuple[str, int, int]]:
    """The regions of a BED (contig, 0-based start, end)."""
    try:
        table = pd.read_csv(path, sep="\t", header=None, usecols=[0, 1, 2], dtype={0: str})
    except pd.errors.EmptyDataError:
        return []
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read BED: {err}") from None
    return [(str(c), int(b), int(e)) for c, b, e in table.itertuples(index=False)]


def genome_bins(regions: Iterable[tuple[str, int, int]], size: int) -> list[tuple[str, int, int]]:
    """``regions`` tiled into bins of ``size`` bp, a region's remainder spread over its bins
    (a region shorter than half a bin is left out).

    >>> genome_bins([("c", 0, 2500), ("c", 3000, 3300), ("d", 0, 1000)], 1000)
    [('c', 0, 1250), ('c', 1250, 2500), ('d', 0, 1000)]
    """
    bins = []
    for contig, start, end in regions:
        count = round((end - start) / size)
        if count == 0:
            continue
        edges = np.linspace(start, end, count + 1).round().astype(int)
        bins += [(contig, int(a), int(b)) for a, b in itertools.pairwise(edges)]
    return bins


@dataclass(frozen=True)
class GeneCopies:
    gene: str
    contig: str
    start: int
    end: int
    log2: float
    copies: int
    call: str


def expected_copies(contig: str, sex: str) -> int:
    """Copies of ``contig`` in a normal cell of a person of ``sex`` (unknown: as female).

    >>> [expected_copies(c, "male") for c in ("chr1", "chrX", "chrY")]
    [2, 1, 1]
    >>> expected_copies("Y", "female")
    0
    """
    name = contig.removeprefix("chr")
    if name == "X":
        return 1 if sex == "male" else 2
    if name == "Y":
        return 1 if sex == "male" else 0
    return 2


def classify(copies: int, expected: int, amplification_min: int) -> str:
    """The call of a segment with ``copies`` where ``expected`` are normal.

    >>> [classify(c, 2, 6) for c in (0, 1, 2, 3, 8)]
    ['deletion', 'loss', 'neutral', 'gain', 'amplification']
    >>> classify(1, 1, 6)
    'neutral'
    """
    if copies == expected:
        return NEUTRAL
    if copies > expected:
        return AMPLIFICATION if copies >= amplification_min else GAIN
    return DELETION if copies == 0 else LOSS


def _read_table(path: Path, needed: Sequence[str]) -> pd.DataFrame:
    try:
        table = pd.read_csv(path, sep="\t", dtype={"chromosome": str, "gene": str})
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read CNVkit table: {err}") from None
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise GenomflowError(f"{path}: not a CNVkit table, no column(s) {', '.join(missing)}")
    return table


def read_bins(path: Path) -> pd.DataFrame:
    """CNVkit's bin ratios (``.cnr``)."""
    return _read_table(path, ("chromosome", "start", "end", "gene", "log2"))


def read_segments(
    path: Path,
    panel_genes: Iterable[str],
    sex: str,
    amplification_min: int,
    observed: Path | None = None,
) -> list[Segment]:
    """CNVkit's called segments (``cnvkit.py call`` output, with ``cn``) as :class:`Segment`.

    ``cnvkit.py call --purity`` rescales the log2 ratios to the tumour cells; with
    ``observed`` (the segments before calling) the segments keep the observed log2 ratio.
    """
    table = _read_table(path, ("chromosome", "start", "end", "gene", "log2", "cn", "probes"))
    if observed is not None:
        before = _read_table(observed, ("chromosome", "start", "end", "log2"))
        keys = ["chromosome", "start", "end"]
        if not before[keys].reset_index(drop=True).equals(table[keys].reset_index(drop=True)):
            raise GenomflowError(f"{observed}: not the segments {path} was called from")
        table = table.assign(log2=before["log2"].to_numpy())
    genes = set(panel_genes)
    segments = []
    for row in table.itertuples(index=False):
        listed = str(row.gene) if isinstance(row.gene, str) else ""
        names = tuple(dict.fromkeys(g for g in listed.split(",") if g in genes))
        copies = int(row.cn)
        expected = expected_copies(str(row.chromosome), sex)
        segments.append(
            Segment(
                contig=str(row.chromosome),
                start=int(row.start),
                end=int(row.end),
                genes=names,
                log2=float(row.log2),
                copies=copies,
                call=classify(copies, expected, amplification_min),
                bins=int(row.probes),
            )
        )
    return segments


def noise(bins: pd.DataFrame, segments: Sequence[Segment]) -> float | None:
    """Median absolute deviation of the bins' log2 from their segment's log2 (None: no bins).

    >>> bins = pd.DataFrame({"chromosome": ["c"] * 4, "start": [0, 10, 20, 30],
    ...     "end": [10, 20, 30, 40], "gene": ["A"] * 4, "log2": [0.1, -0.1, 2.2, 1.8]})
    >>> segs = [Segment("c", 0, 20, ("A",), 0.0, 2, "neutral", 2),
    ...         Segment("c", 20, 40, ("A",), 2.0, 8, "amplification", 2)]
    >>> round(noise(bins, segs), 3)
    0.15
    """
    residuals = []
    for segment in segments:
        inside = bins[
            (bins["chromosome"] == segment.contig)
            & (bins["start"] >= segment.start)
            & (bins["end"] <= segment.end)
        ]
        residuals += list(inside["log2"].to_numpy(dtype=float) - segment.log2)
    values = np.array([r for r in residuals if math.isfinite(r)])
    if values.size == 0:
        return None
    return float(np.median(np.abs(values - np.median(values))))


def gene_copies(
    bins: pd.DataFrame, segments: Sequence[Segment], genes: Sequence[str]
) -> list[GeneCopies]:
    """Each panel gene's copy number: that of the segment holding most of its bins."""
    result = []
    for gene in genes:
        own = bins[bins["gene"].astype(str).str.split(",").apply(lambda names, g=gene: g in names)]
        if own.empty:
            continue
        contig = str(own["chromosome"].iloc[0])
        start, end = int(own["start"].min()), int(own["end"].max())

        def held(segment: Segment, own: pd.DataFrame = own, contig: str = contig) -> int:
            if segment.contig != contig:
                return 0
            return int(((own["start"] >= segment.start) & (own["end"] <= segment.end)).sum())

        best = max(segments, key=held, default=None)
        if best is None or held(best) == 0:
            continue
        result.append(GeneCopies(gene, contig, start, end, best.log2, best.copies, best.call))
    return result


def write_table(path: Path, segments: Sequence[Segment]) -> None:
    atomic.write_tsv(
        path,
        TSV_COLUMNS,
        (
            (s.contig, s.start, s.end, ",".join(s.genes), f"{s.log2:.4f}", s.copies, s.call, s.bins)
            for s in segments
        ),
    )


def write_genes(path: Path, genes: Sequence[GeneCopies]) -> None:
    atomic.write_tsv(
        path,
        GENE_COLUMNS,
        ((g.gene, g.contig, g.start, g.end, f"{g.log2:.4f}", g.copies, g.call) for g in genes),
    )


@dataclass(frozen=True)
class VcfContext:
    """What the copy-number VCF says about how its calls were made."""

    sample: str
    reference_kind: str
    reference_note: str
    purity: float | None
    sample_type: str
    sex: str = "unknown"
    #: Each record gets a GT from its copy number (germline WGS).
    genotype: bool = False
    #: Non-neutral segments shorter than this are left out of the VCF (WGS).
    min_length: int = 0


def _header(fasta: pysam.FastaFile, context: VcfContext) -> pysam.VariantHeader:
    header = pysam.VariantHeader()
    for name, length in zip(fasta.references, fasta.lengths, strict=True):
        header.contigs.add(name, length=length)
    lines = [
        '##ALT=<ID=DEL,Description="Copy number below the normal">',
        '##ALT=<ID=DUP,Description="Copy number above the normal">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of the variant: DEL or DUP">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="Last base of the segment">',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Segment length (negative: DEL)">',
        '##INFO=<ID=IMPRECISE,Number=0,Type=Flag,Description="Breakpoints are bin edges">',
        '##INFO=<ID=GENES,Number=.,Type=String,Description="Genes the segment overlaps">',
        '##INFO=<ID=EXONS,Number=.,Type=String,Description="Exons the segment overlaps '
        "(GENE:exonN, 5' to 3')\">",
        '##INFO=<ID=CODING,Number=0,Type=Flag,Description="The change disrupts a coding '
        'sequence (deletes coding bases, or a breakpoint lies in a coding span)">',
        '##INFO=<ID=CNCALL,Number=1,Type=String,Description="amplification, gain, loss or '
        'deletion">',
        '##INFO=<ID=BINS,Number=1,Type=Integer,Description="CNVkit bins in the segment">',
        '##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Integer copy number'
        + (' of the tumour cells (purity-corrected)">' if context.purity is not None else '">'),
        '##FORMAT=<ID=L2R,Number=1,Type=Float,Description="Segment log2 ratio against the '
        'reference">',
        f"##cnv_reference={context.reference_kind}",
        f'##cnv_reference_note="{context.reference_note}"',
        f"##cnv_sample_type={context.sample_type}",
    ]
    if context.genotype:
        lines.append(
            '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype from the copy number: '
            '0 copies 1/1, 1 copy 0/1 (DEL); 3 copies 0/1, 4 or more ./1 (DUP)">'
        )
    if context.min_length:
        lines.append(f"##cnv_min_length={context.min_length}")
    if context.sample_type == "tumour":
        lines.append(
            f"##tumour_purity={context.purity:g}"
            if context.purity is not None
            else "##tumour_purity=unknown (copy numbers not corrected for purity)"
        )
    for line in lines:
        header.add_line(line)
    header.add_sample(context.sample)
    return header


def write_vcf(
    path: Path,
    segments: Sequence[Segment],
    fasta_path: Path,
    context: VcfContext,
    genes: Sequence[Gene] | None = None,
) -> int:
    """Write the non-neutral segments as a bgzipped, indexed VCF; return how many. With
    ``genes`` (the reference GFF3), GENES lists the genes a segment overlaps (else the panel
    genes of its bins), with EXONS and CODING (a deletion removing coding bases, or a
    breakpoint inside a coding span)."""
    called = [s for s in segments if s.call != NEUTRAL and s.end - s.start >= context.min_length]
    with pysam.FastaFile(str(fasta_path)) as fasta:
        header = _header(fasta, context)
        order = {name: i for i, name in enumerate(fasta.references)}
        called.sort(key=lambda s: (order.get(s.contig, len(order)), s.start))
        with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as folder:
            staged = Path(folder) / "cnv.vcf.gz"
            with pysam.VariantFile(str(staged), "wz", header=header) as out:
                for segment in called:
                    if segment.contig not in order:
                        raise GenomflowError(
                            f"{fasta_path}: no contig {segment.contig!r} (copy-number segment)"
                        )
                    pos = max(1, segment.start)  # the base before the segment (VCF 4.2)
                    kind = "DEL" if segment.call in (LOSS, DELETION) else "DUP"
                    record = out.new_record(
                        contig=segment.contig,
                        start=pos - 1,
                        stop=segment.end,
                        alleles=(fasta.fetch(segment.contig, pos - 1, pos).upper(), f"<{kind}>"),
                        filter="PASS",
                    )
                    record.info["SVTYPE"] = kind
                    record.info["SVLEN"] = (segment.end - segment.start) * (
                        -1 if kind == "DEL" else 1
                    )
                    record.info["IMPRECISE"] = True
                    names: tuple[str, ...] = segment.genes
                    if genes is not None:
                        hit = overlap(genes, segment.contig, segment.start, segment.end, kind)
                        names = tuple(dict.fromkeys((*segment.genes, *hit.genes)))
                        if hit.exons:
                            record.info["EXONS"] = hit.exons
                        if hit.coding:
                            record.info["CODING"] = True
                    if names:
                        record.info["GENES"] = names
                    record.info["CNCALL"] = segment.call
                    record.info["BINS"] = segment.bins
                    if context.genotype:
                        expected = expected_copies(segment.contig, context.sex)
                        record.samples[context.sample]["GT"] = genotype(segment.copies, expected)
                    record.samples[context.sample]["CN"] = segment.copies
                    record.samples[context.sample]["L2R"] = round(segment.log2, 4)
                    out.write(record)
            pysam.tabix_index(str(staged), preset="vcf", force=True)
            Path(f"{staged}.tbi").replace(f"{path}.tbi")
            staged.replace(path)
    return len(called)
