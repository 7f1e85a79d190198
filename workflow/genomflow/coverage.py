"""Panel coverage: per target, exon and gene; gaps below the minimum depth; on-target metrics.

Depth comes from mosdepth run with the panel as ``--by`` regions, ``--thresholds`` at the
configured depths, ``--quantize 0:MIN:`` and ``-Q`` the minimum mapping quality. mosdepth
counts a base once per read pair (overlapping mates are not counted twice) and skips
duplicates, secondary, supplementary, QC-failed and unmapped reads, and reads below the
mapping quality; that is ``samtools depth -a -s -Q MAPQ`` over the targets. Only bases inside
targets are coverage: a read off target adds nothing, and the part of a read that hangs over
a target's end adds nothing either.

Outputs (all written atomically):

* ``coverage.tsv``: one row for the panel, then per gene its gene row, its exon rows (targets
  sharing ``GENE:EXON``) and its target rows (BED lines): bases, mean depth, the share of bases
  at each configured depth and the bases below the minimum depth;
* ``gaps.bed``: every stretch of target bases below the minimum depth, named ``GENE:EXON``
  (BED4, sorted) -- the bases a lab must confirm by another method;
* ``metrics.tsv``: on-target read fraction, duplicate rate, mean target depth, fold-80 base
  penalty, the share of target bases at each depth; and the same as MultiQC custom content.

The on-target read fraction is over primary, mapped, non-duplicate reads at or above the
mapping quality: the share that overlaps a target by at least one base. The duplicate rate is
duplicates among primary mapped reads. Fold-80 is the mean target depth divided by the depth
that 80% of target bases reach (the 20th percentile).
"""

from __future__ import annotations

import argparse
import json
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyranges as pr
import pysam
from pysam.utils import SamtoolsError

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.panels import Panel, Target, read_panel

#: Suffixes of the mosdepth outputs after the prefix.
REGIONS = ".regions.bed.gz"
THRESHOLDS = ".thresholds.bed.gz"
QUANTIZED = ".quantized.bed.gz"
REGION_DIST = ".mosdepth.region.dist.txt"
#: Column names of coverage.tsv (the per-depth columns are added after ``mean_depth``).
LEVELS = ("panel", "gene", "exon", "target")


@dataclass(frozen=True)
class TargetDepth:
    """mosdepth's numbers for one target."""

    target: Target
    mean: float
    at_depth: tuple[int, ...]  # bases at or above each configured depth
    below_min: int  # bases below the minimum depth


@dataclass(frozen=True)
class Row:
    """One row of coverage.tsv: a set of targets summed."""

    level: str
    gene: str
    exon: str
    target: str
    chrom: str
    start: int
    end: int
    bases: int
    depth_sum: float
    at_depth: tuple[int, ...]
    below_min: int

    @property
    def mean(self) -> float:
        return self.depth_sum / self.bases if self.bases else 0.0


def summarise(
    level: str, items: Sequence[TargetDepth], gene: str = "", exon: str = "", target: str = ""
) -> Row:
    """Sum targets into one row (targets do not overlap, so sums are exact)."""
    chroms = {i.target.contig for i in items}
    return Row(
        level=level,
        gene=gene,
        exon=exon,
        target=target,
        chrom=chroms.pop() if len(chroms) == 1 else ",".join(sorted(chroms)),
        start=min(i.target.start for i in items),
        end=max(i.target.end for i in items),
        bases=sum(i.target.length for i in items),
        depth_sum=sum(i.mean * i.target.length for i in items),
        at_depth=tuple(sum(col) for col in zip(*(i.at_depth for i in items), strict=True)),
        below_min=sum(i.below_min for i in items),
    )


def coverage_rows(depths: Sequence[TargetDepth]) -> list[Row]:
    """Panel row, then per gene (panel order): gene row, exon rows, target rows."""
    rows = [summarise("panel", depths)]
    genes: dict[str, list[TargetDepth]] = {}
    for item in depths:
        genes.setdefault(item.target.gene, []).append(item)
    for gene, items in genes.items():
        rows.append(summarise("gene", items, gene=gene))
        exons: dict[str, list[TargetDepth]] = {}
        for item in items:
            exons.setdefault(item.target.exon, []).append(item)
        for exon, exon_items in exons.items():
            rows.append(summarise("exon", exon_items, gene=gene, exon=exon))
        for item in items:
            t = item.target
            rows.append(summarise("target", [item], gene=gene, exon=t.exon, target=t.name))
    return rows


