"""The sequencing run planner: pending libraries onto lanes of runs, at the least cost.

A *run* is one flowcell of one type on one instrument, started on one of its slot dates (an
instrument that runs two flowcells side by side has two *positions* per slot). Every
(instrument, slot, position, flowcell type) is a candidate run; using it costs the flowcell
type's ``cost``. A sample goes whole onto one lane of one run that

* is at its centre (unless ``cross_centre``), takes its assay, has lanes of at least its
  read pairs;
* starts on or after the day its library is ready (``received + prep_days``) and delivers
  (``date + run_days + analysis_days``) on or before its deadline.

A lane holds at most ``read_pairs_per_lane`` read pairs (the sum of its samples' needs) and
``max_samples_per_lane`` samples (the index set), all of one lane-sharing group.

:func:`plan_runs` first explains every sample that no run can take at all; then it groups
interchangeable samples into classes, splits them into independent components (samples
that can never meet a common run), and solves each component with the integer programs of
:mod:`genomflow.plan.milp`: the aggregate model chooses the runs, lanes are packed
(first-fit decreasing, else the exact lane model, else a cut and a new aggregate solve).
Every plan is checked with integers by :func:`check_plan` before it is returned.
"""

from __future__ import annotations

import datetime
import math
import time
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from genomflow.errors import GenomflowError
from genomflow.plan import milp
from genomflow.plan.model import PRIORITY_WEIGHTS, Park, PendingSample, Run

#: Default time limit of the whole solve, seconds.
DEFAULT_TIME_LIMIT = 60.0
#: Default relative gap at which CBC may stop (0: prove optimality).
DEFAULT_GAP = 0.0
#: Shortest time limit given to one solver call, seconds.
MIN_SECONDS = 2.0
#: Costs are compared to the cent.
COST_RESOLUTION = 0.01
#: Share of its fair time (by size) that a component gets in the first pass.
FIRST_PASS = 1.0
#: Most rounds of "aggregate, pack, repair, cut" per component.
MAX_ROUNDS = 25

POSITION_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unplaced:
    """A sample that cannot be placed, and why."""

    sample: PendingSample
    reason: str


class PlanInfeasible(GenomflowError):
    """Some samples cannot be placed; the message lists each with the reason."""

    def __init__(self, message: str, unplaced: Sequence[Unplaced]) -> None:
        super().__init__(message)
        self.unplaced = tuple(unplaced)


@dataclass(frozen=True)
class Placement:
    """Where one sample goes: run, lane (1-based), index slot, and its read pairs."""

    sample: PendingSample
    run: Run
    lane: int
    index_slot: int
    allotted_read_pairs: int


@dataclass(frozen=True)
class LaneUse:
    """One lane of a used run: its group, samples, load and slack."""

    run: Run
    lane: int
    group: str | None
    samples: tuple[str, ...]
    required_read_pairs: int

    @property
    def capacity(self) -> int:
        return self.run.flowcell.read_pairs_per_lane

    @property
    def slack_read_pairs(self) -> int:
        return self.capacity - self.required_read_pairs

    @property
    def free_index_slots(self) -> int:
        return self.run.flowcell.max_samples_per_lane - len(self.samples)


@dataclass(frozen=True)
class ComponentStats:
    """How one independent part of the problem (usually one centre) was solved."""

    centres: tuple[str, ...]
    samples: int
    cost: float
    lp_bound: float
    best_bound: float
    proven_optimal: bool
    seconds: float


@dataclass(frozen=True)
class Plan:
    """A solved plan with its cost, its bounds and how it was found."""

    placements: tuple[Placement, ...]
    runs: tuple[Run, ...]
    lanes: tuple[LaneUse, ...]
    cost: float
    lp_bound: float
    best_bound: float
    proven_optimal: bool
    seconds: float
    components: tuple[ComponentStats, ...] = ()
    unplaced: tuple[Unplaced, ...] = ()
    currency: str = "EUR"

    @property
    def gap(self) -> float:
        """Relative gap between the cost and the LP relaxation bound."""
        return _gap(self.cost, self.lp_bound)

    @property
    def solver_gap(self) -> float:
        """Relative gap between the cost and the solver's best bound (0 if proven optimal)."""
        return _gap(self.cost, self.best_bound)


