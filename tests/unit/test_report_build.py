"""Report building blocks: pseudonyms, digests, QC parsing, schema validation, FHIR."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from genomflow.errors import GenomflowError
from genomflow.report import qc
from genomflow.report.build import (
    check_pseudonym,
    config_digest,
    ctdna_result,
    deliverable_role,
    reference_name,
)
from genomflow.report.fhir import fhir_bundle
from genomflow.report.validate import (
    ReportError,
    draft_neutral_keywords,
    read_report,
    validate_report,
)
from genomflow.schemas import load_schema
from tests.kb.synthetic import (
    SyntheticSample,
    synthetic_variants,
    variant_pool,
    write_synthetic_report,
)


@pytest.fixture
def report(tmp_path: Path) -> dict[str, Any]:
    variants = synthetic_variants(variant_pool(200), 50, seed=3)
    path = write_synthetic_report(tmp_path, SyntheticSample("RD001", "PAT-0001"), variants)
    return json.loads(path.read_text())


@pytest.mark.parametrize(
    "patient", ["19121212-1212", "121212-1212", "1212121212", "P191212121212", "121212+1212"]
)
def test_personal_identity_numbers_are_refused(patient: str) -> None:
    with pytest.raises(GenomflowError, match="looks like a personal identity number"):
        check_pseudonym(patient, "samples.tsv")


@pytest.mark.parametrize("patient", ["PAT-0001", "P12345", "FAM1-PAT-22"])
def test_pseudonyms_are_accepted(patient: str) -> None:
    check_pseudonym(patient, "samples.tsv")


def test_config_digest_ignores_key_order() -> None:
    assert config_digest({"a": 1, "b": {"c": 2, "d": 3}}) == config_digest(
        {"b": {"d": 3, "c": 2}, "a": 1}
    )
    assert config_digest({"a": 1}) != config_digest({"a": 2})


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("S.bam", "alignments"),
        ("S.bam.bai", "alignments_index"),
        ("S.cram.crai", "alignments_index"),
        ("S.germline.vcf.gz", "germline_vcf"),
        ("S.somatic.vcf.gz.tbi", "somatic_vcf_index"),
        ("S.coverage.tsv", "coverage"),
        ("S.ctdna.json", "ctdna"),
        ("S.other.txt", "other"),
    ],
)
def test_deliverable_roles(name: str, role: str) -> None:
    assert deliverable_role(name) == role


def test_reference_name_falls_back_to_the_fasta_name() -> None:
    assert reference_name({"reference": {"name": "GRCh38", "fasta": "x.fa"}}) == "GRCh38"
    assert reference_name({"reference": {"name": "", "fasta": "ref/genome.fa.gz"}}) == "genome"


def test_samtools_stats_and_mosdepth_and_fastp(tmp_path: Path) -> None:
    stats = tmp_path / "s.txt"
    stats.write_text(
        "# comment\nSN\traw total sequences:\t1000\nSN\treads mapped:\t990\n"
        "SN\treads duplicated:\t50\t# note\nSN\terror rate:\t2.0e-03\n"
        "SN\tinsert size average:\t301.5\n"
    )
    assert qc.samtools_stats_metrics(stats) == {
        "reads_total": 1000.0,
        "reads_mapped_pct": 99.0,
        "duplicates_pct": 5.0,
        "error_rate": 0.002,
        "insert_size_mean": 301.5,
    }
    summary = tmp_path / "m.txt"
    summary.write_text(
        "chrom\tlength\tbases\tmean\tmin\tmax\nchr1\t10\t300\t30.0\t0\t40\n"
        "total\t10\t300\t30.00\t0\t40\n"
    )
    assert qc.mosdepth_mean_depth(summary) == {"mean_depth": 30.0}
    coverage = tmp_path / "S.coverage.tsv"
    coverage.write_text(
        "level\tgene\tbases\tmean_depth\tpct_ge_100x\n"
        "gene\tG1\t100\t50.0\t0.0\npanel\t\t300\t431.49\t98.07\n"
    )
    assert qc.panel_mean_depth(coverage) == {"mean_target_depth": 431.49}
    coverage.write_text("level\tgene\tbases\tmean_depth\ngene\tG1\t100\t50.0\n")
    with pytest.raises(GenomflowError, match=r"S\.coverage\.tsv: no 'panel' row"):
        qc.panel_mean_depth(coverage)
    fastp = tmp_path / "f.json"
    fastp.write_text(
        json.dumps(
            {
                "summary": {
                    "before_filtering": {"total_reads": 100},
                    "after_filtering": {"total_reads": 98, "q30_bases": 90, "total_bases": 100},
                }
            }
        )
    )
    assert qc.fastp_metrics([fastp]) == {"q30_rate": 0.9, "reads_passing_filter_pct": 98.0}
    bad = tmp_path / "bad.txt"
    bad.write_text("SN\treads mapped:\t1\n")
    with pytest.raises(GenomflowError, match="not samtools stats output"):
        qc.samtools_stats_metrics(bad)


def test_qc_status_table(tmp_path: Path) -> None:
    table = tmp_path / "qc_status.tsv"
    table.write_text(
        "sample\tcheck\tstatus\tvalue\tthreshold\treason\n"
        "A\toverall\tWARN\t\t\tdepth low; identity not checked\n"
        "A\tmean_coverage\tWARN\t25\t30\tdepth low\n"
        "B\toverall\tNA\t\t\t\n"
    )
    a = qc.qc_status(table, "A")
    assert a.status == "warn"
    assert a.reasons == ("depth low", "identity not checked")
    assert qc.qc_status(table, "B").status == "not_assessed"
    assert qc.qc_status(None, "A").status == "not_assessed"
    with pytest.raises(GenomflowError, match="no QC status for sample 'C'"):
        qc.qc_status(table, "C")


def test_ctdna_result_keeps_the_contract_fields(tmp_path: Path) -> None:
    path = tmp_path / "P1.ctdna.json"
    data = {
        "sample": "P1",
        "tumour_sample": "T1",
        "tumour_fraction": 0.01,
        "ci_low": 0.005,
        "ci_high": 0.02,
        "p_value": 0.001,
        "detected": True,
        "status": "detected",
        "informative_molecules": 1000,
        "mutant_molecules": 12,
        "loci_used": 20,
        "loci_excluded": [{"locus": "chr1:1", "reason": "low depth"}],
        "lod95": 0.002,
    }
    path.write_text(json.dumps(data))
    result = ctdna_result(path)
    assert result["loci_excluded"] == 1
    assert result["tumour_sample"] == "T1"
    assert result["detected"] is True


def test_the_variant_definition_is_draft_neutral() -> None:
    assert draft_neutral_keywords(load_schema("report")["$defs"]["variant"]) == set()


def test_valid_report_passes(report: dict[str, Any]) -> None:
    validate_report(report, "r.json")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda r: r.update(schema_version="0.9"), "at schema_version: '0.9' is not one of"),
        (lambda r: r["sample"].update(patient="19121212-1212"), "at sample/patient"),
        (lambda r: r["variants"][7].update(alt="X"), "at variants/7/alt: 'X' does not match"),
        (lambda r: r["variants"][2].pop("vrs_id"), "at variants/2: 'vrs_id' is a required"),
        (lambda r: r["variants"][3].update(depth=True), "at variants/3/depth: True is not"),
        (lambda r: r["files"][0].update(sha256="x"), "at files/0/sha256"),
        (lambda r: r["sample"].update(collection_date="2026-02-30"), "is not a 'date'"),
        (lambda r: r.update(extra=1), "Additional properties are not allowed ('extra'"),
    ],
)
def test_invalid_reports_are_refused_with_the_field(
    report: dict[str, Any], change: Any, message: str
) -> None:
    broken = copy.deepcopy(report)
    change(broken)
    with pytest.raises(ReportError, match=r"^r\.json: ") as caught:
        validate_report(broken, "r.json")
    assert message in str(caught.value)


def test_not_an_object_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="top level must be a JSON object"):
        validate_report([1], "r.json")
    path = tmp_path / "r.json"
    path.write_text("{")
    with pytest.raises(ReportError, match="not valid JSON"):
        read_report(path)


def test_fhir_bundle_has_a_report_and_one_observation_per_passing_call(
    report: dict[str, Any],
) -> None:
    bundle = fhir_bundle(report)
    parsed = Bundle.model_validate(bundle)
    kinds = [entry.resource.__resource_type__ for entry in parsed.entry]
    passing = [v for v in report["variants"] if v["filters"] == ["PASS"]]
    assert kinds[:4] == ["DiagnosticReport", "Patient", "Organization", "Specimen"]
    assert kinds.count("Observation") == len(passing)
    observation = bundle["entry"][4]["resource"]
    codes = {c["code"]["coding"][0]["code"] for c in observation["component"]}
    assert {
        "81252-9",
        "62374-4",
        "48013-7",
        "81254-5",
        "69547-8",
        "69551-0",
        "53034-5",
        "81258-6",
        "48002-0",  # genomic source class (82155-3 is the copy number)
    } <= codes
    assert "82155-3" not in codes
    assert observation["code"]["coding"][0]["code"] == "69548-6"
    vrs = next(c for c in observation["component"] if c["code"]["coding"][0]["code"] == "81252-9")
    assert vrs["valueCodeableConcept"]["coding"][0]["code"] == passing[0]["vrs_id"]
    patient = bundle["entry"][1]["resource"]
    assert patient["identifier"][0]["value"] == "PAT-0001"
    assert "name" not in patient


def test_the_sheets_diagnosis_goes_into_the_reports_sample(report: dict[str, Any]) -> None:
    import datetime

    from genomflow.report.build import sample_section
    from genomflow.sheets import Sample

    sample = Sample("T1", "PAT-1", "female", "tumour", "panel", "p", diagnosis="LUAD")
    section = sample_section(sample)
    assert section["diagnosis"] == "LUAD"
    report["sample"] = section | {"collection_date": datetime.date(2026, 3, 4).isoformat()}
    validate_report(report, "r.json")  # schema 1.2.0 knows it
    assert sample_section(Sample("N1", "PAT-1", "female", "normal", "wgs"))["diagnosis"] is None
    report["sample"]["diagnosis"] = "x" * 101
    with pytest.raises(ReportError, match="at sample/diagnosis"):
        validate_report(report, "r.json")
