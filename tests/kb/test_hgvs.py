"""HGVS, ClinVar significance and diagnoses in the knowledge database, on both backends:
stored by the loader (migration 0007), found by ``kb variant GENE:c./p.``, matched by the
trial rules ``{gene, protein}`` and ``diseases``. Reports of schema 1.0.0 (no such fields)
still load."""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from genomflow.errors import GenomflowError
from genomflow.kb.consent import load_consents
from genomflow.kb.db import make_engine
from genomflow.kb.loader import load_reports
from genomflow.kb.match import load_trials, run_match
from genomflow.kb.queries import variant_report
from genomflow.report.build import write_json
from tests.conftest import tool_env
from tests.kb.helpers import counts
from tests.kb.synthetic import SyntheticSample, fake_vrs_id, write_synthetic_report
from tests.services.postgres import PostgresServer

DAY = datetime.date(2026, 11, 26)
#: The stop gain every test patient carries (GFB2 c.145C>T p.(Arg49Ter), Pathogenic) ...
STOP = ("chr1", 100_670, "C", "T")
#: ... and BRAF V600E, carried by the first two, as annotators write it.
V600E = ("chr2", 5_000, "T", "A")
#: The same V600E allele position's call that did not pass its filters, in a third patient.
FAILED = ("chr3", 7_000, "G", "A")
#: A BRAF splice-site call with the p.? the reports write there (no definite protein change;
#: a real demo tumour has such calls): it matches no protein rule and stops no match run.
ODD = ("chr3", 9_000, "A", "G")
ANNOTATIONS: dict[tuple[str, int, str, str], dict[str, Any]] = {
    STOP: {
        "gene": "GFB2",
        "consequence": "stop_gained",
        "transcript": "GFB2-201",
        "hgvs_c": "c.145C>T",
        "hgvs_p": "p.(Arg49Ter)",
        "exon": "2/5",
        "clinical_significance": "Pathogenic",
    },
    V600E: {
        "gene": "BRAF",
        "consequence": "missense_variant",
        "transcript": "ENST00000288602.11",
        "hgvs_c": "c.1799T>A",
        "hgvs_p": "p.(Val600Glu)",
        "exon": "15/18",
    },
    FAILED: {
        "gene": "BRAF",
        "consequence": "missense_variant",
        "transcript": "ENST00000288602.11",
        "hgvs_c": "c.1798G>A",
        "hgvs_p": "p.(Val600Met)",
        "exon": "15/18",
    },
    ODD: {
        "gene": "BRAF",
        "consequence": "splice_donor_variant",
        "hgvs_c": "c.1860+1G>A",
        "hgvs_p": "p.?",
    },
}


def _call(allele: tuple[str, int, str, str], filters: str = "PASS") -> dict[str, Any]:
    chrom, pos, ref, alt = allele
    return {
        "chrom": chrom,
        "pos": pos,
        "ref": ref,
        "alt": alt,
        "vrs_id": fake_vrs_id(chrom, pos, ref, alt),
        "origin": "somatic",
        "genotype": None,
        "zygosity": None,
        "vaf": 0.3,
        "depth": 200,
        "quality": 500.0,
        "consequence": None,
        "gene": None,
        "filters": [filters],
        **ANNOTATIONS[allele],
    }


#: sample -> (patient, its calls, diagnosis)
TUMOURS: dict[str, tuple[str, list[dict[str, Any]], str | None]] = {
    "T101": ("PAT-0101", [_call(STOP), _call(V600E)], "LUAD"),
    "T102": ("PAT-0102", [_call(STOP), _call(V600E)], "C34.1"),
    "T103": ("PAT-0103", [_call(STOP), _call(FAILED, "LowQual")], None),
    "T104": ("PAT-0104", [_call(STOP)], "COADREAD"),
    "T105": ("PAT-0105", [_call(STOP), _call(ODD)], None),
}