def _gap(cost: float, bound: float) -> float:
    if cost <= 0:
        return 0.0
    return min(1.0, max(0.0, (cost - bound) / cost))


# --- candidate runs and eligibility -----------------------------------------------------------


def candidate_runs(park: Park) -> tuple[Run, ...]:
    """Every (instrument, slot, position, flowcell type) as a :class:`Run`."""
    runs: list[Run] = []
    for instrument in park.instruments:
        for date in instrument.slots:
            for position in range(instrument.flowcells_per_run):
                letter = POSITION_LETTERS[position % len(POSITION_LETTERS)]
                run_id = f"{instrument.name}_{date:%Y%m%d}_{letter}"
                for type_name in instrument.flowcell_types:
                    flowcell = park.flowcell_types[type_name]
                    days = flowcell.run_days + park.analysis_days
                    runs.append(
                        Run(
                            run_id=run_id,
                            instrument=instrument.name,
                            centre=instrument.centre,
                            date=date,
                            position=position,
                            flowcell=flowcell,
                            delivery=date + datetime.timedelta(days=days),
                        )
                    )
    return tuple(runs)


def eligible(sample: PendingSample, run: Run, park: Park) -> bool:
    """Whether ``sample`` may go on a lane of ``run`` (the room left on the lane aside)."""
    if not park.cross_centre and sample.centre is not None and sample.centre != run.centre:
        return False
    if sample.assay not in run.flowcell.assays:
        return False
    if sample.read_pairs > run.flowcell.read_pairs_per_lane:
        return False
    ready = sample.ready(park.prep_days)
    if ready is not None and run.date < ready:
        return False
    return sample.deadline is None or run.delivery <= sample.deadline


def why_unplaceable(sample: PendingSample, runs: Sequence[Run], park: Park) -> str | None:
    """Why no run at all can take ``sample`` (``None`` if some run can)."""
    reachable = [
        run
        for run in runs
        if park.cross_centre or sample.centre is None or run.centre == sample.centre
    ]
    if not reachable:
        return f"no instrument at centre {sample.centre!r} (centres: {', '.join(park.centres)})"
    where = f"at centre {sample.centre}" if not park.cross_centre and sample.centre else ""
    by_assay = [run for run in reachable if sample.assay in run.flowcell.assays]
    if not by_assay:
        return f"no flowcell type {where or 'of any instrument'} takes {sample.assay} samples"
    big_enough = [run for run in by_assay if run.flowcell.read_pairs_per_lane >= sample.read_pairs]
    if not big_enough:
        largest = max(by_assay, key=lambda run: run.flowcell.read_pairs_per_lane).flowcell
        return (
            f"needs {sample.read_pairs:,} read pairs ({sample.depth:g}x) but the largest lane "
            f"of a flowcell type that takes it ({largest.name}) holds "
            f"{largest.read_pairs_per_lane:,}"
        )
    ready = sample.ready(park.prep_days)
    startable = [run for run in big_enough if ready is None or run.date >= ready]
    if not startable:
        last = max(run.date for run in big_enough)
        return f"ready on {ready}, after the last run slot that could take it ({last})"
    if sample.deadline is not None and all(run.delivery > sample.deadline for run in startable):
        first = min(startable, key=lambda run: (run.delivery, run.run_id))
        return (
            f"no run delivers by its deadline {sample.deadline}: the earliest possible "
            f"delivery is {first.delivery} (run {first.run_id} on {first.date}, "
            f"{first.flowcell.name})"
        )
    return None


# --- classes and components -------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """The samples of one class, best first (priority, then deadline, then sheet order)."""

    cls: milp.SampleClass
    members: tuple[PendingSample, ...]


def _member_order(sample: PendingSample) -> tuple[int, datetime.date, int, str]:
    weight = PRIORITY_WEIGHTS[sample.priority]
    return (-weight, sample.deadline or datetime.date.max, sample.line, sample.sample)


