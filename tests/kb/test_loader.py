"""The loader on SQLite and on a real PostgreSQL: idempotent, versioned, all-or-nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from genomflow.errors import GenomflowError
from genomflow.kb import loader
from genomflow.kb.db import make_engine
from genomflow.kb.loader import load_reports
from genomflow.kb.queries import patient_timeline, variant_report
from tests.kb.fixtures import new_database
from tests.kb.helpers import (
    DEMO,
    POOL,
    counts,
    demo_batch,
    loader_command,
    loader_env,
    run_loader,
)
from tests.kb.synthetic import (
    SyntheticSample,
    fake_vrs_id,
    synthetic_variants,
    write_synthetic_report,
)
from tests.services.postgres import PostgresServer


@pytest.fixture
def demo(tmp_path: Path) -> list[Path]:
    return demo_batch(tmp_path / "batch")


def load(url: str, reports: list[Path], build: str | None = None) -> list[str]:
    engine = make_engine(url)
    try:
        return [r.status for r in load_reports(engine, reports, build=build)]
    finally:
        engine.dispose()


def stored_calls(url: str) -> set[tuple[Any, ...]]:
    """(sample, version, chrom, pos, ref, alt, origin, VRS id) of every call in the database."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT s.name, a.version, v.chrom, v.pos, v.ref, v.alt, c.origin, v.vrs_id "
                    "FROM calls c JOIN variants v ON v.id = c.variant_id "
                    "JOIN analyses a ON a.id = c.analysis_id JOIN samples s ON s.id = a.sample_id"
                )
            ).all()
    finally:
        engine.dispose()
    return {tuple(row) for row in rows}


def report_calls(path: Path, version: int) -> set[tuple[Any, ...]]:
    report = json.loads(path.read_text())
    sample = report["sample"]["id"]
    keys = ("chrom", "pos", "ref", "alt", "origin", "vrs_id")
    return {(sample, version, *(v[key] for key in keys)) for v in report["variants"]}


def test_demo_reports_load_and_loading_again_adds_nothing(db_url: str, demo: list[Path]) -> None:
    assert load(db_url, demo) == ["loaded"] * len(demo)
    first = counts(db_url)
    assert first["analyses"] == first["samples"] == len(DEMO)
    assert first["patients"] == 4
    assert first["calls"] == 400 * len(DEMO)
    assert first["ctdna_measurements"] == 1
    assert first["qc_metrics"] == 2 * len(DEMO)
    assert load(db_url, demo) == ["unchanged"] * len(demo)
    assert counts(db_url) == first


def test_a_changed_report_is_a_new_version_and_the_old_one_stays(
    db_url: str, demo: list[Path], tmp_path: Path
) -> None:
    load(db_url, demo)
    before = counts(db_url)
    rerun = demo_batch(tmp_path / "rerun", batch="rerun batch")[:1]  # RD001 again, new content
    assert load(db_url, rerun) == ["loaded"]
    after = counts(db_url)
    assert after["analyses"] == before["analyses"] + 1
    assert after["samples"] == before["samples"]
    assert after["calls"] == before["calls"] + 400
    engine = make_engine(db_url)
    try:
        timeline = patient_timeline(engine, "PAT-0001")
    finally:
        engine.dispose()
    assert [(s["sample"], s["version"]) for s in timeline.samples] == [("RD001", 2)]


def test_corrupted_report_is_rejected_with_its_name_and_nothing_changes(
    db_url: str, demo: list[Path]
) -> None:
    load(db_url, demo[:2])
    before = counts(db_url)
    bad = demo[2]
    bad.write_text(bad.read_text()[:-200])  # truncated
    with pytest.raises(GenomflowError, match="not valid JSON") as caught:
        load(db_url, [demo[3], bad])
    assert str(bad) in str(caught.value)
    assert counts(db_url) == before  # demo[3] was not loaded either: all reports checked first


def test_report_breaking_the_schema_is_rejected(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo[:1])
    before = counts(db_url)
    report = json.loads(demo[1].read_text())
    report["variants"][5]["pos"] = 0
    demo[1].write_text(json.dumps(report))
    with pytest.raises(GenomflowError, match=r"at variants/5/pos: 0 is less than the minimum of 1"):
        load(db_url, [demo[1]])
    assert counts(db_url) == before


def test_wrong_checksum_is_rejected(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo[:1])
    before = counts(db_url)
    bam = demo[1].parent / "RD002.bam"
    data = bytearray(bam.read_bytes())
    data[100] ^= 0xFF  # same size, different content
    bam.write_bytes(bytes(data))
    with pytest.raises(GenomflowError, match=r"file RD002.bam: wrong checksum") as caught:
        load(db_url, [demo[1]])
    assert str(demo[1]) in str(caught.value)
    assert counts(db_url) == before