def tumour_reports(out: Path) -> list[Path]:
    """Schema 1.2.0 reports of :data:`TUMOURS`, with HGVS, ClinVar and the diagnosis."""
    paths = []
    for sample, (patient, calls, diagnosis) in TUMOURS.items():
        who = SyntheticSample(sample, patient, type="tumour", assay="panel", panel="p")
        path = write_synthetic_report(out / sample, who, calls)
        report = json.loads(path.read_text())
        report["sample"]["diagnosis"] = diagnosis
        write_json(report, path)
        paths.append(path)
    return paths


def old_report(out: Path) -> Path:
    """A report of schema 1.0.0: no HGVS, no ClinVar, no diagnosis, no biomarkers."""
    who = SyntheticSample("T199", "PAT-0199", type="tumour", assay="panel", panel="p")
    plain = {key: value for key, value in _call(STOP).items() if key in OLD_FIELDS}
    path = write_synthetic_report(out / "T199", who, [plain | {"gene": None}])
    report = json.loads(path.read_text())
    report["schema_version"] = "1.0.0"
    del report["biomarkers"]
    write_json(report, path)
    return path


OLD_FIELDS = (
    "chrom", "pos", "ref", "alt", "vrs_id", "origin", "genotype", "zygosity", "vaf", "depth",
    "quality", "consequence", "gene", "filters",
)  # fmt: skip


def _load(url: str, reports: list[Path]) -> list[str]:
    engine = make_engine(url)
    try:
        return [r.status for r in load_reports(engine, reports)]
    finally:
        engine.dispose()


@pytest.fixture
def loaded(db_url: str, tmp_path: Path) -> str:
    """The tumours (and an old report) loaded, every patient consenting to contact."""
    assert _load(db_url, [*tumour_reports(tmp_path / "reports"), old_report(tmp_path)]) == [
        "loaded"
    ] * (len(TUMOURS) + 1)
    consent = tmp_path / "consent.tsv"
    rows = [f"{p}\tyes\tyes\t2026-03-02" for p, _, _ in TUMOURS.values()]
    consent.write_text("patient\tresearch\ttrial_contact\tdate\n" + "\n".join(rows) + "\n")
    engine = make_engine(db_url)
    try:
        load_consents(engine, consent)
    finally:
        engine.dispose()
    return db_url


def test_hgvs_clinvar_and_diagnosis_are_stored_and_loading_again_adds_nothing(
    loaded: str, tmp_path: Path
) -> None:
    engine = make_engine(loaded)
    try:
        with engine.connect() as connection:
            calls = connection.execute(
                text(
                    "SELECT s.name, c.gene, c.transcript, c.hgvs_c, c.hgvs_p, c.exon, "
                    "c.clinical_significance FROM calls c "
                    "JOIN analyses a ON a.id = c.analysis_id "
                    "JOIN samples s ON s.id = a.sample_id JOIN variants v ON v.id = c.variant_id "
                    "WHERE v.pos = :pos ORDER BY s.name"
                ),
                {"pos": STOP[1]},
            ).all()
            diagnoses = dict(
                connection.execute(
                    text(
                        "SELECT s.name, a.diagnosis FROM latest_analyses a "
                        "JOIN samples s ON s.id = a.sample_id"
                    )
                ).all()
            )
    finally:
        engine.dispose()
    stop = ("GFB2", "GFB2-201", "c.145C>T", "p.(Arg49Ter)", "2/5", "Pathogenic")
    assert [tuple(row) for row in calls] == [
        *((sample, *stop) for sample in TUMOURS),
        ("T199", None, None, None, None, None, None),  # schema 1.0.0: nothing of it
    ]
    assert diagnoses == {"T101": "LUAD", "T102": "C34.1", "T103": None, "T104": "COADREAD"} | {
        "T105": None,
        "T199": None,
    }
    before = counts(loaded)
    again = [*tumour_reports(tmp_path / "again"), old_report(tmp_path / "again")]
    assert _load(loaded, again) == ["unchanged"] * len(again)  # same bytes: same reports
    assert counts(loaded) == before


