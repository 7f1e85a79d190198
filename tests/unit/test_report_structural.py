"""Structural variants and copy-number segments in the sample report."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genomflow.cnv import calls
from genomflow.errors import GenomflowError
from genomflow.report.build import deliverable_role
from genomflow.report.structural import CNV, SV, read_structural
from genomflow.report.validate import REPORT_SCHEMA
from genomflow.schemas import load_schema
from genomflow.sv.deliver import deliver
from tests.conftest import REPO
from tests.unit.test_sv import group_calls


def test_roles_of_the_new_deliverables() -> None:
    assert [deliverable_role(f"S.{s}") for s in ("sv.vcf.gz", "cnv.vcf.gz.tbi", "cnv.tsv")] == [
        "sv_vcf",
        "cnv_vcf_index",
        "cnv_segments",
    ]


def test_sv_entries_carry_genotype_and_length(tmp_path: Path) -> None:
    vcf = tmp_path / "A.sv.vcf.gz"
    deliver(group_calls(tmp_path / "group.vcf"), "A", vcf)
    entries = read_structural(vcf, "A", SV)
    assert entries[0]["id"] == "chr1:1000-3200:DEL"
    assert (entries[0]["genotype"], entries[0]["length"], entries[0]["copy_number"]) == (
        "0/1",
        -2200,
        None,
    )
    assert entries[1]["svtype"] == "BND" and entries[1]["length"] is None
    with pytest.raises(GenomflowError, match="no sample 'Z'"):
        read_structural(vcf, "Z", SV)


def test_an_unfiltered_tumour_only_sv_shows_its_filter_in_the_report(tmp_path: Path) -> None:
    vcf = tmp_path / "A.sv.vcf.gz"
    deliver(group_calls(tmp_path / "group.vcf"), "A", vcf, somatic=True, unfiltered=True)
    assert [e["filters"] for e in read_structural(vcf, "A", SV)] == [
        ["Unfiltered"],
        ["Unfiltered"],
    ]


def test_cnv_entries_carry_copy_number_and_call(tmp_path: Path) -> None:
    fasta = tmp_path / "genome.fa"
    shutil.copy(REPO / "resources/testgenome/genome.fa", fasta)
    segment = calls.Segment("chr1", 96954, 104047, ("GFB2",), 1.0, 6, "amplification", 10)
    context = calls.VcfContext("T", "pooled", "pooled from N", 0.6, "tumour")
    vcf = tmp_path / "T.cnv.vcf.gz"
    calls.write_vcf(vcf, [segment], fasta, context)
    (entry,) = read_structural(vcf, "T", CNV)
    assert entry["copy_number"] == 6 and entry["call"] == "amplification"
    assert entry["genes"] == ["GFB2"] and entry["log2"] == 1.0 and entry["genotype"] is None
    item = load_schema(REPORT_SCHEMA)["properties"]["structural_variants"]["items"]
    assert set(entry) == set(item["required"])


def test_fhir_bundle_has_a_copy_number_observation(tmp_path: Path) -> None:
    from genomflow.report.fhir import fhir_bundle
    from tests.kb.synthetic import SyntheticSample, write_synthetic_report

    who = SyntheticSample("T1", "PAT-0009", type="tumour", assay="panel", panel="p1")
    report = json.loads(write_synthetic_report(tmp_path, who, []).read_text())
    chrom = report["provenance"]["reference"]["contigs"][0]["name"]
    report["structural_variants"] = [
        {"id": f"{chrom}:100-900:DUP", "source": "cnv", "chrom": chrom, "start": 100, "end": 900,
         "svtype": "DUP", "length": 801, "genes": ["GFB2"], "genotype": None, "copy_number": 6,
         "log2": 1.0, "call": "amplification", "coding": False, "filters": ["PASS"]},
    ]  # fmt: skip
    bundle = fhir_bundle(report)
    resources = [e["resource"] for e in bundle["entry"]]
    (observation,) = [r for r in resources if r["resourceType"] == "Observation"]
    components = {c["code"]["coding"][0]["code"]: c for c in observation["component"]}
    assert components["82155-3"]["valueQuantity"]["value"] == 6
    assert components["48019-4"]["valueCodeableConcept"]["coding"][0]["code"] == "SO:0001742"
    assert components["81300-6"]["valueQuantity"]["value"] == 801
    assert components["48002-0"]["valueCodeableConcept"]["coding"][0]["display"] == "Somatic"
    assert components["48018-6"]["valueCodeableConcept"]["text"] == "GFB2"
