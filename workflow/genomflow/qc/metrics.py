"""A sample's QC metrics, read from the outputs of fastp, samtools and mosdepth.

Depth metrics are over the autosomes (contigs named ``1``-``22`` or ``chr1``-``chr22``, or
every contig but X, Y and the mitochondrion for other names), so that a male's single X does
not lower them. The X and Y depths relative to the autosomes feed the sex check.

Other rules may add metrics (panel coverage, UMI families) as a flat JSON object of metric
name to number (see :func:`read_extra_metrics`).
"""

from __future__ import annotations

import bisect
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pysam

from genomflow.errors import GenomflowError
from genomflow.intervals import merge_spans
from genomflow.panels import read_panel
from genomflow.qc.samtools import samtools_summary
from genomflow.qc.thresholds import (
    BASES_20X,
    DUPLICATE_RATE,
    ERROR_RATE,
    INSERT_SIZE,
    MAPPING_RATE,
    MEAN_COVERAGE,
    METRICS,
    ON_TARGET_RATE,
    Q30_RATE,
    TARGET_BASES_AT_DEPTH,
)
from genomflow.tsv import read_table

_AUTOSOME = re.compile(r"(chr)?[0-9]+")
_MITOCHONDRION = frozenset({"chrM", "MT", "M", "chrMT"})
_MARKDUP = re.compile(r"^([A-Z][A-Z _]+): (\d+)$", re.MULTILINE)

#: Depth at which :data:`BASES_20X` is measured.
DEPTH_20X = 20


@dataclass(frozen=True)
class SexCoverage:
    """Mean depth of the autosomes, and of X and Y relative to it (None when absent)."""

    autosomal_depth: float
    x_ratio: float | None
    y_ratio: float | None


@dataclass(frozen=True)
class SampleMetrics:
    """Everything measured for one sample: ``metrics`` maps metric name to value."""

    sample: str
    metrics: dict[str, float | None] = field(default_factory=dict)
    sex: SexCoverage | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, path: Path) -> SampleMetrics:
        try:
            data = json.loads(path.read_text())
            sex = data.get("sex")
            return cls(
                sample=str(data["sample"]),
                metrics={str(k): _number(v) for k, v in data["metrics"].items()},
                sex=None if sex is None else SexCoverage(**sex),
            )
        except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as err:
            raise GenomflowError(f"{path}: not a genomflow QC metrics file ({err})") from None


def _number(value: Any) -> float | None:
    return None if value is None else float(value)


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


# --- fastp -----------------------------------------------------------------------------------


def fastp_q30_rate(paths: Sequence[Path]) -> float | None:
    """Fraction of bases ≥ Q30 after trimming, over all units of a sample."""
    q30 = bases = 0.0
    for path in paths:
        try:
            after = json.loads(path.read_text())["summary"]["after_filtering"]
            q30 += float(after["q30_bases"])
            bases += float(after["total_bases"])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as err:
            raise GenomflowError(f"{path}: not a fastp JSON report (missing {err})") from None
    return _ratio(q30, bases)


# --- samtools --------------------------------------------------------------------------------


def samtools_stats_metrics(path: Path) -> dict[str, float | None]:
    """Mapping rate, error rate and mean insert size from the ``SN`` lines of samtools stats."""
    total, mapped, error_rate, insert = samtools_summary(
        path, "raw total sequences", "reads mapped", "error rate", "insert size average"
    )
    return {
        MAPPING_RATE: _ratio(mapped, total),
        ERROR_RATE: error_rate,
        INSERT_SIZE: insert if insert > 0 else None,
    }


def markdup_duplicate_rate(path: Path) -> float | None:
    """Duplicate reads (in pairs and single) per read examined, from samtools markdup -f."""
    counts = {key: int(value) for key, value in _MARKDUP.findall(path.read_text())}
    try:
        duplicates = counts["DUPLICATE PAIR"] + counts["DUPLICATE SINGLE"]
        examined = counts["EXAMINED"]
    except KeyError as err:
        raise GenomflowError(f"{path}: not samtools markdup stats (missing {err})") from None
    return _ratio(duplicates, examined)


# --- mosdepth --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ContigDepth:
    """One contig's row of a mosdepth summary: its length, aligned bases and mean depth."""

    chrom: str
    length: float
    bases: float
    mean: float