@pytest.mark.parametrize(
    "spec",
    [
        "GFB2:c.145C>T",
        "GFB2:c.145c>t",
        "GFB2:p.(Arg49Ter)",
        "GFB2:p.Arg49Ter",
        "GFB2:p.R49*",
        "GFB2:p.(R49*)",
    ],
)
def test_kb_variant_finds_the_allele_by_gene_and_hgvs(loaded: str, spec: str) -> None:
    engine = make_engine(loaded)
    try:
        [public] = variant_report(engine, spec)
        [exact] = variant_report(engine, spec, sample_level=True)
        [by_position] = variant_report(engine, ":".join(map(str, STOP)))
    finally:
        engine.dispose()
    assert (public.chrom, public.pos, public.ref, public.alt) == STOP
    assert public.rows == by_position.rows  # the same counts, whatever names the allele
    # Six passing carriers, shown: T199's call has no HGVS, but it is the same allele.
    assert public.rows[-1].counts["carriers"] == 6
    assert exact.rows[-1].counts["carriers"] == 6
    assert {c["sample"] for c in exact.carriers} == {*TUMOURS, "T199"}


def test_kb_variant_by_hgvs_suppresses_small_counts(loaded: str) -> None:
    engine = make_engine(loaded)
    try:
        [v600e] = variant_report(engine, "BRAF:p.V600E")
        [by_c] = variant_report(engine, "BRAF:c.1799T>A")
        assert variant_report(engine, "KRAS:p.V600E") == []  # another gene
        assert variant_report(engine, "BRAF:p.Val600Lys") == []  # another change
    finally:
        engine.dispose()
    assert (v600e.chrom, v600e.pos) == V600E[:2] and by_c.variant_id == v600e.variant_id
    assert v600e.rows[-1].counts["carriers"] is None  # two carriers: <5


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("GFB2:p.Arg49", r"'GFB2:p.Arg49': not a valid HGVS description"),
        ("GFB2:c.14x5C>T", r"'GFB2:c.14x5C>T': not a valid HGVS description"),
        ("GFB2:Arg49Ter", r"expected CHROM:POS:REF:ALT, a VRS id .*GENE:c.… or GENE:p.…"),
    ],
)
def test_an_unparseable_hgvs_query_is_a_clear_error(loaded: str, spec: str, message: str) -> None:
    engine = make_engine(loaded)
    try:
        with pytest.raises(GenomflowError, match=message):
            variant_report(engine, spec)
    finally:
        engine.dispose()


def test_kb_variant_command_line_by_protein_change(loaded: str) -> None:
    command = [sys.executable, "-m", "genomflow", "kb", "variant", "GFB2:p.R49*", "--db", loaded]
    done = subprocess.run(
        command, capture_output=True, text=True, env=tool_env(), timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0].startswith("chr1:100670:C:T on synthetic-build")
    assert re.search(r"^all +all +6 ", done.stdout, re.MULTILINE), done.stdout
    bad = subprocess.run(
        [*command[:5], "GFB2:p.Arg49", "--db", loaded],
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=120,
        check=False,
    )
    assert bad.returncode != 0
    assert "'GFB2:p.Arg49': not a valid HGVS description" in bad.stderr


def _match(url: str, tmp_path: Path, trials: str) -> dict[str, set[str]]:
    path = tmp_path / "trials.yaml"
    path.write_text("trials:\n" + trials)
    loaded_trials = load_trials(path)
    engine = make_engine(url)
    try:
        result = run_match(engine, loaded_trials, tmp_path / "match", DAY)
    finally:
        engine.dispose()
    return {t.id: {r[3] for r in result.rows if r[0] == t.id} for t in loaded_trials}


