"""MultiQC custom-content files (``*_mqc.json``) for the lab's batch report.

* ``qc_status_mqc.json`` and ``qc_thresholds_mqc.json``: the *QC status* module, first in the
  report: one row per sample (sheet order), every check coloured by status with its value,
  then the thresholds of the assays and sample types in the batch;
* ``qc_general_mqc.json``: General Statistics columns (QC status first, autosomal depth,
  ≥ 20x, inferred sex), which also puts the General Statistics rows in sheet order;
* ``identity_matrix_mqc.json`` and ``identity_pairs_mqc.json``: the *Sample identity*
  module: the kinship matrix (sheet order, not clustered) and every pair's expected and
  observed relation;
* ``panel_genes_mqc.json``: per-gene coverage of the panel samples (in the QC status module);

The module order is set in ``config/multiqc.yaml`` (``custom_content: order``).
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Collection, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.checks import Check, Status
from genomflow.qc.identity import PairResult, kinship_matrix
from genomflow.qc.metrics import SampleMetrics
from genomflow.qc.sex import SEX_CHECK
from genomflow.qc.status import SampleQc, counts
from genomflow.qc.thresholds import (
    BASES_20X,
    MEAN_COVERAGE,
    METRICS,
    TARGET_BASES_AT_DEPTH,
    Bounds,
    thresholds_for,
)
from genomflow.sheets import Cohort

QC_MODULE = "genomflow_qc"
IDENTITY_MODULE = "genomflow_identity"
CTDNA_MODULE = "genomflow_ctdna"

#: The text under each module's title. MultiQC copies the first section's description there
#: when a module has none, so each section repeats it (the summary was shown twice).
QC_DESCRIPTION = (
    "Every sample against the QC thresholds of its assay and sample type (genomflow qc)."
)
CTDNA_DESCRIPTION = "UMI consensus and tumour-informed ctDNA monitoring of the plasma samples."

IDENTITY_DESCRIPTION = (
    "Genotypes at common SNP sites, compared between every two samples. Kinship (KING-robust) "
    "is 0.5 for the same person, 0.25 for parent/child and siblings, 0.125 for second degree "
    "and about 0 for unrelated people; with fewer than <code>qc.identity.min_sites_relatedness"
    "</code> shared sites only 'the same person or not' is decided."
)

#: Conditional formatting of a cell by the status word it starts with.
STATUS_COLOURING: dict[str, list[dict[str, str]]] = {
    "pass": [{"s_contains": "PASS"}],
    "warn": [{"s_contains": "WARN"}],
    "fail": [{"s_contains": "FAIL"}],
}


def write_json(path: Path, content: Mapping[str, Any]) -> None:
    """Write a custom-content file atomically."""
    atomic.write_text(path, json.dumps(content, indent=1, ensure_ascii=False) + "\n")


def _kinds(cohort: Cohort) -> list[tuple[str, str]]:
    """(assay, type) of the batch's samples, in order of first appearance."""
    return list(dict.fromkeys((s.assay, s.type) for s in cohort.samples.values()))


def _cell(check: Check, bounds: Bounds | None) -> str:
    """A status-table cell: ``PASS 29.7x`` or ``FAIL 12.3x (< 20.0x)``."""
    metric = METRICS.get(check.check)
    if check.status is Status.NA or metric is None or bounds is None or not check.value:
        return check.status.value
    value = float(check.value)
    shown = metric.format(value)
    _, key, bound = bounds.status(value)
    if key is None or bound is None:
        return f"{check.status.value} {shown}"
    side = "<" if key.endswith("below") else ">"
    return f"{check.status.value} {shown} ({side} {metric.format(bound)})"


def _sex_cell(check: Check) -> str:
    inferred = check.value.split(" (", 1)[0] if check.value else "NA"
    return f"{check.status.value} {inferred}"


def _identity_cell(check: Check, samples: Collection[str]) -> str:
    """``PASS``, or the status and the other samples named in the reason."""
    if check.status is Status.PASS:
        return "PASS"
    words = {word.strip("(),:|") for word in check.reason.split()}
    others = [s for s in samples if s in words and s != check.sample]
    return " ".join((check.status.value, *others))


