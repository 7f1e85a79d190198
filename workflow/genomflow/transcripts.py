"""The reporting transcript of each gene of a GFF3 (issue 17: HGVS on transcripts).

One transcript per gene is the one its c./p. HGVS is reported on: the transcript tagged
``MANE_Select``, else ``Ensembl_canonical``, else the one with the longest CDS (ties: the
smaller transcript id). A gene whose transcripts have no CDS has no reporting transcript, and
the result says so (:attr:`ReportingTranscripts.without_cds`) rather than leaving it out.

The pipeline writes the choice for snpEff (:func:`genomflow.snpeff.prepare`: ``-onlyTr``
and ``results/reference/snpeff/transcripts.tsv``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

from genomflow.errors import GenomflowError

#: Tags that choose a gene's reporting transcript, strongest first.
TAGS: tuple[str, ...] = ("MANE_Select", "Ensembl_canonical")
LONGEST_CDS = "longest CDS"
_TRANSCRIPT_TYPES = frozenset({"mRNA", "transcript"})


@dataclass(frozen=True)
class ReportingTranscript:
    gene: str
    transcript: str
    #: Why it was chosen: a tag of :data:`TAGS` or :data:`LONGEST_CDS`.
    basis: str
    cds_length: int


@dataclass
class ReportingTranscripts:
    by_gene: dict[str, ReportingTranscript] = field(default_factory=dict)
    #: Genes with transcripts but no CDS at all (nothing to report c./p. HGVS on).
    without_cds: list[str] = field(default_factory=list)


def _attributes(text: str) -> dict[str, str]:
    """GFF3 column 9 as a mapping (values percent-decoded).

    >>> _attributes("ID=transcript:T1;Parent=gene:G1;tag=basic,MANE_Select")
    {'ID': 'transcript:T1', 'Parent': 'gene:G1', 'tag': 'basic,MANE_Select'}
    """
    out: dict[str, str] = {}
    for part in text.strip().split(";"):
        if "=" in part:
            key, value = part.split("=", 1)
            out[key.strip()] = unquote(value.strip())
    return out


def _strip(identifier: str) -> str:
    """An Ensembl-style id without its ``kind:`` prefix.

    >>> _strip("transcript:GFT000003"), _strip("T1")
    ('GFT000003', 'T1')
    """
    return identifier.split(":", 1)[1] if ":" in identifier else identifier


def choose(rows: Iterable[tuple[str, str, str, int]]) -> ReportingTranscripts:
    """The reporting transcripts from ``(gene, transcript, tags, cds_length)`` rows.

    >>> result = choose([("A", "T1", "", 300), ("A", "T2", "basic,Ensembl_canonical", 120),
    ...                  ("B", "T3", "", 90), ("B", "T4", "", 150), ("C", "T5", "", 0)])
    >>> [(r.gene, r.transcript, r.basis) for r in result.by_gene.values()]
    [('A', 'T2', 'Ensembl_canonical'), ('B', 'T4', 'longest CDS')]
    >>> result.without_cds
    ['C']
    """
    genes: dict[str, list[tuple[str, set[str], int]]] = {}
    for gene, transcript, tags, cds in rows:
        tag_set = {t.strip() for t in tags.split(",") if t.strip()}
        genes.setdefault(gene, []).append((transcript, tag_set, cds))
    result = ReportingTranscripts()
    for gene, transcripts in genes.items():
        coding = [t for t in transcripts if t[2] > 0]
        if not coding:
            result.without_cds.append(gene)
            continue
        chosen: ReportingTranscript | None = None
        for tag in TAGS:
            tagged = sorted(t for t in coding if tag in t[1])
            if tagged:
                chosen = ReportingTranscript(gene, tagged[0][0], tag, tagged[0][2])
                break
        if chosen is None:
            best = min(coding, key=lambda t: (-t[2], t[0]))
            chosen = ReportingTranscript(gene, best[0], LONGEST_CDS, best[2])
        result.by_gene[gene] = chosen
    return result


def reporting_transcripts(gff3: Path) -> ReportingTranscripts:
    """The reporting transcript of every gene of a GFF3 (genes named by ``Name``, else id)."""
    display = os.fspath(gff3)
    gene_name: dict[str, str] = {}
    transcripts: dict[str, tuple[str, str]] = {}  # transcript id -> (gene id, tags)
    cds: dict[str, int] = {}
    try:
        text = gff3.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise GenomflowError(f"{display}: cannot read the GFF3 ({err})") from None
    for number, raw in enumerate(text.split("\n"), start=1):
        if raw.startswith("##FASTA"):
            break
        if raw.startswith("#") or not raw.strip():
            continue
        fields = raw.rstrip("\r").split("\t")
        if len(fields) != 9:
            raise GenomflowError(
                f"{display} line {number}: expected 9 tab-separated GFF3 columns, "
                f"found {len(fields)}"
            )
        kind, attributes = fields[2], _attributes(fields[8])
        ident = attributes.get("ID", "")
        if kind == "gene" and ident:
            gene_name[ident] = attributes.get("Name") or _strip(ident)
        elif kind in _TRANSCRIPT_TYPES and ident:
            transcripts[ident] = (attributes.get("Parent", ""), attributes.get("tag", ""))
        elif kind == "CDS":
            length = int(fields[4]) - int(fields[3]) + 1
            for parent in attributes.get("Parent", "").split(","):
                cds[parent] = cds.get(parent, 0) + length
    rows = [
        (gene_name.get(parent, _strip(parent)), _strip(ident), tags, cds.get(ident, 0))
        for ident, (parent, tags) in transcripts.items()
    ]
    return choose(rows)
