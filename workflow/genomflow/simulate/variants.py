"""Germline variants: a population catalogue, founder haplotypes, Mendelian transmission and
the truth VCFs.

The model: a catalogue of variant sites with population allele frequencies (common sites with
AF 0.2-0.8 and low-frequency ones with AF 0.01-0.2) is drawn once; every founder haplotype
carries each catalogue allele with probability AF and gets a few private variants of its own.
A child receives one recombinant haplotype (one crossover) from each parent per autosome; a son
receives his father's Y and a recombinant maternal X, a daughter her father's X.  Males are
haploid on X and Y, females carry no Y.

Every variant is stored left-normalised (VCF style, with an anchor base for indels).  Sites keep
at least :data:`MIN_SPACING` bases between their "ambiguity spans" (the whole stretch over which
an indel could be shifted), so no two variants interact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from genomflow.errors import GenomflowError
from genomflow.simulate.common import N_CODE, Feature, Seq, random_bases, to_seq, to_str
from genomflow.simulate.genes import GeneModel, cds_sequence, find_coding_snv
from genomflow.simulate.genome import AUTOSOME, CHR_X, CHR_Y, Reference

#: Catalogue densities (sites per kb of eligible sequence) and allele-frequency ranges.
COMMON_SITES_PER_KB = 2.1
COMMON_AF = (0.2, 0.8)
LOWFREQ_SITES_PER_KB = 3.6
LOWFREQ_AF = (0.01, 0.2)
#: Private variants per kb per founder haplotype, and the allele frequency they are given.
PRIVATE_PER_KB = 0.17
PRIVATE_AF = 0.0001
#: Variant type mix.
SNV_FRACTION = 0.85
TRANSITION_FRACTION = 0.67
DELETION_FRACTION = 0.55
#: Fraction of indels placed in homopolymers / STRs (as whole-unit expansions/contractions).
REPEAT_INDEL_FRACTION = 0.3
#: Indel lengths 1..MAX follow a power law ``length ** -EXPONENT``.
INDEL_MAX_LENGTH = 30
INDEL_LENGTH_EXPONENT = 1.8
#: Fraction of insertions that duplicate the adjacent sequence (the rest are random bases).
TANDEM_DUPLICATION_FRACTION = 0.5
#: Repeat-unit changes (1, 2, 3 units) and their probabilities.
REPEAT_UNIT_CHANGES = (1, 2, 3)
REPEAT_UNIT_CHANGE_PROBS = (0.7, 0.25, 0.05)
#: Minimum bases between the spans of two variants, and the exclusion margins.
MIN_SPACING = 30
CONTIG_END_MARGIN = 500
GAP_MARGIN = 200
SEGDUP_MARGIN = 50
#: Proposals per variant before giving up on it.
PLACEMENT_ATTEMPTS = 50
#: Sex codes and sample roles.
MALE, FEMALE = "M", "F"
#: Origin labels written to INFO/ORIGIN.
ORIGINS = ("common", "lowfreq", "private", "planted")

_TRANSITION = {"A": "G", "G": "A", "C": "T", "T": "C"}
_TRANSVERSIONS = {"A": "CT", "G": "CT", "C": "AG", "T": "AG"}


@dataclass(frozen=True, order=True)
class Variant:
    """A biallelic variant; ``pos`` is the 0-based position of the first REF base."""

    contig: str
    pos: int
    ref: str
    alt: str
    origin: str = field(default="common", compare=False)
    af: float = field(default=0.5, compare=False)
    label: str = field(default="", compare=False)

    @property
    def end(self) -> int:
        """One past the last REF base."""
        return self.pos + len(self.ref)

    @property
    def is_snv(self) -> bool:
        """True for a single-nucleotide variant."""
        return len(self.ref) == 1 and len(self.alt) == 1

    @property
    def length_change(self) -> int:
        """``len(alt) - len(ref)`` (positive for insertions)."""
        return len(self.alt) - len(self.ref)


@dataclass(frozen=True)
class SampleSpec:
    """A sample of the cohort; founders have no parents."""

    sample: str
    sex: str
    role: str
    father: str | None = None
    mother: str | None = None

    @property
    def is_founder(self) -> bool:
        """True when the sample has no parents in the cohort."""
        return self.father is None and self.mother is None


@dataclass(frozen=True)
class PlantedVariant:
    """A coding variant put on the parental haplotype that ``child`` inherits.

    ``effect`` is one of ``missense``, ``synonymous``, ``stop_gained`` or ``frameshift``.
    """

    symbol: str
    effect: str
    parent: str
    child: str


@dataclass
class TruthSet:
    """Variants per contig (sorted) and every sample's haplotypes over them.

    ``haplotypes[contig][sample]`` is a boolean array of shape ``(ploidy, n_variants)``.
    """

    samples: tuple[SampleSpec, ...]
    contig_lengths: dict[str, int]
    variants: dict[str, list[Variant]]
    haplotypes: dict[str, dict[str, np.ndarray]]

    def genotype(self, sample: str, contig: str) -> np.ndarray:
        """Alt-allele count of ``sample`` at every variant of ``contig``."""
        result: np.ndarray = self.haplotypes[contig][sample].sum(axis=0)
        return result

    def ploidy(self, sample: str, contig: str) -> int:
        """Number of copies of ``contig`` the sample carries."""
        return int(self.haplotypes[contig][sample].shape[0])

    def haplotype_variants(self, sample: str, contig: str, index: int) -> list[Variant]:
        """Variants on one haplotype of ``sample``."""
        carried = self.haplotypes[contig][sample][index]
        return [v for v, hit in zip(self.variants[contig], carried, strict=True) if hit]

    def sample_variants(self, sample: str) -> list[Variant]:
        """All variants carried by ``sample`` (any haplotype), in reference order."""
        out = []
        for contig, variants in self.variants.items():
            carried = self.genotype(sample, contig) > 0
            out += [v for v, hit in zip(variants, carried, strict=True) if hit]
        return out


def ploidy_of(kind: str, sex: str) -> int:
    """Copies of a contig of this kind in a sample of this sex."""
    if kind == AUTOSOME:
        return 2
    if kind == CHR_X:
        return 2 if sex == FEMALE else 1
    if kind == CHR_Y:
        return 1 if sex == MALE else 0
    raise GenomflowError(f"unknown contig kind {kind!r}")


# --------------------------------------------------------------------------------------------
# Placement bookkeeping


@dataclass
class _Placer:
    """Eligible positions and occupied spans of one contig."""

    contig: str
    seq: Seq
    allowed: np.ndarray
    occupied: np.ndarray
    repeats: list[Feature]

    def fits(self, lo: int, hi: int) -> bool:
        if lo < 0 or hi > self.seq.size:
            return False
        return bool(self.allowed[lo:hi].all() and not self.occupied[lo:hi].any())

    def take(self, lo: int, hi: int) -> None:
        self.occupied[max(0, lo - MIN_SPACING) : hi + MIN_SPACING] = True


def eligible_mask(reference: Reference, contig: str) -> np.ndarray:
    """Positions where variants may lie: away from contig ends, the N gap and the duplication."""
    seq = reference.sequences[contig]
    allowed = np.ones(seq.size, dtype=bool)
    allowed[:CONTIG_END_MARGIN] = False
    allowed[seq.size - CONTIG_END_MARGIN :] = False
    allowed[seq == N_CODE] = False
    margins = {"n_gap": GAP_MARGIN, "segdup_source": SEGDUP_MARGIN, "segdup_copy": SEGDUP_MARGIN}
    for feature in reference.features_named(*margins):
        if feature.contig == contig:
            margin = margins[feature.name]
            allowed[max(0, feature.start - margin) : feature.end + margin] = False
    return allowed


def _placers(reference: Reference) -> dict[str, _Placer]:
    placers = {}
    for contig, seq in reference.sequences.items():
        repeats = [f for f in reference.features_named("homopolymer", "str") if f.contig == contig]
        placers[contig] = _Placer(
            contig, seq, eligible_mask(reference, contig), np.zeros(seq.size, bool), repeats
        )
    return placers


# --------------------------------------------------------------------------------------------
# Variant construction


def normalize_indel(seq: Seq, pos: int, ref: str, alt: str) -> tuple[int, str, str, int, int]:
    """Left-align an anchored indel; return ``(pos, ref, alt, span_lo, span_hi)``.

    ``pos`` is the 0-based anchor position.  The span covers every equivalent placement of the
    indel (anchor included), which is what must stay clear of other variants.
    """
    if len(ref) > len(alt):  # deletion of seq[d : d + k]
        k = len(ref) - len(alt)
        d = pos + 1
        while d - 1 > 0 and seq[d - 1] == seq[d + k - 1]:
            d -= 1
        right = d
        while right + k < seq.size and seq[right] == seq[right + k]:
            right += 1
        new_ref = to_str(seq[d - 1 : d + k])
        return d - 1, new_ref, new_ref[0], d - 1, right + k
    inserted = alt[1:]
    i = pos + 1  # insertion before seq[i]
    while i - 1 > 0 and seq[i - 1] == ord(inserted[-1]):
        inserted = inserted[-1] + inserted[:-1]
        i -= 1
    left_i, left_ins = i, inserted
    while i < seq.size and seq[i] == ord(inserted[0]):
        inserted = inserted[1:] + inserted[0]
        i += 1
    anchor = chr(int(seq[left_i - 1]))
    return left_i - 1, anchor, anchor + left_ins, left_i - 1, i + 1


def _indel_length(rng: np.random.Generator) -> int:
    lengths = np.arange(1, INDEL_MAX_LENGTH + 1)
    weights = lengths ** (-INDEL_LENGTH_EXPONENT)
    return int(rng.choice(lengths, p=weights / weights.sum()))


def _propose_snv(placer: _Placer, rng: np.random.Generator) -> tuple[int, str, str, int, int]:
    pos = int(rng.integers(0, placer.seq.size))
    ref = chr(int(placer.seq[pos]))
    if ref not in _TRANSITION:
        return pos, ref, ref, -1, -1
    if rng.random() < TRANSITION_FRACTION:
        alt = _TRANSITION[ref]
    else:
        alt = _TRANSVERSIONS[ref][int(rng.integers(2))]
    return pos, ref, alt, pos, pos + 1


def _propose_indel(placer: _Placer, rng: np.random.Generator) -> tuple[int, str, str, int, int]:
    if placer.repeats and rng.random() < REPEAT_INDEL_FRACTION:
        return _propose_repeat_indel(placer, rng)
    seq = placer.seq
    length = _indel_length(rng)
    pos = int(rng.integers(1, seq.size - length - 2))
    anchor = to_str(seq[pos : pos + 1])
    if rng.random() < DELETION_FRACTION:
        ref, alt = to_str(seq[pos : pos + 1 + length]), anchor
    elif rng.random() < TANDEM_DUPLICATION_FRACTION:
        ref, alt = anchor, anchor + to_str(seq[pos + 1 : pos + 1 + length])
    else:
        ref, alt = anchor, anchor + to_str(random_bases(rng, length))
    return normalize_indel(seq, pos, ref, alt)


def _propose_repeat_indel(
    placer: _Placer, rng: np.random.Generator
) -> tuple[int, str, str, int, int]:
    feature = placer.repeats[int(rng.integers(len(placer.repeats)))]
    seq = placer.seq
    period = 1 if feature.name == "homopolymer" else _period(seq[feature.start : feature.end])
    copies = feature.length // period
    change = int(rng.choice(REPEAT_UNIT_CHANGES, p=REPEAT_UNIT_CHANGE_PROBS))
    unit = to_str(seq[feature.start : feature.start + period])
    anchor_pos = feature.start - 1
    anchor = chr(int(seq[anchor_pos]))
    if rng.random() < DELETION_FRACTION and copies - change >= 3:
        ref, alt = anchor + unit * change, anchor
    else:
        ref, alt = anchor, anchor + unit * change
    return normalize_indel(seq, anchor_pos, ref, alt)


def _period(repeat: Seq) -> int:
    for period in (2, 3):
        if np.array_equal(repeat[period:], repeat[:-period]):
            return period
    return 2


def _place_variant(
    placer: _Placer, rng: np.random.Generator, origin: str, af: float
) -> Variant | None:
    for _ in range(PLACEMENT_ATTEMPTS):
        propose = _propose_snv if rng.random() < SNV_FRACTION else _propose_indel
        pos, ref, alt, lo, hi = propose(placer, rng)
        if ref == alt or not placer.fits(lo, hi):
            continue
        placer.take(lo, hi)
        return Variant(placer.contig, pos, ref, alt, origin, af)
    return None


# --------------------------------------------------------------------------------------------
# Planted (coding) variants


def _planted_variant(
    reference: Reference,
    planted: PlantedVariant,
    placers: dict[str, _Placer],
    rng: np.random.Generator,
) -> Variant:
    gene = _gene(reference, planted.symbol)
    placer = placers[gene.contig]
    label = f"{planted.symbol}:{planted.effect}"
    for _ in range(PLACEMENT_ATTEMPTS):
        if planted.effect == "frameshift":
            pos, ref, alt = _frameshift(reference.sequences[gene.contig], gene, rng)
        else:
            snv = find_coding_snv(reference.sequences[gene.contig], gene, planted.effect, rng)
            pos, ref, alt = snv.pos, snv.ref, snv.alt
        hi = pos + len(ref)
        if placer.fits(pos, hi):
            placer.take(pos, hi)
            return Variant(gene.contig, pos, ref, alt, "planted", PRIVATE_AF, label)
    raise GenomflowError(f"cannot place planted variant {label}")


def _gene(reference: Reference, symbol: str) -> GeneModel:
    for gene in reference.genes:
        if gene.symbol == symbol:
            return gene
    raise GenomflowError(f"planted variant refers to unknown gene {symbol!r}")


def _frameshift(seq: Seq, gene: GeneModel, rng: np.random.Generator) -> tuple[int, str, str]:
    """A 1-bp deletion inside a CDS segment that is already left-normalised."""
    positions = gene.cds_positions()
    length = len(cds_sequence(seq, gene))
    for index in rng.permutation(np.arange(6, length - 6)):
        g = int(positions[index])
        inside = gene.cds_start < g < gene.cds_end and any(
            a < g - 1 and g + 1 < b for a, b in gene.cds_segments()
        )
        if inside and seq[g - 1] != seq[g] and seq[g] != seq[g + 1]:
            ref = to_str(seq[g - 1 : g + 1])
            return g - 1, ref, ref[0]
    raise GenomflowError(f"no frameshift position in {gene.symbol}")


# --------------------------------------------------------------------------------------------
# Population, founders and transmission


@dataclass
class _Site:
    variant: Variant
    owner: tuple[str, int] | None = None  # (sample, haplotype) for private/planted sites


@dataclass(frozen=True)
class _Meiosis:
    """Which parental haplotype is transmitted left of ``crossover`` (the other one right)."""

    first: int
    crossover: int

    def source(self, pos: int) -> int:
        return self.first if pos < self.crossover else 1 - self.first


def simulate_truth(
    reference: Reference,
    samples: Sequence[SampleSpec],
    rng: np.random.Generator,
    planted: Sequence[PlantedVariant] = (),
) -> TruthSet:
    """Draw the catalogue, founder haplotypes and transmissions; return the cohort's truth."""
    _check_pedigree(samples)
    placers = _placers(reference)
    planted_sites = [(p, _planted_variant(reference, p, placers, rng)) for p in planted]
    meioses = _meioses(reference, samples, rng)
    variants: dict[str, list[Variant]] = {}
    haplotypes: dict[str, dict[str, np.ndarray]] = {}
    for contig in reference.sequences:
        kind = reference.kind(contig)
        sites = _catalogue(placers[contig], rng)
        sites += _private_sites(placers[contig], kind, samples, rng)
        for plant, variant in planted_sites:
            if variant.contig == contig:
                parent_hap = meioses[(plant.child, plant.parent, contig)].source(variant.pos)
                sites.append(_Site(variant, (plant.parent, parent_hap)))
        sites.sort(key=lambda s: s.variant.pos)
        variants[contig] = [s.variant for s in sites]
        haplotypes[contig] = _haplotypes(sites, kind, samples, meioses, contig, rng)
    return TruthSet(tuple(samples), reference.lengths, variants, haplotypes)


