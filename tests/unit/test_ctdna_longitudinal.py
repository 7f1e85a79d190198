"""A patient's series: calls over time, the table and plot, and an end-to-end run from
simulated UMI reads (consensus -> monitor -> timeline)."""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.ctdna import longitudinal as lg
from genomflow.ctdna import simulate
from genomflow.ctdna.longitudinal import Timepoint, TrendCall
from genomflow.errors import GenomflowError

DAY0 = datetime.date(2024, 1, 10)


def point(sample: str, day: int, status: str, fraction: float | None = None) -> Timepoint:
    return Timepoint(
        sample=sample,
        patient="P1",
        collection_date=DAY0 + datetime.timedelta(days=day),
        status=status,
        tumour_fraction=fraction,
    )


def test_falling_cleared_relapsed_in_date_order() -> None:
    points = [
        point("S3", 60, "not_detected", 0.0),
        point("S1", 0, "detected", 0.02),
        point("S4", 120, "detected", 0.01),
        point("S2", 30, "detected", 0.004),
    ]
    rows = lg.patient_calls(points)
    assert [r.point.sample for r in rows] == ["S1", "S2", "S3", "S4"]
    assert [r.call for r in rows] == [
        TrendCall.BASELINE,
        TrendCall.MOLECULAR_RESPONSE,
        TrendCall.CLEARANCE,
        TrendCall.RELAPSE,
    ]
    assert [r.days for r in rows] == [0, 30, 60, 120]
    assert rows[1].reference_sample == "S1"
    assert rows[1].fold_change == pytest.approx(0.2)


def test_response_is_measured_against_the_baseline_or_the_latest_relapse() -> None:
    rows = lg.patient_calls(
        [
            point("S1", 0, "detected", 0.010),
            point("S2", 10, "detected", 0.006),  # 40% drop: not a response
            point("S3", 20, "detected", 0.005),  # exactly half: a response
            point("S4", 30, "not_detected", 0.0),
            point("S5", 40, "not_detected", 0.0),
            point("S6", 50, "detected", 0.008),
            point("S7", 60, "detected", 0.003),  # vs the relapse S6
        ]
    )
    assert [r.call.value for r in rows] == [
        "baseline",
        "persistent",
        "molecular_response",
        "clearance",
        "not_detected",
        "relapse",
        "molecular_response",
    ]
    assert rows[6].reference_sample == "S6"


def test_indeterminate_samples_are_skipped_when_comparing() -> None:
    rows = lg.patient_calls(
        [
            point("S1", 0, "not_detected", 0.0),
            point("S2", 10, "indeterminate"),
            point("S3", 20, "detected", 0.001),
        ]
    )
    assert [r.call for r in rows] == [
        TrendCall.BASELINE,
        TrendCall.INDETERMINATE,
        TrendCall.RELAPSE,
    ]


