"""The batch QC status: checks per sample, qc_status.tsv, the batch summary, MultiQC content."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genomflow.config import resolve
from genomflow.errors import GenomflowError
from genomflow.qc import multiqc
from genomflow.qc.checks import Check, Status
from genomflow.qc.identity import PairResult, PairStats, not_checked, sample_checks
from genomflow.qc.metrics import SampleMetrics, SexCoverage
from genomflow.qc.status import (
    assess_batch,
    read_status_table,
    summary_text,
    write_status_table,
)
from genomflow.sheets import Cohort, Sample

QC = resolve({"reference": {"fasta": "r.fa"}})["qc"]


def sample(name: str, sex: str, **extra: Any) -> Sample:
    return Sample(sample=name, patient=f"P-{name}", sex=sex, type="germline", assay="wgs", **extra)


# Sheet order is not alphabetical on purpose.
COHORT = Cohort(
    samples={
        s.sample: s for s in (sample("S2", "male"), sample("S1", "female"), sample("S3", "male"))
    },
    units=(),
)


def metrics(name: str, depth: float, x: float, y: float | None) -> SampleMetrics:
    return SampleMetrics(
        sample=name,
        metrics={
            "mean_coverage": depth,
            "bases_20x": 0.95 if depth >= 30 else 0.5,
            "duplicate_rate": 0.05,
            "q30_rate": 0.9,
            "insert_size": 350.0,
            "mapping_rate": 0.99,
            "error_rate": 0.003,
        },
        sex=SexCoverage(depth, x, y),
    )


METRICS = {
    "S2": metrics("S2", 35.0, 0.5, 0.5),  # clean male
    "S1": metrics("S1", 34.0, 0.5, 0.5),  # declared female, male coverage
    "S3": metrics("S3", 12.0, 0.5, 0.5),  # low coverage
}
IDENTITY = sample_checks(
    list(COHORT.samples),
    [
        PairResult(
            "S2", "S1", "unrelated", "unrelated", Status.PASS, PairStats(200, 0.6, 0.1, 0.0)
        ),
        PairResult(
            "S2", "S3", "unrelated", "unrelated", Status.PASS, PairStats(200, 0.6, 0.1, 0.0)
        ),
        PairResult(
            "S1", "S3", "unrelated", "unrelated", Status.PASS, PairStats(200, 0.6, 0.1, 0.0)
        ),
    ],
)


@pytest.fixture
def batch() -> list[Any]:
    return assess_batch(COHORT, METRICS, IDENTITY, QC)


def test_clean_sample_passes_every_check(batch: list[Any]) -> None:
    clean = batch[0]
    assert clean.sample == "S2"
    assert clean.status is Status.PASS
    assert [c.check for c in clean.checks] == [
        "mean_coverage",
        "bases_20x",
        "duplicate_rate",
        "q30_rate",
        "insert_size",
        "mapping_rate",
        "error_rate",
        "sex",
        "identity",
    ]
    assert {c.status for c in clean.checks} == {Status.PASS}


def test_wrong_sex_and_low_coverage_fail_with_reasons(batch: list[Any]) -> None:
    by_name = {qc.sample: qc for qc in batch}
    assert by_name["S1"].status is Status.FAIL
    assert by_name["S1"].reasons == (
        "sex: declared female, coverage shows male (XY: X/autosomes 0.50, Y/autosomes 0.50)",
    )
    low = by_name["S3"]
    assert low.status is Status.FAIL
    assert low.reasons == (
        "mean_coverage 12.0x is below the FAIL threshold 20.0x",
        "bases_20x 50.0% is below the FAIL threshold 80.0%",
    )


def test_status_table_round_trip_in_sheet_order(batch: list[Any], tmp_path: Path) -> None:
    path = tmp_path / "qc_status.tsv"
    write_status_table(path, batch)
    lines = path.read_text().splitlines()
    assert lines[0] == "sample\tcheck\tstatus\tvalue\tthreshold\treason"
    assert lines[1] == "S2\toverall\tPASS\t\t\t"
    assert lines[2] == "S2\tmean_coverage\tPASS\t35\tfail < 20.0x, warn < 30.0x\t"
    overall = [line.split("\t")[:3] for line in lines if "\toverall\t" in line]
    assert overall == [
        ["S2", "overall", "PASS"],
        ["S1", "overall", "FAIL"],
        ["S3", "overall", "FAIL"],
    ]
    again = read_status_table(path)
    assert [(q.sample, q.status, q.reasons) for q in again] == [
        (q.sample, q.status, q.reasons) for q in batch
    ]


def test_sample_report_reads_the_status_table(batch: list[Any], tmp_path: Path) -> None:
    # The contract with the sample report (genomflow.report): overall status and reasons.
    from genomflow.report.qc import qc_status

    path = tmp_path / "qc_status.tsv"
    write_status_table(path, batch)
    status = qc_status(path, "S3")
    assert status.status == "fail"
    assert status.reasons == (
        "mean_coverage 12.0x is below the FAIL threshold 20.0x",
        "bases_20x 50.0% is below the FAIL threshold 80.0%",
    )
    assert qc_status(path, "S2").status == "pass"


def test_summary_counts_and_lists_each_fail(batch: list[Any]) -> None:
    assert summary_text("batch 7", batch, "results/qc/qc_status.tsv").splitlines() == [
        "QC of batch 'batch 7': 3 samples: 1 PASS, 0 WARN, 2 FAIL "
        "(details: results/qc/qc_status.tsv)",
        "  FAIL  S1: sex: declared female, coverage shows male "
        "(XY: X/autosomes 0.50, Y/autosomes 0.50)",
        "  FAIL  S3: mean_coverage 12.0x is below the FAIL threshold 20.0x; "
        "bases_20x 50.0% is below the FAIL threshold 80.0%",
    ]


def test_identity_not_configured_warns() -> None:
    batch = assess_batch(COHORT, METRICS, not_checked(list(COHORT.samples), "no sites"), QC)
    assert batch[0].status is Status.WARN
    assert batch[0].reasons == ("identity: no sites",)


def test_missing_metrics_are_an_error() -> None:
    with pytest.raises(GenomflowError, match="no QC metrics for sample"):
        assess_batch(COHORT, {"S2": METRICS["S2"]}, IDENTITY, QC)


def test_bad_status_table_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    path.write_text("sample\tstatus\nS1\tPASS\n")
    with pytest.raises(GenomflowError, match=r"x\.tsv: not a QC status table"):
        read_status_table(path)
    header = "sample\tcheck\tstatus\tvalue\tthreshold\treason\n"
    path.write_text(header + "S1\toverall\tPASS\t\t\t\nS1\tmean_coverage\tPASS\t35\n")
    with pytest.raises(GenomflowError, match=r"x\.tsv: cannot read QC status table \(line 3 has 4"):
        read_status_table(path)
    path.write_text(header + "S1\toverall\tGOOD\t\t\t\n")
    with pytest.raises(GenomflowError, match=r"x\.tsv: cannot read QC status table \('GOOD'"):
        read_status_table(path)
    path.write_bytes(header.encode() + b"S\xe9\toverall\tPASS\t\t\t\n")
    with pytest.raises(GenomflowError, match=r"x\.tsv: cannot read QC status table \(.*utf-8"):
        read_status_table(path)
    with pytest.raises(GenomflowError, match=r"y\.tsv: cannot read QC status table \(.*No such"):
        read_status_table(tmp_path / "y.tsv")


# --- MultiQC custom content ---------------------------------------------------------------------


def test_status_section_rows_in_sheet_order_cells_coloured(batch: list[Any]) -> None:
    section = multiqc.status_section(batch, COHORT, QC)
    assert list(section["data"]) == ["S2", "S1", "S3"]
    assert section["pconfig"]["sort_rows"] is False
    low = section["data"]["S3"]
    assert low["status"] == "FAIL"
    assert low["mean_coverage"] == "FAIL 12.0x (< 20.0x)"
    assert low["duplicate_rate"] == "PASS 5.0%"
    assert section["data"]["S1"]["sex"] == "FAIL male"
    assert section["data"]["S2"]["identity"] == "PASS"
    header = section["headers"]["mean_coverage"]
    assert "wgs germline: fail < 20.0x, warn < 30.0x" in header["description"]
    assert header["cond_formatting_rules"]["fail"] == [{"s_contains": "FAIL"}]
    assert "1 PASS, 0 WARN, 2 FAIL" in section["description"]
    json.dumps(section)


def test_identity_cell_names_the_other_samples() -> None:
    check = Check(
        "S1", "identity", Status.FAIL, "2 comparisons", "", "identity: S1 and S3 (x) | S2"
    )
    batch = assess_batch(COHORT, METRICS, {**IDENTITY, "S1": check}, QC)
    section = multiqc.status_section(batch, COHORT, QC)
    assert section["data"]["S1"]["identity"] == "FAIL S2 S3"


def test_thresholds_and_general_statistics(batch: list[Any]) -> None:
    thresholds = multiqc.thresholds_section(COHORT, QC)
    assert "<th>wgs germline</th>" in thresholds["data"]
    assert "fail &lt; 20.0x, warn &lt; 30.0x" in thresholds["data"]
    general = multiqc.general_stats_section(batch, METRICS, COHORT)
    assert list(general["data"]) == ["S2", "S1", "S3"]
    assert general["headers"]["qc_status"]["placement"] == 1
    assert general["data"]["S3"] == {
        "qc_status": "FAIL",
        "autosomal_depth": 12.0,
        "bases_20x": 50.0,
        "inferred_sex": "male",
    }


def test_identity_matrix_in_sheet_order_not_clustered() -> None:
    pairs = [
        PairResult(
            "S2", "S1", "unrelated", "unrelated", Status.PASS, PairStats(200, 0.6, 0.1, 0.01)
        ),
    ]
    section = multiqc.identity_matrix_section(["S2", "S1", "S3"], pairs)
    assert section["xcats"] == section["ycats"] == ["S2", "S1", "S3"]
    assert section["data"] == [[0.5, 0.01, None], [0.01, 0.5, None], [None, None, 0.5]]
    assert section["pconfig"]["cluster_rows"] is False
    table = multiqc.identity_pairs_section(pairs)
    assert table["data"]["S2 vs S1"]["status"] == "PASS"


def test_panel_samples_show_no_genome_depth_in_general_statistics() -> None:
    panel = Sample("T1", "P-T1", "male", "tumour", "panel", "solid")
    sheet = Cohort(samples={"T1": panel}, units=())
    values = {"T1": metrics("T1", 7.5, 0.5, 0.5)}
    identity = not_checked(["T1"], "no sites")
    batch = assess_batch(sheet, values, identity, QC)
    row = multiqc.general_stats_section(batch, values, sheet)["data"]["T1"]
    assert row == {"qc_status": "WARN", "inferred_sex": "male"}
    checked = [c.check for c in batch[0].checks]
    assert "mean_coverage" not in checked
    assert {"target_bases_at_depth", "on_target_rate"} <= set(checked)
    assert next(c for c in batch[0].checks if c.check == "on_target_rate").status is Status.NA


COVERAGE = """\
level\tgene\texon\ttarget\tchrom\tstart\tend\tbases\tmean_depth\tpct_ge_100x\tbases_below_100x
panel\t\t\t\tchr1\t0\t900\t1000\t300\t95.0\t50
gene\tGENA\t\t\tchr1\t0\t500\t600\t320\t100.0\t0
exon\tGENA\texon1\t\tchr1\t0\t500\t600\t320\t100.0\t0
gene\tGENB\t\t\tchr1\t600\t900\t400\t250\t87.5\t50
"""


def test_panel_gene_coverage_heatmap(tmp_path: Path) -> None:
    tables = {}
    for name in ("T1", "N1"):
        tables[name] = tmp_path / f"{name}.coverage.tsv"
        tables[name].write_text(COVERAGE)
    panel = [
        Sample("N1", "P1", "male", "normal", "panel", "solid"),
        Sample("T1", "P1", "male", "tumour", "panel", "solid", matched_normal="N1"),
        Sample("G1", "P2", "male", "germline", "wgs"),
    ]
    sheet = Cohort(samples={s.sample: s for s in panel}, units=())
    section = multiqc.panel_genes_section(sheet, tables, QC)
    assert section["ycats"] == ["N1", "T1"]  # sheet order, panel samples only
    assert section["xcats"] == ["GENA", "GENB"]
    # 100% passes (top of the PASS band), 87.5% is below the tissue's 90% fail bound.
    assert section["data"] == [[100.0, 48.6], [100.0, 48.6]]
    assert "(100x)" in section["description"]
    assert "tumour: fail < 90.0%, warn < 95.0%" in section["description"]


def test_panel_gene_heatmap_colours_each_type_by_its_own_bounds(tmp_path: Path) -> None:
    """Issue #15: plasma genes that pass the plasma bounds were red on the tissue scale."""
    qc = resolve(
        {
            "reference": {"fasta": "r.fa"},
            "qc": {
                "thresholds": {
                    "panel": {
                        "plasma": {"target_bases_at_depth": {"fail_below": 0.1, "warn_below": 0.2}}
                    }
                }
            },
        }
    )["qc"]
    table = tmp_path / "c.coverage.tsv"
    table.write_text(COVERAGE)  # GENA 100%, GENB 87.5% of target bases at depth
    samples = [
        Sample("T1", "P1", "male", "tumour", "panel", "solid"),
        Sample("PL1", "P1", "male", "plasma", "panel", "solid", tumour_sample="T1"),
    ]
    sheet = Cohort(samples={s.sample: s for s in samples}, units=())
    section = multiqc.panel_genes_section(sheet, {"T1": table, "PL1": table}, qc)
    genes = multiqc.gene_coverage(table)[1]
    assert section["ycats"] == ["T1", "PL1"]
    tumour, plasma = section["data"]
    pass_band = multiqc.BAND_PASS
    for gene, value in zip(section["xcats"], zip(tumour, plasma, strict=True), strict=True):
        tumour_band, plasma_band = value
        if genes[gene] >= 20:  # passes the plasma bounds: never red, green
            assert plasma_band >= pass_band, (gene, genes[gene], plasma_band)
        if genes[gene] < 90:  # fails the tissue bounds: red in the tumour row
            assert tumour_band < multiqc.BAND_WARN, (gene, genes[gene], tumour_band)
    assert section["pconfig"]["min"] == 0 and section["pconfig"]["max"] == 100
    assert "plasma: fail < 10.0%, warn < 20.0%" in section["description"]
    bad = tmp_path / "bad.tsv"
    bad.write_text("level\tgene\nx\ty\n")
    with pytest.raises(GenomflowError, match=r"bad\.tsv: not a panel coverage table"):
        multiqc.gene_coverage(bad)