def _classes(
    samples: Sequence[PendingSample], runs: Sequence[Run], park: Park
) -> tuple[list[_Group], list[Unplaced]]:
    """Samples grouped into classes, and the samples that no run can take."""
    eligible_runs: dict[tuple[object, ...], tuple[int, ...]] = {}
    grouped: dict[tuple[str, int, tuple[int, ...]], list[PendingSample]] = defaultdict(list)
    unplaceable: list[Unplaced] = []
    for sample in samples:
        signature = (
            sample.centre,
            sample.assay,
            sample.read_pairs,
            sample.ready(park.prep_days),
            sample.deadline,
        )
        if signature not in eligible_runs:
            eligible_runs[signature] = tuple(
                index for index, run in enumerate(runs) if eligible(sample, run, park)
            )
        run_indices = eligible_runs[signature]
        if not run_indices:
            reason = why_unplaceable(sample, runs, park) or "no run can take it"
            unplaceable.append(Unplaced(sample, reason))
            continue
        grouped[(sample.pool_key, sample.read_pairs, run_indices)].append(sample)
    groups = []
    for (pool_key, read_pairs, run_indices), members in grouped.items():
        weights = [PRIORITY_WEIGHTS[sample.priority] for sample in members]
        cls = milp.SampleClass(
            key=(pool_key, read_pairs),
            group=park.group_of(pool_key),
            weight=sum(weights) / len(weights),
            runs=run_indices,
            size=len(members),
        )
        groups.append(_Group(cls, tuple(sorted(members, key=_member_order))))
    return groups, unplaceable


def _components(groups: Sequence[_Group], runs: Sequence[Run]) -> list[list[int]]:
    """Classes that share candidate runs (or instrument positions), as lists of indices."""
    parent: dict[object, object] = {}

    def find(item: object) -> object:
        parent.setdefault(item, item)
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    for index, group in enumerate(groups):
        for run_index in group.cls.runs:
            root_a, root_b = find(("class", index)), find(("slot", runs[run_index].slot_key))
            if root_a != root_b:
                parent[root_a] = root_b
    members: dict[object, list[int]] = defaultdict(list)
    for index in range(len(groups)):
        members[find(("class", index))].append(index)
    return sorted(members.values(), key=lambda ids: ids[0])


# --- lanes ------------------------------------------------------------------------------------


def pack_lanes(
    samples: Sequence[PendingSample], run: Run, group_of: Callable[[str], str]
) -> list[list[PendingSample]] | None:
    """Samples of one run into its lanes, first-fit decreasing per lane-sharing group.

    Returns one list per lane (empty lanes last), or ``None`` if they do not fit this way.
    """
    flowcell = run.flowcell
    lanes: list[list[PendingSample]] = []
    by_group: dict[str, list[PendingSample]] = defaultdict(list)
    for sample in samples:
        by_group[group_of(sample.pool_key)].append(sample)
    for _, members in sorted(by_group.items()):
        first_lane = len(lanes)
        loads: list[int] = []
        for sample in sorted(members, key=lambda s: (-s.read_pairs, _member_order(s))):
            for offset, load in enumerate(loads):
                lane = lanes[first_lane + offset]
                fits = load + sample.read_pairs <= flowcell.read_pairs_per_lane
                if fits and len(lane) < flowcell.max_samples_per_lane:
                    lane.append(sample)
                    loads[offset] += sample.read_pairs
                    break
            else:
                if len(lanes) == flowcell.lanes:
                    return None
                lanes.append([sample])
                loads.append(sample.read_pairs)
    lanes.extend([] for _ in range(flowcell.lanes - len(lanes)))
    return lanes


