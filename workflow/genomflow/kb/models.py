"""The knowledge database's tables (SQLAlchemy 2.0), the same on SQLite and PostgreSQL.

The schema is created and changed only by the Alembic migrations in
``genomflow/kb/migrations/versions``; a test checks that they build exactly these tables.

Every table that holds sample-level data carries ``centre_id``: on PostgreSQL row-level
security lets a centre's role see and write only its own rows (migration 0002). Variants
(the alleles themselves) and reference builds are shared by all centres.
"""

from __future__ import annotations

import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

#: A 64-bit key that is also SQLite's auto-incrementing ``INTEGER PRIMARY KEY``.
BigKey = BigInteger().with_variant(Integer(), "sqlite")
#: Allele text compared byte by byte (collation "C" on PostgreSQL, SQLite's default BINARY):
#: the variant key is sorted and probed millions of times per load.
ByteText = Text().with_variant(postgresql.TEXT(collation="C"), "postgresql")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Build(Base):
    """A reference build, identified by name and by the MD5s of its contigs."""

    __tablename__ = "builds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    contigs: Mapped[str] = mapped_column(Text)


class Centre(Base):
    """A regional centre."""

    __tablename__ = "centres"
    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(200), default="")


class CentreRole(Base):
    """PostgreSQL role -> the centre whose rows it may read and write."""

    __tablename__ = "centre_roles"
    role_name: Mapped[str] = mapped_column(String(63), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))


class Patient(Base):
    """A patient, known only by the centre's pseudonym."""

    __tablename__ = "patients"
    __table_args__ = (UniqueConstraint("centre_id", "pseudonym"),)
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    pseudonym: Mapped[str] = mapped_column(String(100))


class Sample(Base):
    """A sample; its facts (patient, type, assay, panel, date) never change."""

    __tablename__ = "samples"
    __table_args__ = (UniqueConstraint("centre_id", "name"),)
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    patient_id: Mapped[int] = mapped_column(ForeignKey("patients.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(10))
    type: Mapped[str] = mapped_column(String(10))
    assay: Mapped[str] = mapped_column(String(10))
    panel: Mapped[str | None] = mapped_column(String(100))
    collection_date: Mapped[datetime.date | None] = mapped_column(Date)


class Analysis(Base):
    """One loaded report: a version of a sample's results, with its provenance."""

    __tablename__ = "analyses"
    __table_args__ = (UniqueConstraint("sample_id", "version"),)
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    sample_id: Mapped[int] = mapped_column(ForeignKey("samples.id"))
    version: Mapped[int] = mapped_column(Integer)
    report_digest: Mapped[str] = mapped_column(String(64), unique=True)
    schema_version: Mapped[str] = mapped_column(String(20))
    build_id: Mapped[int] = mapped_column(ForeignKey("builds.id"))
    genomflow_version: Mapped[str] = mapped_column(String(50))
    config_digest: Mapped[str] = mapped_column(String(64))
    batch: Mapped[str] = mapped_column(String(200))
    run_date: Mapped[str] = mapped_column(String(40))
    software: Mapped[str] = mapped_column(Text)
    qc_status: Mapped[str] = mapped_column(String(20))
    qc_reasons: Mapped[str] = mapped_column(Text)
    report_path: Mapped[str] = mapped_column(Text)
    n_calls: Mapped[int] = mapped_column(Integer)
    loaded_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    #: The sample sheet's diagnosis as the report carried it (migration 0007); the latest
    #: analysis's is the sample's.
    diagnosis: Mapped[str | None] = mapped_column(Text)


class DeliverableFile(Base):
    """A deliverable file an analysis describes, with its checksum."""

    __tablename__ = "files"
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), primary_key=True)
    path: Mapped[str] = mapped_column(Text, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    role: Mapped[str] = mapped_column(String(50))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))


class QcMetric(Base):
    """One named QC metric of an analysis."""

    __tablename__ = "qc_metrics"
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    value: Mapped[float] = mapped_column(Float)


