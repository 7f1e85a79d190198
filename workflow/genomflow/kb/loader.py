"""``genomflow load``: put sample reports into the knowledge database, correctly, every time.

Every report is checked before the database is touched: the schema, every file it
describes (present, same size, same SHA-256, relative to the report), no call listed twice,
every call on a contig of its reference, within the contig. Then it loads in one transaction:

* a report whose digest (SHA-256 of the file) is already loaded adds nothing;
* a changed report of a loaded sample becomes the sample's next analysis version; the
  earlier versions stay;
* the sample's facts (patient, sex, type, assay, panel, collection date) must not change;
* the report's reference build must be the database's (same name, same contig MD5s), or
  the one named with ``--build``; an empty database takes the first report's build.

Calls go in set-wise, into a temporary staging table (binary COPY on PostgreSQL, executemany
on SQLite), then ``INSERT ... SELECT`` into ``variants`` (new alleles only) and ``calls``.
On PostgreSQL, in two statements:

1. without a lock, each staged allele is looked up once; the calls of known alleles go in,
   and the rest are kept aside;
2. under a transaction-level advisory lock per build, so that loaders add alleles one at a
   time, the rest are looked up again among the alleles added since step 1, the new ones
   are inserted without a conflict check (their ids come back from ``RETURNING``), and
   their calls go in. (Without the lock, a loader would wait anyway for another's
   uncommitted copy of a shared allele.)

So loaders of different reports (``genomflow load --jobs``, or one process per centre)
overlap in step 1 and take turns only for new alleles. A killed loader leaves nothing
behind: its transaction was never committed.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from genomflow.errors import GenomflowError
from genomflow.kb.db import is_postgres, upgrade
from genomflow.kb.models import (
    Analysis,
    Biomarker,
    Build,
    Centre,
    CtdnaMeasurement,
    DeliverableFile,
    Patient,
    QcMetric,
    Sample,
    StructuralCall,
)
from genomflow.progress import bar, progress
from genomflow.report.build import sha256_file
from genomflow.report.validate import read_report

#: Test hook: seconds to wait inside the load transaction after the calls are inserted...
PAUSE_ENV = "GENOMFLOW_KB_TEST_PAUSE"
#: ... or until this file exists.
RELEASE_ENV = "GENOMFLOW_KB_TEST_RELEASE"
RETRIES = 10
#: PostgreSQL errors worth retrying: deadlock, serialization failure, unique-key race.
RETRY_SQLSTATES = frozenset({"40P01", "40001", "23505"})
#: The largest depth ``calls.depth`` (a 32-bit integer) holds.
MAX_DEPTH = 2**31 - 1
#: Key of the PostgreSQL advisory lock taken to register a new reference build.
BUILD_LOCK = zlib.crc32(b"genomflow.kb.builds")

#: The staging table ``load_calls``: column, SQL type, PostgreSQL binary COPY type.
#: Integers are staged as BIGINT: a binary COPY truncates silently into a narrower type,
#: whereas ``INSERT ... SELECT`` into ``calls`` checks the range.
_STAGING: tuple[tuple[str, str, str], ...] = (
    ("chrom", "TEXT COLLATE {c}", "text"),
    ("pos", "BIGINT", "int8"),
    ("ref", "TEXT COLLATE {c}", "text"),
    ("alt", "TEXT COLLATE {c}", "text"),
    ("vrs_id", "TEXT COLLATE {c}", "text"),
    ("origin", "TEXT", "text"),
    ("genotype", "TEXT", "text"),
    ("zygosity", "TEXT", "text"),
    ("vaf", "DOUBLE PRECISION", "float8"),
    ("depth", "BIGINT", "int8"),
    ("quality", "DOUBLE PRECISION", "float8"),
    ("filters", "TEXT", "text"),
    ("consequence", "TEXT", "text"),
    ("gene", "TEXT", "text"),
    ("transcript", "TEXT", "text"),
    ("hgvs_c", "TEXT", "text"),
    ("hgvs_p", "TEXT", "text"),
    ("exon", "TEXT", "text"),
    ("clinical_significance", "TEXT", "text"),
)
STAGING_COLUMNS: tuple[str, ...] = tuple(column for column, _, _ in _STAGING)
STAGING_COPY_TYPES: tuple[str, ...] = tuple(copy_type for _, _, copy_type in _STAGING)
_STAGING_DDL = ", ".join(f"{column} {sql}" for column, sql, _ in _STAGING)
#: The staging table's columns; the variant key compares bytes, as in ``variants``.
STAGING_DDL = {
    "postgresql": _STAGING_DDL.format(c='"C"'),
    "sqlite": _STAGING_DDL.format(c="BINARY"),
}

#: The columns of a call taken from its staged row as they are (after the allele and origin).
CALL_VALUES: tuple[str, ...] = STAGING_COLUMNS[STAGING_COLUMNS.index("genotype") :]
#: ``calls``' columns as the insert statements below name them.
_CALL_COLUMNS = "analysis_id, variant_id, origin, centre_id, " + ", ".join(CALL_VALUES)


def _values(alias: str) -> str:
    """The staged call values, each prefixed with ``alias``."""
    return ", ".join(f"{alias}{column}" for column in CALL_VALUES)


# SQLite: add the new alleles, then join every call to its allele.
_INSERT_VARIANTS = """
INSERT INTO variants (build_id, chrom, pos, ref, alt, vrs_id)
SELECT :build, chrom, pos, ref, alt, max(vrs_id) FROM load_calls WHERE true
GROUP BY chrom, pos, ref, alt ORDER BY chrom, pos, ref, alt
ON CONFLICT (build_id, chrom, pos, ref, alt) DO NOTHING
"""
_INSERT_CALLS = f"""
INSERT INTO calls ({_CALL_COLUMNS})
SELECT :analysis, v.id, l.origin, :centre, {_values("l.")}
FROM load_calls l
JOIN variants v ON v.build_id = :build AND v.chrom = l.chrom AND v.pos = l.pos
                AND v.ref = l.ref AND v.alt = l.alt