def _lanes_from_seats(
    samples_by_key: Mapping[milp.Key, list[PendingSample]],
    run_index: int,
    run: Run,
    seats: Mapping[tuple[milp.Key, int, int], int],
) -> list[list[PendingSample]]:
    lanes: list[list[PendingSample]] = [[] for _ in range(run.flowcell.lanes)]
    for key, members in sorted(samples_by_key.items()):
        queue = list(members)
        for lane in range(run.flowcell.lanes):
            for _ in range(seats.get((key, run_index, lane), 0)):
                lanes[lane].append(queue.pop(0))
        if queue:
            raise RuntimeError(f"the lane model seats too few {key} samples on {run.run_id}")
    return lanes


def _samples_per_run(
    groups: Sequence[_Group],
    class_ids: Sequence[int],
    runs: Sequence[Run],
    outcome: milp.Outcome,
) -> tuple[dict[int, list[PendingSample]], list[PendingSample]]:
    """Class counts per run -> samples per run (best samples on the earliest runs)."""
    on_run: dict[int, list[PendingSample]] = defaultdict(list)
    left_out: list[PendingSample] = []
    for local, c in enumerate(class_ids):
        queue = list(groups[c].members)
        for _ in range(outcome.unplaced.get(local, 0)):
            left_out.append(queue.pop())
        targets = sorted(
            (r for (k, r) in outcome.moves if k == local),
            key=lambda r: (runs[r].delivery, runs[r].date, runs[r].run_id),
        )
        for r in targets:
            for _ in range(outcome.moves[local, r]):
                on_run[r].append(queue.pop(0))
        if queue:
            raise RuntimeError("the solver left samples without a run")
    return on_run, left_out


def _make_lanes(
    run: Run, lanes: Sequence[Sequence[PendingSample]], park: Park
) -> tuple[list[LaneUse], list[Placement]]:
    uses: list[LaneUse] = []
    placements: list[Placement] = []
    for number, members in enumerate(lanes, start=1):
        load = sum(sample.read_pairs for sample in members)
        groups = sorted({park.group_of(sample.pool_key) for sample in members})
        uses.append(
            LaneUse(
                run=run,
                lane=number,
                group="+".join(groups) if groups else None,
                samples=tuple(sample.sample for sample in members),
                required_read_pairs=load,
            )
        )
        for slot, sample in enumerate(members, start=1):
            share = run.flowcell.read_pairs_per_lane * sample.read_pairs // max(load, 1)
            placements.append(Placement(sample, run, number, slot, share))
    return uses, placements


# --- checking ---------------------------------------------------------------------------------


def check_plan(plan: Plan, park: Park) -> list[str]:
    """Problems with a plan, checked with integers (an empty list for a valid plan)."""
    problems: list[str] = []
    seen: set[str] = set()
    for placement in plan.placements:
        sample, run = placement.sample, placement.run
        if sample.sample in seen:
            problems.append(f"{sample.sample} is placed twice")
        seen.add(sample.sample)
        if not eligible(sample, run, park):
            problems.append(f"{sample.sample} may not go on {run.run_id} ({run.flowcell.name})")
        if placement.allotted_read_pairs < sample.read_pairs:
            problems.append(f"{sample.sample} gets fewer read pairs than it needs")
    by_sample = {placement.sample.sample: placement.sample for placement in plan.placements}
    for lane in plan.lanes:
        members = [by_sample[name] for name in lane.samples]
        if sum(sample.read_pairs for sample in members) > lane.capacity:
            problems.append(f"{lane.run.run_id} lane {lane.lane} holds too many read pairs")
        if len(members) > lane.run.flowcell.max_samples_per_lane:
            problems.append(f"{lane.run.run_id} lane {lane.lane} exceeds the index set")
        if len({park.group_of(sample.pool_key) for sample in members}) > 1:
            problems.append(f"{lane.run.run_id} lane {lane.lane} mixes lane-sharing groups")
    slot_keys = [run.slot_key for run in plan.runs]
    if len(slot_keys) != len(set(slot_keys)):
        problems.append("two flowcells planned on one instrument position in one slot")
    expected = sum(run.flowcell.cost for run in plan.runs)
    if not math.isclose(expected, plan.cost, rel_tol=1e-9, abs_tol=1e-6):
        problems.append(f"cost {plan.cost} is not the sum of the run costs {expected}")
    return problems


