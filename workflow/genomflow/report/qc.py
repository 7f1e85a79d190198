"""QC metrics of one sample, from the files the QC rules write, and its QC status.

Metric names are the report's (see the ``qc.metrics`` description in the report schema).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from genomflow.errors import GenomflowError
from genomflow.qc.samtools import samtools_summary
from genomflow.tsv import read_table

READS_TOTAL = "reads_total"
READS_MAPPED_PCT = "reads_mapped_pct"
DUPLICATES_PCT = "duplicates_pct"
ERROR_RATE = "error_rate"
INSERT_SIZE_MEAN = "insert_size_mean"
MEAN_DEPTH = "mean_depth"
MEAN_TARGET_DEPTH = "mean_target_depth"
Q30_RATE = "q30_rate"
READS_PASSING_FILTER_PCT = "reads_passing_filter_pct"

#: QC status values; ``not_assessed`` when the run has no QC status table.
QC_STATUSES: tuple[str, ...] = ("pass", "warn", "fail", "not_assessed")


@dataclass(frozen=True)
class QcStatus:
    """A sample's QC verdict and why."""

    status: str
    reasons: tuple[str, ...] = field(default_factory=tuple)


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 4) if whole else 0.0


def samtools_stats_metrics(path: Path) -> dict[str, float]:
    """Reads, mapped %, duplicate %, error rate and mean insert size from ``samtools stats``.

    The summary numbers (``SN`` lines) are the only part read.
    """
    total, mapped, duplicated, error_rate, insert = samtools_summary(
        path,
        "raw total sequences",
        "reads mapped",
        "reads duplicated",
        "error rate",
        "insert size average",
    )
    return {
        READS_TOTAL: total,
        READS_MAPPED_PCT: _percent(mapped, total),
        DUPLICATES_PCT: _percent(duplicated, total),
        ERROR_RATE: error_rate,
        INSERT_SIZE_MEAN: insert,
    }


def _number_in_row(path: Path, what: str, key: str, value: str, column: str) -> float:
    """``column`` of the first row whose ``key`` column is ``value``."""
    for row in read_table(path, what)[1]:
        if row.get(key) == value:
            try:
                return float(row[column])
            except (KeyError, TypeError, ValueError):
                raise GenomflowError(f"{path}: no number in column {column!r}") from None
    raise GenomflowError(f"{path}: no {value!r} row (not a {what}?)")


def mosdepth_mean_depth(path: Path) -> dict[str, float]:
    """Mean depth over the genome (the ``total`` row of a mosdepth summary)."""
    return {MEAN_DEPTH: _number_in_row(path, "mosdepth summary", "chrom", "total", "mean")}


def panel_mean_depth(path: Path) -> dict[str, float]:
    """Mean depth over a panel's target bases (the ``panel`` row of a ``coverage.tsv``)."""
    what = "genomflow coverage table"
    return {MEAN_TARGET_DEPTH: _number_in_row(path, what, "level", "panel", "mean_depth")}


def fastp_metrics(paths: Sequence[Path]) -> dict[str, float]:
    """Q30 rate after trimming and % of reads kept, over all units of a sample."""
    kept = before = q30 = bases = 0.0
    for path in paths:
        try:
            summary = json.loads(path.read_text())["summary"]
        except (json.JSONDecodeError, KeyError) as err:
            raise GenomflowError(f"{path}: not a fastp JSON report ({err})") from None
        before += summary["before_filtering"]["total_reads"]
        kept += summary["after_filtering"]["total_reads"]
        q30 += summary["after_filtering"]["q30_bases"]
        bases += summary["after_filtering"]["total_bases"]
    if not paths:
        return {}
    return {
        Q30_RATE: round(q30 / bases, 6) if bases else 0.0,
        READS_PASSING_FILTER_PCT: _percent(kept, before),
    }


#: Status words of the QC status table -> the report's.
_STATUS_WORDS = {"pass": "pass", "warn": "warn", "fail": "fail", "na": "not_assessed"}


def qc_status(path: Path | None, sample: str) -> QcStatus:
    """The sample's verdict from the batch QC status table; ``not_assessed`` without one.

    The table (``results/qc/qc_status.tsv``) has the columns ``sample`` and ``status`` and,
    optionally, ``check`` (the sample's row with check ``overall`` is used) and ``reason``
    (reasons separated by ``;``). Status words: PASS, WARN, FAIL, NA (not assessed).
    """
    if path is None:
        return QcStatus("not_assessed")
    header, rows = read_table(path, "QC status table")
    columns = set(header)
    if not {"sample", "status"} <= columns:
        raise GenomflowError(f"{path}: a QC status table needs the columns 'sample' and 'status'")
    mine = [r for r in rows if r["sample"] == sample]
    if "check" in columns:
        mine = [r for r in mine if r["check"] == "overall"]
    if not mine:
        raise GenomflowError(f"{path}: no QC status for sample {sample!r}")
    word = (mine[0]["status"] or "").strip().lower()
    if word not in _STATUS_WORDS:
        raise GenomflowError(
            f"{path}: QC status {word!r} of {sample!r} is not one of PASS, WARN, FAIL, NA"
        )
    reasons_column = next((c for c in ("reason", "reasons") if c in columns), None)
    reasons: tuple[str, ...] = ()
    if reasons_column is not None:
        text = mine[0][reasons_column] or ""
        reasons = tuple(part.strip() for part in text.split(";") if part.strip())
    return QcStatus(_STATUS_WORDS[word], reasons)


def qc_stage_metrics(path: Path | None) -> dict[str, float]:
    """The measured metrics of the QC stage's ``results/qc/qc_metrics/{sample}.json``."""
    if path is None:
        return {}
    try:
        metrics = json.loads(path.read_text())["metrics"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise GenomflowError(f"{path}: not a genomflow QC metrics file ({err})") from None
    return {str(k): float(v) for k, v in metrics.items() if v is not None}
