"""Protein-coding gene models: design, encoding into the reference, GFF3 output and checks.

A gene has one transcript of a few exons.  The transcript is designed in its own (5'->3')
orientation: a 5' UTR, a coding sequence ``ATG ... stop`` made of random sense codons, and a
3' UTR; introns keep the background sequence except for a canonical donor (``GTAAGT``) and
acceptor (``TTTCAG``).  Minus-strand genes are written reverse-complemented.  The GFF3 follows
the Ensembl layout (snpEff reads it once the ``kind:`` ID prefixes are stripped).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genomflow.errors import GenomflowError
from genomflow.simulate.common import (
    COMPLEMENT,
    Seq,
    random_bases,
    reverse_complement,
    to_seq,
    to_str,
)

#: Standard genetic code, codons in TCAG order.
_CODON_BASES = "TCAG"
_AMINO_ACIDS = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
GENETIC_CODE: dict[str, str] = {
    "".join(codon): aa
    for codon, aa in zip(itertools.product(_CODON_BASES, repeat=3), _AMINO_ACIDS, strict=True)
}
START_CODON = "ATG"
STOP_CODONS: tuple[str, ...] = tuple(sorted(c for c, aa in GENETIC_CODE.items() if aa == "*"))
SENSE_CODONS: tuple[str, ...] = tuple(sorted(c for c, aa in GENETIC_CODE.items() if aa != "*"))

#: Exon, intron and UTR length ranges (inclusive), in bases.
EXON_LENGTH = (80, 300)
INTRON_LENGTH = (200, 2000)
EXON_COUNT = (3, 8)
UTR5_LENGTH = (30, 60)
UTR3_LENGTH = (40, 70)
#: Splice-site consensus written at the start and end of every intron (transcript orientation).
DONOR = "GTAAGT"
ACCEPTOR = "TTTCAG"
#: Source column of the GFF3.
GFF_SOURCE = "genomflow"
#: Effects that :func:`find_coding_snv` can produce.
SNV_EFFECTS = ("missense", "synonymous", "stop_gained")


@dataclass(frozen=True)
class GeneStructure:
    """Lengths of a transcript's parts, in transcript order, before it is placed."""

    exon_lengths: tuple[int, ...]
    intron_lengths: tuple[int, ...]
    utr5: int
    utr3: int

    @property
    def span(self) -> int:
        """Genomic length of the gene (exons plus introns)."""
        return sum(self.exon_lengths) + sum(self.intron_lengths)

    @property
    def cds_length(self) -> int:
        """Length of the coding sequence, stop codon included."""
        return sum(self.exon_lengths) - self.utr5 - self.utr3


@dataclass(frozen=True)
class GeneModel:
    """A placed gene with one transcript; coordinates are 0-based half-open, ascending."""

    gene_id: str
    transcript_id: str
    protein_id: str
    symbol: str
    contig: str
    strand: str
    exons: tuple[tuple[int, int], ...]
    cds_start: int
    cds_end: int

    @property
    def start(self) -> int:
        """First base of the gene."""
        return self.exons[0][0]

    @property
    def end(self) -> int:
        """One past the last base of the gene."""
        return self.exons[-1][1]

    def exons_in_transcript_order(self) -> list[tuple[int, int]]:
        """Exons from the 5' to the 3' end of the transcript."""
        return list(self.exons) if self.strand == "+" else list(reversed(self.exons))

    def cds_segments(self) -> list[tuple[int, int]]:
        """Coding parts of the exons, in transcript order."""
        segments = []
        for start, end in self.exons_in_transcript_order():
            lo, hi = max(start, self.cds_start), min(end, self.cds_end)
            if lo < hi:
                segments.append((lo, hi))
        return segments

    def introns(self) -> list[tuple[int, int]]:
        """Introns, ascending."""
        return [(a[1], b[0]) for a, b in itertools.pairwise(self.exons)]

    def cds_positions(self) -> np.ndarray:
        """Genomic position of every coding base, in transcript (codon) order."""
        parts = []
        for start, end in self.cds_segments():
            positions = np.arange(start, end)
            parts.append(positions if self.strand == "+" else positions[::-1])
        return np.concatenate(parts)


@dataclass(frozen=True)
class CodingSnv:
    """A single-base change in a coding sequence, with its genomic REF/ALT (forward strand)."""

    contig: str
    pos: int
    ref: str
    alt: str
    effect: str
    codon_index: int


def design_structure(rng: np.random.Generator) -> GeneStructure:
    """Draw exon, intron and UTR lengths so that the CDS is a whole number of codons."""
    n_exons = int(rng.integers(EXON_COUNT[0], EXON_COUNT[1] + 1))
    exons = [int(x) for x in rng.integers(EXON_LENGTH[0], EXON_LENGTH[1] + 1, size=n_exons)]
    log_lo, log_hi = np.log(INTRON_LENGTH[0]), np.log(INTRON_LENGTH[1])
    introns = [int(np.exp(x)) for x in rng.uniform(log_lo, log_hi, size=n_exons - 1)]
    utr5 = int(rng.integers(UTR5_LENGTH[0], UTR5_LENGTH[1] + 1))
    utr3 = int(rng.integers(UTR3_LENGTH[0], UTR3_LENGTH[1] + 1))
    utr3 += (sum(exons) - utr5 - utr3) % 3
    return GeneStructure(tuple(exons), tuple(introns), utr5, utr3)