def status_section(
    batch: Sequence[SampleQc], cohort: Cohort, qc_config: Mapping[str, Any]
) -> dict[str, Any]:
    """The QC status table: a row per sample, a column per check, cells coloured by status."""
    kinds = _kinds(cohort)
    used = [m for m in METRICS if any(c.check == m for qc in batch for c in qc.checks)]
    headers: dict[str, Any] = {
        "type": {"title": "Assay / type", "description": "Assay and sample type (sheet)"},
        "status": {
            "title": "QC",
            "description": "Overall status: the worst of the sample's checks",
        },
    }
    for name in used:
        metric = METRICS[name]
        limits = "; ".join(
            f"{assay} {kind}: {bounds.describe(metric)}"
            for assay, kind in kinds
            if (bounds := thresholds_for(qc_config, assay, kind).get(name)) is not None
        )
        headers[name] = {"title": metric.title, "description": f"{metric.description}. {limits}"}
    headers[SEX_CHECK] = {
        "title": "Sex",
        "description": "Sex shown by X and Y coverage; FAIL when it is not the declared one",
    }
    headers["identity"] = {
        "title": "Identity",
        "description": "Genotypes at common SNPs against the patients and families of the sheet",
    }
    for header in headers.values():
        header.update(scale=False, cond_formatting_rules=STATUS_COLOURING)
    data: dict[str, dict[str, str]] = {}
    for qc in batch:
        sample = cohort.samples[qc.sample]
        row = {"type": f"{sample.assay} {sample.type}", "status": qc.status.value}
        for check in qc.checks:
            if check.check == SEX_CHECK:
                row[SEX_CHECK] = _sex_cell(check)
            elif check.check == "identity":
                row["identity"] = _identity_cell(check, list(cohort.samples))
            else:
                bounds = thresholds_for(qc_config, sample.assay, sample.type).get(check.check)
                row[check.check] = _cell(check, bounds)
        data[qc.sample] = row
    n = counts(batch)
    return {
        "id": "genomflow_qc_status",
        "parent_id": QC_MODULE,
        "parent_name": "QC status",
        "parent_description": QC_DESCRIPTION,
        "description": (
            f"{len(batch)} samples: <b>{n[Status.PASS]} PASS, {n[Status.WARN]} WARN, "
            f"{n[Status.FAIL]} FAIL</b>. Every metric is checked against the thresholds of the "
            "sample's assay and type (see <i>Thresholds</i> below and the column help); the sex "
            "and the identity of every sample are checked against the sample sheet. A sample "
            "can be reported only if it is PASS, or WARN after review. Reasons of each WARN and "
            "FAIL: <code>results/qc/qc_status.tsv</code>."
        ),
        "section_name": "Status per sample",
        "plot_type": "table",
        "pconfig": {
            "id": "genomflow_qc_status_table",
            "title": "QC status",
            "sort_rows": False,
            "col1_header": "Sample",
            "no_violin": True,
        },
        "headers": headers,
        "data": data,
    }