def coverage_table(rows: Sequence[Row], depths: Sequence[int], min_depth: int) -> pd.DataFrame:
    """coverage.tsv as a table (percentages with two decimals, mean with two)."""
    records = []
    for row in rows:
        record: dict[str, Any] = {
            "level": row.level,
            "gene": row.gene,
            "exon": row.exon,
            "target": row.target,
            "chrom": row.chrom,
            "start": row.start,
            "end": row.end,
            "bases": row.bases,
            "mean_depth": round(row.mean, 2),
        }
        for depth, count in zip(depths, row.at_depth, strict=True):
            record[f"pct_ge_{depth}x"] = round(100 * count / row.bases, 2) if row.bases else 0.0
        record[f"bases_below_{min_depth}x"] = row.below_min
        records.append(record)
    return pd.DataFrame.from_records(records)


# --- reading mosdepth ------------------------------------------------------------------------


def _read_bed(path: Path, names: Sequence[str]) -> pd.DataFrame:
    try:
        frame = pd.read_csv(path, sep="\t", header=None, comment="#", dtype={0: str, 3: str})
    except FileNotFoundError:
        raise GenomflowError(f"{path}: mosdepth output not found") from None
    except pd.errors.EmptyDataError:
        return pd.DataFrame(columns=list(names))
    if frame.shape[1] < len(names):
        raise GenomflowError(f"{path}: expected {len(names)} columns, found {frame.shape[1]}")
    frame = frame.iloc[:, : len(names)]
    frame.columns = list(names)
    return frame


def _target_key(contig: str, start: int, end: int) -> tuple[str, int, int]:
    return (contig, int(start), int(end))


def low_runs(quantized: Path, min_depth: int) -> pr.PyRanges:
    """The runs of depth below ``min_depth`` from mosdepth's quantized output."""
    frame = _read_bed(quantized, ("Chromosome", "Start", "End", "Label"))
    low = frame[frame["Label"] == f"0:{min_depth}"]
    return pr.PyRanges(low[["Chromosome", "Start", "End"]].reset_index(drop=True))


def gaps(panel: Panel, low: pr.PyRanges) -> pd.DataFrame:
    """Target stretches inside ``low``, named ``GENE:EXON``, sorted (BED4 columns)."""
    columns = ["Chromosome", "Start", "End", "Name"]
    if low.empty:
        return pd.DataFrame(columns=columns)
    with warnings.catch_warnings():
        # pyranges 0.1.7 sets a pandas option that pandas 3 deprecates: harmless.
        warnings.filterwarnings("ignore", module="pyranges")
        found = panel.ranges().intersect(low)
    if found.empty:
        return pd.DataFrame(columns=columns)
    frame = found.df[columns].copy()
    order = {t.contig: i for i, t in reversed(list(enumerate(panel.targets)))}
    frame["_order"] = frame["Chromosome"].astype(str).map(order)
    frame = frame.sort_values(["_order", "Start", "End"]).drop(columns="_order")
    frame["Chromosome"] = frame["Chromosome"].astype(str)
    return frame.reset_index(drop=True)


def target_depths(
    panel: Panel, prefix: str, depths: Sequence[int], gap_table: pd.DataFrame
) -> list[TargetDepth]:
    """Join mosdepth's regions and thresholds outputs (and the gaps) to the panel's targets."""
    regions = _read_bed(Path(prefix + REGIONS), ("chrom", "start", "end", "name", "mean"))
    means = {
        _target_key(r.chrom, r.start, r.end): float(r.mean) for r in regions.itertuples(index=False)
    }
    names = ("chrom", "start", "end", "name", *(f"d{d}" for d in depths))
    thresholds = _read_bed(Path(prefix + THRESHOLDS), names)
    at: dict[tuple[str, int, int], tuple[int, ...]] = {}
    for record in thresholds.itertuples(index=False):
        values = tuple(int(getattr(record, f"d{d}")) for d in depths)
        at[_target_key(record.chrom, record.start, record.end)] = values
    result = []
    for target in panel.targets:
        key = _target_key(target.contig, target.start, target.end)
        if key not in means or key not in at:
            raise GenomflowError(
                f"{prefix}: mosdepth has no numbers for target {target.name} "
                f"({target.contig}:{target.start}-{target.end}); was it run with this panel?"
            )
        result.append(TargetDepth(target, means[key], at[key], 0))
    return _assign_gaps(result, gap_table)


def _assign_gaps(items: list[TargetDepth], gap_table: pd.DataFrame) -> list[TargetDepth]:
    """Bases below the minimum depth of each target: its gaps (gaps never cross targets)."""
    assigned = []
    for item in items:
        t = item.target
        inside = gap_table[
            (gap_table["Chromosome"] == t.contig)
            & (gap_table["Start"] >= t.start)
            & (gap_table["End"] <= t.end)
        ]
        below = int((inside["End"] - inside["Start"]).sum()) if len(inside) else 0
        assigned.append(TargetDepth(t, item.mean, item.at_depth, below))
    return assigned


