"""GA4GH identifiers from our own reference: refget sequence digests and VRS Allele ids.

No SeqRepo and no network: :class:`FastaDataProxy` serves ``ga4gh.vrs`` from the run's
reference FASTA (through :class:`pysam.FastaFile`), naming each contig by its refget
accession ``SQ.<sha512t24u of the upper-case sequence>``. :func:`allele_id` builds a VRS 2.0
Allele from a VCF record (1-based ``pos``, ``ref``, ``alt``), normalises it (fully justified,
as the VRS specification says) and returns its computed identifier ``ga4gh:VA.<digest>``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam
from ga4gh.core import ga4gh_identify, sha512t24u
from ga4gh.vrs import models, normalize
from ga4gh.vrs.dataproxy import _DataProxy

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.tsv import read_table

_GA4GH = "ga4gh:"
_DNA = re.compile(r"[ACGTN]+")
_REFGET = re.compile(r"SQ\.[0-9A-Za-z_\-]{32}")
REFGET_COLUMNS: tuple[str, ...] = ("name", "length", "md5", "refget")


def refget_accession(sequence: str) -> str:
    """The refget accession of a sequence: ``SQ.`` + sha512t24u of its upper-case bytes.

    >>> refget_accession("ACGT")
    'SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2'
    """
    digest: str = sha512t24u(sequence.upper().encode("ascii"))
    return f"SQ.{digest}"


def md5_hex(sequence: str) -> str:
    """MD5 of the upper-case sequence, as the M5 tag of a sequence dictionary.

    >>> md5_hex("acgt")
    'f1f8f4bf413b16ad135722aa4591043e'
    """
    return hashlib.md5(sequence.upper().encode("ascii"), usedforsecurity=False).hexdigest()


@dataclass(frozen=True)
class Contig:
    """One reference sequence: name, length, MD5 (dictionary M5) and refget accession."""

    name: str
    length: int
    md5: str
    refget: str


def digest_fasta(fasta: Path) -> list[Contig]:
    """Length, MD5 and refget accession of every contig of an indexed FASTA, in file order."""
    with pysam.FastaFile(str(fasta)) as reader:
        contigs = []
        for name in reader.references:
            sequence = reader.fetch(name)
            contigs.append(
                Contig(name, len(sequence), md5_hex(sequence), refget_accession(sequence))
            )
    return contigs


def write_refget_table(contigs: Iterable[Contig], out: Path) -> None:
    """Write the contigs as a TSV (``name length md5 refget``), atomically."""
    atomic.write_tsv(out, REFGET_COLUMNS, ((c.name, c.length, c.md5, c.refget) for c in contigs))


def read_refget_table(path: Path) -> list[Contig]:
    """Read a table written by :func:`write_refget_table`."""
    header, rows = read_table(path, "refget table", rectangular=True)
    if not rows or tuple(header) != REFGET_COLUMNS:
        raise GenomflowError(f"{path}: expected the columns {', '.join(REFGET_COLUMNS)}")
    contigs = []
    for r in rows:
        try:
            length = int(r["length"])
        except ValueError:
            raise GenomflowError(
                f"{path}: contig {r['name']!r} has length {r['length']!r}, not a whole number"
            ) from None
        contigs.append(Contig(r["name"], length, r["md5"], r["refget"]))
    return contigs


def read_sequence_dict(path: Path) -> dict[str, tuple[int, str]]:
    """Contig -> (length, M5) from a sequence dictionary (``samtools dict``)."""
    with pysam.AlignmentFile(str(path), "r", check_sq=False) as reader:
        lines = reader.header.to_dict().get("SQ", [])
    contigs: dict[str, tuple[int, str]] = {}
    for line in lines:
        if "M5" not in line:
            raise GenomflowError(f"{path}: contig {line['SN']!r} has no M5 (MD5) tag")
        contigs[str(line["SN"])] = (int(line["LN"]), str(line["M5"]).lower())
    if not contigs:
        raise GenomflowError(f"{path}: no @SQ lines")
    return contigs


class FastaDataProxy(_DataProxy):  # type: ignore[misc]
    """A ``ga4gh.vrs`` data proxy backed by an indexed FASTA file.

    Sequences are known by contig name and by ``ga4gh:SQ.<digest>``. Give ``contigs`` (from
    :func:`read_refget_table`) to skip digesting the whole genome.
    """

    def __init__(self, fasta: Path, contigs: Iterable[Contig] | None = None) -> None:
        self._fasta = pysam.FastaFile(str(fasta))
        known = list(contigs) if contigs is not None else digest_fasta(fasta)
        self.contigs: dict[str, Contig] = {c.name: c for c in known}
        self._by_accession = {f"{_GA4GH}{c.refget}": c.name for c in known}
        missing = set(self._fasta.references) ^ set(self.contigs)
        if missing:
            raise GenomflowError(
                f"{fasta}: contigs differ from the refget table: {', '.join(sorted(missing))}"
            )

    def close(self) -> None:
        self._fasta.close()

    def contig_name(self, identifier: str) -> str:
        name = self._by_accession.get(identifier, identifier)
        if name not in self.contigs:
            raise KeyError(identifier)
        return name

    def get_sequence(
        self, identifier: str, start: int | None = None, end: int | None = None
    ) -> str:
        sequence: str = self._fasta.fetch(self.contig_name(identifier), start, end)
        return sequence.upper()

    def get_metadata(self, identifier: str) -> dict[str, Any]:
        contig = self.contigs[self.contig_name(identifier)]
        return {
            "length": contig.length,
            "aliases": [f"{_GA4GH}{contig.refget}", f"genomflow:{contig.name}"],
        }


def is_sequence_allele(ref: str, alt: str) -> bool:
    """True for alleles VRS can identify here: plain DNA (no '*' or symbolic alleles).

    >>> is_sequence_allele("A", "<DEL>"), is_sequence_allele("AC", "A")
    (False, True)
    """
    return bool(_DNA.fullmatch(ref)) and bool(_DNA.fullmatch(alt))


def allele_id(proxy: FastaDataProxy, chrom: str, pos: int, ref: str, alt: str) -> str | None:
    """The VRS 2.0 Allele id of a VCF allele (1-based ``pos``), or None if not identifiable.

    The reference allele must match the reference; a mismatch is a :class:`GenomflowError`.
    """
    ref, alt = ref.upper(), alt.upper()
    if not is_sequence_allele(ref, alt):
        return None
    try:
        contig = proxy.contigs[chrom]
    except KeyError:
        raise GenomflowError(f"contig {chrom!r} is not in the reference") from None
    start = pos - 1
    found = proxy.get_sequence(chrom, start, start + len(ref))
    if found != ref:
        raise GenomflowError(
            f"{chrom}:{pos}: the reference has {found!r} where the call says {ref!r}"
        )
    if is_plain_substitution(ref, alt):  # normalisation leaves it as it is
        return substitution_id(contig.refget, pos, ref, alt)
    return _identify(proxy, contig.refget, start, start + len(ref), alt)


def is_plain_substitution(ref: str, alt: str) -> bool:
    """True when VRS normalisation leaves the allele as it is: same length, different first
    and last bases (nothing to trim, no repeat to roll over), so that its id needs no
    reference sequence.

    >>> is_plain_substitution("A", "G"), is_plain_substitution("AC", "GT")
    (True, True)
    >>> is_plain_substitution("AC", "AT"), is_plain_substitution("A", "AT")
    (False, False)
    """
    return (
        len(ref) == len(alt)
        and ref != alt
        and ref[0] != alt[0]
        and ref[-1] != alt[-1]
        and is_sequence_allele(ref, alt)
    )


def substitution_id(refget: str, pos: int, ref: str, alt: str) -> str:
    """The VRS 2.0 Allele id of a plain substitution (:func:`is_plain_substitution`) on the
    sequence with refget accession ``refget`` (``SQ.…``), without the reference: the same
    id :func:`allele_id` computes.

    The two digests are written out here (VRS 2.0 serialisation: sorted keys, no spaces, the
    location by its digest) instead of being built with ``ga4gh.vrs`` models, which cost
    about 0.2 ms an allele; a test checks them against ``ga4gh_identify``.

    >>> substitution_id("SQ.aKF498dAxcJAqme6QYQ7EZ07-fiw8Kw2", 11, "A", "T")
    'ga4gh:VA.UwjkvgZIWJvdPUG-tzSpo4X_jRq5IgUw'
    """
    if not _REFGET.fullmatch(refget):
        raise GenomflowError(f"not a refget accession: {refget!r}")
    start = pos - 1
    location = (
        f'{{"end":{start + len(ref)},"sequenceReference":{{"refgetAccession":"{refget}",'
        f'"type":"SequenceReference"}},"start":{start},"type":"SequenceLocation"}}'
    )
    allele = (
        f'{{"location":"{sha512t24u(location.encode())}","state":{{"sequence":'
        f'"{alt.upper()}","type":"LiteralSequenceExpression"}},"type":"Allele"}}'
    )
    return f"{_GA4GH}VA.{sha512t24u(allele.encode())}"


def _identify(proxy: FastaDataProxy, refget: str, start: int, end: int, alt: str) -> str:
    allele = models.Allele(
        location=models.SequenceLocation(
            sequenceReference=models.SequenceReference(refgetAccession=refget),
            start=start,
            end=end,
        ),
        state=models.LiteralSequenceExpression(sequence=alt),
    )
    identifier: str = ga4gh_identify(normalize(allele, proxy))
    return identifier