def thresholds_section(cohort: Cohort, qc_config: Mapping[str, Any]) -> dict[str, Any]:
    """The thresholds of the batch's assays and types, and the sex and identity cut-offs."""
    kinds = _kinds(cohort)
    head = "".join(f"<th>{html.escape(f'{a} {t}')}</th>" for a, t in kinds)
    rows = []
    for name, metric in METRICS.items():
        cells = [thresholds_for(qc_config, a, t).get(name) for a, t in kinds]
        if all(bounds is None for bounds in cells):
            continue
        shown = "".join(
            f"<td>{'not checked' if b is None else html.escape(b.describe(metric))}</td>"
            for b in cells
        )
        rows.append(f"<tr><th>{html.escape(metric.title)} <small>({name})</small></th>{shown}</tr>")
    sex = qc_config["sex"]
    identity = qc_config["identity"]
    kinship = identity["kinship"]
    text = (
        '<table class="table table-sm" id="genomflow_qc_thresholds_table">'
        f"<thead><tr><th>metric</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
        f"<p><b>Sex</b>: X/autosome depth ≥ {sex['x_two_copies_min']} is two X, "
        f"≤ {sex['x_one_copy_max']} one X; Y/autosome depth ≥ {sex['y_present_min']} is a Y, "
        f"≤ {sex['y_absent_max']} no Y; a sex other than declared is FAIL.</p>"
        f"<p><b>Identity</b>: KING-robust kinship over sites with depth ≥ "
        f"{identity['min_depth']} (at least {identity['min_sites']} shared): ≥ "
        f"{kinship['identical_min']} same person, ≥ {kinship['first_degree_min']} first degree, "
        f"≥ {kinship['second_degree_min']} second degree; samples of one patient must be the same "
        "person, of different patients must not be.</p>"
    )
    return {
        "id": "genomflow_qc_thresholds",
        "parent_id": QC_MODULE,
        "parent_name": "QC status",
        "parent_description": QC_DESCRIPTION,
        "section_name": "Thresholds",
        "plot_type": "html",
        "data": text,
    }


def general_stats_section(
    batch: Sequence[SampleQc], metrics: Mapping[str, SampleMetrics], cohort: Cohort
) -> dict[str, Any]:
    """General Statistics columns: QC status first, then key metrics, rows in sheet order.

    Genome-wide depth is shown for whole genomes only (a panel's is its target depth).
    """
    data: dict[str, dict[str, Any]] = {}
    for qc in batch:
        values = metrics[qc.sample].metrics
        sex = next((c for c in qc.checks if c.check == SEX_CHECK), None)
        row: dict[str, Any] = {"qc_status": qc.status.value}
        if cohort.samples[qc.sample].assay != "wgs":
            values = {}
        if values.get(MEAN_COVERAGE) is not None:
            row["autosomal_depth"] = round(float(values[MEAN_COVERAGE] or 0.0), 2)
        if values.get(BASES_20X) is not None:
            row["bases_20x"] = round(100 * float(values[BASES_20X] or 0.0), 2)
        if sex is not None and sex.value:
            row["inferred_sex"] = sex.value.split(" (", 1)[0]
        data[qc.sample] = row
    return {
        "id": "genomflow_qc_general",
        "plot_type": "generalstats",
        "headers": {
            "qc_status": {
                "title": "QC",
                "description": "QC status of the sample (see the QC status section)",
                "placement": 1,
                "scale": False,
            },
            "autosomal_depth": {
                "title": "Depth",
                "description": "Mean depth over the autosomes",
                "suffix": "x",
                "format": "{:,.1f}",
                "placement": 2,
                "scale": "Blues",
            },
            "bases_20x": {
                "title": "≥20x",
                "description": "Autosomal bases at depth ≥ 20",
                "suffix": "%",
                "min": 0,
                "max": 100,
                "placement": 3,
                "scale": "Greens",
            },
            "inferred_sex": {
                "title": "Sex",
                "description": "Sex shown by X and Y coverage",
                "placement": 4,
                "scale": False,
            },
        },
        "data": data,
    }


def identity_matrix_section(samples: Sequence[str], pairs: Sequence[PairResult]) -> dict[str, Any]:
    """The kinship matrix as a heatmap, in sheet order."""
    matrix = [
        [None if v is None else round(v, 3) for v in row] for row in kinship_matrix(samples, pairs)
    ]
    return {
        "id": "genomflow_identity_matrix",
        "parent_id": IDENTITY_MODULE,
        "parent_name": "Sample identity",
        "parent_description": IDENTITY_DESCRIPTION,
        "section_name": "Kinship matrix",
        "plot_type": "heatmap",
        "xcats": list(samples),
        "ycats": list(samples),
        "pconfig": {
            "id": "genomflow_identity_heatmap",
            "title": "Sample identity: kinship",
            "xlab": "sample",
            "ylab": "sample",
            "zlab": "kinship",
            "min": -0.25,
            "max": 0.5,
            "cluster_rows": False,
            "cluster_cols": False,
            "display_values": True,
            "tt_decimals": 3,
        },
        "data": matrix,
    }


