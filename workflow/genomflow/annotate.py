"""Offline consequence annotation: which steps run, and checks of their inputs before any job.

Two optional steps, applied in this order to the germline and the somatic VCFs:

* ``csq``: snpEff with a database built from the reference's GFF3 (``reference.gff3``) and
  FASTA (:mod:`genomflow.snpeff`), on each gene's reporting transcript; the result is
  ``INFO/ANN`` (Sequence Ontology terms, gene, transcript, exon/intron rank, HGVS c. and p.);
* ``clinvar``: ``bcftools annotate`` copying chosen INFO fields of a ClinVar-style VCF
  (``annotation.clinvar_vcf``), matched on CHROM, POS, REF and ALT.

An empty path switches its step off: with no GFF3 the VCFs carry no ``INFO/ANN``.
The GFF3 must use the reference's contig names and have coding transcripts (CDS rows);
:func:`check_gff3` finds the first row that does not, or the missing CDS, so the run stops
before any job with the file and line.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import pysam

from genomflow.errors import GenomflowError

CSQ, CLINVAR = "csq", "clinvar"
#: The steps in the order they are applied.
STEPS: tuple[str, ...] = (CSQ, CLINVAR)
#: GFF3 feature types transcripts are built from; a GFF3 with none is useless.
_TRANSCRIPT_PARENTS = ("gene", "mRNA", "transcript")


def steps(gff3: str, clinvar_vcf: str) -> tuple[str, ...]:
    """The annotation steps that run for these config values (empty string = off).

    >>> steps("genes.gff3", "")
    ('csq',)
    >>> steps("", "")
    ()
    """
    on = {CSQ: bool(gff3), CLINVAR: bool(clinvar_vcf)}
    return tuple(step for step in STEPS if on[step])


def _open_text(path: Path) -> list[str]:
    try:
        with path.open("rb") as handle:
            magic = handle.read(2)
        if magic == b"\x1f\x8b":
            with gzip.open(path, "rt") as text:
                return text.read().split("\n")
        return path.read_text().split("\n")
    except FileNotFoundError:
        raise GenomflowError(f"{path}: GFF3 file not found") from None
    except (OSError, UnicodeDecodeError, EOFError) as err:
        raise GenomflowError(f"{path}: cannot read the GFF3 ({err})") from None


def check_gff3(path: Path, contigs: Mapping[str, int]) -> int:
    """Check that every row (and ``##sequence-region``) of a GFF3 names a reference contig.

    Returns the number of feature rows. Raises :class:`GenomflowError` naming the file and
    line of the first row on an unknown contig, or of a row that is not 9 columns.
    """
    display = os.fspath(path)
    known = ", ".join(list(contigs)[:10]) + (", ..." if len(contigs) > 10 else "")
    rows = 0
    kinds: set[str] = set()
    for number, raw in enumerate(_open_text(path), start=1):
        line = raw.rstrip("\r")
        if line.startswith("##FASTA"):
            break
        if line.startswith("##sequence-region"):
            parts = line.split()
            if len(parts) >= 2 and parts[1] not in contigs:
                raise GenomflowError(
                    f"{display} line {number}: sequence-region {parts[1]!r} is not a contig "
                    f"of the reference (contigs: {known})"
                )
            continue
        if not line.strip() or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) != 9:
            raise GenomflowError(
                f"{display} line {number}: expected 9 tab-separated GFF3 columns, "
                f"found {len(fields)}"
            )
        if fields[0] not in contigs:
            raise GenomflowError(
                f"{display} line {number}: contig {fields[0]!r} is not in the reference "
                f"(contigs: {known})"
            )
        kinds.add(fields[2])
        rows += 1
    if rows == 0 or not kinds & set(_TRANSCRIPT_PARENTS):
        raise GenomflowError(f"{display}: no gene or transcript features; not a gene GFF3")
    if "CDS" not in kinds:
        raise GenomflowError(
            f"{display}: no CDS features: no transcript is coding, so there is no c./p. HGVS "
            "to annotate (a gene GFF3 for annotation needs CDS rows under its transcripts)"
        )
    return rows


def check_indexed_vcf(path: Path, what: str, fields: Sequence[str] = ()) -> None:
    """A bgzipped, indexed VCF exists, and its header defines ``fields`` (INFO)."""
    display = os.fspath(path)
    if not path.is_file():
        raise GenomflowError(f"{display}: {what} not found")
    if not (Path(f"{path}.tbi").is_file() or Path(f"{path}.csi").is_file()):
        raise GenomflowError(
            f"{display}: {what} has no index ({display}.tbi or .csi); "
            f"bgzip it and run: tabix -p vcf {display}"
        )
    try:
        with pysam.VariantFile(display) as vcf:
            info = set(vcf.header.info)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{display}: cannot read {what}: {err}") from err
    missing = [f for f in fields if f not in info]
    if missing:
        raise GenomflowError(
            f"{display}: {what} has no INFO field {missing[0]!r} in its header "
            f"(INFO fields: {', '.join(sorted(info)) or 'none'})"
        )