def _check_pedigree(samples: Sequence[SampleSpec]) -> None:
    seen: dict[str, SampleSpec] = {}
    for sample in samples:
        if sample.sex not in (MALE, FEMALE):
            raise GenomflowError(f"sample {sample.sample}: sex must be M or F, not {sample.sex!r}")
        for parent, sex in ((sample.father, MALE), (sample.mother, FEMALE)):
            if parent is not None and (parent not in seen or seen[parent].sex != sex):
                raise GenomflowError(
                    f"sample {sample.sample}: parent {parent} must be listed earlier with sex {sex}"
                )
        if (sample.father is None) != (sample.mother is None):
            raise GenomflowError(f"sample {sample.sample}: give both parents or none")
        seen[sample.sample] = sample


def _catalogue(placer: _Placer, rng: np.random.Generator) -> list[_Site]:
    eligible_kb = placer.allowed.sum() / 1000
    sites = []
    for per_kb, (lo, hi), origin in (
        (COMMON_SITES_PER_KB, COMMON_AF, "common"),
        (LOWFREQ_SITES_PER_KB, LOWFREQ_AF, "lowfreq"),
    ):
        for _ in range(round(per_kb * eligible_kb)):
            af = (
                rng.uniform(lo, hi)
                if origin == "common"
                else np.exp(rng.uniform(np.log(lo), np.log(hi)))
            )
            variant = _place_variant(placer, rng, origin, round(float(af), 4))
            if variant is not None:
                sites.append(_Site(variant))
    return sites


