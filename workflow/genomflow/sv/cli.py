"""``genomflow sv``: a sample's structural-variant deliverable from its group's delly calls."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genomflow.qc.metrics import autosomal_depth, read_mosdepth_summary
from genomflow.sv.deliver import MIN_LENGTH, deliver
from genomflow.sv.genes import read_genes


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "sv", help="structural variants of WGS samples (delly)", description=__doc__
    )
    commands = parser.add_subparsers(dest="sv_command", required=True)
    sample = commands.add_parser("deliver", help="a sample's SVs from its group's delly calls")
    sample.add_argument("--calls", type=Path, required=True, help="the group's delly BCF")
    sample.add_argument("--sample", required=True)
    sample.add_argument("--out", type=Path, required=True, help="the sample's .sv.vcf.gz")
    sample.add_argument("--min-length", type=int, default=MIN_LENGTH)
    sample.add_argument(
        "--mosdepth-summary", type=Path, default=None, help="the sample's mosdepth summary"
    )
    sample.add_argument(
        "--min-coverage",
        type=float,
        default=10.0,
        help="below this mean autosomal depth the calls are flagged as too shallow [10]",
    )
    sample.add_argument("--gff3", type=Path, default=None, help="genes to annotate with")
    sample.add_argument(
        "--somatic", action="store_true", help="the calls are a tumour's (PASS = somatic)"
    )
    sample.add_argument("--normal", default=None, help="the tumour's matched normal, if any")
    sample.add_argument(
        "--pon",
        default="",
        help="tumour-only: the normals (comma-separated) its calls were filtered against",
    )
    sample.set_defaults(func=run_deliver)
    table = commands.add_parser(
        "table", help="the batch's SV and copy-number calls per sample, as a MultiQC table"
    )
    table.add_argument(
        "--vcf",
        type=Path,
        nargs="+",
        required=True,
        help="{sample}.sv.vcf.gz / .cnv.vcf.gz files",
    )
    table.add_argument("--out", type=Path, required=True, help="the *_mqc.json to write")
    table.set_defaults(func=run_table)


def shallow_warning(summary: Path, min_coverage: float) -> str:
    """A warning when the sample's mean autosomal depth is below ``min_coverage``."""
    depth = autosomal_depth(read_mosdepth_summary(summary), "chrX", "chrY", summary)
    if depth >= min_coverage:
        return ""
    return (
        f"too shallow for SV calling: mean autosomal depth {depth:.1f}x < {min_coverage:g}x "
        "(SVs will be missed; absence of a call is not evidence of absence)"
    )


def run_deliver(args: argparse.Namespace) -> int:
    warning = ""
    if args.mosdepth_summary is not None:
        warning = shallow_warning(args.mosdepth_summary, args.min_coverage)
        if warning:
            print(f"WARNING: {args.sample}: {warning}", file=sys.stderr)
    pon = [n for n in args.pon.split(",") if n]
    unfiltered = args.somatic and args.normal is None and not pon
    if unfiltered:
        text = (
            "tumour-only: no matched normal and too few WGS normals for a panel of normals "
            "(sv.pon_min_normals), germline SVs are not filtered out (FILTER Unfiltered)"
        )
        print(f"WARNING: {args.sample}: {text}", file=sys.stderr)
        warning = f"{warning}; {text}" if warning else text
    genes = read_genes(args.gff3) if args.gff3 is not None else None
    done = deliver(
        args.calls,
        args.sample,
        args.out,
        args.min_length,
        warning,
        genes,
        somatic=args.somatic,
        pon=pon,
        unfiltered=unfiltered,
    )
    print(
        f"{done.sample}: {done.kept} SVs >= {args.min_length} bp ({done.passed} PASS); "
        f"left out: {done.skipped_short} shorter, {done.skipped_reference} not carried"
    )
    return 0


def run_table(args: argparse.Namespace) -> int:
    from genomflow.sv.multiqc import write_section

    write_section(args.vcf, args.out)
    print(f"{len(args.vcf)} SV/CNV deliverables tabulated into {args.out}")
    return 0
