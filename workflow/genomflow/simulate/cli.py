"""``genomflow simulate``: write the demo test genome or a benchmark genome."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from genomflow import atomic
from genomflow.argtypes import positive
from genomflow.simulate.cancer import generate_cancer, make_cancer_spec, scale_depth
from genomflow.simulate.cohort import (
    DEFAULT_SEED,
    Dataset,
    DatasetSpec,
    generate,
    make_benchgenome_spec,
    make_testgenome_spec,
)


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add the ``simulate`` command and its ``testgenome`` / ``benchgenome`` sub-commands."""
    parser = subparsers.add_parser(
        "simulate",
        help="generate deterministic test data (genome, genes, truth variants, reads)",
        description=__doc__,
    )
    commands = parser.add_subparsers(dest="simulate_command", required=True)

    test = commands.add_parser(
        "testgenome",
        help="the demo trio data set (~330 kb genome, RD001/RD002/RD003)",
        description="Write the demo trio data set (as committed under resources/testgenome).",
    )
    _common_arguments(test)
    test.set_defaults(func=run_testgenome)

    bench = commands.add_parser(
        "benchgenome",
        help="a single-sample benchmark data set (~1 Mb, 60x)",
        description="Write a bigger single-sample data set for benchmarks.",
    )
    _common_arguments(bench)
    bench.add_argument("--length-mb", type=float, default=1.0, help="genome size in Mb [1.0]")
    bench.add_argument("--coverage", type=float, default=60.0, help="sequencing depth [60]")
    bench.set_defaults(func=run_benchgenome)

    cancer = commands.add_parser(
        "cancer",
        help="the demo cancer panel data (tumour/normal pair, tumour-only, normals, truth)",
        description="Write the demo cancer panel data set (as committed under "
        "resources/testcancer) and its panel BED (resources/panels).",
    )
    _common_arguments(cancer)
    cancer.add_argument(
        "--panels",
        type=Path,
        required=True,
        help="directory to write the panel BED into (resources/panels)",
    )
    cancer.add_argument(
        "--depth-factor", type=positive, default=1.0, help="scale every sample's depth [1.0]"
    )
    cancer.set_defaults(func=run_cancer)

    wgs = commands.add_parser(
        "wgs-somatic",
        help="whole-genome somatic truth: a 30x/25x tumour/normal pair and a two-person mixture",
        description="Write the whole-genome somatic test data (genomflow.simulate.wgs_somatic).",
    )
    _common_arguments(wgs)
    wgs.add_argument("--depth-factor", type=positive, default=1.0, help="scale both depths [1.0]")
    wgs.set_defaults(func=run_wgs_somatic)

    wgs_cnv = commands.add_parser(
        "wgs-cnv",
        help="a 30x whole genome with germline deletions and duplications of 12-15 kb",
        description="Write the whole-genome copy-number test data (genomflow.simulate.wgs_cnv).",
    )
    _common_arguments(wgs_cnv)
    wgs_cnv.add_argument("--depth", type=positive, default=30.0, help="read depth [30]")
    wgs_cnv.set_defaults(func=run_wgs_cnv)

    plasma = commands.add_parser(
        "plasma",
        help="the demo serial plasma samples with UMIs (ctDNA monitoring of CA001T's patient)",
        description="Write the demo plasma timepoints (as committed under resources/testplasma).",
    )
    _common_arguments(plasma)
    plasma.set_defaults(func=run_plasma)


def _common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, required=True, help="output directory")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help=f"random seed [{DEFAULT_SEED}]"
    )


