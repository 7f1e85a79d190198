"""Structural variants and copy-number segments of the analyses (issue #16).

``structural_calls`` holds sample-level rows, so on PostgreSQL it has the per-centre
row-level security of 0002. ``structural_counts_public`` counts the samples (latest analysis,
PASS) carrying each event, over every centre, with counts of 1 to 4 suppressed (NULL), as
``variant_counts_public`` does for small variants; like that view it runs with the owner's
rights.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BYTE_TEXT = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")
OWN_CENTRE = (
    "centre_id IN (SELECT cr.centre_id FROM centre_roles cr WHERE cr.role_name = current_user)"
)
EVENT = "sc.source, sc.chrom, sc.start, sc.stop, sc.svtype, coalesce(sc.cn_call, '')"
PUBLIC_VIEW = f"""
CREATE VIEW structural_counts_public AS
WITH raw AS (
  SELECT sc.source AS source, sc.chrom AS chrom, sc.start AS start, sc.stop AS stop,
  sc.svtype AS svtype, coalesce(sc.cn_call, '') AS cn_call, count(DISTINCT s.id) AS carriers
  FROM structural_calls sc
  JOIN analyses a ON a.id = sc.analysis_id
  JOIN samples s ON s.id = a.sample_id
  WHERE sc.filters = 'PASS'
    AND a.version = (SELECT max(b.version) FROM analyses b WHERE b.sample_id = a.sample_id)
  GROUP BY {EVENT}
)
SELECT source, chrom, start, stop, svtype, cn_call,
  CASE WHEN carriers BETWEEN 1 AND 4 THEN NULL ELSE carriers END AS carriers
FROM raw
"""


def upgrade() -> None:
    op.create_table(
        "structural_calls",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("chrom", BYTE_TEXT, nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("stop", sa.BigInteger(), nullable=False),
        sa.Column("svtype", sa.String(20), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=True),
        sa.Column("genotype", sa.String(20), nullable=True),
        sa.Column("copy_number", sa.Integer(), nullable=True),
        sa.Column("log2", sa.Float(), nullable=True),
        sa.Column("cn_call", sa.String(20), nullable=True),
        sa.Column("genes", sa.Text(), nullable=False),
        sa.Column("coding", sa.Boolean(), nullable=False),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_structural_calls"),
    )
    op.create_index("ix_structural_calls_chrom", "structural_calls", ["chrom", "start"])
    op.execute(PUBLIC_VIEW)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE structural_calls ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY structural_calls_own_centre ON structural_calls USING ({OWN_CENTRE}) "
            f"WITH CHECK ({OWN_CENTRE})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP POLICY structural_calls_own_centre ON structural_calls")
    op.execute("DROP VIEW structural_counts_public")
    op.drop_index("ix_structural_calls_chrom", table_name="structural_calls")
    op.drop_table("structural_calls")