"""
# PostgreSQL, in two statements. First, without a lock: look each staged call's allele up,
# insert the calls of the alleles found, in variant order (which keeps the inserts into the
# key of ``calls``, (variant_id, ...), close together), and keep the calls of the alleles
# not found in ``load_unknown``. Loaders of other reports do the same meanwhile: calls of
# different analyses never collide.
_PG_INSERT_KNOWN = """
WITH staged AS MATERIALIZED ({staged}), unknown AS (
  INSERT INTO load_unknown SELECT {columns} FROM staged WHERE variant_id IS NULL
  ORDER BY chrom, pos, ref, alt
)
INSERT INTO calls ({calls})
SELECT :analysis, variant_id, origin, :centre, {values}
FROM staged WHERE variant_id IS NOT NULL
ORDER BY variant_id
"""
# The look-up: a hash join over all of the build's alleles, or one probe of the allele key
# per call. The join's cost grows with the alleles, the probes' with the calls only.
_PG_STAGED_BY_JOIN = """
  SELECT l.*, v.id AS variant_id
  FROM load_calls l
  LEFT JOIN variants v ON v.build_id = :build AND v.chrom = l.chrom AND v.pos = l.pos
                       AND v.ref = l.ref AND v.alt = l.alt
"""
_PG_STAGED_BY_PROBE = """
  SELECT l.*, (SELECT v.id FROM variants v
               WHERE v.build_id = :build AND v.chrom = l.chrom AND v.pos = l.pos
                 AND v.ref = l.ref AND v.alt = l.alt) AS variant_id
  FROM load_calls l
