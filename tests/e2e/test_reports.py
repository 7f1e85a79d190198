"""End to end: the demo batch's sample reports, their FHIR bundles, and loading them.

Uses the shared demo run (``demo_run``); the load rule runs in a copy of it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pysam
import pytest
import yaml
from fhir.resources.R4B.bundle import Bundle

from genomflow.report.build import sha256_file
from genomflow.report.validate import read_report
from genomflow.report.vrs import FastaDataProxy, allele_id, read_sequence_dict
from tests.conftest import REPO, TESTGENOME, snakemake, tool_env
from tests.kb.fixtures import new_database, pg_server
from tests.kb.helpers import counts
from tests.services.postgres import PostgresServer

pytestmark = pytest.mark.e2e
__all__ = ["pg_server"]

SAMPLES = ("RD001", "RD002", "RD003")
PATIENT = {"RD001": "PAT-0001", "RD002": "PAT-0002", "RD003": "PAT-0003"}


def report_path(run: Path, sample: str) -> Path:
    return run / "results" / "samples" / sample / f"{sample}.report.json"


@pytest.fixture(scope="module")
def reports(demo_run: Path) -> dict[str, dict[str, Any]]:
    return {sample: read_report(report_path(demo_run, sample))[1] for sample in SAMPLES}


def genomflow(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "genomflow", *args],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=300,
        check=False,
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_report_validates_and_describes_the_sample(
    demo_run: Path, reports: dict[str, dict[str, Any]], sample: str
) -> None:
    report = reports[sample]  # read_report validated it against the schema
    assert report["schema_version"] == "1.2.0"
    assert report["sample"]["id"] == sample
    assert report["sample"]["patient"] == PATIENT[sample]
    assert report["sample"]["collection_date"] == "2026-03-02"
    assert report["centre"]["id"] == "demo-centre"
    assert report["qc"]["status"] in ("pass", "warn", "fail")
    assert report["qc"]["metrics"]["mean_depth"] > 10
    assert report["ctdna"] is None
    provenance = report["provenance"]
    assert len(provenance["config_digest"]) == 64
    assert provenance["software"]["bwa"].startswith("0.7.17")
    dictionary = read_sequence_dict(demo_run / "results" / "reference" / "genome.dict")
    assert {c["name"]: (c["length"], c["md5"]) for c in provenance["reference"]["contigs"]} == (
        dictionary
    )


@pytest.mark.parametrize("sample", SAMPLES)
def test_report_files_and_variants_match_the_deliverables(
    demo_run: Path, reports: dict[str, dict[str, Any]], sample: str
) -> None:
    report = reports[sample]
    folder = report_path(demo_run, sample).parent
    roles = {f["role"]: f for f in report["files"]}
    assert {"alignments", "alignments_index", "germline_vcf", "germline_vcf_index"} <= set(roles)
    for entry in report["files"]:
        assert sha256_file(folder / entry["path"]) == entry["sha256"]
    with pysam.VariantFile(str(folder / roles["germline_vcf"]["path"])) as vcf:
        records = [(r.chrom, r.pos, r.ref, r.alts[0]) for r in vcf if r.alts]
    assert [(v["chrom"], v["pos"], v["ref"], v["alt"]) for v in report["variants"]] == records
    assert all(v["origin"] == "germline" and v["genotype"] for v in report["variants"])


def test_vrs_ids_are_those_of_the_reference(reports: dict[str, dict[str, Any]]) -> None:
    proxy = FastaDataProxy(TESTGENOME / "genome.fa")
    try:
        for report in reports.values():
            for v in report["variants"][:200]:
                assert v["vrs_id"] == allele_id(proxy, v["chrom"], v["pos"], v["ref"], v["alt"])
    finally:
        proxy.close()
    ids = [v["vrs_id"] for r in reports.values() for v in r["variants"]]
    assert all(ids)


@pytest.mark.parametrize("sample", SAMPLES)
def test_fhir_bundle_parses_with_fhir_resources(
    demo_run: Path, reports: dict[str, dict[str, Any]], sample: str
) -> None:
    path = demo_run / "results" / "samples" / sample / f"{sample}.fhir.json"
    bundle = Bundle.model_validate_json(path.read_text())
    resources = [entry.resource for entry in bundle.entry]
    [diagnostic] = [r for r in resources if r.__resource_type__ == "DiagnosticReport"]
    observations = [r for r in resources if r.__resource_type__ == "Observation"]
    passing = [v for v in reports[sample]["variants"] if v["filters"] == ["PASS"]]
    structural = reports[sample].get("structural_variants", [])
    passing += [e for e in structural if e["filters"] == ["PASS"]]
    if sample == "RD001":  # carries the trio's three planted SVs
        assert len([e for e in structural if e["source"] == "sv"]) >= 3
    assert len(observations) == len(diagnostic.result) == len(passing)
    assert observations[0].code.coding[0].code == "69548-6"


def test_every_demo_report_validates_and_tumours_carry_somatic_calls(demo_run: Path) -> None:
    paths = sorted((demo_run / "results" / "samples").glob("*/*.report.json"))
    assert len(paths) >= len(SAMPLES)
    for path in paths:
        _, report = read_report(path)  # the schema
        Bundle.model_validate_json(path.with_name(path.name.replace("report", "fhir")).read_text())
        roles = {f["role"] for f in report["files"]}
        origins = {v["origin"] for v in report["variants"]}
        if report["sample"]["type"] == "tumour":
            assert "somatic_vcf" in roles
            assert origins <= {"somatic"}
        if "germline_vcf" in roles:
            assert "germline" in origins


def test_cli_validates_the_reports(demo_run: Path) -> None:
    done = genomflow("report", "validate", *(str(report_path(demo_run, s)) for s in SAMPLES))
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": valid (schema 1.2.0") == 3


def _load_and_reload(url: str, demo_run: Path) -> None:
    paths = [str(report_path(demo_run, s)) for s in SAMPLES]
    first = genomflow("load", "--db", url, *paths)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count("loaded as analysis") == 3
    loaded = counts(url)
    assert loaded["analyses"] == 3
    assert loaded["calls"] == sum(len(read_report(Path(p))[1]["variants"]) for p in paths)
    again = genomflow("load", "--db", url, *paths)
    assert again.returncode == 0, again.stderr
    assert again.stdout.count("unchanged") == 3
    assert counts(url) == loaded


def test_demo_reports_load_into_sqlite_and_again_change_nothing(
    demo_run: Path, tmp_path: Path, reports: dict[str, dict[str, Any]]
) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    _load_and_reload(url, demo_run)
    v = reports["RD001"]["variants"][0]
    spec = f"{v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"
    done = genomflow("kb", "variant", spec, "--db", url)
    assert done.returncode == 0, done.stderr
    assert "demo-centre  wgs" in done.stdout and "<5" in done.stdout
    done = genomflow("kb", "variant", v["vrs_id"], "--db", url, "--sample-level")
    assert "RD001" in done.stdout
    done = genomflow("kb", "patient", "PAT-0001", "--db", url)
    assert done.returncode == 0, done.stderr
    assert "RD001" in done.stdout and "2026-03-02" in done.stdout


def test_demo_reports_load_into_postgresql_and_again_change_nothing(
    demo_run: Path, pg_server: PostgresServer
) -> None:
    _load_and_reload(new_database(pg_server), demo_run)


def test_the_pipeline_loads_the_batch_when_asked(demo_run: Path, tmp_path: Path) -> None:
    copy = tmp_path / "run"
    shutil.copytree(demo_run, copy, symlinks=True)
    config = yaml.safe_load((copy / "config.yaml").read_text())
    url = f"sqlite:///{copy / 'results' / 'genomflow.sqlite'}"
    config["load"] = {"db": url}
    (copy / "config.yaml").write_text(yaml.safe_dump(config))
    done = snakemake(copy, copy / "config.yaml", "--profile", str(REPO / "profiles" / "test"))
    assert "genomflow_load" in done.stdout + done.stderr
    for job in ("bwa_mem", "genomflow_report"):  # nothing else reran
        assert f"rule {job}:" not in done.stdout + done.stderr
    batch = sorted((copy / "results" / "samples").glob("*/*.report.json"))
    assert len(batch) >= len(SAMPLES)
    summary = (copy / "results" / "report" / "genomflow_load" / "loaded.tsv").read_text()
    assert summary.count("\tloaded\t") == len(batch)
    assert counts(url)["analyses"] == len(batch)
    assert json.loads((copy / "results/samples/RD001/RD001.report.json").read_text())


def test_trial_matching_on_the_demo_database_finds_the_planted_marker(
    demo_run: Path, tmp_path: Path
) -> None:
    """The planted stop-gained GFA1 variant of CA001T (patient PAT-0101) matches; PAT-0101 is
    named only with consent to contact, and a second run reports no change."""
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    reports = sorted(str(p) for p in (demo_run / "results" / "samples").glob("*/*.report.json"))
    assert genomflow("load", "--db", url, *reports).returncode == 0
    trials = tmp_path / "trials.yaml"
    trials.write_text(
        "trials:\n  - id: MARKER\n    sample_types: [tumour]\n"
        "    inclusion: {variant: 'chr1:129984:G:A'}\n"
    )
    out = tmp_path / "match"
    match = ("kb", "match", "--db", url, "--trials", str(trials), "--out", str(out))
    match = (*match, "--date", "2026-11-26")
    assert genomflow(*match).returncode == 0
    assert "PAT-0101" not in (out / "trials" / "MARKER.tsv").read_text()  # no consent yet
    assert (out / "summary.tsv").read_text().splitlines()[1].split("\t")[3:5] == ["0", "1"]
    consent = tmp_path / "consent.tsv"
    consent.write_text("patient\tresearch\ttrial_contact\tdate\nPAT-0101\tyes\tyes\t2026-03-04\n")
    assert genomflow("kb", "consent", "--db", url, "--file", str(consent)).returncode == 0
    assert genomflow(*match).returncode == 0
    rows = (out / "trials" / "MARKER.tsv").read_text().splitlines()[1:]
    assert [r.split("\t")[2:4] for r in rows] == [["PAT-0101", "CA001T"]]
    assert (out / "changes.tsv").read_text().splitlines()[1:] == [
        "MARKER\tdemo-centre\tPAT-0101\tnew"
    ]
    done = genomflow(*match)
    assert "0 change(s) since the last run" in done.stdout
    assert (out / "changes.tsv").read_text().splitlines()[1:] == []
