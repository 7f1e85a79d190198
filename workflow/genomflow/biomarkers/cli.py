"""``genomflow biomarkers``: tumour mutational burden, microsatellite instability and the
batch's biomarker table.

    genomflow biomarkers tmb --sample T --vcf T.somatic.vcf.gz --bam T.bam --gff3 genes.gff3 \
        [--targets panel.bed] [--hotspots VCF] --min-depth 100 --out T.tmb.json
    genomflow biomarkers msi-scan --fasta genome.fa --regions panel.bed --out sites.tsv
    genomflow biomarkers msi-baseline --sites sites.tsv --bam N1.bam N2.bam --out baseline.json
    genomflow biomarkers msi --sample T --sites sites.tsv --bam T.bam \
        (--normal-bam N.bam | --baseline baseline.json) --out T.msi.json
    genomflow biomarkers table --tmb T1.tmb.json ... [--msi T1.msi.json ...] --out table_mqc.json
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


def _msi_settings(args: argparse.Namespace) -> Any:
    from genomflow.biomarkers.msi import MsiSettings

    return MsiSettings(
        min_homopolymer=args.min_homopolymer,
        min_repeats=args.min_repeats,
        flank=args.flank,
        min_reads=args.min_reads,
        min_mapping_quality=args.min_mapping_quality,
        alpha=args.alpha,
        min_distance=args.min_distance,
        threshold=args.threshold,
        min_sites=args.min_sites,
    )


def _cmd_msi_scan(args: argparse.Namespace) -> int:
    from genomflow.biomarkers.msi import scan_sites, write_sites
    from genomflow.intervals import read_bed

    records = read_bed(args.regions, what="regions BED")
    regions = [(r.contig, r.start, r.end) for r in records]
    sites = scan_sites(args.fasta, regions, _msi_settings(args))
    write_sites(args.out, sites)
    print(f"{args.regions}: {len(sites)} microsatellites")
    return 0


def _cmd_msi_baseline(args: argparse.Namespace) -> int:
    from genomflow.biomarkers.msi import read_sites, site_lengths, write_baseline

    if len(args.sample) != len(args.bam):
        raise GenomflowError("--sample and --bam must name as many samples as alignments")
    sites = read_sites(args.sites)
    settings = _msi_settings(args)
    normals = {
        sample: site_lengths(bam, sites, settings, args.reference)
        for sample, bam in zip(args.sample, args.bam, strict=True)
    }
    write_baseline(args.out, normals)
    return 0


def _cmd_msi(args: argparse.Namespace) -> int:
    from genomflow.biomarkers.msi import (
        BASELINE,
        PAIRED,
        call_msi,
        read_baseline,
        read_sites,
        site_lengths,
    )

    sites = read_sites(args.sites)
    settings = _msi_settings(args)
    tumour = site_lengths(args.bam, sites, settings, args.reference)
    if args.normal_bam:
        normal = site_lengths(args.normal_bam, sites, settings, args.reference)
        mode, comparison = PAIRED, args.normal or str(args.normal_bam)
    elif args.baseline:
        normals, normal = read_baseline(args.baseline)
        mode, comparison = BASELINE, ",".join(normals)
    else:
        normal, mode, comparison = None, PAIRED, None
    result = call_msi(args.sample, sites, tumour, normal, settings, mode, comparison or "")
    atomic.write_text(args.out, json.dumps(result.as_json(), indent=1) + "\n")
    if result.call is None:
        print(f"{args.sample}: MSI not assessable: {result.reason}")
    else:
        print(
            f"{args.sample}: {result.call} ({result.sites_unstable} of "
            f"{result.sites_evaluable} microsatellites unstable, {mode})"
        )
    return 0


def _msi_options(parser: argparse.ArgumentParser) -> None:
    from genomflow.biomarkers.msi import MsiSettings

    d = MsiSettings()
    parser.add_argument("--min-homopolymer", type=int, default=d.min_homopolymer)
    parser.add_argument("--min-repeats", type=int, default=d.min_repeats)
    parser.add_argument("--flank", type=int, default=d.flank)
    parser.add_argument("--min-reads", type=int, default=d.min_reads)
    parser.add_argument("--min-mapping-quality", type=int, default=d.min_mapping_quality)
    parser.add_argument("--alpha", type=float, default=d.alpha)
    parser.add_argument("--min-distance", type=float, default=d.min_distance)
    parser.add_argument("--threshold", type=float, default=d.threshold)
    parser.add_argument("--min-sites", type=int, default=d.min_sites)
    parser.add_argument("--reference", type=Path, help="the reference FASTA (for CRAM)")


def read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise GenomflowError(f"{path}: cannot read the {what} ({err})") from None
    if not isinstance(data, dict) or "sample" not in data:
        raise GenomflowError(f"{path}: not a {what}")
    return data


def biomarker_table(
    tmb: list[dict[str, Any]], msi: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """MultiQC custom content: one row per tumour with its TMB (and interval) and MSI."""
    rows: dict[str, dict[str, Any]] = {}
    for result in msi or []:
        rows[str(result["sample"])] = {
            "msi_call": result["call"] or result["status"],
            "msi_unstable_share": result["unstable_share"],
            "msi_sites": f"{result['sites_unstable']}/{result['sites_evaluable']}",
        }
    for result in tmb:
        rows.setdefault(str(result["sample"]), {}).update(
            {
                "tmb": result["tmb"],
                "tmb_ci": (
                    f"{result['ci_low']:g}-{result['ci_high']:g}"
                    if result["tmb"] is not None
                    else "-"
                ),
                "tmb_variants": result["mutations"],
                "tmb_callable_bp": result["callable_bp"],
                "tmb_status": result["status"],
            }
        )
    return {
        "id": "tumour_biomarkers",
        "section_name": "Tumour biomarkers",
        "description": (
            "Tumour mutational burden: somatic coding variants per Mb of callable coding "
            "territory, with the exact 95% Poisson interval; microsatellite instability: "
            "the share of unstable microsatellites and the call (docs/biomarkers.md)."
        ),
        "plot_type": "table",
        "pconfig": {"id": "tumour_biomarkers_table", "title": "Tumour biomarkers"},
        "headers": {
            "tmb": {"title": "TMB (/Mb)", "format": "{:,.1f}"},
            "tmb_ci": {"title": "TMB 95% CI"},
            "tmb_variants": {"title": "TMB variants", "format": "{:,.0f}"},
            "tmb_callable_bp": {"title": "Callable coding bp", "format": "{:,.0f}"},
            "tmb_status": {"title": "TMB status"},
            "msi_call": {"title": "MSI"},
            "msi_unstable_share": {"title": "MSI unstable share", "format": "{:,.3f}"},
            "msi_sites": {"title": "MSI unstable/evaluable sites"},
        },
        "data": rows,
    }


def _cmd_table(args: argparse.Namespace) -> int:
    results = [read_json(path, "TMB result") for path in args.tmb]
    msi = [read_json(path, "MSI result") for path in args.msi]
    atomic.write_text(args.out, json.dumps(biomarker_table(results, msi), indent=1) + "\n")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "biomarkers",
        help="tumour biomarkers (TMB, MSI)",
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

    scan = commands.add_parser("msi-scan", help="microsatellites of the reference in regions")
    scan.add_argument("--fasta", type=Path, required=True, help="the reference (indexed)")
    scan.add_argument("--regions", type=Path, required=True, help="targets (panel BED or genome)")
    scan.add_argument("--out", type=Path, required=True)
    _msi_options(scan)
    scan.set_defaults(func=_cmd_msi_scan)

    baseline = commands.add_parser("msi-baseline", help="repeat lengths of the batch's normals")
    baseline.add_argument("--sites", type=Path, required=True, help="table of msi-scan")
    baseline.add_argument("--sample", nargs="+", required=True, help="the normals' names")
    baseline.add_argument("--bam", type=Path, nargs="+", required=True, help="their alignments")
    baseline.add_argument("--out", type=Path, required=True)
    _msi_options(baseline)
    baseline.set_defaults(func=_cmd_msi_baseline)

    msi = commands.add_parser("msi", help="microsatellite instability of one tumour")
    msi.add_argument("--sample", required=True)
    msi.add_argument("--sites", type=Path, required=True, help="table of msi-scan")
    msi.add_argument("--bam", type=Path, required=True, help="the tumour's alignments")
    msi.add_argument("--normal", help="the matched normal's name")
    msi.add_argument("--normal-bam", type=Path, help="the matched normal's alignments")
    msi.add_argument("--baseline", type=Path, help="msi-baseline of the batch's normals")
    msi.add_argument("--out", type=Path, required=True)
    _msi_options(msi)
    msi.set_defaults(func=_cmd_msi)

    table = commands.add_parser("table", help="MultiQC table of the batch's tumour biomarkers")
    # The table is made for batches with tumours: each has an MSI result, and a TMB result
    # when the run has gene models.
    table.add_argument("--tmb", type=Path, nargs="*", default=[], help="TMB results")
    table.add_argument("--msi", type=Path, nargs="+", required=True, help="MSI results")
    table.add_argument("--out", type=Path, required=True)
    table.set_defaults(func=_cmd_table)
