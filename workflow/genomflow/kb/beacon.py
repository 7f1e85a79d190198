"""The Beacon v2 ``g_variants`` queries, apart from HTTP: checking a request, and answering it.

Parameters are checked against strict patterns before anything reaches the database (which
is asked with bound parameters only); an unknown parameter is an error too. Positions are
Beacon's: 0-based ``start`` (and ``end``, exclusive); the database holds VCF positions.

Counts are of *patients* carrying a matching variant in a passing call of the latest
analysis of a sample, over every centre. Counts of 1 to 4 are never returned: such a count
request is answered at ``boolean`` granularity (as ``kb variant`` shows ``<5``). ``record``
granularity needs a centre's token, and lists only that centre's own samples.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from genomflow.kb.db import is_postgres

GRANULARITIES = ("boolean", "count", "record")
SMALLEST_COUNT = 5
MAX_RANGE = 10_000_000
MAX_RECORDS = 1000

PATTERNS: dict[str, re.Pattern[str]] = {
    "referenceName": re.compile(r"[A-Za-z0-9_.]{1,50}"),
    "start": re.compile(r"[0-9]{1,10}"),
    "end": re.compile(r"[0-9]{1,10}"),
    "referenceBases": re.compile(r"[ACGTN]{1,1000}"),
    "alternateBases": re.compile(r"[ACGTN]{1,1000}"),
    "assemblyId": re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"),
    "variantType": re.compile(r"SNP|INDEL|MNP"),
    "requestedGranularity": re.compile(r"boolean|count|record"),
    "includeResultsetResponses": re.compile(r"ALL|HIT|MISS|NONE"),
    "skip": re.compile(r"[0-9]{1,6}"),
    "limit": re.compile(r"[0-9]{1,6}"),
    "testMode": re.compile(r"true|false"),
}
VRS_ID = re.compile(r"ga4gh:VA\.[0-9A-Za-z_-]{32}")


class BeaconRequestError(ValueError):
    """A request the Beacon refuses (HTTP 400)."""


@dataclass(frozen=True)
class VariantQuery:
    """A checked ``g_variants`` request."""

    granularity: str = "boolean"
    reference_name: str | None = None
    start: int | None = None
    end: int | None = None
    reference_bases: str | None = None
    alternate_bases: str | None = None
    assembly: str | None = None
    vrs_id: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)


def parse_query(params: Mapping[str, str], vrs_id: str | None = None) -> VariantQuery:
    """Check the parameters of a ``g_variants`` request.

    >>> parse_query({"referenceName": "chr1", "start": "514", "alternateBases": "G"}).start
    514
    >>> parse_query({"referenceName": "chr1'; DROP TABLE calls;--", "start": "1"})
    Traceback (most recent call last):
    ...
    genomflow.kb.beacon.BeaconRequestError: invalid referenceName
    """
    for name, value in params.items():
        pattern = PATTERNS.get(name)
        if pattern is None:
            raise BeaconRequestError(f"unknown parameter {name[:50]!r}")
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise BeaconRequestError(f"invalid {name}")
    granularity = params.get("requestedGranularity", "boolean")
    if vrs_id is not None:
        if VRS_ID.fullmatch(vrs_id) is None:
            raise BeaconRequestError("invalid variant id: expected a VRS id (ga4gh:VA.…)")
        return VariantQuery(granularity, vrs_id=vrs_id, parameters=dict(params))
    if "referenceName" not in params or "start" not in params:
        raise BeaconRequestError("referenceName and start are required (or a VRS id)")
    start = int(params["start"])
    end = int(params["end"]) if "end" in params else None
    if end is None and "alternateBases" not in params:
        raise BeaconRequestError("a sequence query needs alternateBases (or give end)")
    if end is not None and not start < end <= start + MAX_RANGE:
        raise BeaconRequestError(f"end must be after start, by at most {MAX_RANGE:,}")
    return VariantQuery(
        granularity,
        params["referenceName"],
        start,
        end,
        params.get("referenceBases"),
        params.get("alternateBases"),
        params.get("assemblyId"),
        parameters=dict(params),
    )


#: Passing calls of the latest analysis of each sample.
#: The calls counted: PASS calls of each sample's latest analysis, in the build(s) that
#: ``{builds}`` selects (a condition on ``v.build_id``); ``{patients}`` may join patients.
COUNTED = """
FROM variants v
JOIN calls c ON c.variant_id = v.id
JOIN analyses a ON a.id = c.analysis_id
JOIN samples s ON s.id = a.sample_id{patients}
WHERE c.filters = 'PASS'
  AND a.version = (SELECT max(b.version) FROM analyses b WHERE b.sample_id = a.sample_id)
  AND v.build_id {builds}
