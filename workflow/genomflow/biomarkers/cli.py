"""``genomflow biomarkers``: tumour mutational burden and the batch's biomarker table.

    genomflow biomarkers tmb --sample T --vcf T.somatic.vcf.gz --bam T.bam --gff3 genes.gff3 \
        [--targets panel.bed] [--hotspots VCF] --min-depth 100 --out T.tmb.json
    genomflow biomarkers table --tmb T1.tmb.json ... --out tumour_biomarkers_mqc.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from genomflow import atomic
from genomflow.errors import GenomflowError


def _cmd_tmb(args: argparse.Namespace) -> int:
    from genomflow.biomarkers.tmb import TmbSettings, tumour_mutational_burden

    settings = TmbSettings(
        min_depth=args.min_depth,
        min_vaf=args.min_vaf,
        min_mapping_quality=args.min_mapping_quality,
        include_synonymous=args.include_synonymous,
        max_population_af=args.max_population_af,
    )
    result = tumour_mutational_burden(
        sample=args.sample,
        vcf=args.vcf,
        bam=args.bam,
        gff3=args.gff3,
        targets=args.targets,
        settings=settings,
        reference=args.reference,
        hotspots=args.hotspots,
    )
    atomic.write_text(args.out, json.dumps(result.as_json(), indent=1) + "\n")
    if result.tmb is None:
        print(f"{args.sample}: TMB not assessable: {result.reason}")
    else:
        print(
            f"{args.sample}: TMB {result.tmb:g}/Mb ({result.ci_low:g}-{result.ci_high:g}), "
            f"{result.mutations} variants in {result.callable_bp} bp"
        )
    return 0


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise GenomflowError(f"{path}: cannot read the {what} ({err})") from None
    if not isinstance(data, dict) or "sample" not in data:
        raise GenomflowError(f"{path}: not a {what}")
    return data


def biomarker_table(tmb: list[dict[str, Any]]) -> dict[str, Any]:
    """MultiQC custom content: one row per tumour with its TMB (and interval)."""
    rows: dict[str, dict[str, Any]] = {}
    for result in tmb:
        rows[str(result["sample"])] = {
            "tmb": result["tmb"],
            "tmb_ci": (
                f"{result['ci_low']:g}-{result['ci_high']:g}" if result["tmb"] is not None else "-"
            ),
            "tmb_variants": result["mutations"],
            "tmb_callable_bp": result["callable_bp"],
            "tmb_status": result["status"],
        }
    return {
        "id": "tumour_biomarkers",
        "section_name": "Tumour biomarkers",
        "description": (
            "Tumour mutational burden: somatic coding variants per Mb of callable coding "
            "territory, with the exact 95% Poisson interval (docs/biomarkers.md)."
        ),
        "plot_type": "table",
        "pconfig": {"id": "tumour_biomarkers_table", "title": "Tumour biomarkers"},
        "headers": {
            "tmb": {"title": "TMB (/Mb)", "format": "{:,.1f}"},
            "tmb_ci": {"title": "TMB 95% CI"},
            "tmb_variants": {"title": "TMB variants", "format": "{:,.0f}"},
            "tmb_callable_bp": {"title": "Callable coding bp", "format": "{:,.0f}"},
            "tmb_status": {"title": "TMB status"},
        },
        "data": rows,
    }


def _cmd_table(args: argparse.Namespace) -> int:
    results = [read_json(path, "TMB result") for path in args.tmb]
    atomic.write_text(args.out, json.dumps(biomarker_table(results), indent=1) + "\n")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "biomarkers",
        help="tumour biomarkers (TMB)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="biomarkers_command", required=True)

    tmb = commands.add_parser("tmb", help="tumour mutational burden of one tumour")
    tmb.add_argument("--sample", required=True)
    tmb.add_argument("--vcf", type=Path, required=True, help="the tumour's somatic VCF")
    tmb.add_argument("--bam", type=Path, required=True, help="the tumour's alignments")
    tmb.add_argument("--reference", type=Path, help="the reference FASTA (for CRAM)")
    tmb.add_argument("--gff3", type=Path, required=True, help="gene models (CDS features)")
    tmb.add_argument("--targets", type=Path, help="panel BED; omitted for a whole genome")
    tmb.add_argument("--hotspots", type=Path, help="VCF of known hotspot alleles not counted")
    tmb.add_argument("--min-depth", type=int, required=True)
    tmb.add_argument("--min-vaf", type=float, default=0.05)
    tmb.add_argument("--min-mapping-quality", type=int, default=20)
    tmb.add_argument("--max-population-af", type=float, default=0.001)
    tmb.add_argument("--include-synonymous", action="store_true")
    tmb.add_argument("--out", type=Path, required=True)
    tmb.set_defaults(func=_cmd_tmb)

    table = commands.add_parser("table", help="MultiQC table of the batch's tumour biomarkers")
    table.add_argument("--tmb", type=Path, nargs="+", required=True, help="TMB results")
    table.add_argument("--out", type=Path, required=True)
    table.set_defaults(func=_cmd_table)