class Variant(Base):
    """An allele on a build; the same allele is one row whoever observed it."""

    __tablename__ = "variants"
    __table_args__ = (
        UniqueConstraint("build_id", "chrom", "pos", "ref", "alt"),
        # A hash index on PostgreSQL (migration 0003): VRS ids are looked up by equality.
        Index("ix_variants_vrs_id", "vrs_id", postgresql_using="hash"),
    )
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    build_id: Mapped[int] = mapped_column(Integer)  # no foreign key: see Call
    chrom: Mapped[str] = mapped_column(ByteText)
    pos: Mapped[int] = mapped_column(BigInteger)
    ref: Mapped[str] = mapped_column(ByteText)
    alt: Mapped[str] = mapped_column(ByteText)
    vrs_id: Mapped[str | None] = mapped_column(ByteText)


class Call(Base):
    """A variant as observed in one analysis.

    ``analysis_id`` and ``variant_id`` have no foreign keys (nor has ``variants.build_id``):
    PostgreSQL checks a foreign key row by row, locking each referenced row, which made loads
    3 times slower. The loader, the only writer, takes the ids from rows it has just written
    or joined, in the same transaction.
    """

    __tablename__ = "calls"
    #: ``kb variant GENE:c.…`` / ``GENE:p.…`` and the trial rules on a gene (migration 0007);
    #: partial: the many calls outside genes cost the loader nothing.
    __table_args__ = (
        Index(
            "ix_calls_gene",
            "gene",
            "hgvs_c",
            "hgvs_p",
            postgresql_where=text("gene IS NOT NULL"),
            sqlite_where=text("gene IS NOT NULL"),
        ),
    )
    # The key leads with the variant: it is the index of "who carries this variant?".
    variant_id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    origin: Mapped[str] = mapped_column(String(10), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(100))
    genotype: Mapped[str | None] = mapped_column(String(20))
    zygosity: Mapped[str | None] = mapped_column(String(10))
    vaf: Mapped[float | None] = mapped_column(Float)
    depth: Mapped[int | None] = mapped_column(Integer)
    quality: Mapped[float | None] = mapped_column(Float)
    filters: Mapped[str] = mapped_column(Text)
    consequence: Mapped[str | None] = mapped_column(Text)
    gene: Mapped[str | None] = mapped_column(String(100))
    # Report schema 1.2.0 (migration 0007); NULL for older reports and non-coding calls.
    transcript: Mapped[str | None] = mapped_column(String(100))
    hgvs_c: Mapped[str | None] = mapped_column(Text)
    hgvs_p: Mapped[str | None] = mapped_column(Text)
    exon: Mapped[str | None] = mapped_column(String(20))
    clinical_significance: Mapped[str | None] = mapped_column(Text)


class CtdnaMeasurement(Base):
    """The ctDNA result of a plasma analysis."""

    __tablename__ = "ctdna_measurements"
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    tumour_sample: Mapped[str | None] = mapped_column(String(100))
    tumour_fraction: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    p_value: Mapped[float | None] = mapped_column(Float)
    detected: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(50))
    informative_molecules: Mapped[int] = mapped_column(BigInteger)
    mutant_molecules: Mapped[int] = mapped_column(BigInteger)
    loci_used: Mapped[int] = mapped_column(Integer)
    loci_excluded: Mapped[int] = mapped_column(Integer)
    lod95: Mapped[float | None] = mapped_column(Float)