def run_testgenome(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate testgenome``."""
    return _run(make_testgenome_spec(), args.out, args.seed)


def run_benchgenome(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate benchgenome``."""
    return _run(make_benchgenome_spec(args.length_mb, args.coverage), args.out, args.seed)


def run_cancer(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate cancer``."""
    started = time.perf_counter()
    spec = make_cancer_spec()
    if args.depth_factor != 1.0:
        spec = scale_depth(spec, args.depth_factor)
    with atomic.all_or_nothing(args.out, args.panels) as (out, panels):
        data = generate_cancer(spec, out, panels, args.seed)
    seconds = time.perf_counter() - started
    lines = [
        f"wrote {args.out} and {args.panels}/{spec.panel_name}.bed (seed {args.seed}) "
        f"in {seconds:.1f} s",
        f"  panel {spec.panel_name}: {len(data.targets)} targets, "
        f"{sum(t.length for t in data.targets):,} bp",
    ]
    for sample in spec.samples:
        planted = [s for s in data.somatic if s.tumour == sample.sample]
        extra = f", {len(planted)} somatic variants" if planted else ""
        lines.append(
            f"  {sample.sample} ({sample.type}, {sample.depth:g}x): "
            f"{data.pairs[sample.sample]:,} pairs{extra}"
        )
    print("\n".join(lines))
    return 0


def run_wgs_cnv(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate wgs-cnv``."""
    from genomflow.simulate.wgs_cnv import WgsCnvSpec, generate_wgs_cnv

    started = time.perf_counter()
    spec = WgsCnvSpec(depth=args.depth)
    with atomic.all_or_nothing(args.out) as (out,):
        pairs = generate_wgs_cnv(out, spec, args.seed)
    print(
        f"wrote {args.out} (seed {args.seed}) in {time.perf_counter() - started:.1f} s: "
        f"{spec.sample} {spec.depth:g}x, {pairs:,} pairs, {len(spec.events)} events"
    )
    return 0


def run_wgs_somatic(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate wgs-somatic``."""
    from genomflow.simulate.wgs_somatic import (
        WgsSomaticSpec,
        generate_wgs_somatic,
        scale_depth,
    )

    started = time.perf_counter()
    spec = scale_depth(WgsSomaticSpec(), args.depth_factor)
    with atomic.all_or_nothing(args.out) as (out,):
        data = generate_wgs_somatic(spec, out, args.seed)
    lines = [f"wrote {args.out} (seed {args.seed}) in {time.perf_counter() - started:.1f} s"]
    planted = {"WGS001T": len(data.somatic), "MIX001T": len(data.mixture)}
    for sample in spec.samples:
        extra = f", {planted[sample.sample]} somatic variants" if sample.sample in planted else ""
        lines.append(
            f"  {sample.sample} ({sample.type}, {sample.depth:g}x): "
            f"{data.pairs[sample.sample]:,} pairs{extra}"
        )
    print("\n".join(lines))
    return 0


def run_plasma(args: argparse.Namespace) -> int:
    """Entry point of ``genomflow simulate plasma``."""
    from genomflow.simulate.plasma import generate_plasma, make_plasma_spec

    started = time.perf_counter()
    spec = make_plasma_spec()
    with atomic.all_or_nothing(args.out) as (out,):
        rows = generate_plasma(spec, out, args.seed)
    lines = [f"wrote {args.out} (seed {args.seed}) in {time.perf_counter() - started:.1f} s"]
    lines += [
        f"  {row['sample']} ({row['collection_date']}, tumour fraction "
        f"{row['tumour_fraction']}): {int(row['molecules']):,} molecules, "
        f"{int(row['read_pairs']):,} pairs, read structure {row['read_structure']}"
        for row in rows
    ]
    print("\n".join(lines))
    return 0


def _run(spec: DatasetSpec, out: Path, seed: int) -> int:
    started = time.perf_counter()
    with atomic.all_or_nothing(out) as (staged,):
        dataset = generate(spec, staged, seed)
    print(summary(dataset, out, time.perf_counter() - started))
    return 0


def summary(dataset: Dataset, out: Path, seconds: float) -> str:
    """A short human-readable account of a generated data set."""
    lengths = dataset.reference.lengths
    lines = [
        f"wrote {out} (seed {dataset.seed}) in {seconds:.1f} s",
        f"  genome: {sum(lengths.values()):,} bp over {len(lengths)} contigs, "
        f"{len(dataset.reference.genes)} genes",
    ]
    for member in dataset.spec.members:
        name = member.sample.sample
        carried = dataset.truth.sample_variants(name)
        snvs = sum(v.is_snv for v in carried)
        lines.append(f"  {name}: {snvs} SNVs, {len(carried) - snvs} indels")
        for unit in member.units:
            info = dataset.units.get((name, unit.unit))
            if info is not None:
                lines.append(
                    f"    {unit.unit}: {info.pairs:,} pairs, fragment "
                    f"{info.fragment_mean:.0f} +/- {info.fragment_sd:.0f} bp"
                )
    return "\n".join(lines)