def identity_pairs_section(pairs: Sequence[PairResult]) -> dict[str, Any]:
    """Every pair: expected (sheet) and observed relation, evidence and status."""
    data = {
        f"{p.sample_a} vs {p.sample_b}": {
            "status": p.status.value,
            "expected": p.expected,
            "observed": p.observed,
            "kinship": p.stats.kinship,
            "discordance": p.stats.discordance,
            "ibs0": p.stats.ibs0,
            "sites": p.stats.sites,
        }
        for p in pairs
    }
    number = {"scale": False, "format": "{:,.3f}"}
    return {
        "id": "genomflow_identity_pairs",
        "parent_id": IDENTITY_MODULE,
        "parent_name": "Sample identity",
        "parent_description": IDENTITY_DESCRIPTION,
        "section_name": "Pairs",
        "plot_type": "table",
        "pconfig": {
            "id": "genomflow_identity_pairs_table",
            "title": "Sample identity: pairs",
            "sort_rows": False,
            "col1_header": "Pair",
            "no_violin": True,
        },
        "headers": {
            "status": {
                "title": "Status",
                "scale": False,
                "cond_formatting_rules": STATUS_COLOURING,
            },
            "expected": {"title": "Expected", "description": "Relation declared in the sheet"},
            "observed": {"title": "Observed", "description": "Relation the genotypes show"},
            "kinship": {"title": "Kinship", "description": "KING-robust kinship", **number},
            "discordance": {"title": "Discordance", "description": "Genotypes differing", **number},
            "ibs0": {"title": "IBS0", "description": "Opposite homozygotes", **number},
            "sites": {
                "title": "Sites",
                "description": "Sites called in both",
                "scale": False,
                "format": "{:,.0f}",
            },
        },
        "data": data,
    }


_BELOW = re.compile(r"bases_below_([0-9]+)x")


def gene_coverage(path: Path) -> tuple[int, dict[str, float]]:
    """The required depth and, per gene, the % of its target bases at that depth, from a
    panel sample's ``coverage.tsv`` (``genomflow coverage panel``)."""
    try:
        table = pd.read_csv(path, sep="\t", dtype={"gene": str})
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise GenomflowError(f"{path}: cannot read panel coverage ({err})") from None
    below = [(c, m) for c in table.columns if (m := _BELOW.fullmatch(str(c)))]
    if len(below) != 1 or not {"level", "gene", "bases"} <= set(table.columns):
        raise GenomflowError(
            f"{path}: not a panel coverage table (level, gene, bases, bases_below_<depth>x)"
        )
    column, match = below[0]
    genes = table[table["level"] == "gene"]
    return int(match.group(1)), {
        str(row["gene"]): round(100 * (1 - float(row[column]) / float(row["bases"])), 2)
        for _, row in genes.iterrows()
        if float(row["bases"]) > 0
    }


#: The heatmap's one colour scale: FAIL below 50, WARN from 50, PASS from 75 (the badges' colours).
BAND_WARN, BAND_PASS = 50.0, 75.0
BAND_COLOURS = [
    [0, "#d9534f"],
    [0.4999, "#e8908d"],
    [0.5, "#f0ad4e"],
    [0.7499, "#f7e08a"],
    [0.75, "#a3d9a3"],
    [1, "#5cb85c"],
]


def described_bounds(qc_config: Mapping[str, Any], sample_type: str) -> str:
    """The ``target_bases_at_depth`` bounds of a panel sample type, for people."""
    bounds = thresholds_for(qc_config, "panel", sample_type).get(TARGET_BASES_AT_DEPTH)
    return bounds.describe(METRICS[TARGET_BASES_AT_DEPTH]) if bounds is not None else "none"


