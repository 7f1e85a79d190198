"""The knowledge database: builds, centres, patients, samples, analyses, calls, QC, ctDNA.

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BIG_KEY = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
BYTE_TEXT = sa.Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")

#: Calls that count: passing calls of the latest analysis of each sample.
COUNTED_CALLS = """
FROM calls c
JOIN analyses a ON a.id = c.analysis_id
JOIN samples s ON s.id = a.sample_id
WHERE c.filters = 'PASS'
  AND a.version = (SELECT max(b.version) FROM analyses b WHERE b.sample_id = a.sample_id)
"""

COUNT_COLUMNS = """
  count(DISTINCT s.id) AS carriers,
  count(DISTINCT CASE WHEN c.zygosity = 'het' THEN s.id END) AS het,
  count(DISTINCT CASE WHEN c.zygosity = 'hom' THEN s.id END) AS hom,
  count(DISTINCT CASE WHEN c.zygosity = 'hemi' THEN s.id END) AS hemi,
  count(DISTINCT CASE WHEN c.origin = 'somatic' THEN s.id END) AS somatic
"""

COUNTS = ("carriers", "het", "hom", "hemi", "somatic")


def _suppressed(column: str) -> str:
    return f"CASE WHEN {column} BETWEEN 1 AND 4 THEN NULL ELSE {column} END AS {column}"


VIEWS = {
    "latest_analyses": """
SELECT a.* FROM analyses a
WHERE a.version = (SELECT max(b.version) FROM analyses b WHERE b.sample_id = a.sample_id)
""",
    # Exact counts of the rows the caller may see (on PostgreSQL: security_invoker, 0002).
    "variant_counts": f"""
SELECT c.variant_id AS variant_id, s.centre_id AS centre_id, s.assay AS assay,
{COUNT_COLUMNS}
{COUNTED_CALLS}
GROUP BY c.variant_id, s.centre_id, s.assay
""",
    # Counts over every centre, 1-4 suppressed (NULL), plus a total row (centre '*', assay '*').
    "variant_counts_public": f"""