"""


def _where(query: VariantQuery) -> tuple[str, dict[str, Any]]:
    if query.vrs_id is not None:
        return " AND v.vrs_id = :vrs", {"vrs": query.vrs_id}
    assert query.start is not None
    sql = " AND v.chrom = :chrom"
    values: dict[str, Any] = {"chrom": query.reference_name}
    if query.end is None:
        sql += " AND v.pos = :pos"
        values["pos"] = query.start + 1
    else:
        sql += " AND v.pos > :start AND v.pos <= :end"
        values.update(start=query.start, end=query.end)
    for column, value in (("ref", query.reference_bases), ("alt", query.alternate_bases)):
        if value is not None:
            sql += f" AND v.{column} = :{column}"
            values[column] = value
    return sql, values


def builds(connection: Connection, assembly: str | None) -> list[tuple[int, str]]:
    """(id, name) of the builds asked for: the named one, or all."""
    if assembly is None:
        rows = connection.execute(text("SELECT id, name FROM builds ORDER BY id"))
    else:
        rows = connection.execute(
            text("SELECT id, name FROM builds WHERE name = :n"), {"n": assembly}
        )
    return [(int(r.id), str(r.name)) for r in rows]


def carriers(connection: Connection, query: VariantQuery) -> int:
    """Patients (over every centre, and every build unless one is asked for) carrying a
    variant that matches: one statement, one round trip."""
    where, values = _where(query)
    if query.assembly is None:
        builds_sql = "SELECT id FROM builds"
    else:
        builds_sql = "SELECT id FROM builds WHERE name = :assembly"
        values = {**values, "assembly": query.assembly}
    # PostgreSQL evaluates ARRAY(subquery) once, before the scan, so the build ids lead the
    # variants' unique index whatever the statistics say (IN (subquery) may be planned as a
    # join and a sequential scan of variants on a freshly loaded database); SQLite looks up
    # IN (subquery) in the index.
    builds = f"= ANY(ARRAY({builds_sql}))" if is_postgres(connection) else f"IN ({builds_sql})"
    counted = COUNTED.format(patients="", builds=builds)
    count = connection.execute(
        text(f"SELECT COUNT(DISTINCT s.patient_id) {counted}{where}"), values
    ).scalar_one()
    return int(count)


def records(connection: Connection, query: VariantQuery, centre: str) -> list[dict[str, Any]]:
    """The matching variants seen in ``centre``'s samples, each with those samples only."""
    where, values = _where(query)
    found: dict[tuple[str, int], dict[str, Any]] = {}
    for build, name in builds(connection, query.assembly):
        rows = connection.execute(
            text(
                "SELECT v.id, v.chrom, v.pos, v.ref, v.alt, v.vrs_id, s.name AS sample, "
                "p.pseudonym AS patient, c.origin, c.zygosity, c.genotype "
                + COUNTED.format(
                    patients="\nJOIN patients p ON p.id = s.patient_id", builds="= :build"
                )
                + f"{where} AND s.centre_id = :centre ORDER BY v.chrom, v.pos, v.id, s.name"
            ),
            {**values, "build": build, "centre": centre},
        )
        for r in rows:
            record = found.setdefault((name, int(r.id)), _record(name, r))
            record["caseLevelData"].append(_case(r))
            if len(found) > MAX_RECORDS:
                break
    return list(found.values())[:MAX_RECORDS]


def _record(build: str, row: Any) -> dict[str, Any]:
    kind = "SNP" if len(row.ref) == len(row.alt) == 1 else "INDEL"
    return {
        "variantInternalId": row.vrs_id or f"{build}:{row.chrom}:{row.pos}:{row.ref}:{row.alt}",
        "variation": {
            "variantType": kind,
            "referenceBases": row.ref,
            "alternateBases": row.alt,
            "location": {
                "type": "SequenceLocation",
                "sequence_id": row.chrom,
                "interval": {
                    "type": "SequenceInterval",
                    "start": {"type": "Number", "value": int(row.pos) - 1},
                    "end": {"type": "Number", "value": int(row.pos) - 1 + len(row.ref)},
                },
            },
        },
        "identifiers": {"assemblyId": build},
        "caseLevelData": [],
    }


def _case(row: Any) -> dict[str, Any]:
    case: dict[str, Any] = {
        "biosampleId": row.sample,
        "individualId": row.patient,
        "alleleOrigin": {"id": f"genomflow:{row.origin}", "label": row.origin},
    }
    if row.zygosity:
        case["zygosity"] = {"id": f"genomflow:{row.zygosity}", "label": row.zygosity}
    return case


def shown_granularity(requested: str, count: int, authenticated: bool) -> str:
    """The granularity actually returned.

    >>> shown_granularity("count", 3, False), shown_granularity("count", 12, False)
    ('boolean', 'count')
    >>> shown_granularity("record", 3, True), shown_granularity("count", 0, False)
    ('record', 'count')
    """
    if requested == "record" and authenticated:
        return "record"
    if requested in ("count", "record") and not 1 <= count < SMALLEST_COUNT:
        return "count"
    return "boolean"


def response_validator(name: str) -> Any:
    """A validator of the shipped Beacon v2 framework schema ``name`` (e.g.
    ``responses/beaconCountResponse.yaml``), its references resolved among the shipped files."""
    from pathlib import Path

    import yaml
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    from genomflow.schemas import SCHEMA_DIR

    def retrieve(uri: str) -> Resource[Any]:
        path = Path(uri.removeprefix("file://"))
        contents = yaml.safe_load(path.read_text())
        return Resource.from_contents(contents, default_specification=DRAFT202012)

    root = SCHEMA_DIR / "beacon"
    registry: Registry[Any] = Registry(retrieve=retrieve)  # type: ignore[call-arg]
    return Draft202012Validator({"$ref": (root / name).as_uri()}, registry=registry)
