"""The national platform: consent history, Beacon tokens and query log, research exports.

``consents`` holds sample-level data (who consented to what), so on PostgreSQL it has the
same per-centre row-level security as the tables of 0002. The token, query-log and export
tables are the platform's own: only the database owner (who runs ``genomflow kb serve``,
``kb token`` and ``kb export``) reads and writes them; centre roles get no rights on them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

import datetime

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OWN_CENTRE = (
    "centre_id IN (SELECT cr.centre_id FROM centre_roles cr WHERE cr.role_name = current_user)"
)


def _when(name: str, nullable: bool = False) -> sa.Column[datetime.datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("pseudonym", sa.String(100), nullable=False),
        sa.Column("research", sa.Boolean(), nullable=False),
        sa.Column("trial_contact", sa.Boolean(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        _when("loaded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_consents_centre_id_centres"
        ),
        sa.UniqueConstraint("digest", name="uq_consents_digest"),
    )
    op.create_index("ix_consents_centre_id", "consents", ["centre_id", "pseudonym", "date"])
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        _when("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_api_tokens_centre_id_centres"
        ),
        sa.UniqueConstraint("name", name="uq_api_tokens_name"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_table(
        "query_log",
        sa.Column("id", BIG_KEY, nullable=False),
        _when("at"),
        sa.Column("client", sa.String(100), nullable=False),
        sa.Column("token_name", sa.String(100), nullable=True),
        sa.Column("centre_id", sa.String(100), nullable=True),
        sa.Column("endpoint", sa.String(200), nullable=False),
        sa.Column("query", sa.Text(), nullable=False),
        sa.Column("requested_granularity", sa.String(20), nullable=True),
        sa.Column("granularity", sa.String(20), nullable=True),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_query_log"),
    )
    op.create_table(
        "exports",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("project", sa.String(100), nullable=False),
        _when("created_at"),
        sa.Column("consent_date", sa.Date(), nullable=False),
        sa.Column("out_dir", sa.Text(), nullable=False),
        sa.Column("patients", sa.Integer(), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("variants", sa.BigInteger(), nullable=False),
        sa.Column("excluded_patients", sa.Integer(), nullable=False),
        sa.Column("manifest_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_exports"),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE consents ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY consents_own_centre ON consents USING ({OWN_CENTRE}) "
            f"WITH CHECK ({OWN_CENTRE})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY consents_own_centre ON consents")
    for table in ("exports", "query_log", "api_tokens", "consents"):
        op.drop_table(table)
