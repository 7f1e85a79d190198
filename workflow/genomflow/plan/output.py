"""Writing a run plan: the plan, its lanes and runs as TSV, one sample sheet per run.

For ``--out PLAN.tsv`` the files are::

    PLAN.tsv                      one row per sample: run, lane, index slot, read pairs
    PLAN.lanes.tsv                one row per lane of a used run: load and slack
    PLAN.runs.tsv                 one row per used run: cost, lanes used, fill
    PLAN.unplaced.tsv             only with --allow-unplaced: samples left out and why
    PLAN.samplesheets/<run_id>.samplesheet.csv

Every file is written under a temporary name and renamed; the sample-sheet folder is built
next to its final place and swapped in whole, so that no sheet of an older plan survives.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from genomflow import atomic
from genomflow.plan.model import Park, Run
from genomflow.plan.runs import LaneUse, Placement, Plan

PLAN_COLUMNS: tuple[str, ...] = (
    "sample",
    "centre",
    "assay",
    "panel",
    "priority",
    "received",
    "deadline",
    "run_id",
    "instrument",
    "instrument_centre",
    "run_date",
    "delivery_date",
    "flowcell_type",
    "lane",
    "index_slot",
    "depth",
    "required_read_pairs",
    "allotted_read_pairs",
)
LANE_COLUMNS: tuple[str, ...] = (
    "run_id",
    "instrument",
    "run_date",
    "flowcell_type",
    "lane",
    "pool",
    "samples",
    "free_index_slots",
    "capacity_read_pairs",
    "required_read_pairs",
    "slack_read_pairs",
    "slack_percent",
)
RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "instrument",
    "centre",
    "run_date",
    "delivery_date",
    "flowcell_type",
    "cost",
    "lanes",
    "lanes_used",
    "samples",
    "fill_percent",
)
UNPLACED_COLUMNS: tuple[str, ...] = ("sample", "line", "reason")
SHEET_SUFFIX = ".samplesheet.csv"


def output_paths(out: Path) -> dict[str, Path]:
    """Paths of all outputs for ``--out``: ``plan``, ``lanes``, ``runs``, ``unplaced``,
    ``sheets``.

    >>> sorted(p.name for p in output_paths(Path("x/PLAN.tsv")).values())
    ['PLAN.lanes.tsv', 'PLAN.runs.tsv', 'PLAN.samplesheets', 'PLAN.tsv', 'PLAN.unplaced.tsv']
    """
    stem = out.name[: -len(".tsv")] if out.name.endswith(".tsv") else out.name
    return {
        "plan": out,
        "lanes": out.with_name(f"{stem}.lanes.tsv"),
        "runs": out.with_name(f"{stem}.runs.tsv"),
        "unplaced": out.with_name(f"{stem}.unplaced.tsv"),
        "sheets": out.with_name(f"{stem}.samplesheets"),
    }


def _tsv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["\t".join(columns)]
    lines.extend("\t".join("" if cell is None else str(cell) for cell in row) for row in rows)
    return "\n".join(lines) + "\n"


def plan_table(plan: Plan) -> str:
    """PLAN.tsv: one row per placed sample, in run and lane order."""
    rows = []
    for placement in plan.placements:
        sample, run = placement.sample, placement.run
        rows.append(
            (
                sample.sample,
                sample.centre,
                sample.assay,
                sample.panel,
                sample.priority,
                sample.received,
                sample.deadline,
                run.run_id,
                run.instrument,
                run.centre,
                run.date,
                run.delivery,
                run.flowcell.name,
                placement.lane,
                placement.index_slot,
                f"{sample.depth:g}",
                sample.read_pairs,
                placement.allotted_read_pairs,
            )
        )
    return _tsv(PLAN_COLUMNS, rows)


def lanes_table(plan: Plan) -> str:
    """PLAN.lanes.tsv: every lane of every used run, with its slack."""
    rows = [
        (
            lane.run.run_id,
            lane.run.instrument,
            lane.run.date,
            lane.run.flowcell.name,
            lane.lane,
            lane.group,
            len(lane.samples),
            lane.free_index_slots,
            lane.capacity,
            lane.required_read_pairs,
            lane.slack_read_pairs,
            f"{100 * lane.slack_read_pairs / lane.capacity:.1f}",
        )
        for lane in plan.lanes
    ]
    return _tsv(LANE_COLUMNS, rows)


def _lanes_by_run(lanes: Iterable[LaneUse]) -> dict[str, list[LaneUse]]:
    grouped: dict[str, list[LaneUse]] = defaultdict(list)
    for lane in lanes:
        grouped[lane.run.run_id].append(lane)
    return grouped


def runs_table(plan: Plan) -> str:
    """PLAN.runs.tsv: one row per used run."""
    by_run = _lanes_by_run(plan.lanes)
    rows = []
    for run in plan.runs:
        lanes = by_run[run.run_id]
        load = sum(lane.required_read_pairs for lane in lanes)
        capacity = run.flowcell.read_pairs_per_lane * run.flowcell.lanes
        rows.append(
            (
                run.run_id,
                run.instrument,
                run.centre,
                run.date,
                run.delivery,
                run.flowcell.name,
                f"{run.flowcell.cost:.2f}",
                run.flowcell.lanes,
                sum(1 for lane in lanes if lane.samples),
                sum(len(lane.samples) for lane in lanes),
                f"{100 * load / capacity:.1f}",
            )
        )
    return _tsv(RUN_COLUMNS, rows)


def unplaced_table(plan: Plan) -> str:
    """PLAN.unplaced.tsv: the samples left out and why."""
    rows = [(item.sample.sample, item.sample.line, item.reason) for item in plan.unplaced]
    return _tsv(UNPLACED_COLUMNS, rows)


def sample_sheet(run: Run, placements: Sequence[Placement], park: Park) -> str:
    """An Illumina-like (v2) sample sheet of one run: lane, sample, index slot, pool share."""
    loads: dict[int, int] = defaultdict(int)
    for placement in placements:
        loads[placement.lane] += placement.sample.read_pairs
    lines = [
        "[Header]",
        "FileFormatVersion,2",
        f"RunName,{run.run_id}",
        f"Instrument,{run.instrument}",
        f"Centre,{run.centre}",
        f"RunDate,{run.date}",
        f"FlowcellType,{run.flowcell.name}",
        "",
        "[Reads]",
        f"Read1Cycles,{park.read_length}",
        f"Read2Cycles,{park.read_length}",
        "",
        "[BCLConvert_Data]",
        "Lane,Sample_ID,Index_ID,Sample_Project,Required_Read_Pairs,Pool_Fraction",
    ]
    for placement in sorted(placements, key=lambda p: (p.lane, p.index_slot)):
        sample = placement.sample
        project = sample.assay if sample.panel is None else f"{sample.assay}-{sample.panel}"
        fraction = sample.read_pairs / loads[placement.lane]
        lines.append(
            f"{placement.lane},{sample.sample},UDI{placement.index_slot:04d},{project},"
            f"{sample.read_pairs},{fraction:.6f}"
        )
    return "\n".join(lines) + "\n"


def _replace_directory(target: Path, files: dict[str, str]) -> None:
    """Build ``files`` in a new folder next to ``target`` and swap it in for ``target``."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        for name, text in files.items():
            (fresh / name).write_text(text, encoding="utf-8")
        os.chmod(fresh, 0o755)
        if target.exists():
            old = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}.old."))
            os.replace(target, old / target.name)
            os.replace(fresh, target)
            shutil.rmtree(old)
        else:
            os.replace(fresh, target)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise


def write_plan(
    plan: Plan, park: Park, out: Path, sheets_dir: Path | None = None
) -> dict[str, Path]:
    """Write every output of ``plan`` for ``--out``; returns the paths written."""
    paths = output_paths(Path(out))
    if sheets_dir is not None:
        paths["sheets"] = Path(sheets_dir)
    by_run: dict[str, list[Placement]] = defaultdict(list)
    for placement in plan.placements:
        by_run[placement.run.run_id].append(placement)
    sheets = {
        f"{run.run_id}{SHEET_SUFFIX}": sample_sheet(run, by_run[run.run_id], park)
        for run in plan.runs
    }
    _replace_directory(paths["sheets"], sheets)
    atomic.write_text(paths["lanes"], lanes_table(plan))
    atomic.write_text(paths["runs"], runs_table(plan))
    if plan.unplaced:
        atomic.write_text(paths["unplaced"], unplaced_table(plan))
    else:
        paths["unplaced"].unlink(missing_ok=True)
        del paths["unplaced"]
    atomic.write_text(paths["plan"], plan_table(plan))
    return paths


def summary(plan: Plan, samples: int) -> str:
    """The lines printed after planning: cost, bounds, gap, runs."""
    lines = [
        f"planned {len(plan.placements)} of {samples} samples on {len(plan.runs)} runs "
        f"({sum(1 for lane in plan.lanes if lane.samples)} lanes)",
        f"cost: {plan.cost:,.2f} {plan.currency}",
        f"LP relaxation bound: {plan.lp_bound:,.2f} {plan.currency} (gap {100 * plan.gap:.2f} %)",
        f"solver: {'optimal' if plan.proven_optimal else 'best found'}, best bound "
        f"{plan.best_bound:,.2f} (gap {100 * plan.solver_gap:.2f} %), "
        f"{len(plan.components)} part{'s' if len(plan.components) != 1 else ''}, "
        f"{plan.seconds:.1f} s",
    ]
    if len(plan.components) > 1:
        for part in sorted(plan.components, key=lambda p: p.centres):
            status = "optimal" if part.proven_optimal else "best found"
            lines.append(
                f"  part {','.join(part.centres)}: {part.samples} samples, cost "
                f"{part.cost:,.2f}, LP bound {part.lp_bound:,.2f}, best bound "
                f"{part.best_bound:,.2f}, {status}, {part.seconds:.1f} s"
            )
    if plan.unplaced:
        lines.append(f"left out: {len(plan.unplaced)} samples (see the .unplaced.tsv file)")
    by_run = _lanes_by_run(plan.lanes)
    for run in plan.runs:
        lanes = by_run[run.run_id]
        used = sum(1 for lane in lanes if lane.samples)
        count = sum(len(lane.samples) for lane in lanes)
        lines.append(
            f"  {run.run_id}  {run.flowcell.name:<16} {run.date}  -> {run.delivery}  "
            f"{count:>4} samples on {used}/{run.flowcell.lanes} lanes  "
            f"{run.flowcell.cost:>10,.2f}"
        )
    return "\n".join(lines)
