"""``genomflow ctdna monitor | consensus | timeline | pon``."""

from __future__ import annotations

import argparse
from pathlib import Path

from genomflow.argtypes import at_least, fraction
from genomflow.ctdna import model, monitor, umi
from genomflow.ctdna.background import BackgroundSettings
from genomflow.ctdna.counts import CountSettings
from genomflow.errors import GenomflowError

_count = at_least(0)


def _cmd_monitor(args: argparse.Namespace) -> int:
    inputs = monitor.MonitorInputs(
        variants=args.variants,
        bam=args.bam,
        reference=args.reference,
        sample=args.sample,
        background=args.background,
        purity=args.purity,
        normal_vcf=args.normal_vcf,
        tumour_sample=args.tumour_sample,
        force_sample=args.force_sample,
    )
    monitor.check_out_is_not_an_input(args.out, inputs)
    settings = monitor.MonitorSettings(
        counts=CountSettings(
            min_base_quality=args.min_base_quality, min_mapping_quality=args.min_mapping_quality
        ),
        background=BackgroundSettings(),
        model=model.Settings(
            alpha=args.alpha,
            min_informative=args.min_informative,
            min_loci=args.min_loci,
            null_simulations=args.null_simulations,
            lod_simulations=args.lod_simulations,
            seed=args.seed,
        ),
    )
    result = monitor.monitor(inputs, settings)
    monitor.write_result(args.out, result)
    fraction = result["tumour_fraction"]
    shown = "n/a" if fraction is None else f"{fraction * 1e6:.1f} ppm"
    print(
        f"{args.out}: {result['status']} (tumour fraction {shown}, p={result['p_value']}, "
        f"{result['loci_used']} loci, {len(result['loci_excluded'])} excluded"
        + (f"; {result['reason']}" if result["reason"] else "")
        + ")"
    )
    return 0


def _cmd_consensus(args: argparse.Namespace) -> int:
    from genomflow.ctdna import longitudinal  # pandas (MultiQC): not for ``monitor``

    if args.min_family_size < 1:
        raise GenomflowError("--min-family-size must be at least 1")
    settings = umi.ConsensusSettings(
        min_family_size=args.min_family_size,
        min_quality=args.min_consensus_quality,
        duplex=args.duplex,
        require_duplex=args.require_duplex,
        umi_edit_distance=args.umi_edit_distance,
    )
    if args.read_structure:
        umi.parse_read_structures(args.read_structure)  # fail early on a bad structure
    metrics = umi.call_consensus(
        args.input,
        args.out,
        settings,
        read_structure=args.read_structure,
        reference=args.reference,
        known_variants=args.variants,
    )
    sample = args.sample or args.out.name.split(".")[0]
    longitudinal.write_json(args.metrics, metrics.as_dict(sample))
    if args.mqc:
        longitudinal.write_json(args.mqc, umi.family_size_section(sample, metrics))
    if args.mqc_table:
        longitudinal.write_json(args.mqc_table, umi.consensus_table_section(sample, metrics))
    if args.qc:
        longitudinal.write_json(args.qc, umi.qc_metrics(metrics))
    rate = metrics.error_rate
    print(
        f"{args.out}: {metrics.molecules} molecules ({metrics.duplex_molecules} duplex) from "
        f"{metrics.templates} read pairs in {metrics.families} families "
        f"({metrics.families_merged} families of UMIs with errors merged); "
        f"{metrics.too_small} too small; consensus error rate "
        + ("not measured" if rate is None else f"{rate:.2e}")
    )
    return 0


def _cmd_timeline(args: argparse.Namespace) -> int:
    from genomflow.ctdna import longitudinal  # pandas (MultiQC): not for ``monitor``

    sheet = longitudinal.read_samples(args.samples)
    results = {path: longitudinal.read_result(path) for path in args.results}
    rows = longitudinal.timeline(longitudinal.timepoints(results, sheet, args.samples))
    longitudinal.write_tsv(rows, args.out)
    if args.mqc:
        longitudinal.write_json(args.mqc, longitudinal.timeline_section(rows))
    patients = len({row.point.patient for row in rows})
    print(f"{args.out}: {len(rows)} samples of {patients} patients")
    return 0