WITH raw AS (
  SELECT c.variant_id AS variant_id, s.centre_id AS centre_id, s.assay AS assay,
  {COUNT_COLUMNS}
  {COUNTED_CALLS}
  GROUP BY c.variant_id, s.centre_id, s.assay
), grouped AS (
  SELECT variant_id, centre_id, assay, {", ".join(COUNTS)} FROM raw
  UNION ALL
  SELECT variant_id, '*', '*', {", ".join(f"sum({c})" for c in COUNTS)}
  FROM raw GROUP BY variant_id
)
SELECT variant_id, centre_id, assay, {", ".join(_suppressed(c) for c in COUNTS)}
FROM grouped
""",
}


def upgrade() -> None:
    op.create_table(
        "builds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("contigs", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_builds"),
        sa.UniqueConstraint("name", name="uq_builds_name"),
    )
    op.create_table(
        "centres",
        sa.Column("id", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_centres"),
    )
    op.create_table(
        "centre_roles",
        sa.Column("role_name", sa.String(63), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("role_name", name="pk_centre_roles"),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_centre_roles_centre_id_centres"
        ),
    )
    op.create_table(
        "patients",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("pseudonym", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patients"),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_patients_centre_id_centres"
        ),
        sa.UniqueConstraint("centre_id", "pseudonym", name="uq_patients_centre_id"),
    )
    op.create_table(
        "samples",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("patient_id", BIG_KEY, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("type", sa.String(10), nullable=False),
        sa.Column("assay", sa.String(10), nullable=False),
        sa.Column("panel", sa.String(100), nullable=True),
        sa.Column("collection_date", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_samples"),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name="fk_samples_centre_id_centres"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name="fk_samples_patient_id_patients"
        ),
        sa.UniqueConstraint("centre_id", "name", name="uq_samples_centre_id"),
    )
    op.create_index("ix_samples_patient_id", "samples", ["patient_id"])
    op.create_table(
        "analyses",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("sample_id", BIG_KEY, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("report_digest", sa.String(64), nullable=False),
        sa.Column("schema_version", sa.String(20), nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("genomflow_version", sa.String(50), nullable=False),
        sa.Column("config_digest", sa.String(64), nullable=False),
        sa.Column("batch", sa.String(200), nullable=False),
        sa.Column("run_date", sa.String(40), nullable=False),
        sa.Column("software", sa.Text(), nullable=False),
        sa.Column("qc_status", sa.String(20), nullable=False),
        sa.Column("qc_reasons", sa.Text(), nullable=False),
        sa.Column("report_path", sa.Text(), nullable=False),
        sa.Column("n_calls", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analyses"),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_analyses_centre_id_centres"
        ),
        sa.ForeignKeyConstraint(
            ["sample_id"], ["samples.id"], name="fk_analyses_sample_id_samples"
        ),
        sa.ForeignKeyConstraint(["build_id"], ["builds.id"], name="fk_analyses_build_id_builds"),
        sa.UniqueConstraint("sample_id", "version", name="uq_analyses_sample_id"),
        sa.UniqueConstraint("report_digest", name="uq_analyses_report_digest"),
    )
    op.create_table(
        "files",
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("role", sa.String(50), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("analysis_id", "path", name="pk_files"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_files_analysis_id_analyses"
        ),
        sa.ForeignKeyConstraint(["centre_id"], ["centres.id"], name="fk_files_centre_id_centres"),
    )
    op.create_table(
        "qc_metrics",
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("analysis_id", "name", name="pk_qc_metrics"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_qc_metrics_analysis_id_analyses"
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_qc_metrics_centre_id_centres"
        ),
    )
    op.create_table(
        "variants",
        sa.Column("id", BIG_KEY, nullable=False),
        sa.Column("build_id", sa.Integer(), nullable=False),
        sa.Column("chrom", BYTE_TEXT, nullable=False),
        sa.Column("pos", sa.BigInteger(), nullable=False),
        sa.Column("ref", BYTE_TEXT, nullable=False),
        sa.Column("alt", BYTE_TEXT, nullable=False),
        sa.Column("vrs_id", BYTE_TEXT, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_variants"),
        # No foreign key on build_id: see genomflow.kb.models.Call.
        sa.UniqueConstraint("build_id", "chrom", "pos", "ref", "alt", name="uq_variants_build_id"),
    )
    op.create_index("ix_variants_vrs_id", "variants", ["vrs_id"])
    op.create_table(
        "calls",
        sa.Column("variant_id", BIG_KEY, nullable=False),
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("origin", sa.String(10), nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("genotype", sa.String(20), nullable=True),
        sa.Column("zygosity", sa.String(10), nullable=True),
        sa.Column("vaf", sa.Float(), nullable=True),
        sa.Column("depth", sa.Integer(), nullable=True),
        sa.Column("quality", sa.Float(), nullable=True),
        sa.Column("filters", sa.Text(), nullable=False),
        sa.Column("consequence", sa.Text(), nullable=True),
        sa.Column("gene", sa.String(100), nullable=True),
        # No foreign keys on the two ids: see genomflow.kb.models.Call.
        sa.PrimaryKeyConstraint("variant_id", "analysis_id", "origin", name="pk_calls"),
    )
    op.create_table(
        "ctdna_measurements",
        sa.Column("analysis_id", BIG_KEY, nullable=False),
        sa.Column("centre_id", sa.String(100), nullable=False),
        sa.Column("tumour_sample", sa.String(100), nullable=True),
        sa.Column("tumour_fraction", sa.Float(), nullable=True),
        sa.Column("ci_low", sa.Float(), nullable=True),
        sa.Column("ci_high", sa.Float(), nullable=True),
        sa.Column("p_value", sa.Float(), nullable=True),
        sa.Column("detected", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(50), nullable=False),
        sa.Column("informative_molecules", sa.BigInteger(), nullable=False),
        sa.Column("mutant_molecules", sa.BigInteger(), nullable=False),
        sa.Column("loci_used", sa.Integer(), nullable=False),
        sa.Column("loci_excluded", sa.Integer(), nullable=False),
        sa.Column("lod95", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("analysis_id", name="pk_ctdna_measurements"),
        sa.ForeignKeyConstraint(
            ["analysis_id"], ["analyses.id"], name="fk_ctdna_measurements_analysis_id_analyses"
        ),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name="fk_ctdna_measurements_centre_id_centres"
        ),
    )
    for name, select in VIEWS.items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def downgrade() -> None:
    for name in reversed(VIEWS):
        op.execute(f"DROP VIEW {name}")
    for table in (
        "ctdna_measurements",
        "calls",
        "variants",
        "qc_metrics",
        "files",
        "analyses",
        "samples",
        "patients",
        "centre_roles",
        "centres",
        "builds",
    ):
        op.drop_table(table)
