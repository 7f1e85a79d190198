"""``genomflow somatic classify|pon|evaluate``: the command line of the somatic caller."""

from __future__ import annotations

import argparse
from pathlib import Path

from genomflow.argtypes import fraction
from genomflow.somatic.settings import parse_settings


def _cmd_classify(args: argparse.Namespace) -> int:
    from genomflow.somatic.vcf import Run, classify_vcf

    run = Run(
        tumour=args.tumour,
        normal=args.normal,
        purity=args.purity,
        pon=args.pon,
        population=args.population,
        reference=args.reference,
        regions=args.regions,
    )
    summary = classify_vcf(args.candidates, run, parse_settings(args.set), args.out)
    print(f"{args.out}: {run.mode}, {summary.text()}")
    return 0


def _cmd_pon(args: argparse.Namespace) -> int:
    from genomflow.somatic.vcf import build_pon

    kept = build_pon(args.pileup, parse_settings(args.set), args.out)
    print(f"{args.out}: {kept} sites")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``genomflow somatic classify``, ``pon`` and ``evaluate``."""
    from genomflow.somatic import evaluate

    parser = subparsers.add_parser("somatic", help="somatic small-variant classification")
    sub = parser.add_subparsers(dest="somatic_command", required=True)
    classify_cmd = sub.add_parser("classify", help="classify pileup candidates of a tumour")
    classify_cmd.add_argument("--candidates", type=Path, required=True, help="BCF/VCF")
    classify_cmd.add_argument("--tumour", required=True, help="tumour sample name")
    classify_cmd.add_argument("--normal", default=None, help="matched normal sample name")
    classify_cmd.add_argument(
        "--purity", type=fraction, default=None, help="tumour purity in (0, 1]"
    )
    classify_cmd.add_argument("--pon", type=Path, default=None, help="panel-of-normals VCF")
    classify_cmd.add_argument("--population", type=Path, default=None, help="VCF with INFO/AF")
    classify_cmd.add_argument(
        "--reference", type=Path, default=None, help="FASTA (indexed): indel repeat context"
    )
    classify_cmd.add_argument(
        "--regions",
        type=Path,
        default=None,
        help="BED of the calling regions: their bases are where the somatic prior is learned",
    )
    classify_cmd.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    classify_cmd.add_argument("--out", type=Path, required=True, help="output .vcf.gz")
    classify_cmd.set_defaults(func=_cmd_classify)
    pon = sub.add_parser("pon", help="build a panel of normals from the normals' pileup")
    pon.add_argument("--pileup", type=Path, required=True)
    pon.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    pon.add_argument("--out", type=Path, required=True, help="output .vcf.gz")
    pon.set_defaults(func=_cmd_pon)
    evaluate.add_cli(sub)