def _private_sites(
    placer: _Placer, kind: str, samples: Sequence[SampleSpec], rng: np.random.Generator
) -> list[_Site]:
    eligible_kb = placer.allowed.sum() / 1000
    sites = []
    for sample in samples:
        if not sample.is_founder:
            continue
        for hap in range(ploidy_of(kind, sample.sex)):
            for _ in range(int(rng.poisson(PRIVATE_PER_KB * eligible_kb))):
                variant = _place_variant(placer, rng, "private", PRIVATE_AF)
                if variant is not None:
                    sites.append(_Site(variant, (sample.sample, hap)))
    return sites


def _meioses(
    reference: Reference, samples: Sequence[SampleSpec], rng: np.random.Generator
) -> dict[tuple[str, str, str], _Meiosis]:
    """One meiosis per (child, parent, contig) with two parental copies (one crossover)."""
    by_name = {s.sample: s for s in samples}
    meioses = {}
    for child in samples:
        if child.is_founder:
            continue
        for parent_name in (child.father, child.mother):
            assert parent_name is not None
            parent = by_name[parent_name]
            for contig, length in reference.lengths.items():
                first = int(rng.integers(2))
                crossover = int(rng.integers(0, length))
                if ploidy_of(reference.kind(contig), parent.sex) < 2:
                    first, crossover = 0, length
                meioses[(child.sample, parent.sample, contig)] = _Meiosis(first, crossover)
    return meioses


