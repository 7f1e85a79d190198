"""Knowledge database pieces that need no server: URLs, checks, query helpers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genomflow.errors import GenomflowError
from genomflow.kb import db
from genomflow.kb.consent import read_consent_file
from genomflow.kb.loader import LoadError, build_fingerprint, check_report, report_digest
from genomflow.kb.queries import parse_variant, shown
from tests.kb.synthetic import (
    SyntheticSample,
    synthetic_contigs,
    synthetic_variants,
    variant_pool,
    write_synthetic_report,
)


def test_urls() -> None:
    assert db.normalise_url("postgresql://a@h/d") == "postgresql+psycopg://a@h/d"
    assert db.normalise_url("postgresql+psycopg2://a@h/d") == "postgresql+psycopg://a@h/d"
    with pytest.raises(GenomflowError, match="only SQLite and PostgreSQL"):
        db.normalise_url("mysql://a@h/d")
    with pytest.raises(GenomflowError, match="not a database URL"):
        db.normalise_url("not a url")


def test_default_url_follows_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(db.URL_ENV, raising=False)
    assert db.default_url() == "sqlite:///results/genomflow.sqlite"
    monkeypatch.setenv(db.URL_ENV, "sqlite:///x.sqlite")
    assert db.default_url() == "sqlite:///x.sqlite"


def test_build_fingerprint_sees_every_contig_md5() -> None:
    contigs = synthetic_contigs()
    changed = [dict(c) for c in contigs]
    changed[-1]["md5"] = "0" * 32
    assert build_fingerprint(contigs) != build_fingerprint(changed)
    assert build_fingerprint(contigs) == build_fingerprint([dict(c) for c in contigs])


def test_checks_before_the_database(tmp_path: Path) -> None:
    variants = synthetic_variants(variant_pool(100), 20, seed=1)
    path = write_synthetic_report(tmp_path, SyntheticSample("S1", "PAT-1"), variants)
    checked = check_report(path)
    assert checked.digest == report_digest(path.read_bytes())
    report = json.loads(path.read_text())
    report["variants"].append(dict(report["variants"][0]))
    path.write_text(json.dumps(report))
    with pytest.raises(LoadError, match=r"germline call chr\S+ is listed twice"):
        check_report(path)
    report["variants"].pop()
    report["variants"][0]["chrom"] = "chr99"
    path.write_text(json.dumps(report))
    with pytest.raises(LoadError, match="variants on contigs not in reference"):
        check_report(path)


def test_consent_file_faults_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "consent.tsv"
    header = "patient\tresearch\ttrial_contact\tdate\n"
    path.write_text(header + "PAT-1\tyes\tno\t2026-01-02\n\nPAT-2\tno\tno\t2026-01-03\n")
    rows = read_consent_file(path)
    assert [(r.line, r.patient, r.research, r.date.day) for r in rows] == [
        (2, "PAT-1", True, 2),
        (4, "PAT-2", False, 3),  # the blank line 3 counts: the line a person would open
    ]
    path.write_text(header + "PAT-1\tyes\tno\t2026-01-02\n\nPAT-2\tmaybe\tno\t2026-01-03\n")
    with pytest.raises(GenomflowError, match=r"consent\.tsv line 4, column 'research'"):
        read_consent_file(path)
    with pytest.raises(GenomflowError, match=r"x\.tsv: no such consent file"):
        read_consent_file(tmp_path / "x.tsv")
    path.write_text("patient\tresearch\n")
    with pytest.raises(GenomflowError, match=r"consent\.tsv line 1: missing column\(s\) trial_"):
        read_consent_file(path)
    path.write_text(header + "PAT-1\tyes\n")  # cut short: the empty fields are named
    with pytest.raises(GenomflowError, match=r"consent\.tsv line 2, column 'trial_contact': ''"):
        read_consent_file(path)
    path.write_bytes(header.encode() + b"PAT-\xe91\tyes\tno\t2026-01-02\n")
    with pytest.raises(GenomflowError, match=r"consent\.tsv: cannot read consent file \(.*utf-8"):
        read_consent_file(path)
    path.write_text(header + "PAT-1\t" + "y" * 200_000 + "\tno\t2026-01-02\n")
    with pytest.raises(GenomflowError, match=r"consent\.tsv: cannot read consent file \(field"):
        read_consent_file(path)


def test_variant_specs() -> None:
    spec = parse_variant("chr2:100:a:TT")
    assert (spec.chrom, spec.pos, spec.ref, spec.alt) == ("chr2", 100, "A", "TT")
    with pytest.raises(GenomflowError, match="expected CHROM:POS:REF:ALT, a VRS id"):
        parse_variant("chr2-100-A-T")


def test_small_counts_are_suppressed() -> None:
    assert [shown(n) for n in (None, 0, 1, 4, 5, 120)] == ["<5", "0", "<5", "<5", "5", "120"]


# --- issue #14: databases that are not what the user meant -----------------------------------


def test_queries_never_create_a_database(tmp_path: Path) -> None:
    missing = tmp_path / "typo.sqlite"
    with pytest.raises(GenomflowError, match="does not exist; check the path"):
        db.open_for_reading(f"sqlite:///{missing}")
    assert not missing.exists()
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(GenomflowError, match="not a genomflow knowledge database"):
        db.open_for_reading(f"sqlite:///{empty}")


@pytest.mark.parametrize("url", ["sqlite:///", "sqlite://", "sqlite:///:memory:"])
def test_in_memory_databases_are_refused(url: str) -> None:
    with pytest.raises(GenomflowError, match="in-memory database, lost when the command ends"):
        db.open_for_writing(url)
    with pytest.raises(GenomflowError, match="in-memory"):
        db.open_for_reading(url)


def test_read_only_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, whom chmod does not stop: the file system's answer is simulated.
    monkeypatch.setattr(db.os, "access", lambda path, mode: False)
    with pytest.raises(GenomflowError, match=r"cannot write .*kb.sqlite: the file or its folder"):
        db.open_for_writing(f"sqlite:///{tmp_path / 'kb.sqlite'}")


def test_query_opens_read_only(tmp_path: Path) -> None:
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    engine = db.open_for_writing(url)
    db.upgrade(engine)
    engine.dispose()
    reader = db.open_for_reading(url)
    with reader.connect() as connection, pytest.raises(Exception, match="readonly"):
        connection.execute(text("DELETE FROM centres"))
    reader.dispose()