class Biomarker(Base):
    """A tumour biomarker of an analysis (migration 0005): ``tmb`` (mutations/Mb with its
    exact 95% Poisson interval) or ``msi`` (share of unstable microsatellites and the call).
    ``status`` says whether it was assessed; ``detail`` holds the rest of the result (JSON)."""

    __tablename__ = "biomarkers"
    analysis_id: Mapped[int] = mapped_column(ForeignKey("analyses.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    status: Mapped[str] = mapped_column(String(30))
    value: Mapped[float | None] = mapped_column(Float)
    ci_low: Mapped[float | None] = mapped_column(Float)
    ci_high: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(60))
    call: Mapped[str | None] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(Text)


class StructuralCall(Base):
    """A structural variant or copy-number segment of one analysis (migration 0006).

    ``source`` is ``sv`` (delly, with a genotype) or ``cnv`` (CNVkit, with a copy number and
    a call); ``start``/``stop`` are 1-based and inclusive, as in the report. Like ``calls``,
    ``analysis_id`` has no foreign key (the loader is the only writer).
    """

    __tablename__ = "structural_calls"
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    analysis_id: Mapped[int] = mapped_column(BigKey)
    centre_id: Mapped[str] = mapped_column(String(100))
    source: Mapped[str] = mapped_column(String(10))
    chrom: Mapped[str] = mapped_column(ByteText)
    start: Mapped[int] = mapped_column(BigInteger)
    stop: Mapped[int] = mapped_column(BigInteger)
    svtype: Mapped[str] = mapped_column(String(20))
    length: Mapped[int | None] = mapped_column(BigInteger)
    genotype: Mapped[str | None] = mapped_column(String(20))
    copy_number: Mapped[int | None] = mapped_column(Integer)
    log2: Mapped[float | None] = mapped_column(Float)
    cn_call: Mapped[str | None] = mapped_column(String(20))
    genes: Mapped[str] = mapped_column(Text)
    coding: Mapped[bool] = mapped_column(Boolean)
    filters: Mapped[str] = mapped_column(Text)
    __table_args__ = (Index("ix_structural_calls_chrom", "chrom", "start"),)


class Consent(Base):
    """One consent statement of a patient, effective from ``date`` (migration 0004).

    Rows are never changed or deleted: the newest row dated on or before a day is the
    patient's consent on that day, so a withdrawal counts from its date and the history stays
    for audit. ``digest`` (of centre, patient, answers and date) makes loading a file twice a
    no-op.
    """

    __tablename__ = "consents"
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    pseudonym: Mapped[str] = mapped_column(String(100))
    research: Mapped[bool] = mapped_column(Boolean)
    trial_contact: Mapped[bool] = mapped_column(Boolean)
    date: Mapped[datetime.date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(Text)
    line: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    loaded_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    __table_args__ = (Index("ix_consents_centre_id", "centre_id", "pseudonym", "date"),)


class ApiToken(Base):
    """A bearer token of the Beacon API, stored as its SHA-256 only, mapped to a centre."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    centre_id: Mapped[str] = mapped_column(ForeignKey("centres.id"))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime.datetime | None] = mapped_column(DateTime(timezone=True))


class QueryLog(Base):
    """Every Beacon request: who (client address, token name), what, when, what was returned."""

    __tablename__ = "query_log"
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    client: Mapped[str] = mapped_column(String(100))
    token_name: Mapped[str | None] = mapped_column(String(100))
    centre_id: Mapped[str | None] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(200))
    query: Mapped[str] = mapped_column(Text)
    requested_granularity: Mapped[str | None] = mapped_column(String(20))
    granularity: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[int] = mapped_column(Integer)


class Export(Base):
    """A research export: project, when, how many, and the manifest's checksum."""

    __tablename__ = "exports"
    id: Mapped[int] = mapped_column(BigKey, primary_key=True)
    project: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime.datetime] = mapped_column(DateTime(timezone=True))
    consent_date: Mapped[datetime.date] = mapped_column(Date)
    out_dir: Mapped[str] = mapped_column(Text)
    patients: Mapped[int] = mapped_column(Integer)
    samples: Mapped[int] = mapped_column(Integer)
    variants: Mapped[int] = mapped_column(BigInteger)
    excluded_patients: Mapped[int] = mapped_column(Integer)
    manifest_sha256: Mapped[str] = mapped_column(String(64))


#: Tables with sample-level rows, protected per centre on PostgreSQL.
CENTRE_TABLES: tuple[str, ...] = (
    "patients",
    "samples",
    "analyses",
    "files",
    "qc_metrics",
    "calls",
    "ctdna_measurements",
    "consents",
    "biomarkers",
    "structural_calls",
)
