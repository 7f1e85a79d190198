"""A patient's plasma samples over time: tumour fraction in ppm and the calls between them.

Each patient's samples with a ctDNA result are ordered by ``collection_date`` (then sample
id). Every sample gets one call:

* ``baseline``: the patient's first sample with a determinate status (detected or not);
* ``molecular_response``: detected, with a tumour fraction at most half (a drop of at least
  :data:`RESPONSE_DROP`) of the reference: the first detected sample, or the latest relapse;
* ``persistent``: detected, without such a drop;
* ``clearance``: not detected after a detected sample;
* ``not_detected``: not detected after a not-detected sample (or at baseline);
* ``relapse``: detected after a not-detected sample; it becomes the new reference;
* ``indeterminate``: the sample's status is indeterminate; it is skipped when the next
  sample is compared ("after" means after the latest determinate sample).

The response call compares point estimates; the intervals are in the table for judging
them. Output: a TSV (one row per sample) and a MultiQC custom-content line plot
(``*_mqc.json``): ppm against days since the patient's first sample, one line per patient.
"""

from __future__ import annotations

import csv
import datetime
import enum
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.multiqc import CTDNA_DESCRIPTION

#: A drop of at least this share of the reference tumour fraction is a molecular response.
RESPONSE_DROP = 0.5
PPM = 1e6
#: Columns of samples.tsv the timeline reads (others are ignored).
SHEET_SAMPLE, SHEET_PATIENT, SHEET_DATE, SHEET_TYPE = "sample", "patient", "collection_date", "type"
SHEET_TUMOUR = "tumour_sample"
TSV_COLUMNS: tuple[str, ...] = (
    "patient",
    "sample",
    "collection_date",
    "days",
    "status",
    "tumour_fraction_ppm",
    "ci_low_ppm",
    "ci_high_ppm",
    "p_value",
    "lod95_ppm",
    "call",
    "reference_sample",
    "fold_change",
)
MODULE = "genomflow_ctdna"


class TrendCall(enum.StrEnum):
    BASELINE = "baseline"
    MOLECULAR_RESPONSE = "molecular_response"
    PERSISTENT = "persistent"
    CLEARANCE = "clearance"
    NOT_DETECTED = "not_detected"
    RELAPSE = "relapse"
    INDETERMINATE = "indeterminate"


DETECTED, NOT_DETECTED, INDETERMINATE = "detected", "not_detected", "indeterminate"


@dataclass(frozen=True)
class Timepoint:
    """One plasma sample's result with its patient and date."""

    sample: str
    patient: str
    collection_date: datetime.date
    status: str
    tumour_fraction: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    lod95: float | None = None


@dataclass(frozen=True)
class TimelineRow:
    """A timepoint with its day number and call."""

    point: Timepoint
    days: int
    call: TrendCall
    reference_sample: str | None = None
    #: Tumour fraction relative to the reference (detected samples after the reference).
    fold_change: float | None = None


def patient_calls(points: Sequence[Timepoint]) -> list[TimelineRow]:
    """Calls of one patient's timepoints (any order in; date order out)."""
    ordered = sorted(points, key=lambda p: (p.collection_date, p.sample))
    if not ordered:
        return []
    first_date = ordered[0].collection_date
    rows: list[TimelineRow] = []
    previous: str | None = None
    reference: Timepoint | None = None
    for point in ordered:
        days = (point.collection_date - first_date).days
        if point.status not in (DETECTED, NOT_DETECTED):
            rows.append(TimelineRow(point, days, TrendCall.INDETERMINATE))
            continue
        detected = point.status == DETECTED
        fold = None
        if previous is None:
            call = TrendCall.BASELINE
        elif detected and previous == NOT_DETECTED:
            call = TrendCall.RELAPSE
        elif detected:
            fold = _fold(point, reference)
            dropped = fold is not None and fold <= 1 - RESPONSE_DROP
            call = TrendCall.MOLECULAR_RESPONSE if dropped else TrendCall.PERSISTENT
        else:
            call = TrendCall.CLEARANCE if previous == DETECTED else TrendCall.NOT_DETECTED
        compared = reference.sample if reference is not None and fold is not None else None
        rows.append(TimelineRow(point, days, call, compared, fold))
        if detected and (reference is None or call is TrendCall.RELAPSE):
            reference = point
        previous = point.status
    return rows


def _fold(point: Timepoint, reference: Timepoint | None) -> float | None:
    if reference is None or point.tumour_fraction is None or not reference.tumour_fraction:
        return None
    return point.tumour_fraction / reference.tumour_fraction


# --- inputs ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetSample:
    sample: str
    patient: str
    type: str
    collection_date: datetime.date | None
    tumour_sample: str | None


