"""The two integer programs of the run planner, built with PuLP and solved with CBC.

Both work on *classes* of interchangeable samples (:class:`SampleClass`: same pool key, read
pairs and eligible runs; a class has a size, not members) and on the candidate runs.

:class:`AggregateModel` decides which runs to use. Samples go to *time slots* (runs of one
centre that start and deliver on the same days are interchangeable for every deadline),
then to runs, and each run gives whole lanes to lane-sharing groups::

    use[r]    binary    run r is used (one flowcell type per instrument position and slot)
    m[c, t]   integer   samples of class c in time slot t
    n[k, r]   integer   samples of size key k = (pool key, read pairs) on run r
    y[g, r]   integer   lanes of run r given to group g (only where groups compete)

    sum_t m[c, t] = |c|                                  every sample placed
    sum_(r in t) n[k, r] = sum_(c in k) m[c, t]          slot t hands its samples to runs
    sum_(k in g) reads_k n[k, r] <= reads_per_lane y[g, r]
    sum_(k in g) n[k, r]         <= index_limit    y[g, r]
    sum_(k in g) u(reads_k) n[k, r] <= y[g, r]     for dual feasible functions u (lane cuts)
    sum_g y[g, r] <= lanes use[r];  n[k, r] <= min(demand, lanes * per-lane) use[r]

Every exact plan satisfies these, so the optimum is a lower bound on the exact optimum. The
planner then packs each run's samples into lanes; when a run does not pack,
:class:`LaneModel` (samples to individual lanes, over the runs chosen) repairs the plan, and
when even that fails, :meth:`AggregateModel.exclude` adds the cut "use a run outside this
set" and the aggregate is solved again. A plan found this way is exact and, when the last
aggregate was solved to optimality, optimal.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import math
import re
import tempfile
import time
import warnings
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pulp

from genomflow.plan.model import Run

#: Read pairs are given to the solver in millions, so that its tolerance (1e-7) is far
#: below one read pair while coefficients stay near 1.
READ_UNIT = 1_000_000
#: Largest total of the tie-break term, in currency units: below any cost difference.
TIE_BREAK_BUDGET = 1e-3
#: CBC may stop this close (currency units) to its best bound. Costs are compared to the
#: cent: a plan cheaper by a cent or more has an objective lower by more than
#: ABSOLUTE_GAP + TIE_BREAK_BUDGET, so stopping here proves the cost optimal without
#: proving the tie-break optimal (which is slow and does not matter).
ABSOLUTE_GAP = 0.005
#: Extra CBC options for the integer solves.
CBC_OPTIONS: tuple[str, ...] = ("cuts off",)

OPTIMAL = "optimal"
FEASIBLE = "feasible"
INFEASIBLE = "infeasible"
NO_SOLUTION = "no solution"

Key = tuple[str, int]  # (pool key, read pairs)


@dataclass(frozen=True)
class SampleClass:
    """``size`` interchangeable samples: one size key, one group, the same eligible runs."""

    key: Key
    group: str
    weight: float  # mean priority weight of the members
    runs: tuple[int, ...]  # indices of the eligible candidate runs
    size: int


@dataclass(frozen=True)
class Outcome:
    """A solved model: status, cost of the runs used, bounds and the decisions."""

    status: str
    cost: float = math.inf
    lp_bound: float = -math.inf
    best_bound: float = -math.inf
    used: frozenset[int] = frozenset()
    #: (class, run) -> samples of the class on the run
    moves: Mapping[tuple[int, int], int] = field(default_factory=dict)
    #: (key, run, lane) -> samples of the key on the lane (LaneModel only)
    seats: Mapping[tuple[Key, int, int], int] = field(default_factory=dict)
    #: class -> samples left out (only when unplaced samples are allowed)
    unplaced: Mapping[int, int] = field(default_factory=dict)

    @property
    def solved(self) -> bool:
        return self.status in (OPTIMAL, FEASIBLE)


@dataclass(frozen=True)
class _Cbc:
    status: str
    objective: float
    bound: float


def _name(*parts: object) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", "_".join(str(part) for part in parts))


def _run_cbc(
    problem: pulp.LpProblem, *, seconds: float, gap: float, relax: bool, warm_start: bool = False
) -> _Cbc:
    """Solve ``problem`` with CBC; read the status and the best bound from CBC's log."""
    with tempfile.TemporaryDirectory(prefix="genomflow-plan-") as scratch:
        log_path = Path(scratch) / "cbc.log"
        with warnings.catch_warnings():
            # PuLP 3.3 announces that 4.0 drops the bundled CBC; 3.3 is what we pin.
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = pulp.PULP_CBC_CMD(
                msg=False,
                mip=not relax,
                timeLimit=max(seconds, 1.0),
                gapRel=None if relax else gap,
                gapAbs=None if relax else ABSOLUTE_GAP,
                logPath=str(log_path),
                warmStart=warm_start,
                # Our own cuts (lane packing, cover) are in the model; CBC's generic cuts
                # did not move the bound on the benchmark and slowed every node.
                options=None if relax else list(CBC_OPTIONS),
            )
            problem.solve(solver)
        log_text = log_path.read_text(errors="replace") if log_path.exists() else ""
    if problem.status == pulp.LpStatusInfeasible or problem.sol_status == pulp.LpSolutionInfeasible:
        return _Cbc(INFEASIBLE, math.inf, math.inf)
    if problem.sol_status not in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible):
        return _Cbc(NO_SOLUTION, math.inf, -math.inf)
    objective = float(pulp.value(problem.objective) or 0.0)
    stopped = "Stopped on" in log_text or problem.sol_status == pulp.LpSolutionIntegerFeasible
    if relax or not stopped:
        bound = objective
        if not relax and gap > 0:
            match = re.search(r"best possible\s+(-?[0-9.eE+-]+)", log_text)
            bound = float(match.group(1)) if match else objective * (1 - gap)
        return _Cbc(OPTIMAL if not stopped else FEASIBLE, objective, min(bound, objective))
    match = re.search(r"Lower bound:\s+(-?[0-9.eE+-]+)", log_text)
    bound = float(match.group(1)) if match else -math.inf
    return _Cbc(FEASIBLE, objective, min(bound, objective))


