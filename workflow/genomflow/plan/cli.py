"""``genomflow plan runs`` and ``genomflow plan capacity``."""

from __future__ import annotations

import argparse
from pathlib import Path

from genomflow.argtypes import between, positive
from genomflow.plan import capacity, output, runs
from genomflow.plan.model import load_instruments, load_pending


def run_planner(args: argparse.Namespace) -> int:
    """``plan runs``: place the pending samples, write the plan, print the cost."""
    park = load_instruments(args.instruments)
    samples = load_pending(args.samples, park)
    try:
        plan = runs.plan_runs(
            samples,
            park,
            time_limit=args.time_limit,
            gap=args.gap,
            allow_unplaced=args.allow_unplaced,
        )
    except runs.PlanInfeasible as err:
        raise runs.PlanInfeasible(f"{args.samples}: {err}", err.unplaced) from None
    paths = output.write_plan(plan, park, args.out, args.sheets_dir)
    print(output.summary(plan, len(samples)))
    print(f"wrote {', '.join(str(path) for path in paths.values())}")
    return 0


def run_capacity(args: argparse.Namespace) -> int:
    """``plan capacity``: project the yearly needs per centre, print them, plot them."""
    volumes = capacity.load_volumes(args.volumes)
    measured = capacity.measure(args.benchmarks, args.results, volumes.costs)
    rates = capacity.rates(volumes, measured)
    rows = capacity.project(volumes, rates, scenario=args.scenario)
    print(capacity.format_report(volumes, rates, rows, scenario=args.scenario))
    if args.table is not None:
        capacity.write_table(rows, args.table)
        print(f"wrote {args.table}")
    if args.plot is not None:
        capacity.plot(rows, args.plot, scenario=args.scenario)
        print(f"wrote {args.plot}")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``genomflow plan runs`` and ``genomflow plan capacity``."""
    parser = subparsers.add_parser(
        "plan",
        help="plan sequencing runs and national capacity",
        description="Planning tools for lab managers (see docs/planning.md).",
    )
    commands = parser.add_subparsers(dest="plan_command", required=True)

    plan_runs = commands.add_parser(
        "runs",
        help="assign pending samples to lanes of sequencing runs at the least cost",
        description=(
            "Assign pending samples to lanes of runs of the available instruments so that "
            "every sample gets its read pairs by its deadline at the least flowcell cost "
            "(an integer program solved with CBC). Writes OUT, OUT.lanes.tsv, OUT.runs.tsv "
            "and one sample sheet per run."
        ),
    )
    plan_runs.add_argument("--samples", type=Path, required=True, metavar="PENDING.tsv")
    plan_runs.add_argument("--instruments", type=Path, required=True, metavar="INSTRUMENTS.yaml")
    plan_runs.add_argument("--out", type=Path, required=True, metavar="PLAN.tsv")
    plan_runs.add_argument(
        "--sheets-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="folder of the sample sheets (default: PLAN.samplesheets next to --out)",
    )
    plan_runs.add_argument(
        "--time-limit",
        type=positive,
        default=runs.DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=f"stop the solver after this long (default {runs.DEFAULT_TIME_LIMIT:g})",
    )
    plan_runs.add_argument(
        "--gap",
        type=between(0, 1, low="at least", high="below"),
        default=runs.DEFAULT_GAP,
        metavar="FRACTION",
        help="stop once the cost is within this fraction of the best bound (default 0)",
    )
    plan_runs.add_argument(
        "--allow-unplaced",
        action="store_true",
        help="plan what fits and list the samples left out instead of failing",
    )
    plan_runs.set_defaults(func=run_planner)

    plan_capacity = commands.add_parser(
        "capacity",
        help="project CPU, storage and database rows per year and centre",
        description=(
            "Project CPU core-hours, storage and knowledge-database rows per year and "
            "centre from the sample volumes, with per-sample costs measured from a pipeline "
            "run's benchmark files where given, else documented defaults."
        ),
    )
    plan_capacity.add_argument("--volumes", type=Path, required=True, metavar="VOLUMES.yaml")
    plan_capacity.add_argument(
        "--benchmarks",
        type=Path,
        default=None,
        metavar="DIR",
        help="the benchmarks/ folder of a pipeline run, to measure CPU per Gb",
    )
    plan_capacity.add_argument(
        "--results",
        type=Path,
        default=None,
        metavar="DIR",
        help="the results/ folder of that run (default: next to --benchmarks)",
    )
    plan_capacity.add_argument(
        "--scenario",
        choices=capacity.SCENARIOS,
        default=capacity.DEFAULT_SCENARIO,
        help="which end of a volume range [low, high] to plan for (default high)",
    )
    plan_capacity.add_argument(
        "--plot",
        type=Path,
        default=Path("capacity.png"),
        metavar="PNG",
        help="write the plot here (default capacity.png)",
    )
    plan_capacity.add_argument(
        "--table", type=Path, default=None, metavar="TSV", help="also write the table as TSV"
    )
    plan_capacity.set_defaults(func=run_capacity)
