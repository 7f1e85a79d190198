"""Genes, exons and coding sequence an SV overlaps, from the reference GFF3 (pyranges)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from genomflow.errors import GenomflowError


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
    result = []
    for gene in genes.itertuples(index=False):
        gene_id = str(gene.ID)
        own = transcripts[transcripts["Parent"] == gene_id]
        if own.empty:
            continue
        transcript = str(own["ID"].iloc[0])
        parts = table[table["Parent"] == transcript]
        exons = parts[parts["Feature"] == "exon"]
        cds = parts[parts["Feature"] == "CDS"]
        name = gene.Name if isinstance(gene.Name, str) else gene_id
        result.append(
            Gene(
                str(gene.Chromosome),
                int(gene.Start),
                int(gene.End),
                name,
                tuple(
                    sorted(zip(exons["Start"].astype(int), exons["End"].astype(int), strict=True))
                ),
                tuple(sorted(zip(cds["Start"].astype(int), cds["End"].astype(int), strict=True))),
                str(gene.Strand),
            )
        )
    return result


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
