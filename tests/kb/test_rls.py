"""Regions on PostgreSQL: each centre's role writes and reads only its own centre's samples,
and reads other centres' data only as suppressed aggregate counts. Two real roles."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

from genomflow.errors import GenomflowError
from genomflow.kb.db import grant_centre, make_engine, upgrade
from genomflow.kb.loader import load_reports
from genomflow.kb.queries import variant_report
from tests.kb.fixtures import new_database
from tests.kb.helpers import POOL, counts
from tests.kb.synthetic import SyntheticSample, synthetic_variants, write_synthetic_report
from tests.services.postgres import PostgresServer

_roles = itertools.count(1)


class Regions:
    def __init__(self, server: PostgresServer, root: Path) -> None:
        self.server = server
        self.root = root
        self.url = new_database(server)
        n = next(_roles)
        self.roles = {"north": f"centre_north_{n}", "south": f"centre_south_{n}"}
        owner = make_engine(self.url)
        upgrade(owner)
        for centre, role in self.roles.items():
            server.create_role(role)
            grant_centre(owner, centre, role, f"{centre.title()} centre", f"Region {centre}")
        owner.dispose()
        self.engines = {
            centre: make_engine(server.url(self.url.rsplit("/", 1)[1], role))
            for centre, role in self.roles.items()
        }

    def report(self, centre: str, sample: str, patient: str, seed: int) -> Path:
        who = SyntheticSample(sample, patient, centre=centre)
        variants = synthetic_variants(POOL[:200], 150, seed=seed)
        return write_synthetic_report(self.root / centre / sample, who, variants)


@pytest.fixture
def regions(pg_server: PostgresServer, tmp_path: Path) -> Iterator[Regions]:
    setup = Regions(pg_server, tmp_path)
    yield setup
    for engine in setup.engines.values():
        engine.dispose()


def _names(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return {row.name for row in connection.execute(text("SELECT name FROM samples"))}


def test_a_centre_loads_its_own_samples_but_not_another_centres(regions: Regions) -> None:
    north, south = regions.engines["north"], regions.engines["south"]
    load_reports(north, [regions.report("north", "N1", "PAT-N1", 1)])
    load_reports(south, [regions.report("south", "S1", "PAT-S1", 2)])
    before = counts(regions.url)
    intruder = regions.report("south", "S2", "PAT-S2", 3)
    with pytest.raises(GenomflowError, match="violates row-level security policy") as caught:
        load_reports(north, [intruder])
    assert str(intruder) in str(caught.value)
    assert counts(regions.url) == before


def test_a_centre_cannot_insert_another_centres_rows_directly(regions: Regions) -> None:
    load_reports(regions.engines["south"], [regions.report("south", "S1", "PAT-S1", 2)])
    with (
        pytest.raises(DBAPIError, match="row-level security"),
        regions.engines["north"].begin() as connection,
    ):
        connection.execute(
            text("INSERT INTO patients (centre_id, pseudonym) VALUES ('south', 'PAT-X')")
        )


def test_a_centre_sees_only_its_own_sample_rows(regions: Regions) -> None:
    north, south = regions.engines["north"], regions.engines["south"]
    load_reports(north, [regions.report("north", "N1", "PAT-N1", 1)])
    load_reports(south, [regions.report("south", "S1", "PAT-S1", 2)])
    assert _names(north) == {"N1"}
    assert _names(south) == {"S1"}
    with north.connect() as connection:
        centres = {
            row[0] for row in connection.execute(text("SELECT DISTINCT centre_id FROM calls"))
        }
        assert centres == {"north"}
        exact = connection.execute(text("SELECT DISTINCT centre_id FROM variant_counts"))
        assert {row[0] for row in exact} == {"north"}


def test_aggregate_counts_cover_every_centre_with_small_counts_suppressed(
    regions: Regions,
) -> None:
    north, south = regions.engines["north"], regions.engines["south"]
    north_reports = [regions.report("north", f"N{i}", f"PAT-N{i}", 10 + i) for i in range(6)]
    load_reports(north, north_reports)
    load_reports(south, [regions.report("south", "S1", "PAT-S1", 2)])
    carriers: dict[str, set[str]] = {}
    for path in [*north_reports, regions.root / "south" / "S1" / "S1.report.json"]:
        report = json.loads(path.read_text())
        for v in report["variants"]:
            if v["filters"] == ["PASS"]:
                key = f"{v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"
                carriers.setdefault(key, set()).add(report["centre"]["id"])
    spec = next(k for k, centres in carriers.items() if centres == {"north", "south"})
    [public] = variant_report(south, spec)  # south reads north's data as counts only
    by_centre = {row.centre: row.counts["carriers"] for row in public.rows}
    assert set(by_centre) == {"north", "south", "*"}
    assert by_centre["south"] is None  # 1 carrier: shown as <5
    [own] = variant_report(south, spec, sample_level=True)  # exact: own centre only
    assert {row.centre for row in own.rows} == {"south", "*"}
    assert {c["sample"] for c in own.carriers} == {"S1"}
