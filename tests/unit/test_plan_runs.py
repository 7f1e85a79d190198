"""The run planner: optimality against brute force, constraints on random instances,
lane packing (first fit, repair, cut), lane sharing, index limits and infeasibility."""

from __future__ import annotations

import datetime
import itertools
import random
from collections.abc import Sequence

import pytest

from genomflow.plan import milp
from genomflow.plan.model import (
    AssayModel,
    FlowcellType,
    Instrument,
    Park,
    PendingSample,
    Run,
)
from genomflow.plan.runs import (
    Plan,
    PlanInfeasible,
    candidate_runs,
    check_plan,
    eligible,
    pack_lanes,
    plan_runs,
)

DAY0 = datetime.date(2025, 3, 3)
MODELS = {
    "wgs": AssayModel(30, 0.95, 0.08),
    "panel": AssayModel(500, 0.6, 0.3),
}


def day(offset: int) -> datetime.date:
    return DAY0 + datetime.timedelta(days=offset)


def flowcell(
    name: str,
    lanes: int,
    reads: int,
    cost: float,
    run_days: int = 1,
    limit: int = 384,
    assays: tuple[str, ...] = ("wgs", "panel"),
) -> FlowcellType:
    return FlowcellType(name, lanes, reads, cost, run_days, limit, assays)


def make_park(
    types: Sequence[FlowcellType],
    instruments: Sequence[Instrument],
    sharing: dict[str, str] | None = None,
    cross_centre: bool = False,
) -> Park:
    return Park(
        flowcell_types={t.name: t for t in types},
        instruments=tuple(instruments),
        assay_models=MODELS,
        sharing=sharing or {},
        cross_centre=cross_centre,
    )


def sample(
    name: str,
    reads: int,
    *,
    assay: str = "panel",
    panel: str | None = "p1",
    deadline: datetime.date | None = None,
    received: datetime.date | None = None,
    centre: str | None = None,
    priority: str = "routine",
    line: int = 0,
) -> PendingSample:
    return PendingSample(
        sample=name,
        assay=assay,
        read_pairs=reads,
        depth=100.0,
        panel=None if assay == "wgs" else panel,
        centre=centre,
        priority=priority,
        received=received,
        deadline=deadline,
        line=line,
    )


# --- an independent brute force ---------------------------------------------------------------


def _fits(samples: Sequence[PendingSample], runs: Sequence[Run], park: Park) -> bool:
    """Whether the samples can be put on lanes of these runs (backtracking)."""
    lanes = [(run, lane) for run in runs for lane in range(run.flowcell.lanes)]
    loads = [0] * len(lanes)
    counts = [0] * len(lanes)
    groups: list[str | None] = [None] * len(lanes)
    order = sorted(samples, key=lambda s: -s.read_pairs)

    def place(index: int) -> bool:
        if index == len(order):
            return True
        item = order[index]
        group = park.group_of(item.pool_key)
        tried_empty: set[tuple[str, int]] = set()
        for position, (run, _) in enumerate(lanes):
            if not eligible(item, run, park):
                continue
            if groups[position] not in (None, group):
                continue
            if loads[position] + item.read_pairs > run.flowcell.read_pairs_per_lane:
                continue
            if counts[position] >= run.flowcell.max_samples_per_lane:
                continue
            if counts[position] == 0:  # empty lanes of one run are alike: try one
                if (run.run_id, run.flowcell.lanes) in tried_empty:
                    continue
                tried_empty.add((run.run_id, run.flowcell.lanes))
            previous_group = groups[position]
            loads[position] += item.read_pairs
            counts[position] += 1
            groups[position] = group
            if place(index + 1):
                return True
            loads[position] -= item.read_pairs
            counts[position] -= 1
            groups[position] = previous_group
        return False

    return place(0)


def brute_force_cost(samples: Sequence[PendingSample], park: Park) -> float | None:
    """The least cost of a plan, by trying every choice of flowcells, cheapest first."""
    runs = candidate_runs(park)
    slot_keys = sorted({run.slot_key for run in runs})
    options = [[None, *[run for run in runs if run.slot_key == key]] for key in slot_keys]
    choices = []
    for combination in itertools.product(*options):
        chosen = [run for run in combination if run is not None]
        choices.append((sum(run.flowcell.cost for run in chosen), chosen))
    for cost, chosen in sorted(choices, key=lambda item: item[0]):
        if _fits(samples, chosen, park):
            return cost
    return None


