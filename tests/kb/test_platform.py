"""The national platform on both backends: consent, trial matching, research export."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pysam
import pytest
from sqlalchemy import text

from genomflow.errors import GenomflowError
from genomflow.kb.consent import consents_on, load_consents
from genomflow.kb.db import make_engine, upgrade
from genomflow.kb.export import export_project, pseudonym
from genomflow.kb.loader import load_reports
from genomflow.kb.match import load_trials, run_match, write_match
from tests.conftest import tool_env
from tests.kb.helpers import DEMO, demo_batch

SECRET = b"project-secret-0123456789"
DAY = datetime.date(2026, 11, 26)
CONSENT = """patient\tresearch\ttrial_contact\tdate
PAT-0001\tyes\tyes\t2026-03-02
PAT-0002\tyes\tno\t2026-03-02
PAT-0004\tyes\tyes\t2026-03-02
PAT-0004\tno\tno\t2026-06-01
"""


def _loaded(db_url: str, tmp_path: Path) -> list[Path]:
    engine = make_engine(db_url)
    reports = demo_batch(tmp_path / "reports", calls=200)
    load_reports(engine, reports)
    engine.dispose()
    return reports


def _consent(db_url: str, tmp_path: Path, content: str = CONSENT) -> Path:
    path = tmp_path / "consent.tsv"
    path.write_text(content)
    engine = make_engine(db_url)
    try:
        load_consents(engine, path)
    finally:
        engine.dispose()
    return path


def test_consent_is_versioned_and_withdrawal_counts_from_its_date(
    db_url: str, tmp_path: Path
) -> None:
    _loaded(db_url, tmp_path)
    path = _consent(db_url, tmp_path)
    engine = make_engine(db_url)
    try:
        assert load_consents(engine, path) == (0, 4)  # idempotent
        with engine.connect() as connection:
            before = consents_on(connection, datetime.date(2026, 5, 31))
            after = consents_on(connection, datetime.date(2026, 6, 1))
            history = connection.execute(text("SELECT count(*) FROM consents")).scalar_one()
    finally:
        engine.dispose()
    who = ("demo-centre", "PAT-0004")
    assert before[who].research and before[who].trial_contact
    assert not after[who].research and not after[who].trial_contact
    assert ("demo-centre", "PAT-0003") not in after  # no row: no consent
    assert history == 4  # the history is kept


def test_consent_faults_name_the_file_line_and_column(db_url: str, tmp_path: Path) -> None:
    _loaded(db_url, tmp_path)
    bad = tmp_path / "bad.tsv"
    bad.write_text("patient\tresearch\ttrial_contact\tdate\nPAT-0001\tmaybe\tno\t2026-01-01\n")
    engine = make_engine(db_url)
    upgrade(engine)
    try:
        with pytest.raises(GenomflowError, match=r"bad.tsv line 2, column 'research'"):
            load_consents(engine, bad)
        bad.write_text("patient\tresearch\ttrial_contact\tdate\nPAT-9\tyes\tno\t2026-01-01\n")
        with pytest.raises(GenomflowError, match=r"line 2, column 'patient'.*not in the database"):
            load_consents(engine, bad)
    finally:
        engine.dispose()


def _shared_variant(reports: list[Path], patients: set[str]) -> str:
    """A PASS variant carried by exactly ``patients``."""
    carriers: dict[str, set[str]] = {}
    for path in reports:
        report = json.loads(path.read_text())
        for v in report["variants"]:
            if v["filters"] == ["PASS"]:
                key = f"{v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"
                carriers.setdefault(key, set()).add(report["sample"]["patient"])
    return next(k for k, who in sorted(carriers.items()) if who == patients)


def _trials(tmp_path: Path, variant: str) -> Path:
    path = tmp_path / "trials.yaml"
    path.write_text(
        "trials:\n"
        "  - id: T1\n"
        "    recruiting: {from: '2026-01-01'}\n"
        "    inclusion:\n"
        f"      any: [{{variant: '{variant}'}}, {{cnv: {{gene: X, type: deletion}}}}]\n"
        "  - id: CLOSED\n"
        "    recruiting: {until: '2026-01-01'}\n"
        f"    inclusion: {{variant: '{variant}'}}\n"
    )
    return path


def test_matching_respects_consent_and_a_second_run_reports_no_change(
    db_url: str, tmp_path: Path
) -> None:
    reports = _loaded(db_url, tmp_path)
    _consent(db_url, tmp_path)
    variant = _shared_variant(reports, {"PAT-0001", "PAT-0002"})
    trials = load_trials(_trials(tmp_path, variant))
    out = tmp_path / "match"
    engine = make_engine(db_url)
    try:
        first = run_match(engine, trials, out, DAY)
        write_match(first, trials, out)
        matches = {p: p.read_bytes() for p in out.rglob("*.tsv") if p.parent != out}
        second = run_match(engine, trials, out, DAY)
        write_match(second, trials, out)
        files = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
        write_match(run_match(engine, trials, out, DAY), trials, out)
    finally:
        engine.dispose()
    assert {r[2] for r in first.rows} == {"PAT-0001"}  # PAT-0002 did not consent to contact
    summary = {(s[0], s[1]): s for s in first.summary}
    assert summary[("T1", "demo-centre")][3:] == (1, 1, 1, 0)
    assert summary[("CLOSED", "demo-centre")][2:] == ("no", 0, 0, 0, 0)
    assert first.changes == [("T1", "demo-centre", "PAT-0001", "new")]
    assert second.changes == []
    assert {p: p.read_bytes() for p in out.rglob("*.tsv") if p.parent != out} == matches
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == files
    table = (out / "trials" / "T1.tsv").read_text()
    assert "PAT-0002" not in table and variant in table
    assert "PAT-0001" in (out / "centres" / "demo-centre.tsv").read_text()


def test_a_bad_trial_names_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "trials.yaml"
    path.write_text("trials:\n  - id: T1\n    inclusion:\n      gene: GFA1\n      colour: red\n")
    with pytest.raises(GenomflowError, match=r"trials.yaml line \d+, key 'trials\[0\]"):
        load_trials(path)


def test_export_has_consented_patients_only_and_no_identifier_or_date(
    db_url: str, tmp_path: Path
) -> None:
    _loaded(db_url, tmp_path)
    _consent(db_url, tmp_path)
    engine = make_engine(db_url)
    try:
        one = export_project(engine, "study-1", tmp_path / "e1", SECRET, DAY)
        export_project(engine, "study-1", tmp_path / "e1b", SECRET, DAY)
        export_project(engine, "study-2", tmp_path / "e2", b"another-secret-98765", DAY)
        with engine.connect() as connection:
            recorded = connection.execute(text("SELECT count(*) FROM exports")).scalar_one()
    finally:
        engine.dispose()
    assert (one.patients, one.excluded_patients) == (2, 2)  # PAT-0004 withdrew
    assert recorded == 3
    samples = pd.read_csv(tmp_path / "e1" / "samples.tsv", sep="\t", dtype=str)
    wanted = {
        pseudonym(SECRET, "study-1", "patient", "demo-centre", p) for p in ("PAT-0001", "PAT-0002")
    }
    assert set(samples["patient"]) == wanted
    assert set(samples["collection_year"]) == {"2026"}
    assert (tmp_path / "e1b" / "samples.tsv").read_text() == (
        tmp_path / "e1" / "samples.tsv"
    ).read_text()
    assert not set(pd.read_csv(tmp_path / "e2" / "samples.tsv", sep="\t")["patient"]) & wanted
    cohort = pd.read_parquet(tmp_path / "e1" / "cohort.parquet")
    assert len(cohort) == one.variants and set(cohort["patient"]) == wanted
    identifiers = [w.sample for w in DEMO] + [w.patient for w in DEMO] + ["demo-centre"]
    dates = [w.collection_date for w in DEMO if w.collection_date] + ["2026-03-02", "2026-06-01"]
    for path in (tmp_path / "e1").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data += subprocess.run(
                    ["bgzip", "-dc", str(path)], capture_output=True, check=True
                ).stdout
            for word in identifiers + dates:
                assert word.encode() not in data, (path, word)
    manifest = json.loads((tmp_path / "e1" / "manifest.json").read_text())
    vcfs = [f for f in manifest["files"] if f["path"].endswith(".vcf.gz")]
    assert len(vcfs) == one.samples
    with pysam.VariantFile(str(tmp_path / "e1" / vcfs[0]["path"])) as vcf:
        assert list(vcf.header.samples) == [Path(vcfs[0]["path"]).name.removesuffix(".vcf.gz")]
        assert sum(1 for _ in vcf) > 0


def test_export_needs_a_secret(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "genomflow",
            "kb",
            "export",
            "--db",
            f"sqlite:///{tmp_path}/x.sqlite",
            "--project",
            "p",
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        env={**tool_env(), "GENOMFLOW_EXPORT_SECRET": ""},
        check=False,
    )
    assert done.returncode != 0
    assert "project secret must be at least 16 bytes" in done.stderr


def _biomarkers(tmb: float | None, msi: str | None, status: str = "assessed") -> dict[str, object]:
    interval = (None, None) if tmb is None else (tmb * 0.7, tmb * 1.4)
    reason = None if status == "assessed" else "no coding base at the minimum depth"
    share = {"MSI-H": 0.3, "MSS": 0.05, None: None}[msi]
    return {
        "tmb": {"status": status, "tmb": tmb, "ci_low": interval[0], "ci_high": interval[1]}
        | {"reason": reason},
        "msi": {"status": status, "call": msi, "unstable_share": share, "reason": reason},
    }


def test_biomarker_rules_match_assessed_tumours(db_url: str, tmp_path: Path) -> None:
    from tests.kb.helpers import POOL
    from tests.kb.synthetic import SyntheticSample, synthetic_variants, write_synthetic_report

    reports = _loaded(db_url, tmp_path)
    tumours = {
        "T010": _biomarkers(25.0, "MSS"),
        "T011": _biomarkers(10.0, "MSI-H"),
        "T012": _biomarkers(4.0, "MSS"),
        "T013": _biomarkers(None, None, "not_assessable"),
    }
    for n, (sample, biomarkers) in enumerate(tumours.items()):
        who = SyntheticSample(sample, f"PAT-001{n}", type="tumour", assay="panel", panel="p")
        variants = synthetic_variants(POOL, 20, seed=50 + n, origin="somatic")
        path = write_synthetic_report(tmp_path / sample, who, variants, biomarkers=biomarkers)
        reports.append(path)
        engine = make_engine(db_url)
        load_reports(engine, [path])
        engine.dispose()
    consent = CONSENT + "".join(f"PAT-001{n}\tyes\tyes\t2026-03-02\n" for n in range(4))
    _consent(db_url, tmp_path, consent)
    trials = tmp_path / "biomarkers.yaml"
    trials.write_text(
        "trials:\n"
        "  - {id: HIGH, recruiting: {}, inclusion: {tmb_at_least: 10}}\n"
        "  - {id: ANY, recruiting: {}, inclusion: {tmb_at_least: 0}}\n"
        "  - {id: MSI, recruiting: {}, inclusion: {msi: high}}\n"
        "  - {id: BOTH, recruiting: {}, inclusion: {all: [{msi: high}, {tmb_at_least: 20}]}}\n"
    )
    engine = make_engine(db_url)
    try:
        result = run_match(engine, load_trials(trials), tmp_path / "match", DAY)
    finally:
        engine.dispose()
    matched = {t: {r[3] for r in result.rows if r[0] == t} for t in ("HIGH", "ANY", "MSI", "BOTH")}
    assert matched == {
        "HIGH": {"T010", "T011"},
        "ANY": {"T010", "T011", "T012"},
        "MSI": {"T011"},
        "BOTH": set(),
    }
    shown = {(r[0], r[3]): r[6] for r in result.rows}
    assert shown[("HIGH", "T010")] == "TMB 25 mutations/Mb (95% CI 17.5-35)"
    assert shown[("MSI", "T011")] == "MSI-H (30% of microsatellites unstable)"


def _segment(gene: str, call: str, copies: int, filters: str = "PASS") -> dict[str, object]:
    kind = "DUP" if call in ("amplification", "gain") else "DEL"
    return {
        "id": f"chr2:1000-5000:{kind}", "source": "cnv", "chrom": "chr2", "start": 1000,
        "end": 5000, "svtype": kind, "length": 4001, "genes": [gene, "OTHER"],
        "genotype": None, "copy_number": copies, "log2": 1.0, "call": call, "coding": True,
        "filters": [filters],
    }  # fmt: skip


def test_cnv_rules_match_passing_amplifications_and_deletions_of_the_gene(
    db_url: str, tmp_path: Path
) -> None:
    from genomflow.report.build import write_json
    from tests.kb.synthetic import SyntheticSample, write_synthetic_report

    _loaded(db_url, tmp_path)
    segments = {
        "T020": _segment("ERBB2", "amplification", 9),
        "T021": _segment("ERBB2", "gain", 3),  # a gain is not an amplification
        "T022": _segment("ERBB2", "amplification", 8, "LowQuality"),
        "T023": _segment("CDKN2A", "deletion", 0),
        "T024": _segment("ERBB22", "amplification", 12),  # another gene, same prefix
    }
    engine = make_engine(db_url)
    for n, (sample, segment) in enumerate(segments.items()):
        who = SyntheticSample(sample, f"PAT-002{n}", type="tumour", assay="panel", panel="p")
        path = write_synthetic_report(tmp_path / sample, who, [])
        report = json.loads(path.read_text())
        report["structural_variants"] = [segment]
        write_json(report, path)
        load_reports(engine, [path])
    engine.dispose()
    consent = CONSENT + "".join(f"PAT-002{n}\tyes\tyes\t2026-03-02\n" for n in range(5))
    _consent(db_url, tmp_path, consent)
    trials = tmp_path / "cnv.yaml"
    trials.write_text(
        "trials:\n"
        "  - {id: AMP, recruiting: {}, inclusion: {cnv: {gene: ERBB2, type: amplification}}}\n"
        "  - {id: DEL, recruiting: {}, inclusion: {cnv: {gene: CDKN2A, type: deletion}}}\n"
        "  - {id: NONE, recruiting: {}, inclusion: {cnv: {gene: ERBB2, type: deletion}}}\n"
    )
    engine = make_engine(db_url)
    try:
        result = run_match(engine, load_trials(trials), tmp_path / "match", DAY)
    finally:
        engine.dispose()
    matched = {t: {r[3] for r in result.rows if r[0] == t} for t in ("AMP", "DEL", "NONE")}
    assert matched == {"AMP": {"T020"}, "DEL": {"T023"}, "NONE": set()}
    shown = {(r[0], r[3]): (r[6], r[8]) for r in result.rows}
    assert shown[("AMP", "T020")] == ("chr2:1000-5000 amplification, copy number 9", "ERBB2")
