"""Bearer tokens of the Beacon API: created once, stored as SHA-256 only, with an expiry.

A token maps to one centre: it gives ``record`` granularity on that centre's own samples.
The plain token is printed once by ``genomflow kb token add`` and never stored; a token is
256 random bits, so its SHA-256 cannot be reversed by guessing.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from genomflow.errors import GenomflowError

PREFIX = "gfb_"


def token_hash(token: str) -> str:
    """SHA-256 of a token, as stored.

    >>> token_hash("x")[:8]
    '2d711642'
    """
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class TokenInfo:
    """Who a presented token belongs to."""

    name: str
    centre: str


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def add_token(engine: Engine, name: str, centre: str, days: int) -> str:
    """Create a token valid for ``days``; returns the plain token (shown once)."""
    token = PREFIX + secrets.token_urlsafe(32)
    now = _now()
    with engine.begin() as connection:
        if not connection.execute(
            text("SELECT count(*) FROM centres WHERE id = :c"), {"c": centre}
        ).scalar_one():
            raise GenomflowError(f"--centre {centre!r}: no such centre in the database")
        if connection.execute(
            text("SELECT count(*) FROM api_tokens WHERE name = :n"), {"n": name}
        ).scalar_one():
            raise GenomflowError(f"--name {name!r}: a token of that name exists")
        connection.execute(
            text(
                "INSERT INTO api_tokens (name, token_sha256, centre_id, created_at, expires_at) "
                "VALUES (:name, :hash, :centre, :now, :expires)"
            ),
            {
                "name": name,
                "hash": token_hash(token),
                "centre": centre,
                "now": now,
                "expires": now + datetime.timedelta(days=days),
            },
        )
    return token


def list_tokens(engine: Engine) -> list[dict[str, object]]:
    """Every token's name, centre, dates and state (never the token)."""
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT name, centre_id AS centre, created_at, expires_at, revoked_at "
                "FROM api_tokens ORDER BY name"
            )
        )
        listed = []
        now = _now()
        for r in rows:
            state = (
                "revoked" if r.revoked_at else "expired" if _aware(r.expires_at) <= now else "valid"
            )
            listed.append({**dict(r._mapping), "state": state})
    return listed


def revoke_token(engine: Engine, name: str) -> None:
    with engine.begin() as connection:
        done = connection.execute(
            text("UPDATE api_tokens SET revoked_at = :now WHERE name = :n AND revoked_at IS NULL"),
            {"now": _now(), "n": name},
        )
        if done.rowcount != 1:
            raise GenomflowError(f"{name!r}: no such valid token")


def _aware(value: object) -> datetime.datetime:
    """A stored time as an aware UTC time (SQLite gives naive times or text back)."""
    when = (
        value
        if isinstance(value, datetime.datetime)
        else datetime.datetime.fromisoformat(str(value))
    )
    return when if when.tzinfo else when.replace(tzinfo=datetime.UTC)


def authenticate(connection: Connection, token: str) -> TokenInfo | None:
    """The owner of a valid (known, unexpired, unrevoked) token, else None."""
    row = connection.execute(
        text(
            "SELECT name, centre_id, expires_at, revoked_at FROM api_tokens "
            "WHERE token_sha256 = :hash"
        ),
        {"hash": token_hash(token)},
    ).first()
    if row is None or row.revoked_at is not None or _aware(row.expires_at) <= _now():
        return None
    return TokenInfo(str(row.name), str(row.centre_id))