"""
#: Probe the allele key instead of hashing the alleles when the database holds more than
#: this many alleles per staged call. ``bench/load/lookup`` (100,000 calls) measured the two
#: equal at 6 to 10 alleles per call; at 5,000,000 alleles the probes took 0.5-0.8 s and the
#: hash join 3.0-3.1 s, and the join grows with every sample loaded.
PROBE_RATIO = 8


def known_statement(alleles: int, calls: int) -> str:
    """The first statement, looking ``calls`` staged calls up among about ``alleles``."""
    staged = _PG_STAGED_BY_PROBE if alleles > PROBE_RATIO * calls else _PG_STAGED_BY_JOIN
    return _PG_INSERT_KNOWN.format(
        staged=staged,
        columns=", ".join(STAGING_COLUMNS),
        calls=_CALL_COLUMNS,
        values=_values(""),
    )


# Then, under the build's variants lock (see VARIANTS_LOCK), for the calls left: look their
# alleles up again among those added since the first look (ids above ``seen``: alleles are
# added only under the lock, and the id sequence, CACHE 1, hands ids out in order, so they
# grow in commit order; ``span`` bounds how many there are); insert the alleles still
# not found, without a conflict check, taking their ids from RETURNING; insert the calls.
_PG_INSERT_UNKNOWN = """
WITH recent AS MATERIALIZED (
  SELECT id, build_id, chrom, pos, ref, alt FROM variants WHERE id > :seen ORDER BY id LIMIT :span
), staged AS MATERIALIZED (
  SELECT l.*, v.id AS variant_id
  FROM {rest} l
  LEFT JOIN recent v ON v.build_id = :build AND v.chrom = l.chrom AND v.pos = l.pos
                     AND v.ref = l.ref AND v.alt = l.alt
), added AS (
  INSERT INTO variants (build_id, chrom, pos, ref, alt, vrs_id)
  SELECT DISTINCT ON (chrom, pos, ref, alt) :build, chrom, pos, ref, alt, vrs_id
  FROM staged WHERE variant_id IS NULL
  ORDER BY chrom, pos, ref, alt, vrs_id DESC NULLS LAST
  RETURNING id, chrom, pos, ref, alt
)
INSERT INTO calls ({calls})
SELECT :analysis, coalesce(s.variant_id, a.id), s.origin, :centre, {values}
FROM staged s
LEFT JOIN added a ON s.variant_id IS NULL AND a.chrom = s.chrom AND a.pos = s.pos
                  AND a.ref = s.ref AND a.alt = s.alt
ORDER BY coalesce(s.variant_id, a.id)
"""
_PG_LAST_VARIANT = "SELECT coalesce(max(id), 0) FROM variants"
#: Class key of the PostgreSQL advisory lock (class, build id) held by the transaction that
#: adds alleles to a build: loaders add alleles one at a time, each seeing the last one's.
VARIANTS_LOCK = zlib.crc32(b"genomflow.kb.variants") & 0x7FFFFFFF

SAMPLE_FACTS: tuple[str, ...] = ("sex", "type", "assay", "panel", "collection_date")
#: Optional fields of a report variant (schema 1.2.0) stored with the call, in staging order;
#: absent (older reports) is stored as NULL.
HGVS_FIELDS: tuple[str, ...] = ("transcript", "hgvs_c", "hgvs_p", "exon", "clinical_significance")


class LoadError(GenomflowError):
    """A report that cannot be loaded; the database is unchanged."""


@dataclass(frozen=True)
class CheckedReport:
    """A report that passed every check that does not need the database."""

    path: Path
    digest: str
    report: dict[str, Any]


@dataclass(frozen=True)
class LoadResult:
    """What loading one report did."""

    path: Path
    sample: str
    status: str  # "loaded" or "unchanged"
    analysis_id: int
    version: int
    calls: int


def report_digest(data: bytes) -> str:
    """SHA-256 of a report file: its identity in the database."""
    return hashlib.sha256(data).hexdigest()


def build_fingerprint(contigs: Iterable[dict[str, Any]]) -> str:
    """SHA-256 over the contigs' names, lengths and MD5s, in order."""
    lines = "".join(f"{c['name']}\t{c['length']}\t{c['md5']}\n" for c in contigs)
    return hashlib.sha256(lines.encode()).hexdigest()


def check_files(path: Path, report: dict[str, Any]) -> None:
    """Every file of the report exists (relative to it) with the size and SHA-256 it says."""
    for entry in report["files"]:
        name = entry["path"]
        file = path.parent / name
        if not file.is_file():
            raise LoadError(f"{path}: file {name} ({entry['role']}) not found: {file}")
        size = file.stat().st_size
        if size != entry["size"]:
            raise LoadError(
                f"{path}: file {name} has {size} bytes, the report says {entry['size']}"
            )
        actual = sha256_file(file)
        if actual != entry["sha256"]:
            raise LoadError(
                f"{path}: file {name}: wrong checksum (SHA-256 {actual}, "
                f"the report says {entry['sha256']})"
            )