# --- the planner ------------------------------------------------------------------------------


def _capacity_reason(sample: PendingSample, runs: Sequence[Run], park: Park) -> str:
    candidates = [run for run in runs if eligible(sample, run, park)]
    instruments = sorted({run.instrument for run in candidates})
    first = min(run.date for run in candidates)
    last = max(run.date for run in candidates)
    by = f" that deliver by {sample.deadline}" if sample.deadline else ""
    return (
        f"not enough capacity: the {len({run.slot_key for run in candidates})} run slots"
        f"{by} on {', '.join(instruments)} ({first} to {last}) cannot hold it together "
        f"with the other samples"
    )


def _infeasible_message(unplaced: Sequence[Unplaced], total: int) -> str:
    lines = [f"{len(unplaced)} of {total} samples cannot be placed:"]
    for item in sorted(unplaced, key=lambda u: (u.sample.line, u.sample.sample)):
        where = f" (line {item.sample.line})" if item.sample.line else ""
        lines.append(f"  {item.sample.sample}{where}: {item.reason}")
    return "\n".join(lines)


class _NoSolution(GenomflowError):
    """CBC found no plan in the time it had (the problem is not proven infeasible)."""


@dataclass
class _Result:
    """What one component adds to the plan."""

    lanes: list[LaneUse]
    placements: list[Placement]
    used: list[int]
    left_out: list[PendingSample]
    cost: float
    lp_bound: float
    best_bound: float
    optimal: bool


