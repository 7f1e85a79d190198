"""``genomflow report``: write the resolved config, digest the reference, build and check reports.

    genomflow report config --json TEXT --out config.json
    genomflow report refget --fasta genome.fa --out genome.refget.tsv
    genomflow report build --sample S --samples TSV --units TSV --config config.json ... \
        --out S.report.json --fhir-out S.fhir.json
    genomflow report validate REPORT.json...
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from genomflow import atomic
from genomflow.errors import GenomflowError


def _cmd_config(args: argparse.Namespace) -> int:
    from genomflow.report.canonical import canonical_json

    try:
        config = json.loads(args.json)
    except json.JSONDecodeError as err:
        raise GenomflowError(f"--json: not valid JSON ({err})") from None
    atomic.write_bytes(args.out, canonical_json(config) + b"\n")
    return 0


def _cmd_refget(args: argparse.Namespace) -> int:
    from genomflow.report.vrs import digest_fasta, write_refget_table

    write_refget_table(digest_fasta(args.fasta), args.out)
    return 0


def _load_config(path: Path) -> dict[str, Any]:
    try:
        config: dict[str, Any] = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise GenomflowError(f"{path}: cannot read the resolved config ({err})") from None
    return config


def _cmd_build(args: argparse.Namespace) -> int:
    from genomflow.report.build import ReportInputs, build_report, write_json
    from genomflow.report.fhir import fhir_bundle
    from genomflow.sheets import load_sheets

    cohort = load_sheets(args.samples, args.units, check_files=False)
    if args.sample not in cohort.samples:
        raise GenomflowError(f"{args.samples}: no sample {args.sample!r}")
    inputs = ReportInputs(
        sample=cohort.samples[args.sample],
        config=_load_config(args.config),
        versions=args.versions,
        sequence_dict=args.dict,
        refget=args.refget,
        fasta=args.fasta,
        samtools_stats=args.samtools_stats,
        mosdepth_summary=args.mosdepth_summary,
        fastp=args.fastp,
        deliverables=args.deliverable,
        qc_status=args.qc_status,
        out=args.out,
        qc_metrics=args.qc_metrics,
        biomarkers=args.biomarker,
        rare=args.rare_candidates,
    )
    report = build_report(inputs)
    bundle = fhir_bundle(report)
    write_json(bundle, args.fhir_out)
    write_json(report, args.out)
    print(f"{args.out}: {len(report['variants'])} variants, QC {report['qc']['status']}")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from genomflow.report.fhir import fhir_bundle
    from genomflow.report.validate import read_report

    for path in args.reports:
        _, report = read_report(path)
        fhir_bundle(report)
        print(
            f"{path}: valid (schema {report['schema_version']}, {len(report['variants'])} variants)"
        )
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "report",
        help="sample reports (JSON + FHIR)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="report_command", required=True)

    config = commands.add_parser("config", help="write a resolved config as canonical JSON")
    config.add_argument("--json", required=True, help="the resolved config as JSON text")
    config.add_argument("--out", type=Path, required=True)
    config.set_defaults(func=_cmd_config)

    refget = commands.add_parser("refget", help="length, MD5 and refget accession per contig")
    refget.add_argument("--fasta", type=Path, required=True, help="indexed FASTA")
    refget.add_argument("--out", type=Path, required=True)
    refget.set_defaults(func=_cmd_refget)

    build = commands.add_parser("build", help="build, validate and write a sample report")
    build.add_argument("--sample", required=True)
    build.add_argument("--samples", type=Path, required=True)
    build.add_argument("--units", type=Path, required=True)
    build.add_argument("--config", type=Path, required=True, help="resolved config JSON")
    build.add_argument("--versions", type=Path, required=True, help="results/versions.yml")
    build.add_argument("--dict", type=Path, required=True, help="sequence dictionary")
    build.add_argument("--refget", type=Path, required=True, help="table of `report refget`")
    build.add_argument("--fasta", type=Path, required=True, help="the reference (indexed)")
    build.add_argument("--samtools-stats", type=Path, required=True)
    build.add_argument("--mosdepth-summary", type=Path, required=True)
    build.add_argument("--fastp", type=Path, nargs="*", default=[], help="fastp JSON per unit")
    build.add_argument("--qc-status", type=Path, help="batch QC status table, if any")
    build.add_argument("--qc-metrics", type=Path, help="the QC stage's metrics JSON, if any")
    build.add_argument("--deliverable", type=Path, nargs="+", required=True)
    build.add_argument(
        "--biomarker", type=Path, nargs="*", default=[], help="a tumour's biomarker results (TMB)"
    )
    build.add_argument(
        "--rare-candidates",
        type=Path,
        nargs="*",
        default=[],
        help="the family's ranked candidates (JSON); shown in the proband's report",
    )
    build.add_argument("--out", type=Path, required=True)
    build.add_argument("--fhir-out", type=Path, required=True)
    build.set_defaults(func=_cmd_build)

    validate = commands.add_parser("validate", help="check reports against the schema and FHIR")
    validate.add_argument("reports", type=Path, nargs="+", metavar="REPORT")
    validate.set_defaults(func=_cmd_validate)