def fold_80(region_dist: Path, mean: float) -> float | None:
    """Mean target depth over the depth reached by 80% of target bases (None if that is 0)."""
    try:
        frame = pd.read_csv(region_dist, sep="\t", header=None, names=["chrom", "depth", "frac"])
    except FileNotFoundError:
        raise GenomflowError(f"{region_dist}: mosdepth output not found") from None
    total = frame[frame["chrom"] == "total"]
    reached = total[total["frac"] >= 0.8]
    p20 = int(reached["depth"].max()) if len(reached) else 0
    return round(mean / p20, 3) if p20 > 0 else None


# --- reads -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReadCounts:
    """Read counts of a BAM for the on-target and duplicate metrics."""

    mapped: int  # primary, mapped
    duplicates: int  # primary, mapped, duplicate
    usable: int  # primary, mapped, not duplicate, MAPQ >= min
    on_target: int  # usable and overlapping a target

    @property
    def duplicate_rate(self) -> float | None:
        return self.duplicates / self.mapped if self.mapped else None

    @property
    def on_target_fraction(self) -> float | None:
        return self.on_target / self.usable if self.usable else None


def _count(*args: str) -> int:
    try:
        return int(str(pysam.view("-c", *args)).strip())
    except (SamtoolsError, ValueError) as err:
        raise GenomflowError(f"samtools view -c {' '.join(args)} failed: {err}") from err


def count_reads(
    bam: Path, targets_bed: Path, min_mapping_quality: int, reference: Path | None = None
) -> ReadCounts:
    """Counts with samtools (through pysam): 0x904 = unmapped, secondary, supplementary.

    ``bam`` is a BAM or a CRAM; a CRAM is decoded against ``reference``.
    """
    mq = str(min_mapping_quality)
    ref = ("-T", str(reference)) if reference is not None else ()
    return ReadCounts(
        mapped=_count(*ref, "-F", "0x904", str(bam)),
        duplicates=_count(*ref, "-f", "0x400", "-F", "0x904", str(bam)),
        usable=_count(*ref, "-F", "0xD04", "-q", mq, str(bam)),
        on_target=_count(*ref, "-F", "0xD04", "-q", mq, "-L", str(targets_bed), str(bam)),
    )


# --- writing ---------------------------------------------------------------------------------


def metrics(
    sample: str,
    panel: Panel,
    rows: Sequence[Row],
    depths: Sequence[int],
    min_depth: int,
    reads: ReadCounts,
    fold80: float | None,
    gap_count: int,
) -> dict[str, Any]:
    """The sample's panel metrics (the panel row plus read-level metrics)."""
    panel_row = rows[0]
    result: dict[str, Any] = {
        "sample": sample,
        "panel": panel.name,
        "target_bases": panel_row.bases,
        "mean_target_depth": round(panel_row.mean, 2),
        "on_target_fraction": _rounded(reads.on_target_fraction),
        "duplicate_rate": _rounded(reads.duplicate_rate),
        "fold_80": fold80,
    }
    for depth, count in zip(depths, panel_row.at_depth, strict=True):
        result[f"pct_ge_{depth}x"] = round(100 * count / panel_row.bases, 2)
    result[f"bases_below_{min_depth}x"] = panel_row.below_min
    result["gaps"] = gap_count
    result["genes_with_gaps"] = sum(1 for r in rows if r.level == "gene" and r.below_min)
    return result


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def multiqc_content(values: Mapping[str, Any], depths: Sequence[int]) -> dict[str, Any]:
    """MultiQC custom content (general statistics) for one sample's metrics."""
    headers: dict[str, dict[str, Any]] = {
        "on_target_fraction": {"title": "On target", "format": "{:,.3f}", "min": 0, "max": 1},
        "mean_target_depth": {"title": "Target depth", "suffix": "x", "format": "{:,.0f}"},
        "fold_80": {"title": "Fold-80", "format": "{:,.2f}"},
        "duplicate_rate": {"title": "Dup rate", "format": "{:,.3f}", "min": 0, "max": 1},
    }
    for depth in depths:
        headers[f"pct_ge_{depth}x"] = {
            "title": f"≥{depth}x",
            "suffix": "%",
            "min": 0,
            "max": 100,
            "format": "{:,.1f}",
        }
    data = {k: v for k, v in values.items() if k in headers and v is not None}
    return {
        "id": "genomflow_panel_coverage",
        "section_name": "Panel coverage",
        "description": "On-target metrics of panel samples (genomflow coverage)",
        "plot_type": "generalstats",
        "pconfig": [{key: header} for key, header in headers.items()],
        "data": {values["sample"]: data},
    }


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NA"
    return str(value)


