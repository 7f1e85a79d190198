"""Fixtures of the knowledge-database tests (see fixtures.py)."""

from tests.kb.fixtures import db_url, pg_server

__all__ = ["db_url", "pg_server"]
