"""Genes, exons and coding sequence an SV overlaps, from the reference GFF3 (pyranges)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genomflow.errors import GenomflowError

if TYPE_CHECKING:  # pandas comes with pyranges, when a GFF3 is read
    import pandas as pd


@dataclass(frozen=True)
class Gene:
    """One gene (its first transcript): 0-based half-open spans, exons numbered 5' to 3'."""

    contig: str
    start: int
    end: int
    name: str
    exons: tuple[tuple[int, int], ...]
    cds: tuple[tuple[int, int], ...]
    strand: str

    def exon_numbers(self) -> list[tuple[int, int, int]]:
        ordered = sorted(self.exons, reverse=self.strand == "-")
        return [(s, e, n) for n, (s, e) in enumerate(ordered, start=1)]


@dataclass(frozen=True)
class Overlap:
    genes: tuple[str, ...]
    exons: tuple[str, ...]
    coding: bool


def read_genes(gff3: Path) -> list[Gene]:
    """The genes of a GFF3 (Ensembl style: gene, mRNA/transcript, exon, CDS with Parent)."""
    import pandas as pd

    try:
        import pyranges as pr

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            table = pr.read_gff3(str(gff3), as_df=True)
    except (OSError, ValueError, KeyError, AttributeError, IndexError, TypeError) as err:
        # pyranges raises whatever its parsing meets on a file that is not GFF3
        raise GenomflowError(f"{gff3}: cannot read GFF3: {err}") from None
    if not isinstance(table, pd.DataFrame) or not {"Feature", "ID", "Parent"} <= set(table):
        raise GenomflowError(f"{gff3}: no features")
    genes = table[table["Feature"] == "gene"]
    transcripts = table[table["Feature"].isin(["mRNA", "transcript"])]
    # Each gene's first transcript (file order), found in one pass rather than per gene: a
    # human GFF3 has ~60,000 genes and millions of rows.
    first = transcripts.drop_duplicates("Parent", keep="first")
    transcript_of = dict(zip(first["Parent"].astype(str), first["ID"].astype(str), strict=True))
    parts = table[table["Parent"].isin(set(transcript_of.values()))]
    exons = _spans(parts[parts["Feature"] == "exon"])
    cds = _spans(parts[parts["Feature"] == "CDS"])
    names = genes["Name"] if "Name" in genes else genes["ID"]
    result = []
    for contig, start, end, strand, gene_id, name in zip(
        genes["Chromosome"], genes["Start"], genes["End"], genes["Strand"], genes["ID"], names,
        strict=True,
    ):  # fmt: skip
        transcript = transcript_of.get(str(gene_id))
        if transcript is None:
            continue
        result.append(
            Gene(
                str(contig),
                int(start),
                int(end),
                name if isinstance(name, str) else str(gene_id),
                exons.get(transcript, ()),
                cds.get(transcript, ()),
                str(strand),
            )
        )
    return result


def _spans(features: pd.DataFrame) -> dict[str, tuple[tuple[int, int], ...]]:
    """Parent -> its features' sorted (start, end)."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for parent, start, end in zip(
        features["Parent"].astype(str), features["Start"], features["End"], strict=True
    ):
        spans.setdefault(parent, []).append((int(start), int(end)))
    return {parent: tuple(sorted(pairs)) for parent, pairs in spans.items()}


def overlap(genes: Sequence[Gene], contig: str, start: int, end: int, svtype: str) -> Overlap:
    """What ``[start, end)`` of an SV of ``svtype`` overlaps, and whether it disrupts a coding
    sequence: a deletion removing coding bases, or a breakpoint inside a gene's coding span
    (a duplication or inversion of a whole gene leaves its coding sequence whole).

    >>> gene = Gene("c", 100, 1000, "G1", ((100, 200), (500, 600)), ((150, 200), (500, 550)), "+")
    >>> overlap([gene], "c", 520, 5000, "DEL")
    Overlap(genes=('G1',), exons=('G1:exon2',), coding=True)
    >>> overlap([gene], "c", 50, 2000, "DUP")
    Overlap(genes=('G1',), exons=('G1:exon1', 'G1:exon2'), coding=False)
    >>> overlap([gene], "c", 300, 400, "DEL")
    Overlap(genes=('G1',), exons=(), coding=False)
    """
    names: list[str] = []
    exons: list[str] = []
    coding = False
    for gene in genes:
        if gene.contig != contig or not (start < gene.end and gene.start < end):
            continue
        names.append(gene.name)
        exons += [
            f"{gene.name}:exon{n}" for s, e, n in gene.exon_numbers() if start < e and s < end
        ]
        if not gene.cds:
            continue
        if svtype == "DEL":
            coding |= any(start < e and s < end for s, e in gene.cds)
        else:
            first, last = gene.cds[0][0], gene.cds[-1][1]
            coding |= first < start < last or (svtype != "BND" and first < end < last)
    return Overlap(tuple(names), tuple(exons), coding)
