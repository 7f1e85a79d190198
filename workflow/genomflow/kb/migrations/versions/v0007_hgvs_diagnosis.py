"""HGVS and ClinVar significance of the calls, and the diagnosis of each analysis (#17, #20).

``calls`` gains ``transcript``, ``hgvs_c``, ``hgvs_p``, ``exon`` and ``clinical_significance``
(report schema 1.2.0; NULL for calls of older reports or outside coding transcripts), with a
partial index on (gene, hgvs_c, hgvs_p) of the calls in genes, for ``kb variant GENE:c.…`` /
``GENE:p.…`` and the trial rules on a gene. ``analyses`` gains ``diagnosis`` (the sample
sheet's ``diagnosis``, as the report carried it): an analysis, not the sample, holds it, so a
corrected diagnosis arrives with the next report and the latest analysis's is the one that
counts.

``variant_annotations`` lists each call's allele with its gene and HGVS, nothing about the
sample; like ``variant_counts_public`` it runs with the owner's rights, so on PostgreSQL a
centre's role finds by HGVS the alleles every centre has seen (the alleles themselves are
shared already), while row-level security keeps it from the other centres' calls; the centre
roles mapped before this migration are granted it here.

On PostgreSQL ``latest_analyses`` (``SELECT a.*``) was expanded when it was created: it is
replaced to take the new column (same columns, one added at the end; privileges and
``security_invoker`` kept). SQLite expands the view at each query.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

CALL_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[str]], ...] = (
    ("transcript", sa.String(100)),
    ("hgvs_c", sa.Text()),
    ("hgvs_p", sa.Text()),
    ("exon", sa.String(20)),
    ("clinical_significance", sa.Text()),
)
LATEST = """
SELECT a.* FROM analyses a
WHERE a.version = (SELECT max(b.version) FROM analyses b WHERE b.sample_id = a.sample_id)
"""

ANNOTATIONS = """
CREATE VIEW variant_annotations AS
SELECT c.variant_id AS variant_id, c.gene AS gene, c.hgvs_c AS hgvs_c, c.hgvs_p AS hgvs_p
FROM calls c WHERE c.gene IS NOT NULL
"""


def _postgres() -> bool:
    return bool(op.get_bind().dialect.name == "postgresql")


def _grant_to_centre_roles(view: str) -> None:
    """The centre roles granted before this migration read the new shared view too (as
    `genomflow kb grant` grants it to the roles it maps from now on)."""
    bind = op.get_bind()
    quote = bind.dialect.identifier_preparer.quote
    for role in bind.execute(sa.text("SELECT role_name FROM centre_roles")).scalars():
        op.execute(f"GRANT SELECT ON {view} TO {quote(str(role))}")


def upgrade() -> None:
    for name, kind in CALL_COLUMNS:
        op.add_column("calls", sa.Column(name, kind, nullable=True))
    in_genes = sa.text("gene IS NOT NULL")  # the calls outside genes cost the loader nothing
    op.create_index(
        "ix_calls_gene",
        "calls",
        ["gene", "hgvs_c", "hgvs_p"],
        postgresql_where=in_genes,
        sqlite_where=in_genes,
    )
    op.add_column("analyses", sa.Column("diagnosis", sa.Text(), nullable=True))
    op.execute(ANNOTATIONS)
    if _postgres():
        _grant_to_centre_roles("variant_annotations")
        op.execute(
            f"CREATE OR REPLACE VIEW latest_analyses WITH (security_invoker = true) AS {LATEST}"
        )


def downgrade() -> None:
    # PostgreSQL cannot take a column out of a view: drop it and make it again (its grants
    # go with it: run `genomflow kb grant` again after a downgrade).
    if _postgres():
        op.execute("DROP VIEW latest_analyses")
    op.drop_column("analyses", "diagnosis")
    if _postgres():
        op.execute(f"CREATE VIEW latest_analyses WITH (security_invoker = true) AS {LATEST}")
    op.execute("DROP VIEW variant_annotations")
    op.drop_index("ix_calls_gene", table_name="calls")
    for name, _ in reversed(CALL_COLUMNS):
        op.drop_column("calls", name)