def assert_valid(plan: Plan, samples: Sequence[PendingSample], park: Park) -> None:
    """Deadlines, readiness, lane capacity, index limit, lane sharing: checked here again."""
    assert check_plan(plan, park) == []
    placed = sorted(p.sample.sample for p in plan.placements)
    assert placed == sorted(s.sample for s in samples)
    for placement in plan.placements:
        item, run = placement.sample, placement.run
        if item.deadline is not None:
            assert run.delivery <= item.deadline
        if item.received is not None:
            assert run.date >= item.received
        assert placement.allotted_read_pairs >= item.read_pairs
    by_name = {s.sample: s for s in samples}
    for lane in plan.lanes:
        members = [by_name[name] for name in lane.samples]
        assert sum(s.read_pairs for s in members) <= lane.run.flowcell.read_pairs_per_lane
        assert len(members) <= lane.run.flowcell.max_samples_per_lane
        assert len({park.group_of(s.pool_key) for s in members}) <= 1
        assert lane.slack_read_pairs >= 0
    assert plan.cost == pytest.approx(sum(run.flowcell.cost for run in plan.runs))


# --- optimality -------------------------------------------------------------------------------


def _small_instance(seed: int) -> tuple[list[PendingSample], Park]:
    rng = random.Random(seed)
    types = [
        flowcell("big", 2, 100, rng.choice([250.0, 300.0]), run_days=2),
        flowcell("small", 1, 60, rng.choice([100.0, 140.0]), limit=3),
    ]
    instrument = Instrument("seq1", "c1", ("big", "small"), (day(0), day(3)))
    park = make_park(types, [instrument], sharing={"p1": "p1+p2", "p2": "p1+p2"})
    samples = [
        sample(
            f"S{i}",
            rng.choice([10, 25, 40, 55]),
            assay=rng.choice(["panel", "panel", "wgs"]),
            panel=rng.choice(["p1", "p2", "p3"]),
            deadline=rng.choice([None, day(3), day(5), day(6)]),
        )
        for i in range(rng.randint(4, 6))
    ]
    return samples, park


@pytest.mark.parametrize("seed", range(12))
def test_cost_equals_brute_force_optimum(seed: int) -> None:
    samples, park = _small_instance(seed)
    expected = brute_force_cost(samples, park)
    if expected is None:
        with pytest.raises(PlanInfeasible):
            plan_runs(samples, park, time_limit=20)
        return
    plan = plan_runs(samples, park, time_limit=20)
    assert_valid(plan, samples, park)
    assert plan.cost == pytest.approx(expected)
    assert plan.proven_optimal
    assert plan.lp_bound <= plan.cost + 1e-6
    assert plan.best_bound == pytest.approx(plan.cost)