def _cmd_pon(args: argparse.Namespace) -> int:
    from genomflow.ctdna import pon  # only this command needs it

    settings = CountSettings(
        min_base_quality=args.min_base_quality, min_mapping_quality=args.min_mapping_quality
    )
    summary = pon.build_pon(args.bams, args.targets, args.reference, args.out, settings)
    print(
        f"{args.out}: {summary.rows} rows from {summary.normals} normals over "
        f"{summary.positions} target positions"
    )
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``genomflow ctdna monitor``, ``consensus``, ``timeline`` and ``pon``."""
    parser = subparsers.add_parser("ctdna", help="tumour-informed ctDNA monitoring")
    sub = parser.add_subparsers(dest="ctdna_command", required=True)

    mon = sub.add_parser("monitor", help="tumour-informed ctDNA call of one plasma sample")
    mon.add_argument("--variants", type=Path, required=True, help="tumour somatic VCF")
    mon.add_argument("--bam", type=Path, required=True, help="plasma BAM (consensus or dedup)")
    mon.add_argument("--reference", type=Path, required=True, help="reference FASTA")
    mon.add_argument("--background", type=Path, help="panel of normal plasmas (TSV)")
    mon.add_argument("--purity", type=fraction, help="tumour purity (default: from the VCF)")
    mon.add_argument(
        "--sample", required=True, help="plasma sample id (must be the BAM's read-group SM)"
    )
    mon.add_argument(
        "--force-sample",
        action="store_true",
        help="report the reads under --sample even if the BAM's read groups name another",
    )
    mon.add_argument("--out", type=Path, required=True, help="result JSON")
    mon.add_argument("--normal-vcf", type=Path, help="germline calls of the matched normal")
    mon.add_argument("--tumour-sample", help="tumour sample in the VCF (default: from header)")
    mon.add_argument("--min-base-quality", type=_count, default=CountSettings.min_base_quality)
    mon.add_argument(
        "--min-mapping-quality", type=_count, default=CountSettings.min_mapping_quality
    )
    mon.add_argument(
        "--min-informative",
        type=_count,
        default=model.Settings.min_informative,
        help="fewer informative molecules make a negative result indeterminate",
    )
    mon.add_argument("--min-loci", type=_count, default=model.Settings.min_loci)
    mon.add_argument("--alpha", type=fraction, default=model.DEFAULT_ALPHA)
    mon.add_argument("--null-simulations", type=_count, default=model.DEFAULT_NULL_SIMULATIONS)
    mon.add_argument(
        "--lod-simulations",
        type=_count,
        default=model.DEFAULT_LOD_SIMULATIONS,
        help="samples per tumour fraction in the LoD95 search (0: no LoD95)",
    )
    mon.add_argument("--seed", type=int, default=model.Settings.seed)
    mon.set_defaults(func=_cmd_monitor)

    con = sub.add_parser("consensus", help="UMI families to consensus reads")
    con.add_argument("--in", dest="input", type=Path, required=True, help="aligned BAM")
    con.add_argument("--out", type=Path, required=True, help="consensus BAM")
    con.add_argument("--metrics", type=Path, required=True, help="metrics JSON")
    con.add_argument("--min-family-size", type=int, default=umi.ConsensusSettings.min_family_size)
    con.add_argument(
        "--min-consensus-quality", type=_count, default=umi.ConsensusSettings.min_quality
    )
    con.add_argument(
        "--umi-edit-distance",
        type=_count,
        default=umi.DEFAULT_UMI_EDIT_DISTANCE,
        help="UMIs of one position this many substitutions apart join one family "
        "(umi_tools directional; 0: exact UMIs)",
    )
    con.add_argument("--read-structure", help="fgbio read structures of R1 and R2")
    duplex = con.add_mutually_exclusive_group()
    duplex.add_argument("--duplex", dest="duplex", action="store_true", default=None)
    duplex.add_argument("--no-duplex", dest="duplex", action="store_false")
    con.add_argument("--require-duplex", action="store_true")
    con.add_argument("--reference", type=Path, help="FASTA, to measure the error rate")
    con.add_argument("--variants", type=Path, help="VCF of positions left out of the error rate")
    con.add_argument("--sample", help="sample id in the metrics (default: from --out)")
    con.add_argument("--mqc", type=Path, help="MultiQC family-size plot (*_mqc.json)")
    con.add_argument("--mqc-table", type=Path, help="MultiQC consensus table (*_mqc.json)")
    con.add_argument("--qc", type=Path, help="metrics for genomflow qc (family size, duplicates)")
    con.set_defaults(func=_cmd_consensus)

    tl = sub.add_parser("timeline", help="a patient's ctDNA results over time")
    tl.add_argument("--results", type=Path, nargs="+", required=True, help="ctDNA JSONs")
    tl.add_argument("--samples", type=Path, required=True, help="samples.tsv")
    tl.add_argument("--out", type=Path, required=True, help="timeline TSV")
    tl.add_argument("--mqc", type=Path, help="MultiQC line plot (*_mqc.json)")
    tl.set_defaults(func=_cmd_timeline)

    pon = sub.add_parser("pon", help="panel of normal plasmas for monitor --background")
    pon.add_argument(
        "--bams", type=Path, nargs="+", required=True, help="normal plasma BAMs/CRAMs (indexed)"
    )
    pon.add_argument("--targets", type=Path, required=True, help="panel BED (0-based)")
    pon.add_argument("--reference", type=Path, required=True, help="reference FASTA")
    pon.add_argument("--out", type=Path, required=True, help="panel of normals TSV")
    pon.add_argument("--min-base-quality", type=_count, default=CountSettings.min_base_quality)
    pon.add_argument(
        "--min-mapping-quality", type=_count, default=CountSettings.min_mapping_quality
    )
    pon.set_defaults(func=_cmd_pon)
