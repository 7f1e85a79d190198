"""The FHIR bundle against the HL7 Genomics Reporting (STU3) profiles' required codes, one
element per test: the Variant profile's components, and the tmb and msi biomarker profiles."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from genomflow.report.fhir import GENOMFLOW_CODES, GR, fhir_bundle
from genomflow.report.validate import validate_report
from tests.kb.synthetic import SyntheticSample, write_synthetic_report

LOINC = "http://loinc.org"

VARIANT = {
    "chrom": "chr1",
    "pos": 100670,
    "ref": "A",
    "alt": "T",
    "vrs_id": "ga4gh:VA." + "A" * 32,
    "origin": "somatic",
    "genotype": None,
    "zygosity": None,
    "vaf": 0.25,
    "depth": 400,
    "alt_depth": 100,
    "quality": 999.0,
    "consequence": "missense",
    "gene": "GFB2",
    "filters": ["PASS"],
}
TMB = {
    "status": "assessed",
    "tmb": 5450.734,
    "ci_low": 3560.6,
    "ci_high": 7986.588,
    "mutations": 26,
    "callable_bp": 4770,
    "coding_target_bp": 4869,
    "reason": None,
    "method": "m",
    "min_depth": 100,
    "min_vaf": 0.05,
    "include_synonymous": False,
    "unit": "mutations/Mb",
}
MSI = {
    "status": "assessed",
    "call": "MSI-H",
    "unstable_share": 0.2973,
    "sites_total": 37,
    "sites_evaluable": 37,
    "sites_unstable": 11,
    "threshold": 0.2,
    "mode": "baseline",
    "comparison": "CA001N,CA003N",
    "reason": None,
    "method": "m",
}


@pytest.fixture
def report(tmp_path: Path) -> dict[str, Any]:
    who = SyntheticSample("T1", "PAT-0001")
    path = write_synthetic_report(tmp_path, who, [VARIANT])
    data: dict[str, Any] = json.loads(path.read_text())
    data["sample"]["type"] = "tumour"
    data["biomarkers"] = {"tmb": copy.deepcopy(TMB), "msi": copy.deepcopy(MSI)}
    validate_report(data, "r.json")
    return data


def resources(bundle: dict[str, Any], profile: str) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle["entry"]
        if f"{GR}/{profile}" in e["resource"].get("meta", {}).get("profile", [])
    ]


def component(observation: dict[str, Any], code: str) -> dict[str, Any]:
    found = [c for c in observation["component"] if c["code"]["coding"][0]["code"] == code]
    assert len(found) == 1, code
    assert found[0]["code"]["coding"][0]["system"] == LOINC
    return found[0]


@pytest.fixture
def variant(report: dict[str, Any]) -> dict[str, Any]:
    bundle = fhir_bundle(report)
    Bundle.model_validate(bundle)
    (observation,) = resources(bundle, "variant")
    assert observation["code"]["coding"][0]["code"] == "69548-6"
    return observation


def test_genomic_source_class_is_48002_0(variant: dict[str, Any]) -> None:
    value = component(variant, "48002-0")["valueCodeableConcept"]["coding"][0]
    assert (value["system"], value["code"], value["display"]) == (LOINC, "LA6684-0", "Somatic")
    codes = [c["code"]["coding"][0]["code"] for c in variant["component"]]
    assert "82155-3" not in codes  # the copy-number code


def test_allelic_read_depth_is_the_reads_of_the_allele(variant: dict[str, Any]) -> None:
    value = component(variant, "82121-5")["valueQuantity"]
    assert value == {"value": 100, "system": "http://unitsofmeasure.org", "code": "1"}


def test_total_depth_has_its_own_component(variant: dict[str, Any]) -> None:
    (total,) = [
        c for c in variant["component"] if c["code"]["coding"][0]["system"] == GENOMFLOW_CODES
    ]
    assert total["code"]["coding"][0]["code"] == "total-read-depth"
    assert total["valueQuantity"]["value"] == 400


def test_gene_studied_is_48018_6(variant: dict[str, Any]) -> None:
    assert component(variant, "48018-6")["valueCodeableConcept"] == {"text": "GFB2"}


def test_sample_allelic_frequency_and_alleles(variant: dict[str, Any]) -> None:
    assert component(variant, "81258-6")["valueQuantity"]["value"] == 0.25
    assert component(variant, "69547-8")["valueString"] == "A"
    assert component(variant, "69551-0")["valueString"] == "T"
    assert component(variant, "81254-5")["valueRange"]["low"]["value"] == 100670


def test_a_variant_without_reads_of_the_allele_has_no_82121_5(report: dict[str, Any]) -> None:
    report["variants"][0]["alt_depth"] = None
    bundle = fhir_bundle(report)
    (observation,) = resources(bundle, "variant")
    codes = [c["code"]["coding"][0]["code"] for c in observation["component"]]
    assert "82121-5" not in codes


def test_tmb_observation(report: dict[str, Any]) -> None:
    bundle = fhir_bundle(report)
    (tmb,) = resources(bundle, "tmb")
    assert tmb["code"]["coding"][0] == {
        "system": LOINC,
        "code": "94076-7",
        "display": "Mutations/Megabase [# Ratio] in Tumor",
    }
    assert tmb["valueQuantity"] == {
        "value": 5450.734,
        "unit": "Mutations/Megabase",
        "system": "http://unitsofmeasure.org",
        "code": "1/1000000{Base}",
    }
    assert "95% CI 3560.6-7986.59" in tmb["note"][0]["text"]
    report_resource = bundle["entry"][0]["resource"]
    urls = {e["fullUrl"] for e in bundle["entry"] if e["resource"] is tmb}
    assert urls <= {r["reference"] for r in report_resource["result"]}


def test_msi_observation(report: dict[str, Any]) -> None:
    (msi,) = resources(fhir_bundle(report), "msi")
    assert msi["code"]["coding"][0]["code"] == "81695-9"
    value = msi["valueCodeableConcept"]["coding"][0]
    assert (value["system"], value["code"], value["display"]) == (LOINC, "LA26203-2", "MSI-H")
    report["biomarkers"]["msi"]["call"] = "MSS"
    (msi,) = resources(fhir_bundle(report), "msi")
    assert msi["valueCodeableConcept"]["coding"][0]["code"] == "LA14122-8"


def test_biomarkers_not_assessed_are_stated(report: dict[str, Any]) -> None:
    report["biomarkers"]["tmb"] = {
        "status": "not_assessable",
        "tmb": None,
        "ci_low": None,
        "ci_high": None,
        "reason": "genes.gff3: no CDS features",
    }
    report["biomarkers"]["msi"] = {
        "status": "not_assessable",
        "call": None,
        "unstable_share": None,
        "reason": "no microsatellites inside the targets",
    }
    bundle = fhir_bundle(report)
    Bundle.model_validate(bundle)
    (tmb,) = resources(bundle, "tmb")
    assert "valueQuantity" not in tmb
    assert tmb["dataAbsentReason"]["coding"][0]["code"] == "as-text"
    assert tmb["note"][0]["text"] == "TMB not_assessable: genes.gff3: no CDS features"
    (msi,) = resources(bundle, "msi")
    assert msi["valueCodeableConcept"]["coding"][0]["code"] == "LA11884-6"  # Indeterminate
    assert "no microsatellites" in msi["note"][0]["text"]


def test_a_germline_report_has_no_biomarker_observations(report: dict[str, Any]) -> None:
    report["biomarkers"] = None
    report["sample"]["type"] = "germline"
    bundle = fhir_bundle(report)
    assert not resources(bundle, "tmb") and not resources(bundle, "msi")


# --- report schema 1.2.0: transcript, HGVS and ClinVar's diagnostic implication ------------

HGVS = {
    "transcript": "ENST00000288602.11",
    "hgvs_c": "c.1799T>A",
    "hgvs_p": "p.(Val600Glu)",
    "exon": "15/18",
    "clinical_significance": "Pathogenic",
}


@pytest.fixture
def annotated(report: dict[str, Any]) -> dict[str, Any]:
    report["variants"][0].update(HGVS)
    validate_report(report, "r.json")
    return report


def test_transcript_is_the_reference_sequence_component_51958_7(
    annotated: dict[str, Any],
) -> None:
    bundle = fhir_bundle(annotated)
    Bundle.model_validate(bundle)
    (observation,) = resources(bundle, "variant")
    value = component(observation, "51958-7")["valueCodeableConcept"]
    assert value["coding"] == [{"system": "http://www.ensembl.org", "code": "ENST00000288602.11"}]
    assert component(observation, "48004-6")["valueCodeableConcept"] == {"text": "c.1799T>A"}
    assert component(observation, "48005-3")["valueCodeableConcept"] == {"text": "p.(Val600Glu)"}


def test_a_transcript_that_is_no_refseq_or_ensembl_id_is_text(annotated: dict[str, Any]) -> None:
    annotated["variants"][0]["transcript"] = "GFB2-201"
    (observation,) = resources(fhir_bundle(annotated), "variant")
    assert component(observation, "51958-7")["valueCodeableConcept"] == {"text": "GFB2-201"}


def test_clinical_significance_is_a_diagnostic_implication_derived_from_the_variant(
    annotated: dict[str, Any],
) -> None:
    bundle = fhir_bundle(annotated)
    Bundle.model_validate(bundle)
    (implication,) = resources(bundle, "diagnostic-implication")
    (variant_url,) = [
        e["fullUrl"]
        for e in bundle["entry"]
        if f"{GR}/variant" in e["resource"].get("meta", {}).get("profile", [])
    ]
    assert implication["code"]["coding"][0] == {
        "system": "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs",
        "code": "diagnostic-implication",
        "display": "Diagnostic Implication",
    }
    assert implication["derivedFrom"] == [{"reference": variant_url}]
    assert "valueCodeableConcept" not in implication  # the profile: value[x] 0..0
    value = component(implication, "53037-8")["valueCodeableConcept"]
    assert value["coding"][0] == {"system": LOINC, "code": "LA6668-3", "display": "Pathogenic"}
    assert value["text"] == "Pathogenic"
    categories = {c["coding"][0]["code"] for c in implication["category"]}
    assert categories == {"laboratory", "GE"}
    (url,) = [e["fullUrl"] for e in bundle["entry"] if e["resource"] is implication]
    assert {"reference": url} in bundle["entry"][0]["resource"]["result"]  # the report lists it


@pytest.mark.parametrize(
    ("clinvar", "code"),
    [
        ("Likely_pathogenic", "LA26332-9"),
        ("Uncertain_significance", "LA26333-7"),
        ("Likely_benign", "LA26334-5"),
        ("Benign", "LA6675-8"),
        ("Conflicting_interpretations_of_pathogenicity", None),
    ],
)
def test_clinvar_values_map_to_the_loinc_answers_of_ll4034_6(
    annotated: dict[str, Any], clinvar: str, code: str | None
) -> None:
    annotated["variants"][0]["clinical_significance"] = clinvar
    bundle = fhir_bundle(annotated)
    Bundle.model_validate(bundle)
    (implication,) = resources(bundle, "diagnostic-implication")
    value = component(implication, "53037-8")["valueCodeableConcept"]
    assert value["text"] == clinvar
    assert [c["code"] for c in value.get("coding", [])] == ([code] if code else [])


def test_no_clinical_significance_no_implication_and_old_reports_still_convert(
    report: dict[str, Any],
) -> None:
    bundle = fhir_bundle(report)  # no HGVS fields at all (as in reports of schema 1.0.0/1.1.0)
    Bundle.model_validate(bundle)
    assert not resources(bundle, "diagnostic-implication")
    (observation,) = resources(bundle, "variant")
    codes = {c["code"]["coding"][0]["code"] for c in observation["component"]}
    assert not codes & {"51958-7", "48004-6", "48005-3"}


def test_a_failing_call_gets_no_implication(annotated: dict[str, Any]) -> None:
    annotated["variants"][0]["filters"] = ["LowQual"]
    assert not resources(fhir_bundle(annotated), "diagnostic-implication")