def check_calls(path: Path, report: dict[str, Any]) -> None:
    """No call twice; every contig is one of the report's reference and every call lies on
    it; every depth fits the database column."""
    contigs = {c["name"]: c["length"] for c in report["provenance"]["reference"]["contigs"]}
    seen: set[tuple[str, int, str, str, str]] = set()
    for v in report["variants"]:
        key = (v["chrom"], v["pos"], v["ref"], v["alt"], v["origin"])
        if key in seen:
            raise LoadError(f"{path}: {origin_text(key)} is listed twice")
        seen.add(key)
    unknown = {v["chrom"] for v in report["variants"]} - contigs.keys()
    if unknown:
        raise LoadError(
            f"{path}: variants on contigs not in reference "
            f"{report['provenance']['reference']['name']!r}: {', '.join(sorted(unknown))}"
        )
    for v in report["variants"]:
        key = (v["chrom"], v["pos"], v["ref"], v["alt"], v["origin"])
        if v["pos"] > contigs[v["chrom"]]:
            raise LoadError(
                f"{path}: {origin_text(key)} lies beyond the end of {v['chrom']} "
                f"({contigs[v['chrom']]:,} bp)"
            )
        if v["depth"] is not None and v["depth"] > MAX_DEPTH:
            raise LoadError(f"{path}: {origin_text(key)} has depth {v['depth']}, over {MAX_DEPTH}")


def _check_content(path: Path, report: dict[str, Any], reference: Path | None) -> None:
    from genomflow.kb.content import check_content

    if reference is None:
        check_content(path, report)
        return
    from genomflow.report.vrs import Contig, FastaDataProxy

    contigs = report["provenance"]["reference"]["contigs"]
    if not reference.is_file():
        raise LoadError(f"--reference {reference}: file not found")
    proxy = FastaDataProxy(reference, [Contig(**c) for c in contigs])
    try:
        check_content(path, report, proxy)
    finally:
        proxy.close()


def origin_text(key: tuple[str, int, str, str, str]) -> str:
    chrom, pos, ref, alt, origin = key
    return f"{origin} call {chrom}:{pos}:{ref}:{alt}"


def check_report(
    path: Path, build: str | None = None, reference: Path | None = None
) -> CheckedReport:
    """Read and check a report without the database; :class:`LoadError` names the problem.

    With ``build``, the report must come from the reference build of that name. The calls'
    content is checked (:mod:`genomflow.kb.content`); with ``reference`` (the run's FASTA)
    the VRS ids of indels are recomputed too.
    """
    data, report = read_report(path)
    name = report["provenance"]["reference"]["name"]
    if build is not None and name != build:
        raise LoadError(f"{path}: comes from reference build {name!r}, not {build!r} (--build)")
    check_files(path, report)
    check_calls(path, report)
    _check_content(path, report, reference)
    return CheckedReport(path=path, digest=report_digest(data), report=report)


# --- inside the transaction ----------------------------------------------------------------


def _dialect_insert(connection: Connection, table: Any) -> Any:
    return (postgresql.insert if is_postgres(connection) else sqlite.insert)(table)


def _check_build(
    checked: CheckedReport, builds: dict[str, Any], expected: str | None
) -> int | None:
    """The id of the report's build if the database has it, None if it may be added."""
    reference = checked.report["provenance"]["reference"]
    name = reference["name"]
    known = builds.get(name)
    if known is not None:
        if known.fingerprint != build_fingerprint(reference["contigs"]):
            raise LoadError(
                f"{checked.path}: reference build {name!r} differs from the database's build "
                "of that name (contig names, lengths or MD5s)"
            )
        return int(known.id)
    if builds and expected is None:
        raise LoadError(
            f"{checked.path}: comes from reference build {name!r}, but the database holds "
            f"{', '.join(sorted(builds))}; pass --build {name} to add that build"
        )
    return None


def _ensure_build(
    connection: Connection, checked: CheckedReport, expected: str | None
) -> tuple[int, bool]:
    """The id of the report's build, and whether this transaction added it."""
    reference = checked.report["provenance"]["reference"]
    name = reference["name"]
    builds = {row.name: row for row in connection.execute(select(Build))}
    found = _check_build(checked, builds, expected)
    if found is not None:
        return found, False
    if is_postgres(connection):  # one registration at a time, then look again
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": BUILD_LOCK})
        builds = {row.name: row for row in connection.execute(select(Build))}
        found = _check_build(checked, builds, expected)
        if found is not None:
            return found, False
    values = {
        "name": name,
        "fingerprint": build_fingerprint(reference["contigs"]),
        "contigs": json.dumps(reference["contigs"], sort_keys=True),
    }
    added = connection.execute(insert(Build).values(values).returning(Build.id)).scalar_one()
    return int(added), True