def _haplotypes(
    sites: list[_Site],
    kind: str,
    samples: Sequence[SampleSpec],
    meioses: dict[tuple[str, str, str], _Meiosis],
    contig: str,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    positions = np.array([s.variant.pos for s in sites], dtype=np.int64)
    af = np.array([s.variant.af for s in sites])
    shared = np.array([s.owner is None for s in sites], dtype=bool)
    result: dict[str, np.ndarray] = {}
    for sample in samples:
        ploidy = ploidy_of(kind, sample.sex)
        if sample.is_founder:
            haps = (rng.random((ploidy, len(sites))) < af) & shared
            for index, site in enumerate(sites):
                if site.owner is not None and site.owner[0] == sample.sample:
                    haps[site.owner[1], index] = True
        else:
            haps = _child_haplotypes(sample, kind, result, meioses, contig, positions)
        result[sample.sample] = haps
    return result


def _child_haplotypes(
    child: SampleSpec,
    kind: str,
    parents: dict[str, np.ndarray],
    meioses: dict[tuple[str, str, str], _Meiosis],
    contig: str,
    positions: np.ndarray,
) -> np.ndarray:
    assert child.father is not None and child.mother is not None
    gametes = []
    for parent in (child.father, child.mother):
        parent_haps = parents[parent]
        if parent_haps.shape[0] == 0:
            continue
        meiosis = meioses[(child.sample, parent, contig)]
        left = positions < meiosis.crossover
        second = (1 - meiosis.first) if parent_haps.shape[0] == 2 else meiosis.first
        gametes.append(np.where(left, parent_haps[meiosis.first], parent_haps[second]))
    if kind == CHR_X and child.sex == MALE:
        gametes = gametes[-1:]  # a son's X comes from his mother
    if kind == CHR_Y:
        gametes = gametes[:1] if child.sex == MALE else []
    ploidy = ploidy_of(kind, child.sex)
    if not gametes:
        return np.zeros((ploidy, positions.size), dtype=bool)
    return np.array(gametes, dtype=bool).reshape(ploidy, positions.size)


# --------------------------------------------------------------------------------------------
# Haplotype sequences


def apply_variants(seq: Seq, variants: Sequence[Variant]) -> Seq:
    """The sequence of a haplotype carrying ``variants`` (sorted, non-overlapping)."""
    pieces = []
    cursor = 0
    for variant in variants:
        pieces.append(seq[cursor : variant.pos])
        pieces.append(to_seq(variant.alt))
        cursor = variant.end
    pieces.append(seq[cursor:])
    return np.concatenate(pieces) if pieces else seq.copy()


def haplotype_sequences(
    reference: Reference, truth: TruthSet, sample: str
) -> list[tuple[str, int, Seq]]:
    """``(contig, haplotype index, sequence)`` for every chromosome copy of ``sample``."""
    result = []
    for contig, seq in reference.sequences.items():
        for index in range(truth.ploidy(sample, contig)):
            variants = truth.haplotype_variants(sample, contig, index)
            result.append((contig, index, apply_variants(seq, variants)))
    return result


# --------------------------------------------------------------------------------------------
# VCF output


def _header(contig_lengths: dict[str, int], seed: int) -> pysam.VariantHeader:
    header = pysam.VariantHeader()
    header.add_line("##source=genomflow.simulate")
    header.add_line(f"##genomflow_simulate_seed={seed}")
    for name, length in contig_lengths.items():
        header.contigs.add(name, length=length)
    return header


def write_truth_vcf(path: Path, truth: TruthSet, seed: int) -> None:
    """Write all sites carried by any sample, with a GT per sample, bgzipped and indexed."""
    header = _header(truth.contig_lengths, seed)
    header.add_line(
        '##INFO=<ID=POPAF,Number=A,Type=Float,Description="Population allele frequency '
        'of the simulated catalogue">'
    )
    header.add_line(
        '##INFO=<ID=ORIGIN,Number=1,Type=String,Description="Simulated origin: common, '
        'lowfreq, private or planted">'
    )
    header.add_line(
        '##INFO=<ID=PLANTED,Number=1,Type=String,Description="Planted coding variant '
        '(GENE:effect)">'
    )
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    names = [s.sample for s in truth.samples]
    for name in names:
        header.add_sample(name)
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for contig, variants in truth.variants.items():
            haps = truth.haplotypes[contig]
            carried = np.zeros(len(variants), dtype=bool)
            for name in names:
                carried |= haps[name].any(axis=0)
            for index in np.flatnonzero(carried):
                out.write(_truth_record(out, variants[index], haps, names, int(index)))
    pysam.tabix_index(str(path), preset="vcf", force=True)


def _truth_record(
    out: pysam.VariantFile,
    variant: Variant,
    haps: dict[str, np.ndarray],
    names: list[str],
    index: int,
) -> pysam.VariantRecord:
    record: pysam.VariantRecord = out.new_record(
        contig=variant.contig, start=variant.pos, alleles=(variant.ref, variant.alt)
    )
    record.info["POPAF"] = variant.af
    record.info["ORIGIN"] = variant.origin
    if variant.label:
        record.info["PLANTED"] = variant.label
    for name in names:
        alleles = [int(a) for a in haps[name][:, index]]
        record.samples[name]["GT"] = tuple(sorted(alleles)) if alleles else (None,)
    return record


def common_snp_sites(reference: Reference, truth: TruthSet, count: int) -> list[Variant]:
    """Up to ``count`` common catalogue SNVs on autosomes and X, evenly spread."""
    candidates = [
        v
        for contig, variants in truth.variants.items()
        if reference.kind(contig) in (AUTOSOME, CHR_X)
        for v in variants
        if v.origin == "common" and v.is_snv
    ]
    if len(candidates) <= count:
        return candidates
    picks = np.linspace(0, len(candidates) - 1, count).round().astype(int)
    return [candidates[i] for i in picks]


def write_common_snps_vcf(
    path: Path, contig_lengths: dict[str, int], sites: Sequence[Variant], seed: int
) -> None:
    """Write a sites-only VCF with INFO/AF, bgzipped and indexed."""
    header = _header(contig_lengths, seed)
    header.add_line('##INFO=<ID=AF,Number=A,Type=Float,Description="Population allele frequency">')
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for site in sites:
            record = out.new_record(
                contig=site.contig, start=site.pos, alleles=(site.ref, site.alt)
            )
            record.info["AF"] = site.af
            out.write(record)
    pysam.tabix_index(str(path), preset="vcf", force=True)
