"""Research export: a pseudonymised dataset of the patients who consented to research.

``genomflow kb export --db URL --project NAME --out DIR [--secret-file F] [--date D]`` writes

* ``samples.tsv``: one row per exported sample: its project pseudonym and its patient's, sex,
  type, assay, panel and the collection *year* (no exact date, no centre pseudonym, no name);
* ``variants/<sample>.vcf.gz`` (+ ``.tbi``): the sample's calls of its latest analysis;
* ``cohort.tsv`` and ``cohort.parquet``: every exported call, one row each;
* ``manifest.json``: the project, the counts and the SHA-256 and size of every file.

Pseudonyms are ``HMAC-SHA256(secret, project, centre, id)``: the same patient gets the same
pseudonym in every export of a project, and a project with another secret (or another name)
cannot link them. The secret is read from ``--secret-file`` or ``$GENOMFLOW_EXPORT_SECRET``
and never written anywhere. Consent is read as of ``--date`` (default today): a patient who
withdrew before it is not exported. Each export is recorded in the ``exports`` table.
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import json
import os
import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pysam
from sqlalchemy import Connection, Engine, text

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.kb.consent import consents_on

SECRET_ENV = "GENOMFLOW_EXPORT_SECRET"
MIN_SECRET_BYTES = 16
PSEUDONYM_HEX = 20
SAMPLE_COLUMNS = (
    "sample",
    "patient",
    "sex",
    "type",
    "assay",
    "panel",
    "collection_year",
    "diagnosis",
)
CALL_COLUMNS = (
    "sample",
    "patient",
    "chrom",
    "pos",
    "ref",
    "alt",
    "vrs_id",
    "origin",
    "genotype",
    "zygosity",
    "vaf",
    "depth",
    "quality",
    "filters",
    "gene",
    "consequence",
    "transcript",
    "hgvs_c",
    "hgvs_p",
    "clinical_significance",
)


def read_secret(secret_file: Path | None) -> bytes:
    """The project secret: the file's content, else ``$GENOMFLOW_EXPORT_SECRET``."""
    if secret_file is not None:
        try:
            secret = secret_file.read_bytes().strip()
        except OSError as err:
            raise GenomflowError(f"{secret_file}: cannot read the project secret: {err}") from None
        where = str(secret_file)
    else:
        secret = os.environ.get(SECRET_ENV, "").encode()
        where = f"${SECRET_ENV}"
    if len(secret) < MIN_SECRET_BYTES:
        raise GenomflowError(
            f"{where}: the project secret must be at least {MIN_SECRET_BYTES} bytes "
            f"(give --secret-file or set ${SECRET_ENV})"
        )
    return secret


def pseudonym(secret: bytes, project: str, kind: str, centre: str, name: str) -> str:
    """A project pseudonym: keyed, stable within the project, unlinkable without the key.

    >>> pseudonym(b"k" * 16, "p1", "patient", "c", "PAT-1") == pseudonym(b"k" * 16, "p1",
    ...     "patient", "c", "PAT-1")
    True
    >>> pseudonym(b"k" * 16, "p1", "patient", "c", "PAT-1")[:2]
    'P-'
    """
    message = "\x1f".join((project, kind, centre, name)).encode()
    digest = hmac.new(secret, message, hashlib.sha256).hexdigest()[:PSEUDONYM_HEX]
    return f"{kind[0].upper()}-{digest}"


@dataclass(frozen=True)
class ExportedSample:
    analysis_id: int
    build_id: int
    centre: str
    patient: str
    name: str
    sex: str
    type: str
    assay: str
    panel: str | None
    collection_date: Any
    diagnosis: str | None


SAMPLES_SQL = """
SELECT a.id AS analysis_id, a.build_id, s.centre_id AS centre, p.pseudonym AS patient,
       s.name, s.sex, s.type, s.assay, s.panel, s.collection_date, a.diagnosis
FROM latest_analyses a JOIN samples s ON s.id = a.sample_id JOIN patients p ON p.id = s.patient_id
ORDER BY s.centre_id, s.name
"""
CALLS_SQL = """
SELECT v.chrom, v.pos, v.ref, v.alt, v.vrs_id, c.origin, c.genotype, c.zygosity, c.vaf,
       c.depth, c.quality, c.filters, c.gene, c.consequence, c.transcript, c.hgvs_c, c.hgvs_p,
       c.clinical_significance
FROM calls c JOIN variants v ON v.id = c.variant_id
WHERE c.analysis_id = :analysis ORDER BY v.chrom, v.pos, v.ref, v.alt, c.origin
"""


def _year(value: Any) -> str:
    return "" if value is None else str(value)[:4]


def _contigs(connection: Connection, build_id: int) -> list[dict[str, Any]]:
    raw = connection.execute(
        text("SELECT contigs FROM builds WHERE id = :id"), {"id": build_id}
    ).scalar_one()
    contigs: list[dict[str, Any]] = json.loads(raw)
    return contigs


def _header(contigs: Sequence[dict[str, Any]], sample: str, filters: Iterable[str]) -> Any:
    header = pysam.VariantHeader()
    for contig in contigs:
        header.contigs.add(contig["name"], length=contig["length"])
    for name in sorted(set(filters) - {"PASS"}):
        header.filters.add(name, None, None, name)
    header.info.add("ORIGIN", 1, "String", "germline or somatic")
    header.info.add("GENE", 1, "String", "Gene of the annotated consequence")
    header.info.add("CSQ", 1, "String", "Annotated consequence class")
    header.info.add("VRS", 1, "String", "GA4GH VRS allele id")
    header.formats.add("GT", 1, "String", "Genotype")
    header.formats.add("DP", 1, "Integer", "Depth")
    header.formats.add("AF", "A", "Float", "Allele fraction")
    header.add_sample(sample)
    return header


