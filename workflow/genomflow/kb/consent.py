"""Per-patient consent: loaded from a TSV, versioned, read as of a day.

``CONSENT.tsv`` has the columns ``patient`` (the pseudonym), ``research`` and
``trial_contact`` (``yes``/``no``) and ``date`` (ISO, the day the statement takes effect), and
optionally ``centre`` (needed only when the patient is not yet in the database or its
pseudonym is used by more than one centre). Rows are only ever added: a patient's consent on a
day is their newest row dated on or before it (rows of the same date: the one loaded last),
so a withdrawal counts from its date and earlier statements stay for audit. A patient without
a row has consented to nothing.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, Engine, text

from genomflow.errors import GenomflowError
from genomflow.tsv import read_numbered_table

REQUIRED = ("patient", "research", "trial_contact", "date")
OPTIONAL = ("centre",)
ANSWERS = {"yes": True, "no": False}


@dataclass(frozen=True)
class ConsentRow:
    """One line of a consent file."""

    line: int
    patient: str
    research: bool
    trial_contact: bool
    date: datetime.date
    centre: str | None = None


@dataclass(frozen=True)
class Consent:
    """A patient's consent in force on a day."""

    research: bool
    trial_contact: bool
    since: datetime.date


def _answer(path: Path, line: int, column: str, value: str) -> bool:
    if value.strip().lower() not in ANSWERS:
        raise GenomflowError(f"{path} line {line}, column '{column}': {value!r} is not yes or no")
    return ANSWERS[value.strip().lower()]


def _date(path: Path, line: int, value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value.strip())
    except ValueError:
        raise GenomflowError(
            f"{path} line {line}, column 'date': {value!r} is not a date (YYYY-MM-DD)"
        ) from None


def read_consent_file(path: Path) -> list[ConsentRow]:
    """The rows of a consent TSV; every fault names the file, the line and the column."""
    if not path.is_file():
        raise GenomflowError(f"{path}: no such consent file")
    columns, table = read_numbered_table(path, "consent file")
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise GenomflowError(f"{path} line 1: missing column(s) {', '.join(missing)}")
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise GenomflowError(f"{path} line 1: unknown column(s) {', '.join(unknown)}")
    rows = []
    for line, raw in table:
        patient = (raw["patient"] or "").strip()
        if not patient:
            raise GenomflowError(f"{path} line {line}, column 'patient': empty")
        rows.append(
            ConsentRow(
                line,
                patient,
                _answer(path, line, "research", raw["research"] or ""),
                _answer(path, line, "trial_contact", raw["trial_contact"] or ""),
                _date(path, line, raw["date"] or ""),
                (raw.get("centre") or "").strip() or None,
            )
        )
    return rows


def _centre_of(connection: Connection, path: Path, row: ConsentRow) -> str:
    if row.centre is not None:
        known = connection.execute(
            text("SELECT count(*) FROM centres WHERE id = :c"), {"c": row.centre}
        ).scalar_one()
        if not known:
            raise GenomflowError(
                f"{path} line {row.line}, column 'centre': unknown centre {row.centre!r}"
            )
        return row.centre
    centres = list(
        connection.execute(
            text("SELECT centre_id FROM patients WHERE pseudonym = :p ORDER BY centre_id"),
            {"p": row.patient},
        ).scalars()
    )
    if len(centres) == 1:
        return str(centres[0])
    problem = "is not in the database" if not centres else "is a pseudonym of several centres"
    raise GenomflowError(
        f"{path} line {row.line}, column 'patient': {row.patient!r} {problem}; "
        "give its centre in a 'centre' column"
    )


def _digest(centre: str, row: ConsentRow) -> str:
    key = f"{centre}\t{row.patient}\t{row.research}\t{row.trial_contact}\t{row.date}"
    return hashlib.sha256(key.encode()).hexdigest()


def load_consents(engine: Engine, path: Path) -> tuple[int, int]:
    """Add the file's statements in one transaction; (added, already there)."""
    rows = read_consent_file(path)
    now = datetime.datetime.now(datetime.UTC)
    added = 0
    with engine.begin() as connection:
        for row in rows:
            centre = _centre_of(connection, path, row)
            digest = _digest(centre, row)
            seen = connection.execute(
                text("SELECT count(*) FROM consents WHERE digest = :d"), {"d": digest}
            ).scalar_one()
            if seen:
                continue
            connection.execute(
                text(
                    "INSERT INTO consents (centre_id, pseudonym, research, trial_contact, date, "
                    "source, line, digest, loaded_at) VALUES (:centre, :patient, :research, "
                    ":contact, :date, :source, :line, :digest, :now)"
                ),
                {
                    "centre": centre,
                    "patient": row.patient,
                    "research": row.research,
                    "contact": row.trial_contact,
                    "date": row.date,
                    "source": path.name,
                    "line": row.line,
                    "digest": digest,
                    "now": now,
                },
            )
            added += 1
    return added, len(rows) - added


#: The newest statement of each patient dated on or before :day (ties: loaded last).
CURRENT = """
SELECT centre_id, pseudonym, research, trial_contact, date FROM (
  SELECT c.*, row_number() OVER (
    PARTITION BY c.centre_id, c.pseudonym ORDER BY c.date DESC, c.id DESC
  ) AS newest
  FROM consents c WHERE c.date <= :day
) ranked WHERE newest = 1
"""


def consents_on(connection: Connection, day: datetime.date) -> dict[tuple[str, str], Consent]:
    """(centre, pseudonym) -> the consent in force on ``day``; absent patients: none."""
    result = connection.execute(text(CURRENT), {"day": day})
    return {
        (str(r.centre_id), str(r.pseudonym)): Consent(
            bool(r.research), bool(r.trial_contact), _as_date(r.date)
        )
        for r in result
    }


def _as_date(value: object) -> datetime.date:
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


def consent_history(connection: Connection, pseudonym: str) -> list[dict[str, object]]:
    """Every statement of a patient, oldest first (for audit)."""
    result = connection.execute(
        text(
            "SELECT centre_id, pseudonym, research, trial_contact, date, source, line, loaded_at "
            "FROM consents WHERE pseudonym = :p ORDER BY date, id"
        ),
        {"p": pseudonym},
    )
    return [dict(r._mapping) for r in result]
