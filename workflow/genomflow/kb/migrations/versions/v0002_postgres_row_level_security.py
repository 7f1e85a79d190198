"""PostgreSQL: each centre's role reads and writes only its own centre's rows.

Row-level security on every table with sample-level rows, keyed on ``centre_id`` and the
``centre_roles`` mapping of ``current_user``. The table owner (who runs the migrations and
the ``genomflow kb grant`` command) is not restricted. ``variant_counts`` and
``latest_analyses`` run with the caller's rights (so a centre sees exact counts of its own
samples only); ``variant_counts_public`` runs with the owner's rights and suppresses counts
of 1 to 4. Nothing changes on SQLite, a single-user file.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = (
    "patients",
    "samples",
    "analyses",
    "files",
    "qc_metrics",
    "calls",
    "ctdna_measurements",
)
OWN_CENTRE = (
    "centre_id IN (SELECT cr.centre_id FROM centre_roles cr WHERE cr.role_name = current_user)"
)
INVOKER_VIEWS = ("latest_analyses", "variant_counts")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {table}_own_centre ON {table} USING ({OWN_CENTRE}) "
            f"WITH CHECK ({OWN_CENTRE})"
        )
    for view in INVOKER_VIEWS:
        op.execute(f"ALTER VIEW {view} SET (security_invoker = true)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for view in INVOKER_VIEWS:
        op.execute(f"ALTER VIEW {view} RESET (security_invoker)")
    for table in TABLES:
        op.execute(f"DROP POLICY {table}_own_centre ON {table}")
        op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