def test_protein_rules_match_the_stored_change_in_any_spelling(loaded: str, tmp_path: Path) -> None:
    matched = _match(
        loaded,
        tmp_path,
        "  - {id: ONE, recruiting: {}, inclusion: {gene: BRAF, protein: V600E}}\n"
        "  - {id: THREE, recruiting: {}, inclusion: {gene: BRAF, protein: 'p.(Val600Glu)'}}\n"
        "  - {id: BARE, recruiting: {}, inclusion: {gene: BRAF, protein: Val600Glu}}\n"
        "  - {id: STOP, recruiting: {}, inclusion: {gene: GFB2, protein: 'p.R49*'}}\n"
        "  - {id: FAILED, recruiting: {}, inclusion: {gene: BRAF, protein: V600M}}\n"
        "  - {id: GENE, recruiting: {}, inclusion: {gene: KRAS, protein: V600E}}\n"
        "  - id: BOTH\n"
        "    recruiting: {}\n"
        "    inclusion: {all: [{gene: BRAF, protein: V600E}, {gene: GFB2, protein: R49*}]}\n",
    )
    assert matched == {
        "ONE": {"T101", "T102"},
        "THREE": {"T101", "T102"},
        "BARE": {"T101", "T102"},
        "STOP": set(TUMOURS),  # T199 (schema 1.0.0) has no protein change stored
        "FAILED": set(),  # the only V600M call did not pass its filters
        "GENE": set(),
        "BOTH": {"T101", "T102"},
    }


def test_a_bad_protein_in_a_trial_names_the_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "trials:\n"
        "  - {id: OK, inclusion: {gene: B, protein: V600E}}\n"
        "  - id: X\n"
        "    inclusion:\n"
        "      any: [{gene: B, protein: V600E}, {gene: B, protein: V600}]\n"
    )
    message = (
        r"bad.yaml line 5, key 'trials\[1\].inclusion.any\[1\].protein': "
        r"'V600': not a valid HGVS description"
    )
    with pytest.raises(GenomflowError, match=message):
        load_trials(path)


def test_disease_rules_match_the_diagnosis_case_insensitively(loaded: str, tmp_path: Path) -> None:
    matched = _match(
        loaded,
        tmp_path,
        "  - {id: LUNG, recruiting: {}, diseases: [luad, c34.1],\n"
        "     inclusion: {gene: GFB2, protein: R49*}}\n"
        "  - {id: BOWEL, recruiting: {}, diseases: [COADREAD], inclusion: {gene: BRAF,"
        " protein: V600E}}\n"
        "  - {id: PART, recruiting: {}, diseases: [LUA], inclusion: {gene: GFB2, protein: R49*}}\n"
        "  - {id: ANY, recruiting: {}, inclusion: {gene: GFB2, protein: R49*}}\n",
    )
    assert matched == {
        "LUNG": {"T101", "T102"},
        "BOWEL": set(),  # T104 is COADREAD but does not carry V600E
        "PART": set(),  # exact, not a prefix
        "ANY": set(TUMOURS),  # no diseases: the diagnosis does not matter
    }


@pytest.mark.parametrize(
    "lookup",
    [
        "SELECT variant_id FROM variant_annotations WHERE gene = 'GFB2' AND hgvs_p IN ('a', 'b')",
        "SELECT variant_id FROM variant_annotations WHERE gene = 'GFB2' AND hgvs_c IN ('a')",
    ],
)
def test_hgvs_lookups_use_the_partial_gene_index(loaded: str, lookup: str) -> None:
    engine = make_engine(loaded)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SET enable_seqscan = off"))  # a tiny table otherwise
                plan = connection.execute(text(f"EXPLAIN {lookup}")).scalars().all()
            else:
                rows = connection.execute(text(f"EXPLAIN QUERY PLAN {lookup}"))
                plan = [row.detail for row in rows]
    finally:
        engine.dispose()
    assert any("ix_calls_gene" in line for line in plan), plan