def coding_sequence(rng: np.random.Generator, n_codons: int) -> str:
    """``ATG``, ``n_codons - 2`` random sense codons, then a stop codon."""
    middle = rng.choice(len(SENSE_CODONS), size=n_codons - 2)
    stop = STOP_CODONS[int(rng.integers(len(STOP_CODONS)))]
    return START_CODON + "".join(SENSE_CODONS[i] for i in middle) + stop


def write_gene(
    contig_seq: Seq,
    structure: GeneStructure,
    *,
    contig: str,
    start: int,
    strand: str,
    ids: tuple[str, str, str, str],
    rng: np.random.Generator,
    gc: float,
) -> GeneModel:
    """Encode a gene into ``contig_seq`` (in place) at ``start`` and return its model.

    ``ids`` is ``(gene_id, transcript_id, protein_id, symbol)``; ``gc`` is the GC fraction of
    the UTRs.  The intron bodies keep the sequence already present.
    """
    end = start + structure.span
    region = contig_seq[start:end].copy()
    if strand == "-":
        region = reverse_complement(region)
    cds = to_seq(coding_sequence(rng, structure.cds_length // 3))
    mature = np.concatenate(
        [random_bases(rng, structure.utr5, gc), cds, random_bases(rng, structure.utr3, gc)]
    )
    exon_offsets = _fill_exons_and_splice_sites(region, structure, mature)
    contig_seq[start:end] = region if strand == "+" else reverse_complement(region)
    exons, cds_start, cds_end = _to_genomic(structure, exon_offsets, start, strand)
    gene_id, transcript_id, protein_id, symbol = ids
    return GeneModel(
        gene_id, transcript_id, protein_id, symbol, contig, strand, exons, cds_start, cds_end
    )


def _fill_exons_and_splice_sites(
    region: Seq, structure: GeneStructure, mature: Seq
) -> list[tuple[int, int]]:
    """Write exons and splice sites into the transcript-oriented ``region``; return exon offsets."""
    offsets = []
    cursor = 0
    used = 0
    for index, length in enumerate(structure.exon_lengths):
        region[cursor : cursor + length] = mature[used : used + length]
        offsets.append((cursor, cursor + length))
        used += length
        cursor += length
        if index < len(structure.intron_lengths):
            intron = structure.intron_lengths[index]
            region[cursor : cursor + len(DONOR)] = to_seq(DONOR)
            region[cursor + intron - len(ACCEPTOR) : cursor + intron] = to_seq(ACCEPTOR)
            cursor += intron
    return offsets


def _to_genomic(
    structure: GeneStructure, offsets: list[tuple[int, int]], start: int, strand: str
) -> tuple[tuple[tuple[int, int], ...], int, int]:
    """Convert transcript-oriented exon offsets and UTR lengths to genomic coordinates."""
    span = structure.span
    mature_len = sum(structure.exon_lengths)
    cds_lo_t, cds_hi_t = structure.utr5, mature_len - structure.utr3
    genomic_of_mature = np.concatenate([np.arange(a, b) for a, b in offsets])
    if strand == "+":
        exons = tuple((start + a, start + b) for a, b in offsets)
        cds_start = start + int(genomic_of_mature[cds_lo_t])
        cds_end = start + int(genomic_of_mature[cds_hi_t - 1]) + 1
    else:
        exons = tuple(sorted((start + span - b, start + span - a) for a, b in offsets))
        cds_start = start + span - 1 - int(genomic_of_mature[cds_hi_t - 1])
        cds_end = start + span - int(genomic_of_mature[cds_lo_t])
    return exons, cds_start, cds_end


def cds_sequence(contig_seq: Seq, model: GeneModel) -> str:
    """The coding sequence of ``model`` (spliced, in transcript orientation)."""
    bases = contig_seq[model.cds_positions()]
    return to_str(bases if model.strand == "+" else COMPLEMENT[bases])


def translate(cds: str) -> str:
    """Translate a coding sequence (whole codons only) into one-letter amino acids."""
    return "".join(GENETIC_CODE.get(cds[i : i + 3], "X") for i in range(0, len(cds) - 2, 3))


def check_gene(contig_seq: Seq, model: GeneModel) -> list[str]:
    """Return the problems of a gene model against the sequence (empty when it is valid)."""
    problems = []
    cds = cds_sequence(contig_seq, model)
    protein = translate(cds)
    if len(cds) % 3:
        problems.append(f"{model.symbol}: CDS length {len(cds)} is not a multiple of 3")
    if not cds.startswith(START_CODON):
        problems.append(f"{model.symbol}: CDS does not start with ATG")
    if not protein.endswith("*") or "*" in protein[:-1]:
        problems.append(f"{model.symbol}: CDS lacks a final stop or has an internal stop")
    for start, end in model.introns():
        intron = to_str(contig_seq[start:end])
        if model.strand == "-":
            intron = to_str(reverse_complement(contig_seq[start:end]))
        if not (intron.startswith("GT") and intron.endswith("AG")):
            problems.append(f"{model.symbol}: intron {start}-{end} is not GT...AG")
    return problems


def find_coding_snv(
    contig_seq: Seq, model: GeneModel, effect: str, rng: np.random.Generator
) -> CodingSnv:
    """Pick a random SNV in the CDS (not in the start or stop codon) with the given effect."""
    if effect not in SNV_EFFECTS:
        raise GenomflowError(f"unknown SNV effect {effect!r}; expected one of {SNV_EFFECTS}")
    cds = cds_sequence(contig_seq, model)
    positions = model.cds_positions()
    n_codons = len(cds) // 3
    for codon_index in rng.permutation(np.arange(1, n_codons - 1)):
        codon = cds[3 * codon_index : 3 * codon_index + 3]
        for offset in rng.permutation(3):
            for base in rng.permutation(list("ACGT")):
                mutated = codon[:offset] + base + codon[offset + 1 :]
                if base == codon[offset] or _effect_of(codon, mutated) != effect:
                    continue
                pos = int(positions[3 * codon_index + offset])
                ref, alt = codon[offset], str(base)
                if model.strand == "-":
                    ref, alt = _complement_base(ref), _complement_base(alt)
                return CodingSnv(model.contig, pos, ref, alt, effect, int(codon_index))
    raise GenomflowError(f"no {effect} SNV possible in {model.symbol}")


def _effect_of(codon: str, mutated: str) -> str:
    before, after = GENETIC_CODE[codon], GENETIC_CODE[mutated]
    if after == "*":
        return "stop_gained"
    return "synonymous" if before == after else "missense"


def _complement_base(base: str) -> str:
    return chr(int(COMPLEMENT[ord(base)]))


def gff3_lines(models: Iterable[GeneModel], contig_lengths: dict[str, int]) -> list[str]:
    """Ensembl-style GFF3 lines (without newlines) for the gene models."""
    lines = ["##gff-version 3"]
    lines += [f"##sequence-region {name} 1 {length}" for name, length in contig_lengths.items()]
    order = {name: i for i, name in enumerate(contig_lengths)}
    for model in sorted(models, key=lambda m: (order[m.contig], m.start)):
        lines += _gene_lines(model)
        lines.append("###")
    return lines


def write_gff3(path: Path, models: Sequence[GeneModel], contig_lengths: dict[str, int]) -> None:
    """Write the gene models as GFF3 to ``path``."""
    path.write_text("\n".join(gff3_lines(models, contig_lengths)) + "\n")


def _gene_lines(model: GeneModel) -> list[str]:
    gene_attrs = (
        f"ID=gene:{model.gene_id};Name={model.symbol};biotype=protein_coding;"
        f"gene_id={model.gene_id}"
    )
    tx_attrs = (
        f"ID=transcript:{model.transcript_id};Parent=gene:{model.gene_id};"
        f"Name={model.symbol}-201;biotype=protein_coding;transcript_id={model.transcript_id}"
    )
    parent = f"Parent=transcript:{model.transcript_id}"
    rows: list[tuple[str, int, int, str, str]] = []
    for number, (start, end) in enumerate(model.exons_in_transcript_order(), start=1):
        rows.append(("exon", start, end, ".", f"{parent};Name={model.transcript_id}-E{number}"))
    cumulative = 0
    for start, end in model.cds_segments():
        phase = (3 - cumulative % 3) % 3
        rows.append(("CDS", start, end, str(phase), f"ID=CDS:{model.protein_id};{parent}"))
        cumulative += end - start
    rows += [(kind, a, b, ".", parent) for kind, a, b in _utr_parts(model)]
    rows.sort(key=lambda row: (row[1], _FEATURE_ORDER[row[0]]))
    head = [
        _gff_row(model, "gene", model.start, model.end, ".", gene_attrs),
        _gff_row(model, "mRNA", model.start, model.end, ".", tx_attrs),
    ]
    return head + [_gff_row(model, *row) for row in rows]


_FEATURE_ORDER = {"exon": 0, "five_prime_UTR": 1, "CDS": 2, "three_prime_UTR": 3}


def _utr_parts(model: GeneModel) -> list[tuple[str, int, int]]:
    """UTR pieces (kind, start, end), ascending."""
    left, right = ("five_prime_UTR", "three_prime_UTR")
    if model.strand == "-":
        left, right = right, left
    parts = []
    for start, end in model.exons:
        if start < model.cds_start:
            parts.append((left, start, min(end, model.cds_start)))
        if end > model.cds_end:
            parts.append((right, max(start, model.cds_end), end))
    return parts


def _gff_row(model: GeneModel, kind: str, start: int, end: int, phase: str, attrs: str) -> str:
    fields = [model.contig, GFF_SOURCE, kind, str(start + 1), str(end), ".", model.strand]
    return "\t".join([*fields, phase, attrs])