def test_missing_file_is_rejected(db_url: str, demo: list[Path]) -> None:
    (demo[1].parent / "RD002.bam").unlink()
    with pytest.raises(GenomflowError, match=r"file RD002.bam \(alignments\) not found"):
        load(db_url, [demo[1]])


def test_report_of_another_build_is_rejected_unless_asked_for(
    db_url: str, demo: list[Path], tmp_path: Path
) -> None:
    load(db_url, demo)
    before = counts(db_url)
    who = SyntheticSample("X001", "PAT-0100")
    other = write_synthetic_report(
        tmp_path / "other", who, synthetic_variants(POOL, 50, 99), build="GRCh99"
    )
    with pytest.raises(
        GenomflowError, match=r"comes from reference build 'GRCh99'.*--build GRCh99"
    ):
        load(db_url, [other])
    assert counts(db_url) == before
    with pytest.raises(GenomflowError, match=r"not 'GRCh99' \(--build\)"):
        load(db_url, demo[:1], build="GRCh99")
    assert load(db_url, [other], build="GRCh99") == ["loaded"]


def test_same_build_name_with_other_contigs_is_rejected(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo[:1])
    report = json.loads(demo[1].read_text())
    report["provenance"]["reference"]["contigs"][0]["md5"] = "0" * 32
    demo[1].write_text(json.dumps(report))
    with pytest.raises(GenomflowError, match="differs from the database's build of that name"):
        load(db_url, [demo[1]])


def test_a_call_beyond_its_contig_is_rejected(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo[:1])
    before = counts(db_url)
    report = json.loads(demo[1].read_text())
    report["variants"][3]["pos"] = 2**63  # past chr*, and past any 64-bit column
    demo[1].write_text(json.dumps(report))
    with pytest.raises(GenomflowError, match=r"lies beyond the end of chr") as caught:
        load(db_url, [demo[1]])
    assert str(demo[1]) in str(caught.value)
    assert counts(db_url) == before


def test_an_allele_called_twice_in_a_report_is_one_variant(db_url: str, tmp_path: Path) -> None:
    germline = synthetic_variants(POOL[:5000], 50, seed=5)
    somatic = [
        {**v, "origin": "somatic", "genotype": None, "zygosity": None} for v in germline[:10]
    ]
    first = write_synthetic_report(
        tmp_path / "a", SyntheticSample("A1", "PAT-A1"), [*germline, *somatic]
    )
    assert load(db_url, [first]) == ["loaded"]
    found = counts(db_url)
    assert (found["variants"], found["calls"]) == (50, 60)
    # A second sample: 20 alleles already known, 30 new ones, one of them twice.
    known, new = germline[30:], synthetic_variants(POOL[5000:], 30, seed=6)
    again = [{**new[0], "origin": "somatic", "genotype": None, "zygosity": None}]
    second = write_synthetic_report(
        tmp_path / "b", SyntheticSample("B1", "PAT-B1"), [*known, *new, *again]
    )
    assert load(db_url, [second]) == ["loaded"]
    found = counts(db_url)
    assert (found["variants"], found["calls"]) == (80, 111)
    expected = report_calls(first, 1) | report_calls(second, 1)
    stored = stored_calls(db_url)
    assert stored == expected  # every call on its own allele, with the allele's VRS id


def test_a_sample_cannot_change_patient(db_url: str, demo: list[Path], tmp_path: Path) -> None:
    load(db_url, demo[:1])
    who = SyntheticSample("RD001", "PAT-9999", sex="male")
    moved = write_synthetic_report(tmp_path / "moved", who, synthetic_variants(POOL, 10, 3))
    with pytest.raises(GenomflowError, match=r"'RD001'.*different patient.*'PAT-9999'"):
        load(db_url, [moved])


def test_sigkill_in_the_middle_of_a_load_leaves_the_database_as_it_was(
    db_url: str, demo: list[Path], tmp_path: Path
) -> None:
    load(db_url, demo[:2])
    before = counts(db_url)
    who = SyntheticSample("BIG01", "PAT-0200")
    big = write_synthetic_report(tmp_path / "big", who, synthetic_variants(POOL, 15_000, 11))
    process = subprocess.Popen(
        loader_command(db_url, [big]),
        stderr=subprocess.PIPE,
        text=True,
        env=loader_env(GENOMFLOW_KB_TEST_PAUSE="120"),
    )
    assert process.stderr is not None
    line = process.stderr.readline()  # the calls are in, the transaction is open
    assert "test pause inside the load transaction" in line, line
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert counts(db_url) == before
    done = run_loader(db_url, [big])  # and nothing is left locked
    assert done.returncode == 0, done.stderr
    assert counts(db_url)["calls"] == before["calls"] + 15_000


