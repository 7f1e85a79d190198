"""PostgreSQL: the VRS id index becomes a hash index.

VRS ids are looked up by equality only (``genomflow kb variant ga4gh:VA...``), and they are
digests: every new allele landed at a random place in a B-tree. A hash index holds a 4-byte
hash per allele instead of the 41-character id, and adding alleles to it costs less; the
loader adds them under a lock that concurrent loaders wait on (see ``genomflow.kb.loader``).
SQLite keeps its B-tree (it has no other kind).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEX = "ix_variants_vrs_id"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="variants")
    op.create_index(INDEX, "variants", ["vrs_id"], postgresql_using="hash")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index(INDEX, table_name="variants")
    op.create_index(INDEX, "variants", ["vrs_id"])