def panel_coverage(
    *,
    sample: str,
    panel_bed: Path,
    prefix: str,
    bam: Path,
    depths: Sequence[int],
    min_depth: int,
    min_mapping_quality: int,
    coverage_out: Path,
    gaps_out: Path,
    metrics_out: Path,
    multiqc_out: Path | None = None,
    qc_out: Path | None = None,
    reference: Path | None = None,
    consensus: bool = False,
) -> dict[str, Any]:
    """Write coverage.tsv, gaps.bed, metrics.tsv (MultiQC content, QC metrics); return metrics."""
    panel = read_panel(panel_bed)
    gap_table = gaps(panel, low_runs(Path(prefix + QUANTIZED), min_depth))
    items = target_depths(panel, prefix, depths, gap_table)
    rows = coverage_rows(items)
    table = coverage_table(rows, depths, min_depth)
    atomic.write_text(coverage_out, table.to_csv(sep="\t", index=False, lineterminator="\n"))
    atomic.write_text(
        gaps_out,
        "".join(
            f"{g.Chromosome}\t{int(g.Start)}\t{int(g.End)}\t{g.Name}\n"
            for g in gap_table.itertuples(index=False)
        ),
    )
    reads = count_reads(bam, panel_bed, min_mapping_quality, reference)
    values = metrics(
        sample,
        panel,
        rows,
        depths,
        min_depth,
        reads,
        fold_80(Path(prefix + REGION_DIST), rows[0].mean),
        len(gap_table),
    )
    atomic.write_text(
        metrics_out,
        "\t".join(values) + "\n" + "\t".join(_cell(v) for v in values.values()) + "\n",
    )
    if multiqc_out is not None:
        atomic.write_text(multiqc_out, json.dumps(multiqc_content(values, depths), indent=1) + "\n")
    if qc_out is not None:
        qc_values = qc_metrics(rows[0], reads, consensus)
        atomic.write_text(qc_out, json.dumps(qc_values, indent=1) + "\n")
    return values


def qc_metrics(
    panel_row: Row, reads: ReadCounts, consensus: bool = False
) -> dict[str, float | None]:
    """The panel metrics the QC status checks (genomflow.qc): names are its metric names.
    For UMI-consensus alignments (``consensus``) the mean target depth is the consensus depth.
    """
    at_min = 1 - panel_row.below_min / panel_row.bases if panel_row.bases else None
    values = {
        "target_bases_at_depth": _rounded(at_min),
        "on_target_rate": _rounded(reads.on_target_fraction),
    }
    if consensus:
        values["consensus_depth"] = round(panel_row.mean, 2)
    return values


def _cmd_panel(args: argparse.Namespace) -> int:
    values = panel_coverage(
        sample=args.sample,
        panel_bed=args.panel,
        prefix=args.mosdepth_prefix,
        bam=args.bam,
        depths=args.depths,
        min_depth=args.min_depth,
        min_mapping_quality=args.min_mapping_quality,
        coverage_out=args.coverage_out,
        gaps_out=args.gaps_out,
        metrics_out=args.metrics_out,
        multiqc_out=args.multiqc_out,
        qc_out=args.qc_out,
        consensus=args.consensus,
        reference=args.reference,
    )
    print(", ".join(f"{k}={_cell(v)}" for k, v in values.items()))
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``genomflow coverage panel``."""
    parser = subparsers.add_parser("coverage", help="panel coverage reports")
    sub = parser.add_subparsers(dest="coverage_command", required=True)
    cmd = sub.add_parser("panel", help="coverage per target/exon/gene, gaps and metrics")
    cmd.add_argument("--sample", required=True)
    cmd.add_argument("--panel", type=Path, required=True, help="panel BED")
    cmd.add_argument("--mosdepth-prefix", required=True, help="prefix of the mosdepth outputs")
    cmd.add_argument("--bam", type=Path, required=True, help="alignments: BAM or CRAM")
    cmd.add_argument("--reference", type=Path, default=None, help="FASTA of a CRAM")
    cmd.add_argument("--depths", type=int, nargs="+", required=True)
    cmd.add_argument("--min-depth", type=int, required=True)
    cmd.add_argument("--min-mapping-quality", type=int, required=True)
    cmd.add_argument("--coverage-out", type=Path, required=True)
    cmd.add_argument("--gaps-out", type=Path, required=True)
    cmd.add_argument("--metrics-out", type=Path, required=True)
    cmd.add_argument("--multiqc-out", type=Path, default=None)
    cmd.add_argument("--qc-out", type=Path, default=None, help="metrics for genomflow qc")
    cmd.add_argument(
        "--consensus",
        action="store_true",
        help="the alignments are UMI-consensus reads: report the target depth as consensus_depth",
    )
    cmd.set_defaults(func=_cmd_panel)
