"""QC metrics of one sample, from the files the QC rules write, and its QC status.

Metric names are the report's (see the ``qc.metrics`` description in the report schema).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from genomflow.errors import GenomflowError
from genomflow.qc.metrics import samtools_summary

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


def mosdepth_mean_depth(path: Path) -> dict[str, float]:
    """Mean depth over the genome (the ``total`` row of a mosdepth summary)."""
    table = pd.read_csv(path, sep="\t")
    total = table.loc[table["chrom"] == "total", "mean"]
    if total.empty:
        raise GenomflowError(f"{path}: no 'total' row (not a mosdepth summary?)")
    return {MEAN_DEPTH: float(total.iloc[0])}


def panel_mean_depth(path: Path) -> dict[str, float]:
    """Mean depth over a panel's target bases (the ``panel`` row of a ``coverage.tsv``)."""
    try:
        table = pd.read_csv(path, sep="\t", usecols=["level", "mean_depth"])
    except (OSError, ValueError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise GenomflowError(f"{path}: cannot read panel coverage ({err})") from None
    panel = table.loc[table["level"] == "panel", "mean_depth"]
    if panel.empty:
        raise GenomflowError(f"{path}: no 'panel' row (not a genomflow coverage table?)")
    return {MEAN_TARGET_DEPTH: float(panel.iloc[0])}


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
    table = pd.read_csv(path, sep="\t", dtype=str, keep_default_na=False)
    if not {"sample", "status"} <= set(table.columns):
        raise GenomflowError(f"{path}: a QC status table needs the columns 'sample' and 'status'")
    rows = table[table["sample"] == sample]
    if "check" in table.columns:
        rows = rows[rows["check"] == "overall"]
    if rows.empty:
        raise GenomflowError(f"{path}: no QC status for sample {sample!r}")
    word = str(rows["status"].iloc[0]).strip().lower()
    if word not in _STATUS_WORDS:
        raise GenomflowError(
            f"{path}: QC status {word!r} of {sample!r} is not one of PASS, WARN, FAIL, NA"
        )
    reasons_column = next((c for c in ("reason", "reasons") if c in table.columns), None)
    reasons: tuple[str, ...] = ()
    if reasons_column is not None:
        text = str(rows[reasons_column].iloc[0])
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
