"""``genomflow cnv``: copy number of panel samples with CNVkit (targets, reference, report)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genomflow import atomic
from genomflow.argtypes import at_least, positive
from genomflow.cnv import calls, reference
from genomflow.panels import read_panel
from genomflow.reference import reference_contigs
from genomflow.sv.genes import read_genes


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser(
        "cnv", help="copy number of panel samples (CNVkit)", description=__doc__
    )
    commands = parser.add_subparsers(dest="cnv_command", required=True)

    targets = commands.add_parser(
        "targets", help="the panel's targets as CNVkit wants them (BED, gene names)"
    )
    source = targets.add_mutually_exclusive_group(required=True)
    source.add_argument("--panel", type=Path, help="panel BED (targets GENE:EXON)")
    source.add_argument(
        "--access", type=Path, help="whole genome: the accessible regions (cnvkit.py access)"
    )
    targets.add_argument(
        "--bin-size", type=at_least(100), default=1000, help="whole genome: bin size (bp) [1000]"
    )
    targets.add_argument("--reference", type=Path, required=True, help="reference FASTA")
    targets.add_argument(
        "--out", type=Path, required=True, help="BED4 of the targets named by gene"
    )
    targets.set_defaults(func=run_targets)

    ref = commands.add_parser(
        "reference", help="a panel's CNVkit reference: pooled normals or flat"
    )
    ref.add_argument("--panel-name", required=True)
    ref.add_argument("--normal", action="append", default=[], help="a reference normal's name")
    ref.add_argument(
        "--available",
        action="append",
        default=[],
        help="a normal of the panel too few to pool (named in the flat reference's note)",
    )
    ref.add_argument("--coverage", type=Path, nargs="*", default=[], help="the normals' .cnn files")
    ref.add_argument("--min-normals", type=int, default=1)
    ref.add_argument("--targets", type=Path, required=True)
    ref.add_argument("--antitargets", type=Path, required=True)
    ref.add_argument("--fasta", type=Path, required=True)
    ref.add_argument("--out", type=Path, required=True, help="the reference (.cnn)")
    ref.add_argument(
        "--summary-out", type=Path, required=True, help="what it was built from (JSON)"
    )
    ref.set_defaults(func=run_reference)

    floor = commands.add_parser(
        "floor", help="CNVkit bins with log2 ratios below a floor raised to it, for segmenting"
    )
    floor.add_argument("--cnr", type=Path, required=True, help="cnvkit.py fix output (.cnr)")
    floor.add_argument(
        "--min-log2",
        type=float,
        default=calls.MIN_SEGMENT_LOG2,
        help=f"the lowest log2 ratio kept [{calls.MIN_SEGMENT_LOG2:g}]",
    )
    floor.add_argument("--out", type=Path, required=True)
    floor.set_defaults(func=run_floor)

    report = commands.add_parser(
        "report", help="segment table, VCF, genes, plot and noise of a sample"
    )
    report.add_argument("--sample", required=True)
    report.add_argument("--type", required=True, help="sample type (tumour, normal, germline)")
    report.add_argument("--sex", default="unknown")
    report.add_argument("--purity", type=positive, default=None)
    report.add_argument("--bins", type=Path, required=True, help="CNVkit .cnr")
    report.add_argument("--segments", type=Path, required=True, help="cnvkit.py call output (.cns)")
    report.add_argument(
        "--observed", type=Path, default=None, help="the segments before calling (.cns)"
    )
    report.add_argument("--reference-summary", type=Path, required=True)
    report.add_argument(
        "--panel", type=Path, default=None, help="panel BED (its genes; none for WGS)"
    )
    report.add_argument(
        "--min-length",
        type=int,
        default=0,
        help="shortest non-neutral segment written to the VCF (bp; WGS) [0]",
    )
    report.add_argument(
        "--genotype", action="store_true", help="give each VCF record a GT from its copy number"
    )
    report.add_argument("--fasta", type=Path, required=True)
    report.add_argument("--amplification-min", type=int, default=6)
    report.add_argument("--gff3", type=Path, default=None, help="genes and exons to annotate")
    report.add_argument("--tsv", type=Path, required=True)
    report.add_argument("--vcf", type=Path, required=True)
    report.add_argument("--genes-out", type=Path, required=True)
    report.add_argument("--png", type=Path, required=True)
    report.add_argument("--qc-out", type=Path, required=True, help="{cnv_noise: MAD} JSON")
    report.set_defaults(func=run_report)


def run_targets(args: argparse.Namespace) -> int:
    if args.access is not None:
        bins = calls.genome_bins(calls.read_bed(args.access), args.bin_size)
        atomic.write_text(args.out, "".join(f"{c}\t{b}\t{e}\t-\n" for c, b, e in bins))
        return 0
    panel = read_panel(args.panel, reference_contigs(args.reference))
    targets = sorted(panel.targets, key=lambda t: (t.contig, t.start))
    atomic.write_text(
        args.out, "".join(f"{t.contig}\t{t.start}\t{t.end}\t{t.gene}\n" for t in targets)
    )
    return 0


def run_reference(args: argparse.Namespace) -> int:
    summary = reference.summarise(args.panel_name, args.normal, args.min_normals, args.available)
    if summary.flagged:
        print(f"WARNING: {summary.note}", file=sys.stderr)
    reference.build(
        summary,
        args.coverage,
        args.targets,
        args.antitargets,
        args.fasta,
        args.out,
        args.summary_out,
    )
    return 0


def run_floor(args: argparse.Namespace) -> int:
    raised = calls.floor_bins(args.cnr, args.out, args.min_log2)
    print(f"{raised} bins below log2 {args.min_log2:g} raised to it")
    return 0


def run_report(args: argparse.Namespace) -> int:
    summary = reference.read_summary(args.reference_summary)
    genes: list[str] = []
    if args.panel is not None:
        genes = list(dict.fromkeys(t.gene for t in read_panel(args.panel).targets))
    bins = calls.read_bins(args.bins)
    segments = calls.read_segments(
        args.segments, genes, args.sex, args.amplification_min, args.observed
    )
    flags = []
    if summary.flagged:
        flags.append(summary.note)
    if args.type == "tumour" and args.purity is None:
        flags.append("tumour without purity: copy numbers are not corrected for normal cells")
    for flag in flags:
        print(f"WARNING: {args.sample}: {flag}", file=sys.stderr)
    per_gene = calls.gene_copies(bins, segments, genes)
    calls.write_table(args.tsv, segments)
    calls.write_genes(args.genes_out, per_gene)
    context = calls.VcfContext(
        args.sample,
        summary.kind,
        summary.note,
        args.purity,
        args.type,
        sex=args.sex,
        genotype=args.genotype,
        min_length=args.min_length,
    )
    models = read_genes(args.gff3) if args.gff3 is not None else None
    called = calls.write_vcf(args.vcf, segments, args.fasta, context, models)
    noise = calls.noise(bins, segments)
    atomic.write_text(args.qc_out, json.dumps({calls.CNV_NOISE: noise}, indent=2) + "\n")
    from genomflow.cnv.plot import plot

    purity = f", purity {args.purity:g}" if args.purity is not None else ""
    title = f"{args.sample} ({args.type}{purity}; {summary.kind} reference)"
    plot(args.png, title, bins, segments, per_gene, reference_contigs(args.fasta))
    print(
        f"{args.sample}: {len(segments)} segments, {called} non-neutral; noise (MAD) "
        f"{'n/a' if noise is None else f'{noise:.3f}'}; reference {summary.kind}"
    )
    for gene in per_gene:
        print(f"  {gene.gene}: CN {gene.copies} ({gene.call}), log2 {gene.log2:.2f}")
    return 0
