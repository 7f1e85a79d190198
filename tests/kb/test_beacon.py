"""The Beacon v2 API: a real ``genomflow kb serve`` (uvicorn) on localhost, queried over HTTP
with httpx, on SQLite and on PostgreSQL (with each centre's role, under row-level security)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from genomflow.kb.beacon import response_validator
from genomflow.kb.db import grant_centre, is_postgres, make_engine, upgrade
from genomflow.kb.loader import load_reports
from genomflow.kb.tokens import add_token
from tests.conftest import tool_env
from tests.kb.helpers import POOL
from tests.kb.synthetic import SyntheticSample, write_synthetic_report
from tests.services.postgres import PostgresServer, free_port

RATE_LIMIT = 40
#: (centre, sample, patient) of the loaded reports; all carry the same variants.
PEOPLE = (("north", "N1", "PAT-N1"), ("north", "N2", "PAT-N2"), ("south", "S1", "PAT-S1"))
VARIANTS = [
    {
        "chrom": chrom,
        "pos": pos,
        "ref": ref,
        "alt": alt,
        "vrs_id": None,
        "origin": "germline",
        "genotype": "0/1",
        "zygosity": "het",
        "vaf": 0.5,
        "depth": 30,
        "quality": 99.0,
        "consequence": None,
        "gene": None,
        "filters": ["PASS"],
    }
    for chrom, pos, ref, alt in sorted(POOL[:3])
]


@dataclass
class Beacon:
    url: str
    db_url: str
    tokens: dict[str, str]
    process: subprocess.Popen[str]


def _reports(root: Path) -> list[Path]:
    from tests.kb.synthetic import fake_vrs_id

    paths = []
    for centre, sample, patient in PEOPLE:
        variants = [
            {**v, "vrs_id": fake_vrs_id(v["chrom"], v["pos"], v["ref"], v["alt"])} for v in VARIANTS
        ]
        who = SyntheticSample(sample, patient, centre=centre)
        paths.append(write_synthetic_report(root / sample, who, variants))
    return paths


def _roles(db_url: str, server: PostgresServer) -> None:
    engine = make_engine(db_url)
    database = db_url.rsplit("/", 1)[1]
    for centre in ("north", "south"):
        role = f"beacon_{centre}_{database}"
        server.create_role(role)
        grant_centre(engine, centre, role, centre.title())
        server.execute(f'GRANT "{role}" TO genomflow', database=database)
    engine.dispose()


@pytest.fixture
def beacon(db_url: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Beacon]:
    engine = make_engine(db_url)
    upgrade(engine)
    if is_postgres(engine):
        _roles(db_url, request.getfixturevalue("pg_server"))
    load_reports(engine, _reports(tmp_path / "reports"))
    tokens = {c: add_token(engine, f"{c}-token", c, 30) for c in ("north", "south")}
    expired = add_token(engine, "old", "north", 1)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE api_tokens SET expires_at = '2020-01-01 00:00:00+00:00' WHERE name = 'old'"
            )
        )
    engine.dispose()
    tokens["expired"] = expired
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "genomflow",
        "kb",
        "serve",
        "--db",
        db_url,
        "--port",
        str(port),
        "--rate-limit",
        str(RATE_LIMIT),
    ]
    process = subprocess.Popen(
        command, env=tool_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"{url}/api/info", timeout=2)
            break
        except httpx.TransportError:
            assert process.poll() is None and time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
    try:
        yield Beacon(url, db_url, tokens, process)
    finally:
        process.terminate()
        process.wait(timeout=30)


def _valid(name: str, body: dict[str, object]) -> None:
    errors = [e.message for e in response_validator(f"responses/{name}.yaml").iter_errors(body)]
    assert errors == [], errors


def _query(index: int = 0, **extra: str) -> dict[str, str]:
    chrom, pos, ref, alt = sorted(POOL[:3])[index]
    return {
        "referenceName": chrom,
        "start": str(pos - 1),
        "referenceBases": ref,
        "alternateBases": alt,
        **extra,
    }


def test_every_answer_validates_against_the_beacon_schemas(beacon: Beacon) -> None:
    with httpx.Client(base_url=beacon.url) as client:
        for path, name in (
            ("/api/info", "beaconInfoResponse"),
            ("/api/map", "beaconMapResponse"),
            ("/api/configuration", "beaconConfigurationResponse"),
            ("/api/filtering_terms", "beaconFilteringTermsResponse"),
        ):
            answer = client.get(path)
            assert answer.status_code == 200
            _valid(name, answer.json())
        boolean = client.get("/api/g_variants", params=_query())
        _valid("beaconBooleanResponse", boolean.json())
        assert boolean.json()["responseSummary"]["exists"] is True
        missing = client.get(
            "/api/g_variants", params={**_query(), "start": "0", "requestedGranularity": "count"}
        )
        _valid("beaconCountResponse", missing.json())
        assert missing.json()["responseSummary"] == {"exists": False, "numTotalResults": 0}
        error = client.get("/api/g_variants", params={"referenceName": "chr1"})
        assert error.status_code == 400
        _valid("beaconErrorResponse", error.json())


def test_an_anonymous_count_of_three_patients_is_not_returned(beacon: Beacon) -> None:
    answer = httpx.get(f"{beacon.url}/api/g_variants", params=_query(requestedGranularity="count"))
    body = answer.json()
    _valid("beaconBooleanResponse", body)
    assert body["meta"]["returnedGranularity"] == "boolean"
    assert body["responseSummary"] == {"exists": True}
    assert "3" not in json.dumps(body["responseSummary"])
    vrs = httpx.get(
        f"{beacon.url}/api/g_variants/{VARIANTS_VRS()}", params={"requestedGranularity": "count"}
    )
    assert vrs.json()["responseSummary"] == {"exists": True}
    record = httpx.get(f"{beacon.url}/api/g_variants", params=_query(requestedGranularity="record"))
    assert record.status_code == 401


def VARIANTS_VRS() -> str:
    from tests.kb.synthetic import fake_vrs_id

    v = VARIANTS[0]
    return fake_vrs_id(v["chrom"], v["pos"], v["ref"], v["alt"])


def test_a_centre_token_sees_its_own_records_and_never_another_centres(beacon: Beacon) -> None:
    seen = {}
    for centre in ("north", "south"):
        headers = {"Authorization": f"Bearer {beacon.tokens[centre]}"}
        answer = httpx.get(
            f"{beacon.url}/api/g_variants",
            params=_query(requestedGranularity="record"),
            headers=headers,
        )
        assert answer.status_code == 200
        body = answer.json()
        _valid("beaconResultsetsResponse", body)
        cases = [
            c for r in body["response"]["resultSets"][0]["results"] for c in r["caseLevelData"]
        ]
        seen[centre] = {c["biosampleId"] for c in cases}
    assert seen == {"north": {"N1", "N2"}, "south": {"S1"}}
    posted = httpx.post(
        f"{beacon.url}/api/g_variants",
        json={
            "meta": {"apiVersion": "v2.0.1"},
            "query": {"requestParameters": _query(), "requestedGranularity": "record"},
        },
        headers={"Authorization": f"Bearer {beacon.tokens['south']}"},
    )
    assert {
        c["biosampleId"]
        for r in posted.json()["response"]["resultSets"][0]["results"]
        for c in r["caseLevelData"]
    } == {"S1"}


@pytest.mark.parametrize("token", ["expired", "wrong", "not-bearer"])
def test_a_wrong_or_expired_token_gets_401(beacon: Beacon, token: str) -> None:
    header = {
        "expired": f"Bearer {beacon.tokens.get('expired')}",
        "wrong": "Bearer gfb_nope",
        "not-bearer": f"Basic {beacon.tokens['north']}",
    }[token]
    answer = httpx.get(
        f"{beacon.url}/api/g_variants", params=_query(), headers={"Authorization": header}
    )
    assert answer.status_code == 401
    _valid("beaconErrorResponse", answer.json())


@pytest.mark.parametrize(
    "params",
    [
        {"referenceName": "chr1' OR '1'='1", "start": "1", "alternateBases": "A"},
        {"referenceName": "chr1", "start": "1; DROP TABLE calls", "alternateBases": "A"},
        {"referenceName": "chr1", "start": "1", "alternateBases": "A", "assemblyId": "x'--"},
        {"referenceName": "chr1", "start": "1", "alternateBases": "A", "extra": "1"},
        {"referenceName": "chr1", "start": "10", "end": "5"},
    ],
)
def test_injection_like_parameters_get_400(beacon: Beacon, params: dict[str, str]) -> None:
    answer = httpx.get(f"{beacon.url}/api/g_variants", params=params)
    assert answer.status_code == 400
    _valid("beaconErrorResponse", answer.json())
    engine = make_engine(beacon.db_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM calls")).scalar_one() == 9
    finally:
        engine.dispose()


def test_a_burst_above_the_rate_limit_gets_429_and_every_query_is_logged(beacon: Beacon) -> None:
    with httpx.Client(base_url=beacon.url) as client:
        codes = [
            client.get("/api/g_variants", params=_query()).status_code
            for _ in range(RATE_LIMIT + 10)
        ]
        headers = {"Authorization": f"Bearer {beacon.tokens['north']}"}
        own = client.get(
            "/api/g_variants", params=_query(requestedGranularity="record"), headers=headers
        )
    allowed = RATE_LIMIT - 1  # the fixture's start-up probe was this client's first request
    assert codes[:allowed] == [200] * allowed
    assert set(codes[allowed:]) == {429}
    assert own.status_code == 200  # another client (token) has its own allowance
    beacon.process.terminate()
    beacon.process.wait(timeout=30)
    engine = make_engine(beacon.db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT token_name, centre_id, endpoint, granularity, status "
                    "FROM query_log ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    statuses = [r.status for r in rows if r.endpoint == "/api/g_variants"]
    assert statuses.count(200) == RATE_LIMIT and statuses.count(429) == 11
    assert ("north-token", "north", "/api/g_variants", "record", 200) in [tuple(r) for r in rows]


def test_counts_are_distinct_patients_over_the_builds_asked_for(
    db_url: str, tmp_path: Path
) -> None:
    # One allele seen by PAT-1..3 on one build and PAT-3..6 on another: six patients in all
    # (PAT-3 once), three or four on one build, none on a build nobody loaded.
    from genomflow.kb.beacon import carriers, parse_query
    from genomflow.kb.db import open_for_reading

    engine = make_engine(db_url)
    upgrade(engine)
    people = {"build-a": (1, 2, 3), "build-b": (3, 4, 5, 6)}
    for build, numbers in people.items():
        reports = [
            write_synthetic_report(
                tmp_path / f"{build}-{n}",
                SyntheticSample(f"S{n}{build[-1]}", f"PAT-{n}"),
                VARIANTS[:1],
                build=build,
            )
            for n in numbers
        ]
        load_reports(engine, reports, build=build)
    engine.dispose()
    v = VARIANTS[0]
    asked = {"referenceName": v["chrom"], "start": str(v["pos"] - 1), "alternateBases": v["alt"]}
    reader = open_for_reading(db_url)
    with reader.connect() as connection:
        counts = {
            assembly: carriers(
                connection, parse_query({**asked, **({"assemblyId": assembly} if assembly else {})})
            )
            for assembly in (None, "build-a", "build-b", "build-c")
        }
    reader.dispose()
    assert counts == {None: 6, "build-a": 3, "build-b": 4, "build-c": 0}