def _integer(variable: pulp.LpVariable) -> int:
    value = variable.value()
    return round(value) if value is not None else 0


class _Base:
    """What both models share: run variables, slot rules, cost, tie-break, penalty."""

    def __init__(
        self,
        classes: Sequence[SampleClass],
        runs: Sequence[Run],
        run_ids: Collection[int],
        *,
        allow_unplaced: bool,
        first_day: datetime.date,
    ) -> None:
        self.classes = classes
        self.runs = runs
        self.run_ids = sorted(run_ids)
        self.first_day = first_day
        self.problem = pulp.LpProblem("run_plan", pulp.LpMinimize)
        self.use = {
            r: self.problem.add_variable(_name("use", r), cat=pulp.LpBinary) for r in self.run_ids
        }
        self.unplaced: dict[int, pulp.LpVariable] = {}
        if allow_unplaced:
            self.unplaced = {
                c: self.problem.add_variable(_name("u", c), 0, cls.size, cat=pulp.LpInteger)
                for c, cls in enumerate(classes)
            }
        self._slot_rules()

    def _slot_rules(self) -> None:
        by_slot: dict[tuple[str, datetime.date, int], list[int]] = defaultdict(list)
        for r in self.run_ids:
            by_slot[self.runs[r].slot_key].append(r)
        for (instrument, date, position), members in by_slot.items():
            total = pulp.lpSum(self.use[r] for r in members)
            if len(members) > 1:
                self.problem += total <= 1, _name("one", members[0])
            previous = by_slot.get((instrument, date, position - 1))
            if previous:
                self.problem += (
                    total <= pulp.lpSum(self.use[r] for r in previous),
                    _name("pos", members[0]),
                )

    def cost(self) -> pulp.LpAffineExpression:
        return pulp.lpSum(self.runs[r].flowcell.cost * self.use[r] for r in self.run_ids)

    def penalty(self) -> pulp.LpAffineExpression:
        """Leaving a sample out costs more than all runs together (times its weight)."""
        all_runs = sum(self.runs[r].flowcell.cost for r in self.run_ids) + 1.0
        return pulp.lpSum(
            all_runs * self.classes[c].weight * variable for c, variable in self.unplaced.items()
        )

    def day(self, delivery: datetime.date) -> int:
        return (delivery - self.first_day).days + 1

    def tie_break_scale(self, last_day: int) -> float:
        most = sum(cls.weight * cls.size for cls in self.classes) * max(last_day, 1)
        return TIE_BREAK_BUDGET / max(most, 1.0)

    def tie_break(self) -> pulp.LpAffineExpression:  # pragma: no cover - overridden
        raise NotImplementedError

    def _solve(
        self, seconds: float, gap: float, *, with_lp_bound: bool, warm_start: bool = False
    ) -> tuple[_Cbc, float]:
        started = time.monotonic()
        base = self.cost() + self.penalty()
        lp_bound = -math.inf
        if with_lp_bound:
            self.problem.setObjective(base)
            relaxed = _run_cbc(self.problem, seconds=seconds, gap=gap, relax=True)
            if relaxed.status == INFEASIBLE:
                return relaxed, math.inf
            lp_bound = relaxed.objective
        self.problem.setObjective(base + self.tie_break())
        left = seconds - (time.monotonic() - started)
        solved = _run_cbc(self.problem, seconds=left, gap=gap, relax=False, warm_start=warm_start)
        return solved, lp_bound

    def _common(self, cbc: _Cbc, lp_bound: float) -> dict[str, object]:
        cost = float(pulp.value(self.cost()) or 0.0)
        return {
            "status": cbc.status,
            "cost": cost,
            "lp_bound": min(lp_bound, cost),
            "best_bound": min(cbc.bound, cost),
            "used": frozenset(r for r, v in self.use.items() if _integer(v) == 1),
            "unplaced": {c: _integer(v) for c, v in self.unplaced.items() if _integer(v)},
        }