def _genotype(value: str | None) -> tuple[int | None, ...] | None:
    if not value:
        return None
    parts = value.replace("|", "/").split("/")
    return tuple(None if p == "." else int(p) for p in parts)


def write_vcf(path: Path, contigs: Sequence[dict[str, Any]], sample: str, calls: list[Any]) -> None:
    """A bgzipped, indexed VCF of one sample's calls (written to a temporary name first)."""
    order = {c["name"]: i for i, c in enumerate(contigs)}
    calls = sorted(calls, key=lambda c: (order[c.chrom], c.pos, c.ref, c.alt))
    filters = {f for c in calls for f in c.filters.split(";") if f}
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp.vcf")
    header = _header(contigs, sample, filters)
    with pysam.VariantFile(str(temporary), "w", header=header) as out:
        for c in calls:
            record = out.new_record(
                contig=c.chrom, start=c.pos - 1, alleles=(c.ref, c.alt), qual=c.quality
            )
            for name in c.filters.split(";"):
                if name:
                    record.filter.add(name)
            for key, value in (("ORIGIN", c.origin), ("GENE", c.gene), ("CSQ", c.consequence)):
                if value:
                    record.info[key] = value
            if c.vrs_id:
                record.info["VRS"] = c.vrs_id
            call = record.samples[sample]
            call["GT"] = _genotype(c.genotype)
            if c.depth is not None:
                call["DP"] = int(c.depth)
            if c.vaf is not None:
                call["AF"] = float(c.vaf)
            out.write(record)
    compressed = pysam.tabix_index(str(temporary), preset="vcf", force=True)
    Path(compressed).replace(path)
    Path(compressed + ".tbi").replace(path.with_name(path.name + ".tbi"))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class ExportSummary:
    out: Path
    patients: int
    samples: int
    variants: int
    excluded_patients: int
    manifest_sha256: str


def _consented(connection: Connection, day: datetime.date) -> tuple[list[ExportedSample], int]:
    consent = consents_on(connection, day)
    rows = [ExportedSample(**dict(r._mapping)) for r in connection.execute(text(SAMPLES_SQL))]
    keep = [s for s in rows if (given := consent.get((s.centre, s.patient))) and given.research]
    excluded = {(s.centre, s.patient) for s in rows} - {(s.centre, s.patient) for s in keep}
    return keep, len(excluded)


def export_project(
    engine: Engine, project: str, out: Path, secret: bytes, day: datetime.date
) -> ExportSummary:
    """Write the export of ``project`` to ``out`` (replaced as a whole) and record it."""
    staging = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    (staging / "variants").mkdir(parents=True)
    with engine.connect() as connection:
        samples, excluded = _consented(connection, day)
        metadata, calls = [], []
        for s in samples:
            sample_id = pseudonym(secret, project, "sample", s.centre, s.name)
            patient_id = pseudonym(secret, project, "patient", s.centre, s.patient)
            metadata.append(
                (
                    sample_id,
                    patient_id,
                    s.sex,
                    s.type,
                    s.assay,
                    s.panel or "",
                    _year(s.collection_date),
                    s.diagnosis or "",
                )
            )
            rows = list(connection.execute(text(CALLS_SQL), {"analysis": s.analysis_id}))
            write_vcf(
                staging / "variants" / f"{sample_id}.vcf.gz",
                _contigs(connection, s.build_id),
                sample_id,
                rows,
            )
            calls += [(sample_id, patient_id, *r) for r in rows]
    metadata.sort()
    calls.sort(key=lambda c: (c[0], c[2], c[3], c[4], c[5], c[7]))
    atomic.write_tsv(staging / "samples.tsv", SAMPLE_COLUMNS, metadata)
    atomic.write_tsv(staging / "cohort.tsv", CALL_COLUMNS, calls)
    frame = pd.DataFrame(calls, columns=list(CALL_COLUMNS))
    frame.to_parquet(staging / "cohort.parquet", index=False)
    patients = len({m[1] for m in metadata})
    manifest = _manifest(staging, project, patients, len(metadata), len(calls))
    shutil.rmtree(out, ignore_errors=True)
    staging.replace(out)
    summary = ExportSummary(out, patients, len(metadata), len(calls), excluded, manifest)
    _record(engine, project, summary, day)
    return summary


def _manifest(folder: Path, project: str, patients: int, samples: int, calls: int) -> str:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    document = {
        "project": project,
        "patients": patients,
        "samples": samples,
        "calls": calls,
        "files": [
            {"path": str(p.relative_to(folder)), "size": p.stat().st_size, "sha256": _sha256(p)}
            for p in files
        ],
    }
    path = folder / "manifest.json"
    atomic.write_text(path, json.dumps(document, indent=1, sort_keys=True) + "\n")
    return _sha256(path)


def _record(engine: Engine, project: str, summary: ExportSummary, day: datetime.date) -> None:
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO exports (project, created_at, consent_date, out_dir, patients, "
                "samples, variants, excluded_patients, manifest_sha256) VALUES (:project, :now, "
                ":day, :out, :patients, :samples, :variants, :excluded, :manifest)"
            ),
            {
                "project": project,
                "now": datetime.datetime.now(datetime.UTC),
                "day": day,
                "out": str(summary.out),
                "patients": summary.patients,
                "samples": summary.samples,
                "variants": summary.variants,
                "excluded": summary.excluded_patients,
                "manifest": summary.manifest_sha256,
            },
        )
