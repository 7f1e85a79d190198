"""Every check of every sample, the batch QC status table and the batch summary.

``qc_status.tsv`` has one row per sample and check, samples in sheet order; each sample's
first row is its ``overall`` status (the worst of its checks) with the reasons of every WARN
and FAIL, separated by ``; ``::

    sample  check          status  value    threshold                  reason
    RD001   overall        PASS
    RD001   mean_coverage  PASS    29.73    fail < 20.0x, warn < 30.0x
    ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.checks import Check, Status, worst
from genomflow.qc.metrics import SampleMetrics
from genomflow.qc.sex import SexCutoffs, check_sex
from genomflow.qc.thresholds import METRICS, evaluate, thresholds_for
from genomflow.sheets import Cohort, Sample
from genomflow.tsv import read_table

OVERALL = "overall"
STATUS_COLUMNS: tuple[str, ...] = ("sample", "check", "status", "value", "threshold", "reason")


@dataclass(frozen=True)
class SampleQc:
    """A sample's overall status and its checks (metrics, sex, identity), in table order."""

    sample: str
    status: Status
    checks: tuple[Check, ...]

    @property
    def reasons(self) -> tuple[str, ...]:
        """Reasons of the FAIL checks, then of the WARN checks."""
        return tuple(
            check.reason
            for level in (Status.FAIL, Status.WARN)
            for check in self.checks
            if check.status is level and check.reason
        )

    def overall(self) -> Check:
        return Check(self.sample, OVERALL, self.status, "", "", "; ".join(self.reasons))


def metric_checks(
    sample: Sample, metrics: SampleMetrics, qc_config: Mapping[str, Any]
) -> list[Check]:
    """The sample's metrics against the thresholds of its assay and type."""
    bounds = thresholds_for(qc_config, sample.assay, sample.type)
    return [
        evaluate(sample.sample, METRICS[name], metrics.metrics.get(name), limits)
        for name, limits in bounds.items()
    ]


def assess_sample(
    sample: Sample,
    metrics: SampleMetrics,
    identity: Check,
    qc_config: Mapping[str, Any],
) -> SampleQc:
    """All checks of one sample and its overall status."""
    checks = [
        *metric_checks(sample, metrics, qc_config),
        check_sex(sample.sample, sample.sex, metrics.sex, SexCutoffs.from_config(qc_config["sex"])),
        identity,
    ]
    return SampleQc(sample.sample, worst(c.status for c in checks), tuple(checks))


def assess_batch(
    cohort: Cohort,
    metrics: Mapping[str, SampleMetrics],
    identity: Mapping[str, Check],
    qc_config: Mapping[str, Any],
) -> list[SampleQc]:
    """Every sample of the sheet, in sheet order."""
    missing = [s for s in cohort.samples if s not in metrics]
    if missing:
        raise GenomflowError(f"no QC metrics for sample(s) {', '.join(missing)}")
    return [
        assess_sample(sample, metrics[name], identity[name], qc_config)
        for name, sample in cohort.samples.items()
    ]


# --- the table -------------------------------------------------------------------------------


def write_status_table(path: Path, batch: Sequence[SampleQc]) -> None:
    """``qc_status.tsv`` (see the module documentation), written atomically."""
    rows = (
        (check.sample, check.check, check.status.value, check.value, check.threshold, check.reason)
        for qc in batch
        for check in (qc.overall(), *qc.checks)
    )
    atomic.write_tsv(path, STATUS_COLUMNS, rows)


def read_status_table(path: Path) -> list[SampleQc]:
    """The samples of a ``qc_status.tsv``, in file order."""
    header, table = read_table(path, "QC status table", rectangular=True)
    if tuple(header) != STATUS_COLUMNS:
        raise GenomflowError(
            f"{path}: not a QC status table (columns must be {', '.join(STATUS_COLUMNS)})"
        )
    try:
        rows = [Check.from_row(r) for r in table]
    except ValueError as err:
        raise GenomflowError(f"{path}: cannot read QC status table ({err})") from None
    batch: list[SampleQc] = []
    for row in rows:
        if row.check == OVERALL:
            batch.append(SampleQc(row.sample, row.status, ()))
        elif batch and batch[-1].sample == row.sample:
            last = batch[-1]
            batch[-1] = SampleQc(last.sample, last.status, (*last.checks, row))
        else:
            raise GenomflowError(
                f"{path}: check {row.check!r} of {row.sample!r} before its overall row"
            )
    return batch


# --- the batch summary -----------------------------------------------------------------------


def counts(batch: Sequence[SampleQc]) -> dict[Status, int]:
    """Number of samples per overall status (PASS, WARN, FAIL)."""
    return {
        status: sum(1 for qc in batch if qc.status is status)
        for status in (Status.PASS, Status.WARN, Status.FAIL)
    }


def summary_text(batch_name: str, batch: Sequence[SampleQc], table: str) -> str:
    """The batch summary printed at the end of a run.

    >>> bad = Check("S2", "sex", Status.FAIL, "male", "", "sex: declared female, shows male")
    >>> batch = [SampleQc("S1", Status.PASS, ()), SampleQc("S2", Status.FAIL, (bad,))]
    >>> print(summary_text("demo", batch, "qc.tsv"))
    QC of batch 'demo': 2 samples: 1 PASS, 0 WARN, 1 FAIL (details: qc.tsv)
      FAIL  S2: sex: declared female, shows male
    """
    n = counts(batch)
    lines = [
        f"QC of batch '{batch_name}': {len(batch)} sample{'' if len(batch) == 1 else 's'}: "
        f"{n[Status.PASS]} PASS, {n[Status.WARN]} WARN, {n[Status.FAIL]} FAIL (details: {table})"
    ]
    for level in (Status.FAIL, Status.WARN):
        for qc in batch:
            if qc.status is level:
                lines.append(f"  {level.value:<5} {qc.sample}: {'; '.join(qc.reasons)}")
    return "\n".join(lines)
