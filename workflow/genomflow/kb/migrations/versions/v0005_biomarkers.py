"""Tumour biomarkers (TMB, MSI) of an analysis, one row per biomarker.

On PostgreSQL the table has the same per-centre row-level security as the tables of 0002.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
OWN_CENTRE = (
    "centre_id IN (SELECT cr.centre_id FROM centre_roles cr WHERE cr.role_name = current_user)"
)


def upgrade() -> None:
    op.create_table(
        "biomarkers",
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(60), nullable=True),
        sa.Column("call", sa.String(20), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("analysis_id", "name", name="pk_biomarkers"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_biomarkers_analysis_id_analyses"
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_biomarkers_centre_id_centres"
        ),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE biomarkers ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY biomarkers_own_centre ON biomarkers USING ({OWN_CENTRE}) "
            f"WITH CHECK ({OWN_CENTRE})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY biomarkers_own_centre ON biomarkers")
    op.drop_table("biomarkers")
