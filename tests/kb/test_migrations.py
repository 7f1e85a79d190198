"""The migrations on both backends: they build exactly the models, and go down and up."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from genomflow.kb import db
from genomflow.kb.models import Base


def test_migrations_build_exactly_the_models_and_go_down_and_up(db_url: str) -> None:
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        with engine.connect() as connection:
            assert db.current_revision(connection) == db.head_revision()
            assert compare_metadata(MigrationContext.configure(connection), Base.metadata) == []
        with engine.begin() as connection:
            command.downgrade(db._alembic_config(connection), "base")
            assert db.current_revision(connection) is None
        db.upgrade(engine)
        with engine.connect() as connection:
            assert db.current_revision(connection) == db.head_revision()
    finally:
        engine.dispose()


def test_vrs_ids_are_looked_up_in_their_index_a_hash_index_on_postgresql(db_url: str) -> None:
    lookup = "SELECT id FROM variants WHERE vrs_id = 'ga4gh:VA.x'"
    engine = db.make_engine(db_url)
    try:
        db.upgrade(engine)
        with engine.connect() as connection:
            if db.is_postgres(connection):
                definition = connection.execute(
                    text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_variants_vrs_id'")
                ).scalar_one()
                plan = connection.execute(text(f"EXPLAIN {lookup}")).scalars().all()
            else:  # SQLite has B-trees only
                definition = connection.execute(
                    text("SELECT sql FROM sqlite_master WHERE name = 'ix_variants_vrs_id'")
                ).scalar_one()
                plan = [
                    row.detail for row in connection.execute(text(f"EXPLAIN QUERY PLAN {lookup}"))
                ]
    finally:
        engine.dispose()
    kind = "USING hash (vrs_id)" if db_url.startswith("postgresql") else "ON variants (vrs_id)"
    assert kind in definition
    assert any("ix_variants_vrs_id" in line for line in plan), plan
