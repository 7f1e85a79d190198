"""ctDNA end to end: UMI consensus and tumour-informed monitoring of serial plasma samples.

The demo batch (``demo_run``) has four plasma samples of CA001T's patient with UMIs
(resources/testplasma, generated with known tumour fractions: high at baseline, falling on
treatment, none, then back). The pipeline extracts the UMIs with fastp, builds consensus reads,
monitors each plasma sample at CA001T's somatic calls of the same run and orders the results
into the patient's timeline.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pysam
import pytest

from genomflow.ctdna.monitor import validate_result
from genomflow.sheets import load_sheets
from tests.conftest import REPO
from tests.unit.test_ctdna_monitor import CONTRACT

PLASMA_DIR = REPO / "resources" / "testplasma"
SHEET = load_sheets(REPO / "config/samples.tsv", REPO / "config/units.tsv", base_dir=REPO)
PLASMA = tuple(s.sample for s in SHEET.by_type("plasma"))


def _truth() -> dict[str, dict[str, str]]:
    with (PLASMA_DIR / "timepoints.tsv").open() as handle:
        return {row["sample"]: row for row in csv.DictReader(handle, delimiter="\t")}


def _result(run: Path, sample: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        (run / f"results/samples/{sample}/{sample}.ctdna.json").read_text()
    )
    return data


def test_the_demo_has_the_simulated_plasma_timepoints() -> None:
    assert set(PLASMA) == set(_truth())
    assert len(PLASMA) == 4


def test_timeline_calls_falling_cleared_relapsed_in_date_order(demo_run: Path) -> None:
    with (demo_run / "results/ctdna/timeline.tsv").open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    truth = _truth()
    assert [r["sample"] for r in rows] == sorted(truth, key=lambda s: truth[s]["collection_date"])
    assert [r["call"] for r in rows] == [
        "baseline",
        "molecular_response",
        "clearance",
        "relapse",
    ]
    assert [r["status"] for r in rows] == ["detected", "detected", "not_detected", "detected"]
    # The response compares with the baseline: a drop of at least half.
    assert rows[1]["reference_sample"] == rows[0]["sample"]
    assert float(rows[1]["fold_change"]) <= 0.5


@pytest.mark.parametrize("sample", PLASMA)
def test_estimate_interval_holds_the_simulated_fraction(demo_run: Path, sample: str) -> None:
    result = _result(demo_run, sample)
    validate_result(result, sample)
    assert set(CONTRACT) <= set(result)
    true_fraction = float(_truth()[sample]["tumour_fraction"])
    assert result["ci_low"] <= true_fraction <= result["ci_high"]
    assert result["detected"] is (true_fraction > 0)
    if true_fraction > 0:
        assert result["mutant_molecules"] > 0 and result["p_value"] < 0.001
    else:
        assert result["tumour_fraction"] == 0 and result["lod95"] > 0


@pytest.mark.parametrize("sample", PLASMA)
def test_loci_are_the_tumours_pass_calls_of_this_run(demo_run: Path, sample: str) -> None:
    vcf = demo_run / "results/samples/CA001T/CA001T.somatic.vcf.gz"
    with pysam.VariantFile(str(vcf)) as reader:
        alleles = sum(
            len(record.alts or ())
            for record in reader
            if list(record.filter.keys()) in ([], ["PASS"])
        )
    result = _result(demo_run, sample)
    assert alleles >= 40
    assert result["loci_used"] + len(result["loci_excluded"]) == alleles
    assert all(item["reason"] for item in result["loci_excluded"])


@pytest.mark.parametrize("sample", PLASMA)
def test_consensus_bam_has_one_pair_per_molecule(demo_run: Path, sample: str) -> None:
    metrics = json.loads(
        (demo_run / f"results/ctdna/genomflow_consensus/{sample}.json").read_text()
    )
    truth = _truth()[sample]
    simulated_family = int(truth["read_pairs"]) / int(truth["molecules"])
    assert metrics["templates"] == int(truth["read_pairs"])  # every simulated pair aligned
    assert metrics["mean_family_size"] == pytest.approx(simulated_family, rel=0.05)
    assert 0 < metrics["consensus_error_rate"] < 1e-3
    bam = demo_run / f"results/samples/{sample}/{sample}.bam"
    molecules: set[int] = set()
    reads = 0
    with pysam.AlignmentFile(str(bam)) as aln:
        for read in aln:
            reads += 1
            assert not read.is_duplicate
            assert read.get_tag("cD") >= 2  # the minimum family size
            assert read.has_tag("NM")  # samtools calmd: error rates in samtools stats
            molecules.add(int(read.get_tag("MI")))
    assert reads == 2 * metrics["molecules"] == 2 * len(molecules)
    assert metrics["duplex_molecules"] > metrics["molecules"] / 3


@pytest.mark.parametrize("sample", PLASMA)
def test_report_and_qc_carry_the_ctdna_and_consensus_results(demo_run: Path, sample: str) -> None:
    report = json.loads((demo_run / f"results/samples/{sample}/{sample}.report.json").read_text())
    result = _result(demo_run, sample)
    assert report["ctdna"]["tumour_fraction"] == result["tumour_fraction"]
    assert report["ctdna"]["status"] == result["status"]
    assert f"{sample}.ctdna.json" in {Path(f["path"]).name for f in report["files"]}
    # Depth over the panel's targets (what a person compares with the assay's depth), beside
    # the genome-wide one that is almost all off-target for a panel.
    with (demo_run / f"results/samples/{sample}/{sample}.coverage.tsv").open() as handle:
        panel = next(r for r in csv.DictReader(handle, delimiter="\t") if r["level"] == "panel")
    metrics = report["qc"]["metrics"]
    assert metrics["mean_target_depth"] == float(panel["mean_depth"])
    assert metrics["mean_target_depth"] > 10 * metrics["mean_depth"]
    with (demo_run / "results/qc/qc_status.tsv").open() as handle:
        checks = {
            row["check"]: row
            for row in csv.DictReader(handle, delimiter="\t")
            if row["sample"] == sample
        }
    assert {"consensus_depth", "family_size"} <= set(checks)
    assert float(checks["consensus_depth"]["value"]) > 50
    metrics = json.loads(
        (demo_run / f"results/ctdna/genomflow_consensus/{sample}.json").read_text()
    )
    qc = json.loads((demo_run / f"results/qc/qc_metrics/{sample}.json").read_text())["metrics"]
    assert qc["family_size"] == metrics["mean_family_size"]
    # UMI libraries: the duplicates are the read pairs beyond the first of each family.
    assert qc["duplicate_rate"] == pytest.approx(1 - metrics["families"] / metrics["templates"])


def test_multiqc_shows_the_timeline_and_consensus(demo_run: Path) -> None:
    html = (demo_run / "results/qc/multiqc_report.html").read_text()
    for text in ("Tumour fraction over time", "UMI consensus", "UMI family sizes"):
        assert text in html
    # Issue #15: a section's description is not repeated as the ctDNA module's intro.
    assert html.count("Consensus molecules from UMI families") == 1


def test_panel_gene_heatmap_is_coloured_by_each_sample_types_bounds(demo_run: Path) -> None:
    """Issue #15: on one scale for tissue, plasma samples that pass were all red. A sample
    whose share of target bases at depth passes has a gene that passes: a PASS band (>= 75)."""
    section = json.loads((demo_run / "results/qc/qc_panel_genes/panel_genes_mqc.json").read_text())
    status = {}
    with (demo_run / "results/qc/qc_status.tsv").open() as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if row["check"] == "target_bases_at_depth":
                status[row["sample"]] = row["status"]
    assert set(section["ycats"]) == set(status)
    for sample, bands in zip(section["ycats"], section["data"], strict=True):
        if status[sample] == "PASS":
            assert max(b for b in bands if b is not None) >= 75, (sample, bands)
        if status[sample] == "FAIL":
            assert min(b for b in bands if b is not None) < 50, (sample, bands)