def _ensure_centre(connection: Connection, centre: dict[str, Any]) -> None:
    found = connection.execute(select(Centre.id).where(Centre.id == centre["id"])).first()
    if found is None:
        values = {"id": centre["id"], "name": centre["name"], "region": centre["region"]}
        connection.execute(
            _dialect_insert(connection, Centre).values(values).on_conflict_do_nothing()
        )


def _ensure_patient(connection: Connection, centre: str, pseudonym: str) -> int:
    values = {"centre_id": centre, "pseudonym": pseudonym}
    connection.execute(_dialect_insert(connection, Patient).values(values).on_conflict_do_nothing())
    query = select(Patient.id).where(Patient.centre_id == centre, Patient.pseudonym == pseudonym)
    return int(connection.execute(query).scalar_one())


def _sample_values(sample: dict[str, Any], centre: str, patient_id: int) -> dict[str, Any]:
    date = sample["collection_date"]
    return {
        "centre_id": centre,
        "patient_id": patient_id,
        "name": sample["id"],
        "sex": sample["sex"],
        "type": sample["type"],
        "assay": sample["assay"],
        "panel": sample["panel"],
        "collection_date": datetime.date.fromisoformat(date) if date else None,
    }


def _lock_sample(connection: Connection, centre: str, name: str) -> Any:
    query = select(Sample).where(Sample.centre_id == centre, Sample.name == name)
    if is_postgres(connection):
        query = query.with_for_update()
    return connection.execute(query).first()


def _ensure_sample(connection: Connection, checked: CheckedReport, centre: str) -> int:
    sample = checked.report["sample"]
    patient_id = _ensure_patient(connection, centre, sample["patient"])
    values = _sample_values(sample, centre, patient_id)
    row = _lock_sample(connection, centre, sample["id"])
    if row is None:
        connection.execute(
            _dialect_insert(connection, Sample).values(values).on_conflict_do_nothing()
        )
        row = _lock_sample(connection, centre, sample["id"])
    for fact in ("patient_id", *SAMPLE_FACTS):
        if getattr(row, fact) != values[fact]:
            shown = sample["patient"] if fact == "patient_id" else values[fact]
            raise LoadError(
                f"{checked.path}: sample {sample['id']!r} of centre {centre!r} is in the database "
                f"with a different {fact.removesuffix('_id')} (the report says {shown!r}); "
                "a sample's facts cannot change"
            )
    return int(row.id)


def _insert_analysis(
    connection: Connection, checked: CheckedReport, centre: str, sample_id: int, build_id: int
) -> tuple[int, int]:
    latest = connection.execute(
        select(func.max(Analysis.version)).where(Analysis.sample_id == sample_id)
    ).scalar_one()
    version = int(latest or 0) + 1
    provenance, qc = checked.report["provenance"], checked.report["qc"]
    values = {
        "centre_id": centre,
        "sample_id": sample_id,
        "version": version,
        "report_digest": checked.digest,
        "schema_version": checked.report["schema_version"],
        "build_id": build_id,
        "genomflow_version": provenance["genomflow_version"],
        "config_digest": provenance["config_digest"],
        "batch": provenance["batch"],
        "run_date": provenance["run_date"],
        "software": json.dumps(provenance["software"], sort_keys=True),
        "qc_status": qc["status"],
        "qc_reasons": "; ".join(qc["reasons"]),
        "report_path": str(checked.path.resolve()),
        "n_calls": len(checked.report["variants"]),
        "diagnosis": checked.report["sample"].get("diagnosis"),
        "loaded_at": datetime.datetime.now(datetime.UTC),
    }
    analysis_id = connection.execute(
        insert(Analysis).values(values).returning(Analysis.id)
    ).scalar_one()
    return int(analysis_id), version


