"""The instrument park and the pending samples of the run planner, and the read model.

:func:`load_instruments` reads the park (``instruments.schema.yaml``) and
:func:`load_pending` the pending samples (``pending.schema.yaml``, one row per library);
both return frozen records and raise :class:`~genomflow.errors.GenomflowError` naming the
file, the line and the key or column of the first fault. :func:`required_read_pairs` is the
one formula that turns a depth into read pairs; the capacity model uses it too.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genomflow.errors import GenomflowError
from genomflow.plan.files import YamlDocument, load_yaml, read_sheet, validate_row

# --- names ------------------------------------------------------------------------------------

WGS = "wgs"
PANEL = "panel"
ASSAYS: tuple[str, ...] = (WGS, PANEL)

#: Tie-break weight of each priority: among plans of equal cost, the planner prefers those
#: that deliver heavier-weighted samples earlier.
PRIORITY_WEIGHTS: Mapping[str, int] = {"urgent": 4, "high": 2, "routine": 1}
DEFAULT_PRIORITY = "routine"

WEEKDAYS: tuple[str, ...] = (
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
)

# Columns of the pending-samples sheet.
SAMPLE = "sample"
ASSAY = "assay"
PANEL_COLUMN = "panel"
CENTRE = "centre"
PRIORITY = "priority"
RECEIVED = "received"
DEADLINE = "deadline"
TARGET_SIZE = "target_size_bp"
REQUIRED_DEPTH = "required_depth"
PENDING_REQUIRED: tuple[str, ...] = (SAMPLE, ASSAY)
PENDING_COLUMNS: tuple[str, ...] = (
    SAMPLE,
    ASSAY,
    PANEL_COLUMN,
    CENTRE,
    PRIORITY,
    RECEIVED,
    DEADLINE,
    TARGET_SIZE,
    REQUIRED_DEPTH,
)

INSTRUMENTS_SCHEMA = "instruments"
PENDING_SCHEMA = "pending"


# --- the read model ---------------------------------------------------------------------------


def required_read_pairs(
    target_size_bp: int,
    depth: float,
    read_length: int,
    on_target_rate: float,
    duplication_rate: float,
) -> int:
    """Read pairs needed to cover ``target_size_bp`` at mean ``depth``.

    Each pair yields ``2 * read_length`` bases, of which the fraction ``on_target_rate``
    lands on the target and the fraction ``1 - duplication_rate`` is not a duplicate::

        pairs = ceil(target_size_bp * depth
                     / (2 * read_length * on_target_rate * (1 - duplication_rate)))

    A 30x genome of 3.1 Gb with 2 x 150 bp reads, 95 % usable and 8 % duplicates:

    >>> required_read_pairs(3_100_000_000, 30, 150, 0.95, 0.08)
    354691076
    >>> required_read_pairs(1_000_000, 500, 150, 0.5, 0.0)
    3333334
    """
    if target_size_bp <= 0 or depth <= 0 or read_length <= 0:
        raise ValueError("target size, depth and read length must be positive")
    if not 0 < on_target_rate <= 1 or not 0 <= duplication_rate < 1:
        raise ValueError("on_target_rate must be in (0, 1] and duplication_rate in [0, 1)")
    usable_bases_per_pair = 2 * read_length * on_target_rate * (1 - duplication_rate)
    # Round away binary noise before the ceiling, so that exact products stay exact.
    return math.ceil(round(target_size_bp * depth / usable_bases_per_pair, 6))


@dataclass(frozen=True)
class AssayModel:
    """Default depth, on-target rate and duplication rate of an assay or a panel."""

    depth: float
    on_target_rate: float
    duplication_rate: float


@dataclass(frozen=True)
class Panel:
    """A capture panel; ``None`` fields take the assay default."""

    name: str
    target_size_bp: int
    depth: float | None = None
    on_target_rate: float | None = None
    duplication_rate: float | None = None


@dataclass(frozen=True)
class FlowcellType:
    """A flowcell type: lanes, yield per lane (read pairs), cost per run, run length."""

    name: str
    lanes: int
    read_pairs_per_lane: int
    cost: float
    run_days: int
    max_samples_per_lane: int = 384
    assays: tuple[str, ...] = ASSAYS


@dataclass(frozen=True)
class Instrument:
    """A sequencer: its centre, the flowcell types it takes and its run start dates."""

    name: str
    centre: str
    flowcell_types: tuple[str, ...]
    slots: tuple[datetime.date, ...]
    flowcells_per_run: int = 1


@dataclass(frozen=True)
class Park:
    """The instrument park and the planning rules (``instruments.yaml``)."""

    flowcell_types: Mapping[str, FlowcellType]
    instruments: tuple[Instrument, ...]
    assay_models: Mapping[str, AssayModel]
    panels: Mapping[str, Panel] = field(default_factory=dict)
    #: pool key (``wgs`` or a panel name) -> name of its lane-sharing group
    sharing: Mapping[str, str] = field(default_factory=dict)
    read_length: int = 150
    genome_size_bp: int = 3_100_000_000
    prep_days: int = 0
    analysis_days: int = 0
    cross_centre: bool = False
    currency: str = "EUR"

    def group_of(self, pool_key: str) -> str:
        """The lane-sharing group of a pool key (the key itself when it is in no group)."""
        return self.sharing.get(pool_key, pool_key)

    @property
    def centres(self) -> tuple[str, ...]:
        """Centres that have an instrument, sorted."""
        return tuple(sorted({instrument.centre for instrument in self.instruments}))


@dataclass(frozen=True)
class Run:
    """A candidate run: one flowcell of one type at one instrument position and slot date.

    ``delivery`` is the day its data count as delivered: date + run_days + analysis_days.
    """

    run_id: str
    instrument: str
    centre: str
    date: datetime.date
    position: int
    flowcell: FlowcellType
    delivery: datetime.date

    @property
    def slot_key(self) -> tuple[str, datetime.date, int]:
        """The instrument position and slot: at most one run (flowcell type) per key."""
        return (self.instrument, self.date, self.position)


@dataclass(frozen=True)
class PendingSample:
    """One pending library with its read need worked out (``read_pairs``)."""

    sample: str
    assay: str
    read_pairs: int
    depth: float
    panel: str | None = None
    centre: str | None = None
    priority: str = DEFAULT_PRIORITY
    received: datetime.date | None = None
    deadline: datetime.date | None = None
    line: int = 0

    @property
    def pool_key(self) -> str:
        """``wgs`` for a genome, else the panel name: what lane-sharing rules talk about."""
        return WGS if self.assay == WGS else str(self.panel)

    def ready(self, prep_days: int) -> datetime.date | None:
        """First date the library can be loaded, or ``None`` when it is ready now."""
        if self.received is None:
            return None
        return self.received + datetime.timedelta(days=prep_days)


# --- loading the instrument park --------------------------------------------------------------


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def schedule_dates(
    first: datetime.date,
    last: datetime.date,
    weekdays: tuple[str, ...],
    skipped: frozenset[datetime.date] = frozenset(),
) -> tuple[datetime.date, ...]:
    """Dates from ``first`` to ``last`` (inclusive) on ``weekdays``, except ``skipped``.

    >>> d = datetime.date
    >>> schedule_dates(d(2025, 3, 3), d(2025, 3, 10), ("monday", "thursday"))
    (datetime.date(2025, 3, 3), datetime.date(2025, 3, 6), datetime.date(2025, 3, 10))
    """
    wanted = {WEEKDAYS.index(day) for day in weekdays}
    count = (last - first).days + 1
    days = (first + datetime.timedelta(days=offset) for offset in range(max(count, 0)))
    return tuple(day for day in days if day.weekday() in wanted and day not in skipped)


def _instrument(document: YamlDocument, index: int, entry: Mapping[str, Any]) -> Instrument:
    key: list[str | int] = ["instruments", index]
    slots = {_date(text) for text in entry["slots"]}
    schedule = entry.get("schedule")
    if schedule is not None:
        first, last = _date(schedule["first"]), _date(schedule["last"])
        if last < first:
            raise document.fault(
                [*key, "schedule", "last"], f"{last} is before schedule.first ({first})"
            )
        skipped = frozenset(_date(text) for text in schedule["except"])
        slots.update(schedule_dates(first, last, tuple(schedule["weekdays"]), skipped))
    if not slots:
        raise document.fault(key, f"instrument {entry['name']!r} has no run slots")
    for position, name in enumerate(entry["flowcell_types"]):
        if name not in document.data["flowcell_types"]:
            known = ", ".join(document.data["flowcell_types"])
            raise document.fault(
                [*key, "flowcell_types", position],
                f"{name!r} is not a flowcell type (flowcell_types are: {known})",
            )
    return Instrument(
        name=entry["name"],
        centre=entry["centre"],
        flowcell_types=tuple(entry["flowcell_types"]),
        slots=tuple(sorted(slots)),
        flowcells_per_run=entry["flowcells_per_run"],
    )


def _sharing(document: YamlDocument, panels: Mapping[str, Panel]) -> dict[str, str]:
    groups: dict[str, str] = {}
    first_seen: dict[str, int] = {}
    for index, members in enumerate(document.data["lane_sharing"]):
        group = "+".join(members)
        for position, member in enumerate(members):
            key: list[str | int] = ["lane_sharing", index, position]
            if member != WGS and member not in panels:
                raise document.fault(key, f"{member!r} is not 'wgs' or a panel in 'panels'")
            if member in groups:
                raise document.fault(
                    key, f"{member!r} is already in lane_sharing[{first_seen[member]}]"
                )
            groups[member] = group
            first_seen[member] = index
    return groups


def park_from_document(document: YamlDocument) -> Park:
    """The :class:`Park` of a validated ``instruments`` document (cross-key checks here)."""
    data = document.data
    sequencing = data["sequencing"]
    assay_models = {
        assay: AssayModel(
            depth=sequencing[assay]["depth"],
            on_target_rate=sequencing[assay]["on_target_rate"],
            duplication_rate=sequencing[assay]["duplication_rate"],
        )
        for assay in ASSAYS
    }
    panels = {
        name: Panel(
            name=name,
            target_size_bp=entry["target_size_bp"],
            depth=entry.get("depth"),
            on_target_rate=entry.get("on_target_rate"),
            duplication_rate=entry.get("duplication_rate"),
        )
        for name, entry in data["panels"].items()
    }
    flowcell_types = {
        name: FlowcellType(
            name=name,
            lanes=entry["lanes"],
            read_pairs_per_lane=entry["read_pairs_per_lane"],
            cost=float(entry["cost"]),
            run_days=entry["run_days"],
            max_samples_per_lane=entry["max_samples_per_lane"],
            assays=tuple(entry["assays"]),
        )
        for name, entry in data["flowcell_types"].items()
    }
    instruments = tuple(
        _instrument(document, index, entry) for index, entry in enumerate(data["instruments"])
    )
    seen: dict[str, int] = {}
    for index, instrument in enumerate(instruments):
        if instrument.name in seen:
            raise document.fault(
                ["instruments", index, "name"],
                f"{instrument.name!r} is already the name of instruments[{seen[instrument.name]}]",
            )
        seen[instrument.name] = index
    return Park(
        flowcell_types=flowcell_types,
        instruments=instruments,
        assay_models=assay_models,
        panels=panels,
        sharing=_sharing(document, panels),
        read_length=sequencing["read_length"],
        genome_size_bp=sequencing["genome_size_bp"],
        prep_days=sequencing["prep_days"],
        analysis_days=sequencing["analysis_days"],
        cross_centre=sequencing["cross_centre"],
        currency=data["currency"],
    )


def load_instruments(path: Path) -> Park:
    """Load and check an instruments YAML file."""
    return park_from_document(load_yaml(Path(path), INSTRUMENTS_SCHEMA))


# --- loading the pending samples --------------------------------------------------------------


def _read_need(
    park: Park, assay: str, panel: Panel | None, cells: Mapping[str, Any]
) -> tuple[float, int]:
    """(depth, read pairs) of one pending sample."""
    default = park.assay_models[assay]
    depth = float(cells.get(REQUIRED_DEPTH) or (panel and panel.depth) or default.depth)
    if assay == WGS:
        target = park.genome_size_bp
        on_target, duplication = default.on_target_rate, default.duplication_rate
    else:
        target = int(cells.get(TARGET_SIZE) or (panel.target_size_bp if panel else 0))
        on_target = (
            panel.on_target_rate if panel and panel.on_target_rate else default.on_target_rate
        )
        duplication = (
            panel.duplication_rate
            if panel and panel.duplication_rate is not None
            else default.duplication_rate
        )
    pairs = required_read_pairs(target, depth, park.read_length, on_target, duplication)
    return depth, pairs


def load_pending(path: Path, park: Park) -> tuple[PendingSample, ...]:
    """Load and check a pending-samples sheet; work out each sample's read pairs."""
    path = Path(path)
    rows = read_sheet(path, PENDING_COLUMNS, PENDING_REQUIRED)
    samples: list[PendingSample] = []
    first_line: dict[str, int] = {}
    for row in rows:
        cells = validate_row(path, row, PENDING_COLUMNS, PENDING_SCHEMA)
        name = cells[SAMPLE]
        if name in first_line:
            raise GenomflowError(
                f"{path} line {row.line}, column {SAMPLE!r}: duplicate sample {name!r} "
                f"(first on line {first_line[name]})"
            )
        first_line[name] = row.line
        assay = cells[ASSAY]
        panel_name = cells.get(PANEL_COLUMN)
        panel = park.panels.get(panel_name) if panel_name else None
        if assay == PANEL and panel is None and TARGET_SIZE not in cells:
            known = ", ".join(park.panels) or "none"
            raise GenomflowError(
                f"{path} line {row.line}, column {PANEL_COLUMN!r}: panel {panel_name!r} is "
                f"not in the panels of the instruments file ({known}); give its "
                f"{TARGET_SIZE}"
            )
        received = _date(cells[RECEIVED]) if RECEIVED in cells else None
        deadline = _date(cells[DEADLINE]) if DEADLINE in cells else None
        if received is not None and deadline is not None and deadline < received:
            raise GenomflowError(
                f"{path} line {row.line}, column {DEADLINE!r}: {deadline} is before the "
                f"received date {received}"
            )
        depth, pairs = _read_need(park, assay, panel, cells)
        samples.append(
            PendingSample(
                sample=name,
                assay=assay,
                read_pairs=pairs,
                depth=depth,
                panel=panel_name,
                centre=cells.get(CENTRE),
                priority=cells.get(PRIORITY, DEFAULT_PRIORITY),
                received=received,
                deadline=deadline,
                line=row.line,
            )
        )
    return tuple(samples)