class _Component:
    """Solve one component: aggregate, pack, repair, cut, until a plan fits lane by lane."""

    def __init__(
        self,
        groups: Sequence[_Group],
        class_ids: Sequence[int],
        runs: Sequence[Run],
        park: Park,
        first_day: datetime.date,
    ) -> None:
        self.groups, self.class_ids, self.runs, self.park = groups, class_ids, runs, park
        self.first_day = first_day
        self.classes = [groups[c].cls for c in class_ids]
        touched = {runs[r].slot_key for cls in self.classes for r in cls.runs}
        self.run_ids = [r for r, run in enumerate(runs) if run.slot_key in touched]
        self.allow_unplaced = False
        self.model = self._aggregate(self.allow_unplaced)
        self.lp_bound = -math.inf
        self._best: _Result | None = None

    @property
    def result(self) -> _Result:
        """The best plan found so far."""
        if self._best is None:
            raise RuntimeError("solve() first")
        return self._best

    def _aggregate(self, allow_unplaced: bool) -> milp.AggregateModel:
        return milp.AggregateModel(
            self.classes,
            self.runs,
            self.run_ids,
            allow_unplaced=allow_unplaced,
            first_day=self.first_day,
        )

    def _lane_model(self, used: Collection[int], allow_unplaced: bool) -> milp.LaneModel:
        return milp.LaneModel(
            self.classes, self.runs, used, allow_unplaced=allow_unplaced, first_day=self.first_day
        )

    def solve(self, deadline: float, gap: float, last_resort: float) -> _Result:
        """A first plan (optimal if the time allows) by ``deadline``, or, if CBC has none
        by then, by ``last_resort``; keeps the model for :meth:`improve`."""
        try:
            self._best = self._rounds(deadline, gap, first=True)
        except _NoSolution:
            if last_resort <= deadline + MIN_SECONDS:
                raise
            self._best = self._rounds(last_resort, gap, first=False)
        return self._best

    def improve(self, deadline: float, gap: float) -> _Result:
        """Solve again from the last plan (a MIP start) with more time; keep the better."""
        better = self._rounds(deadline, gap, first=False)
        current = self.result
        if better.cost < current.cost - 1e-9 or (
            better.optimal and better.cost <= current.cost + 1e-9
        ):
            self._best = better
        return self.result

    def _rounds(self, deadline: float, gap: float, *, first: bool) -> _Result:
        def seconds() -> float:
            return max(deadline - time.monotonic(), MIN_SECONDS)

        for round_number in range(MAX_ROUNDS):
            outcome = self.model.solve(
                seconds(),
                gap,
                with_lp_bound=first and round_number == 0,
                warm_start=not first and round_number == 0,
            )
            if first and round_number == 0:
                self.lp_bound = outcome.lp_bound
            if outcome.status == milp.INFEASIBLE and not self.allow_unplaced:
                self.allow_unplaced = True
                self.model = self._aggregate(self.allow_unplaced)
                outcome = self.model.solve(seconds(), gap, with_lp_bound=False)
            if not outcome.solved:
                raise _NoSolution(
                    f"no plan found within the time limit for "
                    f"{sum(c.size for c in self.classes)} samples (not proven infeasible): "
                    f"raise --time-limit"
                )
            result = self._lay_out(outcome, self.lp_bound, self.allow_unplaced, seconds(), gap)
            if result is not None:
                return result
            self.model.exclude(outcome.used)
        raise GenomflowError(
            f"could not pack the lanes after {MAX_ROUNDS} rounds; raise --time-limit"
        )

    def _lay_out(
        self,
        outcome: milp.Outcome,
        lp_bound: float,
        allow_unplaced: bool,
        seconds: float,
        gap: float,
    ) -> _Result | None:
        """Lanes for the runs the aggregate chose; ``None`` if those runs cannot hold them."""
        on_run, left_out = _samples_per_run(self.groups, self.class_ids, self.runs, outcome)
        packed: dict[int, list[list[PendingSample]]] = {}
        for r, samples in on_run.items():
            lanes = pack_lanes(samples, self.runs[r], self.park.group_of)
            if lanes is None:
                break
            packed[r] = lanes
        else:
            return self._result(packed, left_out, outcome, lp_bound, outcome.cost)
        repair = self._lane_model(outcome.used, allow_unplaced).solve(seconds, gap)
        if not repair.solved:
            if repair.status == milp.NO_SOLUTION:
                raise GenomflowError("no lane layout found within the time limit; raise it")
            return None
        if sum(repair.unplaced.values()) > sum(outcome.unplaced.values()):
            return None
        on_run, left_out = _samples_per_run(self.groups, self.class_ids, self.runs, repair)
        packed = {}
        for r, samples in on_run.items():
            by_key: dict[milp.Key, list[PendingSample]] = defaultdict(list)
            for sample in samples:
                by_key[sample.pool_key, sample.read_pairs].append(sample)
            packed[r] = _lanes_from_seats(by_key, r, self.runs[r], repair.seats)
        optimal_cost = outcome.cost if outcome.status == milp.OPTIMAL else math.inf
        return self._result(packed, left_out, outcome, lp_bound, optimal_cost, repair.cost)

    def _result(
        self,
        packed: Mapping[int, list[list[PendingSample]]],
        left_out: list[PendingSample],
        outcome: milp.Outcome,
        lp_bound: float,
        bound_cost: float,
        cost: float | None = None,
    ) -> _Result:
        lanes: list[LaneUse] = []
        placements: list[Placement] = []
        used = sorted(packed, key=lambda r: (self.runs[r].date, self.runs[r].run_id))
        for r in used:
            run_lanes, run_placements = _make_lanes(self.runs[r], packed[r], self.park)
            lanes.extend(run_lanes)
            placements.extend(run_placements)
        total = sum(self.runs[r].flowcell.cost for r in used)
        # Proven optimal: CBC finished and the plan costs what the aggregate said, or the
        # best bound reaches the cost (to the cent) even though CBC ran out of time.
        optimal = not left_out and (
            (outcome.status == milp.OPTIMAL and math.isclose(total, bound_cost))
            or outcome.best_bound >= total - COST_RESOLUTION
        )
        return _Result(
            lanes=lanes,
            placements=placements,
            used=used,
            left_out=left_out,
            cost=total if cost is None else min(cost, total),
            lp_bound=lp_bound,
            best_bound=outcome.best_bound,
            optimal=optimal,
        )