def _count_calls(monkeypatch: pytest.MonkeyPatch, owner: type, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(owner, name)

    def counted(self: object, *args: object, **kwargs: object) -> object:
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_lane_packing_cut_when_reads_fit_but_lanes_do_not(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read pairs 6,3,3,3,3,2 fill two lanes of 10 exactly, but cannot be split 10 + 10:
    the aggregate model accepts the 2-lane flowcell, packing and repair fail, a cut
    forces the next cheapest choice, and the result equals brute force."""
    cuts = _count_calls(monkeypatch, milp.AggregateModel, "exclude")
    types = [flowcell("two", 2, 10, 100.0), flowcell("three", 3, 10, 130.0)]
    park = make_park(types, [Instrument("seq1", "c1", ("two", "three"), (day(0),))])
    samples = [sample(f"S{i}", size) for i, size in enumerate([6, 3, 3, 3, 3, 2])]
    plan = plan_runs(samples, park, time_limit=20)
    assert_valid(plan, samples, park)
    assert plan.cost == pytest.approx(130.0) == brute_force_cost(samples, park)
    assert [run.flowcell.name for run in plan.runs] == ["three"]
    assert plan.proven_optimal
    assert len(cuts) == 1


def test_lane_repair_when_first_fit_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """5,4,3,3,3,2 in two lanes of 10: first-fit decreasing fails, [5,3,2] + [4,3,3] fits."""
    repairs = _count_calls(monkeypatch, milp.LaneModel, "solve")
    types = [flowcell("two", 2, 10, 100.0), flowcell("three", 3, 10, 130.0)]
    park = make_park(types, [Instrument("seq1", "c1", ("two", "three"), (day(0),))])
    samples = [sample(f"S{i}", size) for i, size in enumerate([5, 4, 3, 3, 3, 2])]
    run = candidate_runs(park)[0]
    assert pack_lanes(samples, run, park.group_of) is None
    plan = plan_runs(samples, park, time_limit=20)
    assert len(repairs) == 1
    assert plan.proven_optimal
    assert_valid(plan, samples, park)
    assert plan.cost == pytest.approx(100.0)
    loads = sorted(lane.required_read_pairs for lane in plan.lanes)
    assert loads == [10, 10]


def test_genomes_and_panels_separate_lanes_unless_allowed() -> None:
    types = [flowcell("fc", 2, 100, 100.0)]
    instrument = Instrument("seq1", "c1", ("fc",), (day(0), day(1)))
    samples = [sample("G1", 60, assay="wgs"), sample("P1", 30), sample("P2", 30)]
    apart = make_park(types, [instrument])
    plan = plan_runs(samples, apart, time_limit=20)
    assert_valid(plan, samples, apart)
    assert {lane.group for lane in plan.lanes if lane.samples} == {"wgs", "p1"}
    three = [*samples, sample("G2", 60, assay="wgs")]
    plan = plan_runs(three, apart, time_limit=20)
    assert plan.cost == pytest.approx(200.0)  # G1, G2 and the panels need 3 lanes
    together = make_park(types, [instrument], sharing={"wgs": "wgs+p1", "p1": "wgs+p1"})
    plan = plan_runs(three, together, time_limit=20)
    assert_valid(plan, three, together)
    assert plan.cost == pytest.approx(100.0)  # [G1, P1], [G2, P2]


def test_index_limit_splits_lanes() -> None:
    types = [flowcell("fc", 4, 1000, 100.0, limit=3)]
    park = make_park(types, [Instrument("seq1", "c1", ("fc",), (day(0),))])
    samples = [sample(f"S{i}", 1) for i in range(7)]
    plan = plan_runs(samples, park, time_limit=20)
    assert_valid(plan, samples, park)
    used = [lane for lane in plan.lanes if lane.samples]
    assert sorted(len(lane.samples) for lane in used) == [1, 3, 3]
    assert min(lane.free_index_slots for lane in plan.lanes) == 0
    too_many = [sample(f"T{i}", 1) for i in range(13)]
    with pytest.raises(PlanInfeasible, match="not enough capacity"):
        plan_runs(too_many, park, time_limit=20)


def test_two_flowcells_per_slot_and_urgent_first() -> None:
    types = [flowcell("fc", 1, 100, 100.0)]
    instrument = Instrument("seq1", "c1", ("fc",), (day(0), day(7)), flowcells_per_run=2)
    park = make_park(types, [instrument])
    samples = [
        sample("R1", 80, priority="routine", line=2),
        sample("U1", 80, priority="urgent", line=3),
        sample("R2", 80, priority="routine", line=4),
    ]
    plan = plan_runs(samples, park, time_limit=20)
    assert_valid(plan, samples, park)
    assert plan.cost == pytest.approx(300.0)
    dates = {p.sample.sample: p.run.date for p in plan.placements}
    assert dates["U1"] == day(0)
    assert sorted(run.run_id for run in plan.runs)[:2] == ["seq1_20250303_A", "seq1_20250303_B"]


@pytest.mark.parametrize("seed", range(10))
def test_random_instances_never_break_deadlines_or_lanes(seed: int) -> None:
    rng = random.Random(1000 + seed)
    types = [
        flowcell("X25", 4, 1000, 1600.0, run_days=2),
        flowcell("X10", 4, 400, 900.0),
        flowcell("P2", 1, 150, 220.0, limit=8, assays=("panel",)),
    ]
    instruments = [
        Instrument("nsx-a", "a", ("X25", "X10"), (day(0), day(3), day(7)), 2),
        Instrument("nxt-a", "a", ("P2",), tuple(day(d) for d in range(0, 10, 2))),
        Instrument("nxt-b", "b", ("P2", "X10"), (day(1), day(4), day(8))),
    ]
    park = make_park(
        types, instruments, sharing={"p1": "p1+p2", "p2": "p1+p2"}, cross_centre=seed % 3 == 0
    )
    samples = []
    for i in range(rng.randint(10, 30)):
        genome = rng.random() < 0.3
        samples.append(
            sample(
                f"S{i:02d}",
                rng.choice([120, 130, 380]) if genome else rng.choice([5, 8, 13]),
                assay="wgs" if genome else "panel",
                panel=rng.choice(["p1", "p2", "p3"]),
                centre=rng.choice(["a", "a", "b"]),
                received=rng.choice([None, day(0), day(2), day(4)]),
                deadline=day(rng.randint(4, 14)),
                priority=rng.choice(["urgent", "high", "routine"]),
                line=i + 2,
            )
        )
    try:
        plan = plan_runs(samples, park, time_limit=20)
    except PlanInfeasible as err:
        assert err.unplaced
        for item in err.unplaced:
            assert item.sample.sample in str(err)
        partial = plan_runs(samples, park, time_limit=20, allow_unplaced=True)
        assert check_plan(partial, park) == []
        assert partial.unplaced
        return
    assert_valid(plan, samples, park)
    assert plan.lp_bound <= plan.cost + 1e-6


# --- infeasibility explains itself ------------------------------------------------------------


def _one_instrument_park() -> Park:
    types = [flowcell("fc", 2, 100, 100.0, run_days=2, assays=("panel",))]
    return make_park(types, [Instrument("seq1", "north", ("fc",), (day(0), day(7)))])


def test_deadline_that_no_run_meets_is_explained() -> None:
    park = _one_instrument_park()
    samples = [sample("OK", 10), sample("LATE", 10, deadline=day(1), line=3)]
    with pytest.raises(PlanInfeasible) as caught:
        plan_runs(samples, park)
    message = str(caught.value)
    assert "1 of 2 samples cannot be placed" in message
    assert "LATE (line 3): no run delivers by its deadline 2025-03-04" in message
    assert "earliest possible delivery is 2025-03-05" in message
    assert [item.sample.sample for item in caught.value.unplaced] == ["LATE"]


def test_too_big_wrong_assay_wrong_centre_and_not_ready_are_explained() -> None:
    park = _one_instrument_park()
    samples = [
        sample("BIG", 150, line=2),
        sample("GENOME", 50, assay="wgs", line=3),
        sample("AWAY", 10, centre="south", line=4),
        sample("LATER", 10, received=day(8), line=5),
    ]
    with pytest.raises(PlanInfeasible) as caught:
        plan_runs(samples, park)
    message = str(caught.value)
    assert "BIG (line 2): needs 150 read pairs (100x) but the largest lane" in message
    assert "GENOME (line 3): no flowcell type of any instrument takes wgs samples" in message
    assert "AWAY (line 4): no instrument at centre 'south' (centres: north)" in message
    assert "LATER (line 5): ready on 2025-03-11, after the last run slot" in message


def test_capacity_shortage_names_the_samples_left_out() -> None:
    types = [flowcell("fc", 1, 100, 100.0)]
    park = make_park(types, [Instrument("seq1", "c1", ("fc",), (day(0),))])
    samples = [
        sample("A", 60, priority="urgent", line=2),
        sample("B", 60, priority="routine", line=3),
    ]
    with pytest.raises(PlanInfeasible) as caught:
        plan_runs(samples, park)
    assert "B (line 3): not enough capacity" in str(caught.value)
    partial = plan_runs(samples, park, allow_unplaced=True)
    assert [p.sample.sample for p in partial.placements] == ["A"]
    assert [u.sample.sample for u in partial.unplaced] == ["B"]
    assert not partial.proven_optimal


# --- pieces -----------------------------------------------------------------------------------


def test_candidate_runs_and_eligibility() -> None:
    types = [flowcell("fc", 1, 100, 100.0, run_days=2)]
    park = make_park(types, [Instrument("seq1", "c1", ("fc",), (day(0),), 2)])
    runs = candidate_runs(park)
    assert [run.run_id for run in runs] == ["seq1_20250303_A", "seq1_20250303_B"]
    assert runs[0].delivery == day(2)
    assert eligible(sample("S", 10, deadline=day(2)), runs[0], park)
    assert not eligible(sample("S", 10, deadline=day(1)), runs[0], park)
    assert not eligible(sample("S", 10, received=day(1)), runs[0], park)
    assert not eligible(sample("S", 101), runs[0], park)
    assert not eligible(sample("S", 10, centre="c2"), runs[0], park)
    cross = make_park(types, park.instruments, cross_centre=True)
    assert eligible(sample("S", 10, centre="c2"), runs[0], cross)


def test_lane_cuts_are_valid_for_every_packing() -> None:
    """No lane that fits may exceed 1 in any cut: check all packings of a small lane."""
    capacity, sizes = 100, [51, 34, 26, 20, 11]
    cuts = milp.lane_cuts(sizes, capacity)
    assert cuts
    for counts in itertools.product(range(10), repeat=len(sizes)):
        if sum(n * s for n, s in zip(counts, sizes, strict=True)) <= capacity:
            for vector in cuts:
                assert sum(n * v for n, v in zip(counts, vector, strict=True)) <= 1 + 1e-9