def _field_number(value: str, path: Path, column: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise GenomflowError(f"{path}: {column} {value!r} is not a number") from None


def read_mosdepth_summary(path: Path) -> list[ContigDepth]:
    """Per-contig rows of a mosdepth summary (the ``total`` and ``_region`` rows left out)."""
    header, rows = read_table(path, "mosdepth summary", rectangular=True)
    if not header:
        raise GenomflowError(f"{path}: cannot read mosdepth summary (the file is empty)")
    missing = [c for c in ("chrom", "length", "bases", "mean") if c not in header]
    if missing:
        raise GenomflowError(f"{path}: not a mosdepth summary (no column {sorted(missing)[0]!r})")
    contigs = []
    for row in rows:
        chrom = row["chrom"]
        if chrom == "total" or chrom.endswith("_region"):
            continue
        values = {c: _field_number(row[c], path, c) for c in ("length", "bases", "mean")}
        contigs.append(ContigDepth(chrom, values["length"], values["bases"], values["mean"]))
    return contigs


def autosomes(contigs: Sequence[str], x: str, y: str) -> list[str]:
    """The autosomes among ``contigs``: numbered ones if any, else all but X, Y and chrM.

    >>> autosomes(["chr1", "chr2", "chrX", "chrY", "chrM", "chrUn_1"], "chrX", "chrY")
    ['chr1', 'chr2']
    >>> autosomes(["2L", "2R", "X"], "X", "Y")
    ['2L', '2R']
    """
    numbered = [c for c in contigs if _AUTOSOME.fullmatch(c)]
    if numbered:
        return numbered
    return [c for c in contigs if c not in (x, y) and c not in _MITOCHONDRION]


def mean_depth(rows: Sequence[ContigDepth]) -> float:
    """Mean depth over ``rows``: their aligned bases over their length (0 for no length)."""
    length = sum(row.length for row in rows)
    return sum(row.bases for row in rows) / length if length else 0.0


def autosomal_depth(summary: Sequence[ContigDepth], x: str, y: str, where: Path) -> float:
    """Mean depth over the autosomes of a mosdepth summary (``where``: its file, for errors)."""
    chosen = set(autosomes([row.chrom for row in summary], x, y))
    if not chosen:
        raise GenomflowError(f"{where}: no autosomes among the contigs")
    return mean_depth([row for row in summary if row.chrom in chosen])


def sex_coverage(summary: Sequence[ContigDepth], x: str, y: str, where: Path) -> SexCoverage:
    """Autosomal mean depth and X, Y depth relative to it."""
    autosomal = autosomal_depth(summary, x, y, where)

    def relative(contig: str) -> float | None:
        rows = [row for row in summary if row.chrom == contig]
        return _ratio(mean_depth(rows), autosomal) if rows else None

    return SexCoverage(autosomal_depth=autosomal, x_ratio=relative(x), y_ratio=relative(y))


def fraction_at_depth(
    dist: Path, summary: Sequence[ContigDepth], contigs: Sequence[str], depth: int
) -> float:
    """Fraction of the bases of ``contigs`` at depth ≥ ``depth``, from mosdepth's global dist.

    Each contig's fraction is weighted by its length (from the summary).
    """
    at_depth: dict[str, float] = {}
    _, rows = read_table(
        dist, "mosdepth global dist", ("chrom", "depth", "fraction"), rectangular=True
    )
    for row in rows:
        if _field_number(row["depth"], dist, "depth") == depth:
            at_depth[row["chrom"]] = _field_number(row["fraction"], dist, "fraction")
    lengths = {row.chrom: row.length for row in summary}
    total = covered = 0.0
    for contig in contigs:
        length = lengths[contig]
        total += length
        covered += length * at_depth.get(contig, 0.0)
    return covered / total if total else 0.0


# --- off-target depth of panel samples -------------------------------------------------------

#: Bases kept away from each panel target (captured fragments reach past the target ends).
TARGET_FLANK = 1000
_SKIPPED_READS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800  # unmapped, secondary, QC fail, dup, supp.


def offtarget_sex_coverage(
    bam: Path,
    targets: Sequence[tuple[str, int, int]],
    x: str,
    y: str,
    *,
    flank: int = TARGET_FLANK,
    min_mapping_quality: int = 20,
    reference: Path | None = None,
) -> SexCoverage:
    """Autosomal, X and Y depth of a panel sample from its reads away from the targets.

    A panel's on-target depth says nothing about the sex chromosomes, but off-target reads
    fall evenly on the genome: their depth per contig, outside the targets and ``flank``
    bases on either side, gives X and Y relative to the autosomes as for a genome.
    ``bam`` is a BAM or a CRAM; a CRAM is decoded against ``reference``.
    """
    padded: dict[str, list[tuple[int, int]]] = {}
    for contig, start, end in targets:
        padded.setdefault(contig, []).append((max(0, start - flank), end + flank))
    bases: dict[str, float] = {}
    lengths: dict[str, float] = {}
    try:
        ref = str(reference) if reference is not None else None
        with pysam.AlignmentFile(str(bam), reference_filename=ref) as reader:
            for contig, length in zip(reader.references, reader.lengths, strict=True):
                blocks = merge_spans(padded.get(contig, []))
                starts = [start for start, _ in blocks]
                lengths[contig] = length - sum(min(e, length) - s for s, e in blocks)
                total = 0
                for read in reader.fetch(contig):
                    if read.flag & _SKIPPED_READS or read.mapping_quality < min_mapping_quality:
                        continue
                    start, end = read.reference_start, read.reference_end or read.reference_start
                    i = bisect.bisect_left(starts, end) - 1
                    if i >= 0 and blocks[i][1] > start:
                        continue  # overlaps a padded target
                    total += read.query_alignment_length or 0
                bases[contig] = total
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{bam}: cannot read alignments ({err})") from None
    summary = [
        ContigDepth(contig, lengths[contig], total, total / lengths[contig])
        for contig, total in bases.items()
        if lengths[contig] > 0
    ]
    return sex_coverage(summary, x, y, bam)


# --- panel coverage (genomflow coverage panel) -----------------------------------------------

_BELOW = re.compile(r"bases_below_([0-9]+)x")


def panel_metrics(path: Path) -> dict[str, float | None]:
    """On-target rate and the fraction of target bases at the required (minimum) depth, from
    the one-row ``metrics.tsv`` of ``genomflow coverage panel``.
    """
    import pandas as pd  # panel samples only: not on the import path of a genome's QC

    try:
        table = pd.read_csv(path, sep="\t", na_values=["NA"])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise GenomflowError(f"{path}: cannot read panel metrics ({err})") from None
    below = [c for c in table.columns if _BELOW.fullmatch(str(c))]
    needed = {"target_bases", "on_target_fraction"}
    if len(table) != 1 or not needed <= set(table.columns) or len(below) != 1:
        raise GenomflowError(
            f"{path}: not a panel metrics table (one row with target_bases, on_target_fraction "
            "and one bases_below_<depth>x column)"
        )
    row = table.iloc[0]
    target = float(row["target_bases"])
    on_target = row["on_target_fraction"]
    return {
        TARGET_BASES_AT_DEPTH: 1 - float(row[below[0]]) / target if target else None,
        ON_TARGET_RATE: None if pd.isna(on_target) else float(on_target),
    }


# --- extra metrics and the whole sample ------------------------------------------------------


def read_extra_metrics(path: Path) -> dict[str, float | None]:
    """Metrics written by other rules: a JSON object of metric name to number (or null)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise GenomflowError(f"{path}: cannot read metrics JSON ({err})") from None
    if not isinstance(data, Mapping):
        raise GenomflowError(f"{path}: metrics JSON must be an object of metric name to number")
    metrics: dict[str, float | None] = {}
    for name, value in data.items():
        if name not in METRICS:
            raise GenomflowError(f"{path}: unknown metric {name!r} (known: {', '.join(METRICS)})")
        if value is not None and not (
            isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        ):
            raise GenomflowError(f"{path}: metric {name!r} is not a number: {value!r}")
        metrics[name] = _number(value)
    return metrics


@dataclass(frozen=True)
class MetricSources:
    """The files a sample's metrics are read from (all but the first three optional):
    ``panel`` is the ``metrics.tsv`` of panel coverage, ``extra`` flat metrics JSON files;
    with ``bam`` and ``panel_bed`` (panel samples), the sex check uses off-target depth
    (``bam`` may be a CRAM, read with ``reference``)."""

    samtools_stats: Path
    #: samtools markdup -f stats; None for UMI libraries (their ``extra`` has the rate).
    markdup: Path | None
    mosdepth_summary: Path
    mosdepth_dist: Path | None = None
    fastp: tuple[Path, ...] = ()
    panel: Path | None = None
    extra: tuple[Path, ...] = ()
    bam: Path | None = None
    panel_bed: Path | None = None
    reference: Path | None = None


def collect(sample: str, sources: MetricSources, x: str, y: str) -> SampleMetrics:
    """Every metric of ``sample`` from ``sources``; X and Y are the sex chromosomes' names."""
    summary = read_mosdepth_summary(sources.mosdepth_summary)
    sex = sex_coverage(summary, x, y, sources.mosdepth_summary)
    metrics: dict[str, float | None] = {MEAN_COVERAGE: sex.autosomal_depth}
    if sources.bam is not None and sources.panel_bed is not None:
        targets = [(t.contig, t.start, t.end) for t in read_panel(sources.panel_bed).targets]
        sex = offtarget_sex_coverage(sources.bam, targets, x, y, reference=sources.reference)
    if sources.mosdepth_dist is not None:
        chosen = autosomes([row.chrom for row in summary], x, y)
        metrics[BASES_20X] = fraction_at_depth(sources.mosdepth_dist, summary, chosen, DEPTH_20X)
    if sources.markdup is not None:
        metrics[DUPLICATE_RATE] = markdup_duplicate_rate(sources.markdup)
    if sources.fastp:
        metrics[Q30_RATE] = fastp_q30_rate(sources.fastp)
    metrics.update(samtools_stats_metrics(sources.samtools_stats))
    if sources.panel is not None:
        metrics.update(panel_metrics(sources.panel))
    for path in sources.extra:
        metrics.update(read_extra_metrics(path))
    return SampleMetrics(sample=sample, metrics=metrics, sex=sex)
