"""Database fixtures: a real PostgreSQL server for the session, and a fresh database per test.

Under CI (``CI=true``) a PostgreSQL that does not start fails the tests; elsewhere they are
skipped with the reason.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from genomflow.errors import GenomflowError
from tests.services.postgres import PostgresServer, start_postgres

BACKENDS = ("sqlite", "postgresql")
_databases = itertools.count(1)


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except GenomflowError as err:
        if under_ci():
            pytest.fail(f"PostgreSQL must run under CI but did not start: {err}")
        pytest.skip(f"PostgreSQL is not available here: {err}")
    try:
        yield server
    finally:
        server.stop()


def new_database(server: PostgresServer) -> str:
    """A fresh database owned by the genomflow role; its URL."""
    return server.create_database(f"kb_test_{os.getpid()}_{next(_databases)}")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty knowledge database on each backend (SQLite file, PostgreSQL database)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kb.sqlite'}"
    server: PostgresServer = request.getfixturevalue("pg_server")
    return new_database(server)