#: Largest parameter k of the dual feasible functions used as lane-packing cuts.
MAX_DFF = 64


def dff_coefficient(size: int, capacity: int, k: int) -> float:
    """Fekete and Schepers' dual feasible function u_k of an item, as a share of a lane.

    The shares of the items on one lane add up to at most 1 for every k, so
    ``sum_items u_k(size) * count <= lanes`` holds for any packing: a cut that the sum of
    read pairs alone misses (nine 30x genomes fill a 25B lane; ten do not fit, although
    they are only 1.09 lanes of reads).

    >>> dff_coefficient(355, 3250, 9), dff_coefficient(1064, 3250, 9)
    (0.1111111111111111, 0.3333333333333333)
    >>> dff_coefficient(50, 100, 1)  # exactly half a lane: the item itself
    0.5
    """
    scaled = (k + 1) * size
    if scaled % capacity == 0:
        return size / capacity
    return (scaled // capacity) / k


def lane_cuts(sizes: Sequence[int], capacity: int) -> list[list[float]]:
    """Distinct useful coefficient vectors of :func:`dff_coefficient` for these item sizes.

    >>> lane_cuts([1064, 355], 3250)[-1]
    [0.3333333333333333, 0.1111111111111111]
    """
    ks = sorted({capacity // size for size in sizes if capacity // size <= MAX_DFF})
    cuts: list[list[float]] = []
    for k in ks:
        vector = [dff_coefficient(size, capacity, k) for size in sizes]
        dominated = all(v <= size / capacity + 1e-12 for v, size in zip(vector, sizes, strict=True))
        if not dominated and vector not in cuts:
            cuts.append(vector)
    return cuts


WGS_KEY = "wgs"
#: Exact lane fill is searched when a lane holds at most this many of the smallest sample.
MAX_FILL_SEARCH = 64


@functools.cache
def lane_fill(sizes: tuple[int, ...], capacity: int, limit: int) -> int:
    """Most read pairs that samples of these sizes (any number of each, at most ``limit``
    samples) can fill one lane of ``capacity`` with; an upper bound when a lane holds more
    than :data:`MAX_FILL_SEARCH` samples.

    Three 30x genomes (354,691,076 pairs each) fill a 10B lane of 1,250,000,000 with
    1,064,073,228, so a 10B flowcell holds at most 8.5 billion pairs of genomes:

    >>> lane_fill((354_691_076, 1_064_073_227), 1_250_000_000, 384)
    1064073228
    >>> lane_fill((5,), 100, 8)  # the index limit
    40
    """
    ordered = sorted(set(sizes), reverse=True)
    if not ordered:
        return 0
    if capacity // ordered[-1] > MAX_FILL_SEARCH:
        return min(capacity, limit * ordered[0])
    best = 0

    def search(index: int, room: int, count: int, total: int) -> None:
        nonlocal best
        best = max(best, total)
        if index == len(ordered) or count == limit or best == capacity:
            return
        size = ordered[index]
        most = min(room // size, limit - count)
        for taken in range(most, -1, -1):
            search(index + 1, room - taken * size, count + taken, total + taken * size)

    search(0, capacity, 0, 0)
    return best


#: Read pairs per unit in the knapsack of :func:`min_cover_cost` (capacity rounded up,
#: demand rounded down, so the bound stays valid).
COVER_UNIT = 100_000_000


def min_cover_cost(demand: int, slots: Sequence[Sequence[tuple[int, float]]]) -> float:
    """Least cost of runs that together hold ``demand`` read pairs: a knapsack in which each
    slot (instrument position and date) offers one flowcell from its (capacity, cost)
    choices, or none. Capacities are rounded up and the demand down, to units of
    :data:`COVER_UNIT` read pairs, so the result never exceeds the true least cost.

    >>> min_cover_cost(5 * COVER_UNIT, [[(3 * COVER_UNIT, 10.0), (6 * COVER_UNIT, 15.0)]] * 2)
    15.0
    >>> min_cover_cost(7 * COVER_UNIT, [[(3 * COVER_UNIT, 10.0)]] * 2)
    inf
    """
    need = demand // COVER_UNIT
    if need <= 0:
        return 0.0
    best = np.full(need + 1, np.inf)
    best[0] = 0.0
    positions = np.arange(need + 1)
    for choices in slots:
        updated = best.copy()
        for capacity, cost in choices:
            units = -(-capacity // COVER_UNIT)
            updated = np.minimum(updated, best[np.maximum(positions - units, 0)] + cost)
        best = updated
    return float(best[need])


class AggregateModel(_Base):
    """Runs, time slots and lanes per group: decides which runs to use (see module doc)."""

    def __init__(
        self,
        classes: Sequence[SampleClass],
        runs: Sequence[Run],
        run_ids: Collection[int],
        *,
        allow_unplaced: bool,
        first_day: datetime.date,
    ) -> None:
        super().__init__(classes, runs, run_ids, allow_unplaced=allow_unplaced, first_day=first_day)
        self.slot_of = {r: (runs[r].centre, runs[r].date, runs[r].delivery) for r in self.run_ids}
        self.moves: dict[tuple[int, tuple[str, datetime.date, datetime.date]], pulp.LpVariable] = {}
        self.seats: dict[tuple[Key, int], pulp.LpVariable] = {}
        #: (key, run) -> samples of the key that could go on the run
        self.demand_on: dict[tuple[Key, int], int] = {}
        self.runs_of: dict[tuple[Key, tuple[str, datetime.date, datetime.date]], list[int]] = (
            defaultdict(list)
        )
        self._build()

    def _build(self) -> None:
        problem, classes = self.problem, self.classes
        classes_of: dict[tuple[Key, tuple[str, datetime.date, datetime.date]], list[int]] = (
            defaultdict(list)
        )
        demand: dict[tuple[Key, tuple[str, datetime.date, datetime.date]], int] = defaultdict(int)
        for c, cls in enumerate(classes):
            slots = sorted({self.slot_of[r] for r in cls.runs})
            for slot in slots:
                self.moves[c, slot] = self.problem.add_variable(
                    _name("m", c, len(self.moves)), 0, cls.size, cat=pulp.LpInteger
                )
                classes_of[cls.key, slot].append(c)
                demand[cls.key, slot] += cls.size
            for r in cls.runs:
                if r not in self.runs_of[cls.key, self.slot_of[r]]:
                    self.runs_of[cls.key, self.slot_of[r]].append(r)
            placed = pulp.lpSum(self.moves[c, slot] for slot in slots)
            extra = self.unplaced.get(c, 0)
            problem += placed + extra == cls.size, _name("all", c)
        keys_on: dict[int, list[Key]] = defaultdict(list)
        for (key, slot), run_list in self.runs_of.items():
            for r in run_list:
                flowcell = self.runs[r].flowcell
                per_lane = min(
                    flowcell.max_samples_per_lane, flowcell.read_pairs_per_lane // key[1]
                )
                bound = min(demand[key, slot], per_lane * flowcell.lanes)
                variable = self.problem.add_variable(
                    _name("n", len(self.seats)), 0, bound, pulp.LpInteger
                )
                self.seats[key, r] = variable
                self.demand_on[key, r] = demand[key, slot]
                keys_on[r].append(key)
                problem += variable <= bound * self.use[r], _name("open", len(self.seats))
            problem += (
                pulp.lpSum(self.seats[key, r] for r in run_list)
                == pulp.lpSum(self.moves[c, slot] for c in classes_of[key, slot]),
                _name("link", len(self.seats)),
            )
        group_of = {cls.key: cls.group for cls in classes}
        for r, keys in keys_on.items():
            self._lanes(r, keys, group_of)
        self._cover_cuts()
        self._earliest_slots_first()

    def _earliest_slots_first(self) -> None:
        """Symmetry: a used run can move to an earlier free slot of its instrument position
        when every sample that may go on it may go on the earlier run too (no library
        becomes ready in between): so use slots in date order there."""
        by_position: dict[tuple[str, int], dict[datetime.date, dict[str, int]]] = defaultdict(
            lambda: defaultdict(dict)
        )
        for r in self.run_ids:
            run = self.runs[r]
            by_position[run.instrument, run.position][run.date][run.flowcell.name] = r
        eligible_sets = [set(cls.runs) for cls in self.classes]
        for (instrument, position), dates in by_position.items():
            ordered = sorted(dates)
            for earlier, later in itertools.pairwise(ordered):
                types = dates[later]
                if set(types) != set(dates[earlier]):
                    continue
                movable = all(
                    dates[earlier][name] in runs
                    for runs in eligible_sets
                    for name, r in types.items()
                    if r in runs
                )
                if movable:
                    self.problem += (
                        pulp.lpSum(self.use[r] for r in types.values())
                        <= pulp.lpSum(self.use[r] for r in dates[earlier].values()),
                        _name("early", instrument, position, later.isoformat()),
                    )

    def _cover_cuts(self) -> None:
        """For each deadline, the runs that deliver by then cost at least the cheapest set
        of flowcells that holds the read pairs of the samples that must be done by then;
        once for all samples and once per lane-sharing group. A lane counts with the most
        read pairs that samples of these sizes can fill it with (:func:`lane_fill`)."""
        scopes: list[tuple[str, list[SampleClass]]] = [("all", list(self.classes))]
        for group in sorted({cls.group for cls in self.classes}):
            scopes.append((group, [cls for cls in self.classes if cls.group == group]))
        for label, members in scopes:
            self._cover_scope(label, members)

    def _cover_scope(self, label: str, members: Sequence[SampleClass]) -> None:
        per_lane: dict[int, int] = {}
        for r in self.run_ids:
            flowcell = self.runs[r].flowcell
            fills = []
            for group in {cls.group for cls in members}:
                sizes = {
                    cls.key[1]
                    for cls in members
                    if cls.group == group
                    and (WGS_KEY if cls.key[0] == WGS_KEY else "panel") in flowcell.assays
                    and cls.key[1] <= flowcell.read_pairs_per_lane
                }
                if sizes:
                    fills.append(
                        lane_fill(
                            tuple(sorted(sizes)),
                            flowcell.read_pairs_per_lane,
                            flowcell.max_samples_per_lane,
                        )
                    )
            if fills:
                per_lane[r] = max(fills)
        latest = [max(self.runs[r].delivery for r in cls.runs) for cls in members]
        previous = -1.0
        for cutoff in sorted({self.runs[r].delivery for r in per_lane}):
            demand = sum(
                cls.size * cls.key[1]
                for cls, last in zip(members, latest, strict=True)
                if last <= cutoff
            )
            window = [r for r in per_lane if self.runs[r].delivery <= cutoff]
            slots: dict[tuple[str, datetime.date, int], list[tuple[int, float]]] = defaultdict(list)
            for r in window:
                flowcell = self.runs[r].flowcell
                slots[self.runs[r].slot_key].append((per_lane[r] * flowcell.lanes, flowcell.cost))
            bound = min_cover_cost(demand, list(slots.values()))
            if bound > previous and math.isfinite(bound):
                self.problem += (
                    pulp.lpSum(self.runs[r].flowcell.cost * self.use[r] for r in window) >= bound,
                    _name("cover", label, self.problem.numConstraints()),
                )
                previous = bound

    def _lanes(self, r: int, keys: Sequence[Key], group_of: Mapping[Key, str]) -> None:
        problem, flowcell = self.problem, self.runs[r].flowcell
        unit_capacity = flowcell.read_pairs_per_lane / READ_UNIT
        groups = sorted({group_of[key] for key in keys})
        lanes_of: dict[str, pulp.LpVariable | pulp.LpAffineExpression] = {}
        for group in groups:
            if len(groups) == 1:
                lanes_of[group] = flowcell.lanes * self.use[r]
            else:
                lanes_of[group] = self.problem.add_variable(
                    _name("y", r, groups.index(group)), 0, flowcell.lanes, pulp.LpInteger
                )
            members = [key for key in keys if group_of[key] == group]
            lanes = lanes_of[group]
            reads = pulp.lpSum(key[1] / READ_UNIT * self.seats[key, r] for key in members)
            problem += reads <= unit_capacity * lanes, _name("cap", r, groups.index(group))
            count = pulp.lpSum(self.seats[key, r] for key in members)
            limit = flowcell.max_samples_per_lane
            problem += count <= limit * lanes, _name("idx", r, groups.index(group))
            sizes = [key[1] for key in members]
            for number, vector in enumerate(lane_cuts(sizes, flowcell.read_pairs_per_lane)):
                problem += (
                    pulp.lpSum(
                        share * self.seats[key, r]
                        for share, key in zip(vector, members, strict=True)
                        if share > 0
                    )
                    <= lanes,
                    _name("dff", r, groups.index(group), number),
                )
        if len(groups) > 1:
            problem += (
                pulp.lpSum(lanes_of.values()) <= flowcell.lanes * self.use[r],
                _name("lanes", r),
            )

    def tie_break(self) -> pulp.LpAffineExpression:
        days = {slot: self.day(slot[2]) for slot in self.slot_of.values()}
        scale = self.tie_break_scale(max(days.values(), default=1))
        return pulp.lpSum(
            scale * self.classes[c].weight * days[slot] * variable
            for (c, slot), variable in self.moves.items()
        )

    def exclude(self, runs: Collection[int]) -> None:
        """Cut: no plan uses only ``runs`` (they were shown not to hold the samples)."""
        outside = [r for r in self.run_ids if r not in runs]
        self.problem += (
            pulp.lpSum(self.use[r] for r in outside) >= 1,
            _name("cut", self.problem.numConstraints()),
        )

    def solve(
        self, seconds: float, gap: float, *, with_lp_bound: bool = True, warm_start: bool = False
    ) -> Outcome:
        cbc, lp_bound = self._solve(
            seconds, gap, with_lp_bound=with_lp_bound, warm_start=warm_start
        )
        if cbc.status not in (OPTIMAL, FEASIBLE):
            return Outcome(cbc.status, lp_bound=lp_bound)
        moves: dict[tuple[int, int], int] = {}
        by_slot: dict[tuple[Key, tuple[str, datetime.date, datetime.date]], list[int]] = (
            defaultdict(list)
        )
        for c, slot in self.moves:
            by_slot[self.classes[c].key, slot].append(c)
        for (key, slot), class_ids in by_slot.items():
            counts = [(c, _integer(self.moves[c, slot])) for c in class_ids]
            seats = [(r, _integer(self.seats[key, r])) for r in self.runs_of[key, slot]]
            for (c, r), count in _pair_up(counts, seats).items():
                moves[c, r] = moves.get((c, r), 0) + count
        common = self._common(cbc, lp_bound)
        return Outcome(moves=moves, **common)  # type: ignore[arg-type]


def _pair_up(
    demand: Sequence[tuple[int, int]], supply: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """Match counts of two lists with equal totals, in order.

    >>> _pair_up([(0, 2), (1, 1)], [(7, 1), (8, 2)])
    {(0, 7): 1, (0, 8): 1, (1, 8): 1}
    """
    if sum(n for _, n in demand) != sum(n for _, n in supply):
        raise RuntimeError("solver returned unbalanced counts")
    result: dict[tuple[int, int], int] = {}
    supply_left = [[item, count] for item, count in supply if count > 0]
    position = 0
    for item, count in demand:
        while count > 0:
            target, available = supply_left[position]
            take = min(count, available)
            result[item, target] = result.get((item, target), 0) + take
            count -= take
            supply_left[position][1] = available - take
            if supply_left[position][1] == 0:
                position += 1
    return result


class LaneModel(_Base):
    """Samples onto individual lanes of a given set of runs: the exact repair model."""

    def __init__(
        self,
        classes: Sequence[SampleClass],
        runs: Sequence[Run],
        run_ids: Collection[int],
        *,
        allow_unplaced: bool,
        first_day: datetime.date,
    ) -> None:
        super().__init__(classes, runs, run_ids, allow_unplaced=allow_unplaced, first_day=first_day)
        allowed = set(self.run_ids)
        self.moves: dict[tuple[int, int], pulp.LpVariable] = {}
        for c, cls in enumerate(classes):
            for r in cls.runs:
                if r in allowed:
                    self.moves[c, r] = self.problem.add_variable(
                        _name("m", c, r), 0, cls.size, cat=pulp.LpInteger
                    )
        self.seats: dict[tuple[Key, int, int], pulp.LpVariable] = {}
        self.switches: dict[tuple[str, int, int], pulp.LpVariable] = {}
        self._build()

    def _build(self) -> None:
        problem, classes = self.problem, self.classes
        keys_on: dict[int, dict[Key, list[int]]] = defaultdict(dict)
        for c, cls in enumerate(classes):
            mine = [r for r in cls.runs if (c, r) in self.moves]
            extra = self.unplaced.get(c, 0)
            problem += (
                pulp.lpSum(self.moves[c, r] for r in mine) + extra == cls.size,
                _name("all", c),
            )
            for r in mine:
                keys_on[r].setdefault(cls.key, []).append(c)
        group_of = {cls.key: cls.group for cls in classes}
        for r, keys in keys_on.items():
            self._run(r, keys, group_of)

    def _run(self, r: int, keys: Mapping[Key, list[int]], group_of: Mapping[Key, str]) -> None:
        problem, flowcell = self.problem, self.runs[r].flowcell
        capacity = flowcell.read_pairs_per_lane / READ_UNIT
        limit = flowcell.max_samples_per_lane
        groups = sorted({group_of[key] for key in keys})
        loads = []
        for lane in range(flowcell.lanes):
            for key in keys:
                per_lane = min(limit, flowcell.read_pairs_per_lane // key[1])
                self.seats[key, r, lane] = self.problem.add_variable(
                    _name("n", len(self.seats)), 0, per_lane, pulp.LpInteger
                )
            for g, group in enumerate(groups):
                switch: pulp.LpVariable | pulp.LpAffineExpression
                if len(groups) > 1:
                    switch = self.problem.add_variable(_name("z", r, lane, g), cat=pulp.LpBinary)
                    self.switches[group, r, lane] = switch
                else:
                    switch = pulp.LpAffineExpression(self.use[r])
                members = [key for key in keys if group_of[key] == group]
                load = pulp.lpSum(key[1] / READ_UNIT * self.seats[key, r, lane] for key in members)
                count = pulp.lpSum(self.seats[key, r, lane] for key in members)
                problem += load <= capacity * switch, _name("cap", r, lane, g)
                problem += count <= limit * switch, _name("idx", r, lane, g)
            if len(groups) > 1:
                problem += (
                    pulp.lpSum(self.switches[g, r, lane] for g in groups) <= self.use[r],
                    _name("grp", r, lane),
                )
            loads.append(pulp.lpSum(key[1] / READ_UNIT * self.seats[key, r, lane] for key in keys))
        for lane in range(flowcell.lanes - 1):
            problem += loads[lane] >= loads[lane + 1], _name("order", r, lane)
        for key, class_ids in keys.items():
            problem += (
                pulp.lpSum(self.seats[key, r, lane] for lane in range(flowcell.lanes))
                == pulp.lpSum(self.moves[c, r] for c in class_ids),
                _name("link", r, self.problem.numConstraints()),
            )

    def tie_break(self) -> pulp.LpAffineExpression:
        days = {r: self.day(self.runs[r].delivery) for r in self.run_ids}
        scale = self.tie_break_scale(max(days.values(), default=1))
        return pulp.lpSum(
            scale * self.classes[c].weight * days[r] * variable
            for (c, r), variable in self.moves.items()
        )

    def solve(self, seconds: float, gap: float) -> Outcome:
        cbc, _ = self._solve(seconds, gap, with_lp_bound=False)
        if cbc.status not in (OPTIMAL, FEASIBLE):
            return Outcome(cbc.status)
        common = self._common(cbc, -math.inf)
        return Outcome(
            moves={key: _integer(v) for key, v in self.moves.items() if _integer(v)},
            seats={key: _integer(v) for key, v in self.seats.items() if _integer(v)},
            **common,  # type: ignore[arg-type]
        )
