"""``genomflow qc``: per-sample metrics, sample identity, the batch QC status, report sections.

The rules of ``workflow/rules/qc.smk`` call these; ``--config`` is the resolved config file
(``results/report/genomflow_config/config.json``, written by the ``genomflow_config`` rule), of
which ``identity`` and ``status`` read the ``qc`` section. ``--qc-config JSON`` (that section as
JSON text on the command line) still works, for scripts written before ``--config``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.metrics import MetricSources, SampleMetrics, collect

# The batch commands (identity, status, panel-genes) import the sheets, the identity checks
# and the MultiQC sections (pandas) when they run: `qc metrics`, once per sample on the way
# to the sample's SV and report jobs, starts without them.

#: Why identity is WARN when the run has no identity sites.
NO_SITES = "not checked: no identity SNP sites configured (reference.identity_sites)"


def _qc_section(text: str, source: str) -> dict[str, Any]:
    """The ``qc`` section, from the JSON text of the resolved config or of the section."""
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise GenomflowError(f"{source}: not JSON ({err})") from None
    if isinstance(config, dict) and isinstance(config.get("qc"), dict):
        config = config["qc"]
    if not isinstance(config, dict) or "thresholds" not in config:
        raise GenomflowError(f"{source}: expected the resolved config or its 'qc' section")
    return config


def qc_config(args: argparse.Namespace) -> dict[str, Any]:
    """The ``qc`` settings: from the resolved config file (``--config``), else ``--qc-config``."""
    if args.config is None:
        return _qc_section(args.qc_config, "--qc-config")
    try:
        text = args.config.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise GenomflowError(f"{args.config}: cannot read the resolved config ({err})") from None
    return _qc_section(text, str(args.config))


def _add_config_options(parser: argparse.ArgumentParser) -> None:
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--config", type=Path, metavar="JSON", help="the resolved config file (its qc section)"
    )
    source.add_argument(
        "--qc-config", metavar="TEXT", help="the qc section as JSON text (older form of --config)"
    )


def _cmd_metrics(args: argparse.Namespace) -> int:
    sources = MetricSources(
        samtools_stats=args.samtools_stats,
        markdup=args.markdup,
        mosdepth_summary=args.mosdepth_summary,
        mosdepth_dist=args.mosdepth_dist,
        fastp=tuple(args.fastp),
        panel=args.panel_metrics,
        extra=tuple(args.extra),
        bam=args.bam,
        panel_bed=args.panel_bed,
        reference=args.reference,
    )
    atomic.write_text(args.out, collect(args.sample, sources, args.x, args.y).to_json())
    return 0


def _cmd_identity(args: argparse.Namespace) -> int:
    from genomflow.qc import identity as ident
    from genomflow.qc import multiqc
    from genomflow.sheets import load_sheets

    cohort = load_sheets(args.samples, args.units, check_files=False)
    config = ident.IdentityConfig.from_config(qc_config(args)["identity"])
    sites = ident.read_sites(args.sites, args.x, args.y)
    genotypes: dict[str, dict[ident.SiteKey, int]] = {}
    for path in args.genotypes:
        sample = _vcf_sample(path)
        genotypes[sample] = ident.call_genotypes(ident.read_allele_counts(path, sites), config)
    missing = [s for s in cohort.samples if s not in genotypes]
    if missing:
        raise GenomflowError(f"no identity genotypes for sample(s) {', '.join(missing)}")
    samples = list(cohort.samples)
    pairs = ident.check_all_pairs(samples, genotypes, ident.Pedigree.from_cohort(cohort), config)
    called = {sample: len(genotypes[sample]) for sample in samples}
    ident.write_pairs(args.out, pairs)
    ident.write_checks(args.checks_out, ident.sample_checks(samples, pairs, called, config))
    multiqc.write_json(args.matrix_mqc, multiqc.identity_matrix_section(samples, pairs))
    multiqc.write_json(args.pairs_mqc, multiqc.identity_pairs_section(pairs))
    for sample in samples:
        print(f"{sample}: {len(genotypes[sample])} of {len(sites)} sites called")
    return 0


def _vcf_sample(path: Path) -> str:
    try:
        with pysam.VariantFile(str(path)) as reader:
            names = list(reader.header.samples)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF ({err})") from None
    if len(names) != 1:
        raise GenomflowError(f"{path}: expected one sample, found {len(names)}")
    return str(names[0])


def _cmd_status(args: argparse.Namespace) -> int:
    from genomflow.qc import identity as ident
    from genomflow.qc import multiqc
    from genomflow.qc.status import assess_batch, summary_text, write_status_table
    from genomflow.sheets import load_sheets

    cohort = load_sheets(args.samples, args.units, check_files=False)
    settings = qc_config(args)
    metrics = {m.sample: m for m in (SampleMetrics.from_json(path) for path in args.metrics)}
    samples = list(cohort.samples)
    if args.identity is None:
        identity = ident.not_checked(samples, NO_SITES)
    else:
        identity = ident.read_checks(args.identity)
    batch = assess_batch(cohort, metrics, identity, settings)
    write_status_table(args.out, batch)
    summary = summary_text(args.batch, batch, str(args.out))
    atomic.write_text(args.summary_out, summary + "\n")
    multiqc.write_json(args.status_mqc, multiqc.status_section(batch, cohort, settings))
    multiqc.write_json(args.thresholds_mqc, multiqc.thresholds_section(cohort, settings))
    multiqc.write_json(args.general_mqc, multiqc.general_stats_section(batch, metrics, cohort))
    print(summary)
    return 0


def _pairs(values: list[str], option: str) -> dict[str, Path]:
    """``SAMPLE=PATH`` arguments."""
    parsed: dict[str, Path] = {}
    for value in values:
        sample, sep, path = value.partition("=")
        if not sep or not sample or not path:
            raise GenomflowError(f"{option} {value}: expected SAMPLE=PATH")
        parsed[sample] = Path(path)
    return parsed


def _cmd_panel_genes(args: argparse.Namespace) -> int:
    from genomflow.qc import multiqc
    from genomflow.sheets import load_sheets

    cohort = load_sheets(args.samples, args.units, check_files=False)
    coverage = _pairs(args.coverage, "--coverage")
    settings = qc_config(args)
    multiqc.write_json(args.out, multiqc.panel_genes_section(cohort, coverage, settings))
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``genomflow qc metrics|identity|status|panel-genes``."""
    parser = subparsers.add_parser(
        "qc", help="QC metrics, sample identity and batch status", description=__doc__
    )
    commands = parser.add_subparsers(dest="qc_command", required=True)

    metrics = commands.add_parser("metrics", help="collect one sample's QC metrics as JSON")
    metrics.add_argument("--sample", required=True)
    metrics.add_argument("--samtools-stats", type=Path, required=True, metavar="TXT")
    metrics.add_argument(
        "--markdup",
        type=Path,
        metavar="TXT",
        help="samtools markdup -f stats (not for UMI libraries: their --extra has the rate)",
    )
    metrics.add_argument("--mosdepth-summary", type=Path, required=True, metavar="TXT")
    metrics.add_argument("--mosdepth-dist", type=Path, metavar="TXT", help="global dist")
    metrics.add_argument("--fastp", type=Path, nargs="*", default=[], metavar="JSON")
    metrics.add_argument(
        "--panel-metrics", type=Path, metavar="TSV", help="metrics.tsv of panel coverage"
    )
    metrics.add_argument(
        "--extra", type=Path, nargs="*", default=[], metavar="JSON", help="more metrics"
    )
    metrics.add_argument("--bam", type=Path, help="panel samples: BAM or CRAM for off-target depth")
    metrics.add_argument("--reference", type=Path, help="FASTA a CRAM is compressed against")
    metrics.add_argument("--panel-bed", type=Path, help="panel samples: the panel's targets")
    metrics.add_argument("--x", default="chrX", help="name of the X chromosome")
    metrics.add_argument("--y", default="chrY", help="name of the Y chromosome")
    metrics.add_argument("--out", type=Path, required=True, metavar="JSON")
    metrics.set_defaults(func=_cmd_metrics)

    identity = commands.add_parser("identity", help="check sample identity and relatedness")
    identity.add_argument("--samples", type=Path, required=True, metavar="TSV")
    identity.add_argument("--units", type=Path, required=True, metavar="TSV")
    _add_config_options(identity)
    identity.add_argument("--sites", type=Path, required=True, metavar="VCF")
    identity.add_argument(
        "--genotypes", type=Path, nargs="+", required=True, metavar="VCF", help="mpileup -a AD"
    )
    identity.add_argument("--x", default="chrX", help="name of the X chromosome")
    identity.add_argument("--y", default="chrY", help="name of the Y chromosome")
    identity.add_argument("--out", type=Path, required=True, metavar="TSV", help="pairs table")
    identity.add_argument(
        "--checks-out", type=Path, required=True, metavar="TSV", help="per-sample checks"
    )
    identity.add_argument("--matrix-mqc", type=Path, required=True, metavar="JSON")
    identity.add_argument("--pairs-mqc", type=Path, required=True, metavar="JSON")
    identity.set_defaults(func=_cmd_identity)

    status = commands.add_parser("status", help="the batch QC status table and summary")
    status.add_argument("--samples", type=Path, required=True, metavar="TSV")
    status.add_argument("--units", type=Path, required=True, metavar="TSV")
    _add_config_options(status)
    status.add_argument("--batch", required=True, help="name of the batch")
    status.add_argument("--metrics", type=Path, nargs="+", required=True, metavar="JSON")
    status.add_argument("--identity", type=Path, metavar="TSV", help="per-sample identity checks")
    status.add_argument("--out", type=Path, required=True, metavar="TSV")
    status.add_argument("--summary-out", type=Path, required=True, metavar="TXT")
    status.add_argument("--status-mqc", type=Path, required=True, metavar="JSON")
    status.add_argument("--thresholds-mqc", type=Path, required=True, metavar="JSON")
    status.add_argument("--general-mqc", type=Path, required=True, metavar="JSON")
    status.set_defaults(func=_cmd_status)

    genes = commands.add_parser("panel-genes", help="MultiQC per-gene coverage of panel samples")
    genes.add_argument("--samples", type=Path, required=True, metavar="TSV")
    genes.add_argument("--units", type=Path, required=True, metavar="TSV")
    genes.add_argument(
        "--coverage", nargs="+", required=True, metavar="SAMPLE=TSV", help="coverage.tsv"
    )
    _add_config_options(genes)
    genes.add_argument("--out", type=Path, required=True, metavar="JSON")
    genes.set_defaults(func=_cmd_panel_genes)