def test_a_centre_role_finds_other_centres_alleles_by_hgvs_but_not_their_calls(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    """PostgreSQL row-level security: north's role finds by HGVS the stop gain that only
    south's samples carry (``variant_annotations``, owner's rights), with the count
    suppressed, and sees none of south's calls."""
    from tests.kb.test_rls import Regions

    regions = Regions(pg_server, tmp_path)
    try:
        north, south = regions.engines["north"], regions.engines["south"]
        for n, sample in enumerate(("S1", "S2")):
            who = SyntheticSample(sample, f"PAT-S{n}", centre="south", type="tumour")
            load_reports(south, [write_synthetic_report(tmp_path / sample, who, [_call(STOP)])])
        [found] = variant_report(north, "GFB2:p.R49*")
        with north.connect() as connection:
            seen = connection.execute(text("SELECT count(*) FROM calls")).scalar_one()
    finally:
        for engine in regions.engines.values():
            engine.dispose()
    assert (found.chrom, found.pos, found.ref, found.alt) == STOP
    assert found.rows[-1].counts["carriers"] is None  # two carriers: <5
    assert seen == 0


def test_the_research_export_carries_hgvs_clinvar_and_diagnoses(
    loaded: str, tmp_path: Path
) -> None:
    import pandas as pd

    from genomflow.kb.export import export_project

    engine = make_engine(loaded)
    try:
        export_project(engine, "study", tmp_path / "out", b"project-secret-0123456789", DAY)
    finally:
        engine.dispose()
    samples = pd.read_csv(tmp_path / "out" / "samples.tsv", sep="\t", dtype=str)
    assert sorted(samples["diagnosis"].fillna("")) == sorted(
        d or "" for _, _, d in TUMOURS.values()
    )
    cohort = pd.read_parquet(tmp_path / "out" / "cohort.parquet")
    stops = cohort[cohort["pos"] == STOP[1]]
    assert len(stops) == len(TUMOURS)  # T199's patient gave no consent
    assert set(stops["hgvs_p"]) == {"p.(Arg49Ter)"} and set(stops["hgvs_c"]) == {"c.145C>T"}
    assert set(stops["clinical_significance"]) == {"Pathogenic"}
    assert set(stops["transcript"]) == {"GFB2-201"}


def test_centre_roles_mapped_before_migration_0007_may_read_the_new_view(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    """A database at 0006 with a centre role, then upgraded: the role finds alleles by HGVS."""
    from alembic import command

    from genomflow.kb import db
    from genomflow.kb.models import CENTRE_TABLES
    from tests.kb.fixtures import new_database

    url = new_database(pg_server)
    owner = make_engine(url)
    role = f"centre_old_{tmp_path.name[-20:].replace('-', '_').lower()}"
    try:
        with owner.begin() as connection:
            command.upgrade(db._alembic_config(connection), "0006")
        pg_server.create_role(role)
        with owner.begin() as connection:  # what `kb grant` did at 0006
            connection.execute(text("INSERT INTO centres VALUES ('old', 'Old centre', '')"))
            connection.execute(text(f"INSERT INTO centre_roles VALUES ('{role}', 'old')"))
            shared = [t for t in (*db.SHARED_READ, *db.OWN_VIEWS) if t != "variant_annotations"]
            connection.execute(text(f"GRANT SELECT ON {', '.join(shared)} TO {role}"))
            connection.execute(text(f"GRANT SELECT ON {', '.join(CENTRE_TABLES)} TO {role}"))
            connection.execute(text(f"GRANT SELECT ON alembic_version TO {role}"))
        who = SyntheticSample("S9", "PAT-S9", centre="old", type="tumour")
        load_reports(owner, [write_synthetic_report(tmp_path / "S9", who, [_call(STOP)])])  # 0007
        centre = make_engine(pg_server.url(url.rsplit("/", 1)[1], role))
        try:
            [found] = variant_report(centre, "GFB2:c.145C>T")
        finally:
            centre.dispose()
    finally:
        owner.dispose()
    assert (found.chrom, found.pos) == STOP[:2]


def test_kb_patient_shows_the_diagnosis(loaded: str) -> None:
    from genomflow.kb.queries import format_patient, patient_timeline

    engine = make_engine(loaded)
    try:
        timeline = patient_timeline(engine, "PAT-0101")
    finally:
        engine.dispose()
    assert [s["diagnosis"] for s in timeline.samples] == ["LUAD"]
    header, row = format_patient(timeline).splitlines()[1:3]
    assert header.split()[-1] == "diagnosis" and row.split()[-1] == "LUAD"