def plan_runs(
    samples: Sequence[PendingSample],
    park: Park,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    gap: float = DEFAULT_GAP,
    allow_unplaced: bool = False,
) -> Plan:
    """Place every sample at the least cost, or raise :class:`PlanInfeasible`.

    With ``allow_unplaced`` the plan places as many samples as it can (fewest samples left
    out, weighted by priority) and lists the others in :attr:`Plan.unplaced` instead.
    """
    started = time.monotonic()
    runs = candidate_runs(park)
    groups, unplaceable = _classes(samples, runs, park)
    if unplaceable and not allow_unplaced:
        raise PlanInfeasible(_infeasible_message(unplaceable, len(samples)), unplaceable)
    components = _components(groups, runs)
    first_day = min((run.date for run in runs), default=datetime.date.today())
    # Smallest first, each with its share of the time left (what an easy component leaves
    # goes to the next ones); a component without any plan in its share may use the rest.
    # Time still left at the end goes to the components not proven optimal, which start
    # again from their plan.
    ordered = sorted(components, key=lambda ids: sum(groups[c].cls.size for c in ids))
    solvers = [_Component(groups, ids, runs, park, first_day) for ids in ordered]
    sizes = [sum(groups[c].cls.size for c in ids) for ids in ordered]
    remaining = sum(sizes)
    end = started + time_limit
    spent: dict[int, float] = defaultdict(float)
    for index, (solver, size) in enumerate(zip(solvers, sizes, strict=True)):
        share = FIRST_PASS * (end - time.monotonic()) * size / max(remaining, 1)
        remaining -= size
        clock = time.monotonic()
        solver.solve(clock + share, gap, last_resort=end)
        spent[index] += time.monotonic() - clock
    open_ones = [i for i, solver in enumerate(solvers) if not solver.result.optimal]
    remaining = sum(sizes[i] for i in open_ones)
    for index in open_ones:
        left = end - time.monotonic()
        if left < MIN_SECONDS:
            break
        clock = time.monotonic()
        solvers[index].improve(clock + left * sizes[index] / max(remaining, 1), gap)
        spent[index] += time.monotonic() - clock
        remaining -= sizes[index]
    stats = tuple(
        ComponentStats(
            centres=tuple(sorted({runs[r].centre for r in solver.run_ids})),
            samples=size,
            cost=solver.result.cost,
            lp_bound=solver.result.lp_bound,
            best_bound=solver.result.best_bound,
            proven_optimal=solver.result.optimal,
            seconds=spent[index],
        )
        for index, (solver, size) in enumerate(zip(solvers, sizes, strict=True))
    )
    results = [solver.result for solver in solvers]
    unplaced = list(unplaceable)
    for result in results:
        unplaced.extend(Unplaced(s, _capacity_reason(s, runs, park)) for s in result.left_out)
    if unplaced and not allow_unplaced:
        raise PlanInfeasible(_infeasible_message(unplaced, len(samples)), unplaced)
    cost = sum(result.cost for result in results)
    complete = not any(result.left_out for result in results)
    used = sorted(
        (runs[r] for result in results for r in result.used),
        key=lambda run: (run.date, run.run_id),
    )
    plan = Plan(
        placements=tuple(
            sorted(
                (p for result in results for p in result.placements),
                key=lambda p: (p.run.date, p.run.run_id, p.lane, p.index_slot),
            )
        ),
        runs=tuple(used),
        lanes=tuple(
            sorted(
                (lane for result in results for lane in result.lanes),
                key=lambda lane: (lane.run.date, lane.run.run_id, lane.lane),
            )
        ),
        cost=cost,
        lp_bound=min(sum(r.lp_bound for r in results), cost) if complete else 0.0,
        best_bound=min(sum(r.best_bound for r in results), cost) if complete else 0.0,
        proven_optimal=complete and all(result.optimal for result in results),
        seconds=time.monotonic() - started,
        components=stats,
        unplaced=tuple(unplaced),
        currency=park.currency,
    )
    problems = check_plan(plan, park)
    if problems:  # pragma: no cover - a solver tolerance fault, not a user error
        raise RuntimeError("the solver returned an invalid plan: " + "; ".join(problems[:5]))
    return plan