def _insert_details(
    connection: Connection, checked: CheckedReport, centre: str, analysis: int
) -> None:
    report = checked.report
    files = [
        {
            "analysis_id": analysis,
            "centre_id": centre,
            **{k: f[k] for k in ("path", "role", "size", "sha256")},
        }
        for f in report["files"]
    ]
    connection.execute(insert(DeliverableFile), files)
    metrics = [
        {"analysis_id": analysis, "centre_id": centre, "name": name, "value": float(value)}
        for name, value in report["qc"]["metrics"].items()
    ]
    if metrics:
        connection.execute(insert(QcMetric), metrics)
    ctdna = report["ctdna"]
    if ctdna is not None:
        values = {"analysis_id": analysis, "centre_id": centre, **ctdna}
        values.setdefault("tumour_sample", None)
        connection.execute(insert(CtdnaMeasurement).values(values))
    rows = biomarker_rows(report.get("biomarkers"), centre, analysis)
    if rows:
        connection.execute(insert(Biomarker), rows)
    structural = [
        structural_row(entry, analysis, centre) for entry in report.get("structural_variants", [])
    ]
    if structural:
        connection.execute(insert(StructuralCall), structural)


def biomarker_rows(
    biomarkers: dict[str, Any] | None, centre: str, analysis: int
) -> list[dict[str, Any]]:
    """Rows of the ``biomarkers`` table from a report's ``biomarkers`` section (none when
    null or absent, as in reports of schema 1.0.0): ``tmb`` and ``msi``.

    >>> rows = biomarker_rows({"tmb": {"status": "assessed", "tmb": 8.0, "ci_low": 5.0,
    ...     "ci_high": 12.0, "reason": None}}, "C1", 7)
    >>> [(r["name"], r["value"], r["unit"], r["call"]) for r in rows]
    [('tmb', 8.0, 'mutations/Mb', None)]
    """
    rows: list[dict[str, Any]] = []
    if not biomarkers:
        return rows
    tmb = biomarkers.get("tmb")
    if tmb is not None:
        rows.append(
            {
                "analysis_id": analysis,
                "centre_id": centre,
                "name": "tmb",
                "status": tmb["status"],
                "value": tmb["tmb"],
                "ci_low": tmb["ci_low"],
                "ci_high": tmb["ci_high"],
                "unit": "mutations/Mb",
                "call": None,
                "detail": json.dumps(tmb, sort_keys=True),
            }
        )
    msi = biomarkers.get("msi")
    if msi is not None:
        rows.append(
            {
                "analysis_id": analysis,
                "centre_id": centre,
                "name": "msi",
                "status": msi["status"],
                "value": msi["unstable_share"],
                "ci_low": None,
                "ci_high": None,
                "unit": "share of unstable microsatellites",
                "call": msi["call"],
                "detail": json.dumps(msi, sort_keys=True),
            }
        )
    return rows


def structural_row(entry: dict[str, Any], analysis: int, centre: str) -> dict[str, Any]:
    """A ``structural_calls`` row from a report's ``structural_variants`` entry."""
    return {
        "analysis_id": analysis,
        "centre_id": centre,
        "source": entry["source"],
        "chrom": entry["chrom"],
        "start": entry["start"],
        "stop": entry["end"],
        "svtype": entry["svtype"],
        "length": entry["length"],
        "genotype": entry["genotype"],
        "copy_number": entry["copy_number"],
        "log2": entry["log2"],
        "cn_call": entry["call"],
        "genes": ",".join(entry["genes"]),
        "coding": entry["coding"],
        "filters": ";".join(entry["filters"]) or ".",
    }