def test_sample_sheet_faults_name_file_line_and_column(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tpatient\ttype\tcollection_date\nPL1\tP1\tplasma\t2024-13-01\n")
    with pytest.raises(GenomflowError, match=r"samples.tsv line 2, column 'collection_date'"):
        lg.read_samples(sheet)
    sheet.write_text("sample\ttype\nPL1\tplasma\n")
    with pytest.raises(GenomflowError, match="missing column 'patient'"):
        lg.read_samples(sheet)


def test_results_must_be_in_the_sheet_with_a_date(tmp_path: Path) -> None:
    sheet = tmp_path / "samples.tsv"
    sheet.write_text("sample\tpatient\ttype\tcollection_date\nPL1\tP1\tplasma\t\n")
    rows = lg.read_samples(sheet)
    result = {"sample": "PL1", "status": "detected"}
    with pytest.raises(GenomflowError, match="PL1 has no collection_date"):
        lg.timepoints({tmp_path / "PL1.json": result}, rows, sheet)
    with pytest.raises(GenomflowError, match="sample PL9 is not in"):
        lg.timepoints({tmp_path / "x.json": {"sample": "PL9", "status": "x"}}, rows, sheet)


def test_table_and_multiqc_plot(tmp_path: Path) -> None:
    rows = lg.timeline([point("S1", 0, "detected", 0.002), point("S2", 14, "not_detected", 0.0)])
    table = tmp_path / "timeline.tsv"
    lg.write_tsv(rows, table)
    lines = list(csv.DictReader(table.open(), delimiter="\t"))
    assert list(lines[0]) == list(lg.TSV_COLUMNS)
    assert lines[0]["tumour_fraction_ppm"] == "2000"
    assert [line["call"] for line in lines] == ["baseline", "clearance"]
    section = lg.timeline_section(rows)
    assert section["plot_type"] == "linegraph"
    assert section["data"] == {"P1": {0: 2000.0, 14: 0.0}}


FRACTIONS = {"PL1": 0.05, "PL2": 0.01, "PL3": 0.0, "PL4": 0.03}
DATES = {"PL1": "2024-01-10", "PL2": "2024-02-20", "PL3": "2024-04-02", "PL4": "2024-07-15"}


def test_end_to_end_falling_cleared_relapsed(tmp_path: Path) -> None:
    """Simulated UMI reads of four plasma timepoints of one patient: consensus, monitor and
    timeline through the command line; the calls after the baseline come out as molecular
    response, clearance and relapse."""
    fasta = tmp_path / "ref.fa"
    sequences = simulate.write_reference(fasta, {"chr1": 16_000}, seed=21)
    loci = simulate.choose_loci(sequences, 12, tumour_vaf=0.3, seed=22)
    vcf = tmp_path / "T1.somatic.vcf.gz"
    simulate.write_tumour_vcf(vcf, loci, sequences, tumour="T1", purity=0.6)
    sheet = tmp_path / "samples.tsv"
    lines = ["sample\tpatient\tsex\ttype\tassay\ttumour_sample\tcollection_date"]
    lines += [f"{s}\tP1\tfemale\tplasma\tpanel\tT1\t{DATES[s]}" for s in FRACTIONS]
    sheet.write_text("\n".join(lines) + "\n")
    results = []
    for index, (sample, fraction) in enumerate(FRACTIONS.items()):
        raw = tmp_path / f"{sample}.raw.bam"
        spec = simulate.PlasmaSpec(
            fraction, molecules_per_locus=250, mean_family_size=2.5, seed=100 + index
        )
        simulate.write_plasma_bam(raw, sequences, loci, spec, sample=sample)
        consensus = tmp_path / f"{sample}.bam"
        metrics = tmp_path / f"{sample}.consensus.json"
        args = ["ctdna", "consensus", "--in", str(raw), "--out", str(consensus)]
        assert main([*args, "--metrics", str(metrics), "--reference", str(fasta)]) == 0
        result = tmp_path / f"{sample}.ctdna.json"
        args = ["ctdna", "monitor", "--variants", str(vcf), "--bam", str(consensus)]
        args += ["--reference", str(fasta), "--sample", sample, "--out", str(result)]
        assert main([*args, "--lod-simulations", "100"]) == 0
        results.append(str(result))
    table, mqc = tmp_path / "P1.timeline.tsv", tmp_path / "ctdna_timeline_mqc.json"
    args = ["ctdna", "timeline", "--results", *reversed(results), "--samples", str(sheet)]
    assert main([*args, "--out", str(table), "--mqc", str(mqc)]) == 0
    rows = list(csv.DictReader(table.open(), delimiter="\t"))
    assert [row["sample"] for row in rows] == list(FRACTIONS)
    assert [row["status"] for row in rows] == [
        "detected",
        "detected",
        "not_detected",
        "detected",
    ]
    assert [row["call"] for row in rows] == [
        "baseline",
        "molecular_response",
        "clearance",
        "relapse",
    ]
    for row, fraction in zip(rows, FRACTIONS.values(), strict=True):
        low, high = float(row["ci_low_ppm"]), float(row["ci_high_ppm"])
        assert low <= fraction * 1e6 <= high
    plot = json.loads(mqc.read_text())
    assert list(plot["data"]["P1"]) == ["0", "41", "83", "187"]