def coverage_band(percent: float, bounds: Bounds | None) -> float:
    """Where ``percent`` (of a gene's target bases at depth) stands against its sample type's
    ``target_bases_at_depth`` bounds, on one scale for every type: 0-50 below ``fail_below``
    (FAIL), 50-75 below ``warn_below`` (WARN), 75-100 PASS, linear within each band.

    >>> plasma = Bounds(fail_below=0.1, warn_below=0.2)
    >>> [coverage_band(p, plasma) for p in (5.0, 15.0, 30.0, 100.0)]
    [25.0, 62.5, 78.1, 100.0]
    >>> coverage_band(92.0, Bounds(fail_below=0.9, warn_below=0.95))
    60.0
    """
    fail = None if bounds is None or bounds.fail_below is None else 100 * bounds.fail_below
    warn = None if bounds is None or bounds.warn_below is None else 100 * bounds.warn_below
    if fail is not None and percent < fail:
        return round(BAND_WARN * percent / fail, 1) if fail > 0 else 0.0
    if warn is not None and percent < warn:
        low = fail if fail is not None else 0.0
        return round(BAND_WARN + (BAND_PASS - BAND_WARN) * (percent - low) / (warn - low), 1)
    base = warn if warn is not None else (fail if fail is not None else 0.0)
    if base >= 100:
        return 100.0
    return round(BAND_PASS + (100 - BAND_PASS) * (percent - base) / (100 - base), 1)


def panel_genes_section(
    cohort: Cohort, coverage: Mapping[str, Path], qc_config: Mapping[str, Any]
) -> dict[str, Any]:
    """Per-gene coverage of the panel samples as a heatmap (samples in sheet order, genes in
    panel order): each gene's % of target bases at the required depth, coloured against the
    ``target_bases_at_depth`` bounds of its sample's type (:func:`coverage_band`), so that a
    plasma gene that passes its own bounds is not red against a tissue's."""
    samples = [s for s in cohort.samples if s in coverage]
    per_sample = {s: gene_coverage(coverage[s]) for s in samples}
    genes = list(dict.fromkeys(g for s in samples for g in per_sample[s][1]))
    depths = sorted({depth for depth, _ in per_sample.values()})
    bounds = {
        s: thresholds_for(qc_config, "panel", cohort.samples[s].type).get(TARGET_BASES_AT_DEPTH)
        for s in samples
    }
    matrix = [
        [
            None if (value := per_sample[s][1].get(g)) is None else coverage_band(value, bounds[s])
            for g in genes
        ]
        for s in samples
    ]
    types = list(dict.fromkeys(cohort.samples[s].type for s in samples))
    described = "; ".join(f"{t}: {described_bounds(qc_config, t)}" for t in types)
    return {
        "id": "genomflow_panel_genes",
        "parent_id": QC_MODULE,
        "parent_name": "QC status",
        "parent_description": QC_DESCRIPTION,
        "section_name": "Panel coverage per gene",
        "description": (
            "Each gene's target bases at the required depth "
            f"({', '.join(f'{d}x' for d in depths)}), coloured against the bounds of the "
            f"sample's type ({described}): red FAIL, orange WARN, green PASS. The hover "
            "shows the band (0-50 FAIL, 50-75 WARN, 75-100 PASS); the percentages are in "
            "<code>results/samples/&lt;sample&gt;/&lt;sample&gt;.coverage.tsv</code> and the "
            "gaps in <code>results/samples/&lt;sample&gt;/&lt;sample&gt;.gaps.bed</code>."
        ),
        "plot_type": "heatmap",
        "xcats": genes,
        "ycats": samples,
        "pconfig": {
            "id": "genomflow_panel_genes_heatmap",
            "title": "Panel coverage per gene against each sample type's QC bounds",
            "xlab": "gene",
            "ylab": "sample",
            "zlab": "band (FAIL < 50 ≤ WARN < 75 ≤ PASS)",
            "min": 0,
            "max": 100,
            "square": False,
            "xcats_samples": False,
            "ycats_samples": True,
            "cluster_rows": False,
            "cluster_cols": False,
            "display_values": False,
            "colstops": BAND_COLOURS,
        },
        "data": matrix,
    }