def staging_rows(variants: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """The report's variants as rows of the staging table (filters joined by ';')."""
    return [
        (
            v["chrom"],
            v["pos"],
            v["ref"],
            v["alt"],
            v["vrs_id"],
            v["origin"],
            v["genotype"],
            v["zygosity"],
            v["vaf"],
            v["depth"],
            v["quality"],
            ";".join(v["filters"]),
            v["consequence"],
            v["gene"],
            *(v.get(name) for name in HGVS_FIELDS),
        )
        for v in variants
    ]


def stage_calls(connection: Connection, rows: Sequence[tuple[Any, ...]]) -> None:
    """Fill the temporary table ``load_calls``: binary COPY on PostgreSQL, executemany on
    SQLite."""
    columns = ", ".join(STAGING_COLUMNS)
    if is_postgres(connection):
        ddl = STAGING_DDL["postgresql"]
        connection.execute(text(f"CREATE TEMP TABLE load_calls ({ddl}) ON COMMIT DROP"))
        raw: Any = connection.connection.driver_connection
        statement = f"COPY load_calls ({columns}) FROM STDIN (FORMAT BINARY)"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types(STAGING_COPY_TYPES)
            for row in rows:
                copy.write_row(row)
        return
    ddl = STAGING_DDL["sqlite"]
    connection.exec_driver_sql(f"CREATE TEMP TABLE IF NOT EXISTS load_calls ({ddl})")
    connection.exec_driver_sql("DELETE FROM load_calls")
    if rows:
        marks = ", ".join("?" for _ in STAGING_COLUMNS)
        connection.exec_driver_sql(
            f"INSERT INTO load_calls ({columns}) VALUES ({marks})", list(rows)
        )


def insert_calls(
    connection: Connection, count: int, analysis: int, centre: str, build: int, new_build: bool
) -> int:
    """Add the new variants and insert the ``count`` calls staged in ``load_calls``
    (:func:`stage_calls`); ``new_build``: the build was added by this transaction."""
    params = {"analysis": analysis, "centre": centre, "build": build}
    if is_postgres(connection):
        inserted = _pg_insert_calls(connection, count, params, new_build)
    else:
        connection.execute(text(_INSERT_VARIANTS), {"build": build})
        inserted = connection.execute(text(_INSERT_CALLS), params).rowcount
        connection.exec_driver_sql("DELETE FROM load_calls")
    if inserted != count:  # pragma: no cover - a bug, not a user error
        raise RuntimeError(f"inserted {inserted} calls of {count}")
    return count


def _pg_insert_calls(
    connection: Connection, count: int, params: dict[str, Any], new_build: bool
) -> int:
    """The calls of known alleles without a lock, then the rest under the build's lock.

    A build added by this transaction has no alleles yet: every call is of the rest.
    """
    seen = connection.execute(text(_PG_LAST_VARIANT)).scalar_one()
    inserted, rest = 0, "load_calls"
    if not new_build:
        create_unknown_table(connection)
        known = text(known_statement(alleles=seen, calls=count))  # ids: about the alleles
        inserted = int(connection.execute(known, params).rowcount)
        rest = "load_unknown"
        if inserted == count:
            return inserted
    lock = text("SELECT pg_advisory_xact_lock(:key, :build)")
    connection.execute(lock, {"key": VARIANTS_LOCK, "build": params["build"]})
    top = connection.execute(text(_PG_LAST_VARIANT)).scalar_one()
    statement = text(
        _PG_INSERT_UNKNOWN.format(rest=rest, calls=_CALL_COLUMNS, values=_values("s."))
    )
    done = connection.execute(statement, {**params, "seen": seen, "span": max(top - seen, 0)})
    return inserted + int(done.rowcount)


def sort_in_memory(connection: Connection) -> None:
    """PostgreSQL: sort and hash a report's staged calls in memory (this transaction)."""
    connection.execute(text("SET LOCAL work_mem = '256MB'"))


def create_unknown_table(connection: Connection) -> None:
    """PostgreSQL: the temporary table where the first statement sets unknown alleles aside."""
    ddl = STAGING_DDL["postgresql"]
    connection.execute(text(f"CREATE TEMP TABLE load_unknown ({ddl}) ON COMMIT DROP"))


def _test_pause() -> None:
    seconds = float(os.environ.get(PAUSE_ENV) or 0)
    if seconds <= 0:
        return
    print("genomflow: test pause inside the load transaction", file=sys.stderr, flush=True)
    release = os.environ.get(RELEASE_ENV)
    until = time.monotonic() + seconds
    while time.monotonic() < until and not (release and os.path.exists(release)):
        time.sleep(0.05)


def _existing(connection: Connection, checked: CheckedReport) -> LoadResult | None:
    row = connection.execute(
        select(Analysis.id, Analysis.version).where(Analysis.report_digest == checked.digest)
    ).first()
    if row is None:
        return None
    return LoadResult(
        checked.path,
        checked.report["sample"]["id"],
        "unchanged",
        int(row.id),
        int(row.version),
        len(checked.report["variants"]),
    )


def _load(connection: Connection, checked: CheckedReport, build: str | None) -> LoadResult:
    if is_postgres(connection):
        sort_in_memory(connection)
    existing = _existing(connection, checked)
    if existing is not None:
        return existing
    report = checked.report
    centre = report["centre"]["id"]
    count = len(report["variants"])
    stage_calls(connection, staging_rows(report["variants"]))  # before waiting for any lock
    build_id, new_build = _ensure_build(connection, checked, build)
    _ensure_centre(connection, report["centre"])
    sample_id = _ensure_sample(connection, checked, centre)
    analysis, version = _insert_analysis(connection, checked, centre, sample_id, build_id)
    calls = insert_calls(connection, count, analysis, centre, build_id, new_build)
    _test_pause()
    _insert_details(connection, checked, centre, analysis)
    return LoadResult(checked.path, report["sample"]["id"], "loaded", analysis, version, calls)


def _retryable(err: DBAPIError) -> bool:
    return getattr(err.orig, "sqlstate", None) in RETRY_SQLSTATES


def load_checked(engine: Engine, checked: CheckedReport, build: str | None = None) -> LoadResult:
    """Load one checked report in one transaction (retried on deadlocks and key races)."""
    for attempt in range(1, RETRIES + 1):
        try:
            with engine.begin() as connection:
                return _load(connection, checked, build)
        except DBAPIError as err:
            if attempt < RETRIES and _retryable(err):
                print(
                    f"genomflow: {checked.path}: {str(err.orig).strip().splitlines()[0]}; "
                    f"loading it again (attempt {attempt + 1} of {RETRIES})",
                    file=sys.stderr,
                    flush=True,
                )
                time.sleep(0.05 * attempt)
                continue
            raise LoadError(
                f"{checked.path}: the database refused the report: {str(err.orig).strip()}"
            ) from None
        except OverflowError as err:  # a number the driver cannot send; nothing was committed
            raise LoadError(f"{checked.path}: a value does not fit the database: {err}") from None
    raise AssertionError("unreachable")  # pragma: no cover


def _load_in_turn(
    engine: Engine,
    reports: Sequence[CheckedReport],
    build: str | None,
    stop: threading.Event | None = None,
    loaded: Callable[[int], object] | None = None,
) -> list[LoadResult]:
    """Load the reports one after the other; stop early (fewer results) once ``stop`` is set.
    ``loaded(1)`` is called after each report (a progress bar's ``update``)."""
    results = []
    for report in reports:
        if stop is not None and stop.is_set():
            break
        results.append(load_checked(engine, report, build))
        if loaded is not None:
            loaded(1)
    return results


def sample_queues(reports: Sequence[CheckedReport]) -> list[list[int]]:
    """Indexes of the reports, one list per (centre, sample), in the order given: one
    sample's reports load in turn, so its versions follow the order of the command line."""
    queues: dict[tuple[str, str], list[int]] = {}
    for index, checked in enumerate(reports):
        key = (checked.report["centre"]["id"], checked.report["sample"]["id"])
        queues.setdefault(key, []).append(index)
    return list(queues.values())


def load_checked_reports(
    engine: Engine,
    reports: Sequence[CheckedReport],
    build: str | None = None,
    jobs: int = 1,
    loaded: Callable[[int], object] | None = None,
) -> list[LoadResult]:
    """Load checked reports, each in its own transaction, up to ``jobs`` at a time on
    PostgreSQL (SQLite has a single writer: one at a time). Results come in the order given.

    Reports of different samples load side by side; one sample's load in turn. After an
    error no further report starts, the ones loading finish, and the error is raised.
    """
    queues = sample_queues(reports)
    if jobs <= 1 or len(queues) <= 1 or not is_postgres(engine):
        return _load_in_turn(engine, reports, build, loaded=loaded)
    results: dict[int, LoadResult] = {}
    stop = threading.Event()
    with ThreadPoolExecutor(max_workers=min(jobs, len(queues))) as pool:
        futures = {
            pool.submit(
                _load_in_turn, engine, [reports[i] for i in queue], build, stop, loaded
            ): queue
            for queue in queues
        }
        for future in as_completed(futures):
            error = future.exception()
            if error is not None:
                stop.set()
                pool.shutdown(wait=True, cancel_futures=True)
                raise error
            results.update(zip(futures[future], future.result(), strict=True))
    return [results[index] for index in range(len(reports))]


def load_reports(
    engine: Engine,
    paths: Sequence[Path],
    build: str | None = None,
    jobs: int = 1,
    reference: Path | None = None,
) -> list[LoadResult]:
    """Check every report first (nothing is loaded if one fails), then load them."""
    checked = [
        check_report(path, build, reference)
        for path in progress(paths, "checking reports", unit="report")
    ]
    upgrade(engine)
    with bar("loading reports", total=len(checked), unit="report") as loading:
        return load_checked_reports(engine, checked, build, jobs, loaded=loading.update)