def test_command_line_report_sections(tmp_path: Path) -> None:
    from genomflow.cli import main

    (tmp_path / "samples.tsv").write_text(
        "sample\tpatient\tsex\ttype\tassay\tpanel\ttumour_sample\tcollection_date\n"
        "T1\tP1\tmale\ttumour\tpanel\tsolid\t\t2026-01-01\n"
        "PL1\tP1\tmale\tplasma\tpanel\tsolid\tT1\t2026-01-01\n"
        "PL2\tP1\tmale\tplasma\tpanel\tsolid\tT1\t2026-02-01\n"
    )
    (tmp_path / "units.tsv").write_text(
        "sample\tunit\tfq1\tfq2\n"
        + "".join(f"{s}\tL1\t{s}_1.fq.gz\t{s}_2.fq.gz\n" for s in ("T1", "PL1", "PL2"))
    )
    (tmp_path / "T1.coverage.tsv").write_text(COVERAGE)
    sheets = ["--samples", str(tmp_path / "samples.tsv"), "--units", str(tmp_path / "units.tsv")]
    genes = tmp_path / "genes_mqc.json"
    coverage = f"T1={tmp_path / 'T1.coverage.tsv'}"
    qc = ["--qc-config", json.dumps(QC)]
    assert (
        main(["qc", "panel-genes", *sheets, "--coverage", coverage, *qc, "--out", str(genes)]) == 0
    )
    assert json.loads(genes.read_text())["ycats"] == ["T1"]
    assert main(["qc", "panel-genes", *sheets, "--coverage", "T1", *qc, "--out", str(genes)]) == 2