def read_samples(path: Path) -> dict[str, SheetSample]:
    """The columns of samples.tsv the timeline needs (sample, patient, type, collection_date,
    tumour_sample); faults name the file, line and column."""
    display = os.fspath(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise GenomflowError(f"{display}: file not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise GenomflowError(f"{display}: cannot read the sample sheet ({err})") from None
    lines = [(n, line) for n, line in enumerate(text.split("\n"), 1) if line.strip()]
    lines = [(n, line) for n, line in lines if not line.startswith("#")]
    if not lines:
        raise GenomflowError(f"{display}: empty sample sheet")
    header = lines[0][1].rstrip("\r").split("\t")
    for column in (SHEET_SAMPLE, SHEET_PATIENT, SHEET_TYPE):
        if column not in header:
            raise GenomflowError(f"{display}: missing column {column!r}")
    samples: dict[str, SheetSample] = {}
    for number, line in lines[1:]:
        cells = dict(
            zip(header, next(csv.reader([line.rstrip("\r")], delimiter="\t")), strict=False)
        )
        sample = cells.get(SHEET_SAMPLE, "").strip()
        if not sample:
            raise GenomflowError(f"{display} line {number}, column 'sample': empty")
        date_text = cells.get(SHEET_DATE, "").strip()
        try:
            date = datetime.date.fromisoformat(date_text) if date_text else None
        except ValueError:
            raise GenomflowError(
                f"{display} line {number}, column {SHEET_DATE!r}: {date_text!r} is not an ISO "
                "date (YYYY-MM-DD)"
            ) from None
        samples[sample] = SheetSample(
            sample=sample,
            patient=cells.get(SHEET_PATIENT, "").strip(),
            type=cells.get(SHEET_TYPE, "").strip(),
            collection_date=date,
            tumour_sample=cells.get(SHEET_TUMOUR, "").strip() or None,
        )
    return samples


def read_result(path: Path) -> dict[str, Any]:
    """A ``{sample}.ctdna.json`` with at least sample and status."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise GenomflowError(f"{path}: ctDNA result not found") from None
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as err:
        raise GenomflowError(f"{path}: cannot read the ctDNA result ({err})") from None
    if not isinstance(data, dict) or not {"sample", "status"} <= set(data):
        raise GenomflowError(f"{path}: not a ctDNA result (no sample or status)")
    return data


def timepoints(
    results: Mapping[Path, Mapping[str, Any]], sheet: Mapping[str, SheetSample], sheet_path: Path
) -> list[Timepoint]:
    """Timepoints of the results, with patient and date from the sheet."""
    points = []
    for path, result in results.items():
        sample = str(result["sample"])
        row = sheet.get(sample)
        if row is None:
            raise GenomflowError(f"{path}: sample {sample} is not in {sheet_path}")
        if row.collection_date is None:
            raise GenomflowError(
                f"{sheet_path}: sample {sample} has no collection_date; the timeline needs one"
            )
        points.append(
            Timepoint(
                sample=sample,
                patient=row.patient,
                collection_date=row.collection_date,
                status=str(result["status"]),
                tumour_fraction=result.get("tumour_fraction"),
                ci_low=result.get("ci_low"),
                ci_high=result.get("ci_high"),
                p_value=result.get("p_value"),
                lod95=result.get("lod95"),
            )
        )
    return points


def timeline(points: Sequence[Timepoint]) -> list[TimelineRow]:
    """Rows of every patient (patients in order of first appearance)."""
    patients = list(dict.fromkeys(p.patient for p in points))
    rows = []
    for patient in patients:
        rows.extend(patient_calls([p for p in points if p.patient == patient]))
    return rows


# --- outputs ---------------------------------------------------------------------------------


def _ppm(value: float | None) -> str:
    return "" if value is None else f"{value * PPM:.4g}"


def _text(value: float | None) -> str:
    return "" if value is None else f"{value:.4g}"


def write_tsv(rows: Sequence[TimelineRow], path: Path) -> None:
    """The timeline table, written atomically."""
    atomic.write_tsv(path, TSV_COLUMNS, (_tsv_row(row) for row in rows))


def _tsv_row(row: TimelineRow) -> list[Any]:
    p = row.point
    return [
        p.patient,
        p.sample,
        p.collection_date.isoformat(),
        row.days,
        p.status,
        _ppm(p.tumour_fraction),
        _ppm(p.ci_low),
        _ppm(p.ci_high),
        _text(p.p_value),
        _ppm(p.lod95),
        row.call.value,
        row.reference_sample or "",
        _text(row.fold_change),
    ]


def timeline_section(rows: Sequence[TimelineRow]) -> dict[str, Any]:
    """MultiQC line plot: tumour fraction (ppm) against days since each patient's first
    plasma sample (indeterminate samples and samples without an estimate left out)."""
    data: dict[str, dict[int, float]] = {}
    for row in rows:
        fraction = row.point.tumour_fraction
        if row.call is TrendCall.INDETERMINATE or fraction is None:
            continue
        data.setdefault(row.point.patient, {})[row.days] = round(fraction * PPM, 3)
    calls = "; ".join(
        f"{row.point.patient} {row.point.sample}: {row.call.value.replace('_', ' ')}"
        for row in rows
    )
    return {
        "id": "genomflow_ctdna_timeline",
        "parent_id": MODULE,
        "parent_name": "ctDNA",
        "parent_description": CTDNA_DESCRIPTION,
        "section_name": "Tumour fraction over time",
        "description": (
            "Maximum-likelihood plasma tumour fraction (ppm) of each patient's plasma samples "
            "by days since the first; calls: " + (calls or "none")
        ),
        "plot_type": "linegraph",
        "pconfig": {
            "id": "genomflow_ctdna_timeline_plot",
            "title": "ctDNA: tumour fraction over time",
            "xlab": "days since the patient's first plasma sample",
            "ylab": "tumour fraction (ppm)",
            "ymin": 0,
        },
        "data": data,
    }


def write_json(path: Path, content: Mapping[str, Any]) -> None:
    """Write JSON atomically."""
    atomic.write_text(path, json.dumps(content, indent=1) + "\n")
