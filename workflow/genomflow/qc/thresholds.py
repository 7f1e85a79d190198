"""QC metrics, their warn/fail bounds per assay and sample type, and evaluating a value.

The bounds come from the config, ``qc.thresholds.<assay>.<type>.<metric>``, an object with
any of ``fail_below``, ``warn_below``, ``warn_above``, ``fail_above`` (the key says the
direction). The schema (``workflow/schemas/config.schema.yaml``) gives clinical defaults for
every assay and type; a metric given in a config replaces its default bounds as a whole.
A metric a sample type has no entry for is not checked for it.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genomflow.errors import GenomflowError
from genomflow.qc.checks import Check, Status

# --- metrics ---------------------------------------------------------------------------------

MEAN_COVERAGE = "mean_coverage"
BASES_20X = "bases_20x"
DUPLICATE_RATE = "duplicate_rate"
Q30_RATE = "q30_rate"
INSERT_SIZE = "insert_size"
MAPPING_RATE = "mapping_rate"
ERROR_RATE = "error_rate"
TARGET_BASES_AT_DEPTH = "target_bases_at_depth"
ON_TARGET_RATE = "on_target_rate"
CONSENSUS_DEPTH = "consensus_depth"
FAMILY_SIZE = "family_size"
CNV_NOISE = "cnv_noise"

#: How a metric's value is shown: a fraction as %, a depth with "x", a length in bp.
FRACTION, PERCENT_SMALL, DEPTH, LENGTH, NUMBER = "fraction", "percent_small", "x", "bp", "number"

BOUND_KEYS: tuple[str, ...] = ("fail_below", "warn_below", "warn_above", "fail_above")


@dataclass(frozen=True)
class Metric:
    """A QC metric: its name (the config and table key), a short title and how it is shown."""

    name: str
    title: str
    description: str
    unit: str

    def format(self, value: float) -> str:
        """The value as shown in reasons and the report.

        >>> METRICS[DUPLICATE_RATE].format(0.1234)
        '12.3%'
        >>> METRICS[MEAN_COVERAGE].format(29.71)
        '29.7x'
        """
        if self.unit == FRACTION:
            return f"{100 * value:.1f}%"
        if self.unit == PERCENT_SMALL:
            return f"{100 * value:.2f}%"
        if self.unit == DEPTH:
            return f"{value:.1f}x"
        if self.unit == LENGTH:
            return f"{value:.0f} bp"
        return f"{value:.2f}"


#: Every metric, in the order the status table and the report show them.
METRICS: dict[str, Metric] = {
    metric.name: metric
    for metric in (
        Metric(MEAN_COVERAGE, "Mean cov", "Mean depth over the autosomes (mosdepth)", DEPTH),
        Metric(BASES_20X, "≥20x", "Fraction of autosomal bases at depth ≥ 20 (mosdepth)", FRACTION),
        Metric(
            TARGET_BASES_AT_DEPTH,
            "Target ≥ req.",
            "Fraction of panel target bases at the required depth",
            FRACTION,
        ),
        Metric(ON_TARGET_RATE, "On target", "Fraction of reads on the panel targets", FRACTION),
        Metric(
            CONSENSUS_DEPTH, "Consensus depth", "Mean UMI-consensus depth over the targets", DEPTH
        ),
        Metric(FAMILY_SIZE, "Family size", "Mean reads per UMI family", NUMBER),
        Metric(
            CNV_NOISE,
            "CNV noise",
            "Median absolute deviation of bin log2 ratios from their segment (CNVkit)",
            NUMBER,
        ),
        Metric(DUPLICATE_RATE, "Dups", "Fraction of reads marked duplicate (samtools)", FRACTION),
        Metric(Q30_RATE, "Q30", "Fraction of bases ≥ Q30 after trimming (fastp)", FRACTION),
        Metric(INSERT_SIZE, "Insert", "Mean insert size (samtools stats)", LENGTH),
        Metric(MAPPING_RATE, "Mapped", "Fraction of reads mapped (samtools stats)", FRACTION),
        Metric(
            ERROR_RATE, "Error rate", "Mismatches per aligned base (samtools stats)", PERCENT_SMALL
        ),
    )
}

ASSAYS: tuple[str, ...] = ("wgs", "panel")
SAMPLE_TYPES: tuple[str, ...] = ("germline", "normal", "tumour", "plasma")


# --- bounds ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Bounds:
    """Warn/fail bounds of one metric; ``None`` means no bound on that side."""

    fail_below: float | None = None
    warn_below: float | None = None
    warn_above: float | None = None
    fail_above: float | None = None

    def status(self, value: float) -> tuple[Status, str | None, float | None]:
        """The status of ``value``, and the key and value of the bound it crossed.

        >>> Bounds(fail_below=20, warn_below=30).status(25)
        (<Status.WARN: 'WARN'>, 'warn_below', 30)
        """
        checks = (
            (self.fail_below, "fail_below", Status.FAIL),
            (self.fail_above, "fail_above", Status.FAIL),
            (self.warn_below, "warn_below", Status.WARN),
            (self.warn_above, "warn_above", Status.WARN),
        )
        for bound, key, status in checks:
            if bound is None:
                continue
            if (value < bound) if key.endswith("below") else (value > bound):
                return status, key, bound
        return Status.PASS, None, None

    def describe(self, metric: Metric) -> str:
        """The bounds for people: ``fail < 20.0x, warn < 30.0x``; ``none`` without bounds.

        >>> Bounds(fail_below=0.8, warn_below=0.9).describe(METRICS[Q30_RATE])
        'fail < 80.0%, warn < 90.0%'
        """
        parts = [
            f"{key.split('_')[0]} {'<' if key.endswith('below') else '>'} {metric.format(bound)}"
            for key in BOUND_KEYS
            if (bound := getattr(self, key)) is not None
        ]
        return ", ".join(parts) if parts else "none"


def parse_bounds(entry: Mapping[str, Any], where: str) -> Bounds:
    """Bounds from a config entry; they must be ordered fail_below ≤ warn_below ≤ warn_above ≤
    fail_above, else :class:`GenomflowError` naming the key ``where``.
    """
    unknown = sorted(set(entry) - set(BOUND_KEYS))
    if unknown:
        raise GenomflowError(f"config key '{where}': unknown bound(s) {', '.join(unknown)}")
    values = {key: None if entry.get(key) is None else float(entry[key]) for key in BOUND_KEYS}
    given = [(key, value) for key, value in values.items() if value is not None]
    for (low_key, low), (high_key, high) in itertools.pairwise(given):
        if low > high:
            raise GenomflowError(
                f"config key '{where}': {low_key} ({low:g}) must not be above {high_key} ({high:g})"
            )
    return Bounds(**values)


def thresholds_for(qc_config: Mapping[str, Any], assay: str, sample_type: str) -> dict[str, Bounds]:
    """The bounds of every metric checked for ``assay`` and ``sample_type``, in metric order."""
    try:
        entries: Mapping[str, Any] = qc_config["thresholds"][assay][sample_type]
    except KeyError:
        raise GenomflowError(
            f"config: no key 'qc.thresholds.{assay}.{sample_type}' (is the config resolved?)"
        ) from None
    unknown = sorted(set(entries) - set(METRICS))
    if unknown:
        raise GenomflowError(
            f"config key 'qc.thresholds.{assay}.{sample_type}': unknown metric(s) "
            f"{', '.join(unknown)}"
        )
    return {
        name: parse_bounds(entries[name], f"qc.thresholds.{assay}.{sample_type}.{name}")
        for name in METRICS
        if name in entries
    }


def evaluate(sample: str, metric: Metric, value: float | None, bounds: Bounds) -> Check:
    """Check ``value`` of ``metric`` against ``bounds``; NA when there is no value.

    >>> check = evaluate("S1", METRICS[MEAN_COVERAGE], 12.34, Bounds(fail_below=20))
    >>> check.status.value, check.reason
    ('FAIL', 'mean_coverage 12.3x is below the FAIL threshold 20.0x')
    """
    threshold = bounds.describe(metric)
    if value is None:
        return Check(sample, metric.name, Status.NA, "", threshold, f"{metric.name} not measured")
    status, key, bound = bounds.status(value)
    reason = ""
    if key is not None and bound is not None:
        side = "below" if key.endswith("below") else "above"
        reason = (
            f"{metric.name} {metric.format(value)} is {side} the {status.value} threshold "
            f"{metric.format(bound)}"
        )
    return Check(sample, metric.name, status, f"{value:.6g}", threshold, reason)