def test_seven_loaders_at_once_lose_nothing(db_url: str, tmp_path: Path) -> None:
    reports = [
        write_synthetic_report(
            tmp_path / f"c{i}",
            SyntheticSample(f"S{i}", f"PAT-{i:04d}", centre=f"centre-{i}"),
            synthetic_variants(POOL, 3000, seed=100 + i),
        )
        for i in range(7)
    ]
    expected_variants = {
        (v["chrom"], v["pos"], v["ref"], v["alt"])
        for i in range(7)
        for v in synthetic_variants(POOL, 3000, seed=100 + i)
    }
    processes = [
        subprocess.Popen(
            loader_command(db_url, [report]),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=loader_env(),
        )
        for report in reports
    ]
    outputs = [p.communicate(timeout=300) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "loaded as analysis" in out
    found = counts(db_url)
    assert found["analyses"] == found["samples"] == found["centres"] == 7
    assert found["calls"] == 7 * 3000
    assert found["variants"] == len(expected_variants)


def test_queries_count_carriers_with_small_counts_suppressed(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo)
    shared = {}
    for path in demo[:3]:
        for v in json.loads(path.read_text())["variants"]:
            if v["filters"] == ["PASS"]:
                key = f"{v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"
                shared.setdefault(key, []).append(v["zygosity"])
    spec, zygosities = max(shared.items(), key=lambda item: len(item[1]))
    engine = make_engine(db_url)
    try:
        [public] = variant_report(engine, spec)
        [exact] = variant_report(engine, spec, sample_level=True)
        [by_vrs] = variant_report(engine, public.vrs_id or "", sample_level=True)
    finally:
        engine.dispose()
    total = exact.rows[-1]
    assert total.centre == "*"
    assert total.counts["carriers"] == len(zygosities)
    assert total.counts["het"] == zygosities.count("het")
    assert 1 <= len(zygosities) <= 4
    assert public.rows[-1].counts["carriers"] is None  # suppressed
    assert {c["sample"] for c in exact.carriers} <= {"RD001", "RD002", "RD003"}
    assert by_vrs.variant_id == exact.variant_id


def test_patient_timeline_has_samples_qc_and_ctdna(db_url: str, demo: list[Path]) -> None:
    load(db_url, demo)
    engine = make_engine(db_url)
    try:
        timeline = patient_timeline(engine, "PAT-0004")
    finally:
        engine.dispose()
    assert [s["sample"] for s in timeline.samples] == ["T001", "P001"]  # by collection date
    plasma = timeline.samples[1]
    assert plasma["tumour_fraction"] == pytest.approx(0.012)
    assert plasma["ctdna_status"] == "detected"
    assert timeline.metrics["T001"]["mean_depth"] == 30.0


def test_load_command_line_prints_and_summarises(
    db_url: str, demo: list[Path], tmp_path: Path
) -> None:
    summary = tmp_path / "loaded.tsv"
    done = run_loader(db_url, demo, "--summary", str(summary))
    assert done.returncode == 0, done.stderr
    assert "loaded as analysis" in done.stdout
    lines = summary.read_text().splitlines()
    assert lines[0].split("\t") == ["report", "sample", "status", "analysis_id", "version", "calls"]
    assert len(lines) == 1 + len(demo)
    bad = run_loader(db_url, [tmp_path / "nope.report.json"])
    assert bad.returncode == 2
    assert "nope.report.json: report not found" in bad.stderr


def test_reports_loaded_side_by_side_are_stored_as_given(
    db_url: str, demo: list[Path], tmp_path: Path
) -> None:
    rerun = demo_batch(tmp_path / "rerun", batch="rerun batch")[0]  # RD001 again
    batch = [demo[0], rerun, *demo[1:]]
    engine = make_engine(db_url)
    try:
        results = load_reports(engine, batch, jobs=3)
    finally:
        engine.dispose()
    assert [r.path for r in results] == batch
    versions = [2 if path == rerun else 1 for path in batch]
    assert [(r.sample, r.version) for r in results] == [
        (json.loads(path.read_text())["sample"]["id"], version)
        for path, version in zip(batch, versions, strict=True)
    ]
    expected = set().union(
        *(report_calls(path, version) for path, version in zip(batch, versions, strict=True))
    )
    assert stored_calls(db_url) == expected
    assert counts(db_url)["variants"] == len({call[2:6] for call in expected})


def waiting_for_a_lock(url: str, process: subprocess.Popen[str], timeout: float = 120) -> None:
    """Return once a transaction waits for an advisory lock (fail if ``process`` ends first)."""
    engine = make_engine(url)
    query = text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
    try:
        until = time.monotonic() + timeout
        while time.monotonic() < until:
            with engine.connect() as connection:
                if connection.execute(query).scalar_one() > 0:
                    return
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
    finally:
        engine.dispose()
    raise AssertionError(f"no loader waited for a lock within {timeout} s")


def test_alleles_another_loader_added_meanwhile_are_found_not_added_twice(
    pg_server: PostgresServer, tmp_path: Path
) -> None:
    url = new_database(pg_server)
    base = synthetic_variants(POOL[:5000], 200, seed=1)
    load(url, [write_synthetic_report(tmp_path / "n", SyntheticSample("N1", "PAT-N1"), base)])
    shared = synthetic_variants(POOL[10_000:12_000], 100, seed=2)  # new to the database
    holder = write_synthetic_report(
        tmp_path / "f",
        SyntheticSample("F1", "PAT-F1"),
        [*base[:50], *shared, *synthetic_variants(POOL[12_000:14_000], 50, seed=3)],
    )
    waiter = write_synthetic_report(
        tmp_path / "s",
        SyntheticSample("S1", "PAT-S1"),
        [*base[50:100], *shared, *synthetic_variants(POOL[15_000:], 50, seed=4)],
    )
    release = tmp_path / "release"
    first = subprocess.Popen(
        loader_command(url, [holder]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=loader_env(GENOMFLOW_KB_TEST_PAUSE="120", GENOMFLOW_KB_TEST_RELEASE=str(release)),
    )
    assert first.stderr is not None
    line = first.stderr.readline()  # its new alleles are in, uncommitted, under the lock
    assert "test pause inside the load transaction" in line, line
    second = subprocess.Popen(
        loader_command(url, [waiter]),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=loader_env(),
    )
    # The second loader found none of the shared alleles and waits to add them...
    waiting_for_a_lock(url, second)
    release.touch()  # ... until the first commits them
    for process in (first, second):
        out, err = process.communicate(timeout=300)
        assert process.returncode == 0, err
        assert "loaded as analysis" in out
        assert "loading it again" not in err  # no key race: the second looked them up again
    expected = set().union(*(report_calls(path, 1) for path in (holder, waiter)))
    assert {c for c in stored_calls(url) if c[0] != "N1"} == expected
    base_alleles = {(v["chrom"], v["pos"], v["ref"], v["alt"]) for v in base}
    alleles = {c[2:6] for c in expected} | base_alleles
    assert counts(url)["variants"] == len(alleles)


@pytest.mark.parametrize("probe_ratio", [0, 10**9], ids=["probe", "join"])
def test_both_ways_of_looking_alleles_up_store_the_same(
    pg_server: PostgresServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, probe_ratio: int
) -> None:
    """The allele look-up by probes of the key (a large database) and by a hash join (a small
    one): known alleles found, new ones added once, an allele called twice one variant, and
    another ALT at a known allele's position a variant of its own."""
    monkeypatch.setattr(loader, "PROBE_RATIO", probe_ratio)
    url = new_database(pg_server)
    base = synthetic_variants(POOL[:5000], 300, seed=1)
    first = write_synthetic_report(tmp_path / "a", SyntheticSample("A1", "PAT-A1"), base)
    new = synthetic_variants(POOL[5000:], 40, seed=2)
    twice = {**new[0], "origin": "somatic", "genotype": None, "zygosity": None}
    snv = next(v for v in base if len(v["ref"]) == len(v["alt"]) == 1)
    other = next(b for b in "ACGT" if b not in (snv["ref"], snv["alt"]))
    sibling = {
        **snv,
        "alt": other,
        "vrs_id": fake_vrs_id(snv["chrom"], snv["pos"], snv["ref"], other),
    }
    second = write_synthetic_report(
        tmp_path / "b", SyntheticSample("B1", "PAT-B1"), [*base[::3], *new, twice, sibling]
    )
    assert load(url, [first]) == ["loaded"]
    assert load(url, [second]) == ["loaded"]
    assert stored_calls(url) == report_calls(first, 1) | report_calls(second, 1)
    assert counts(url)["variants"] == len(base) + len(new) + 1  # the sibling: another ALT
