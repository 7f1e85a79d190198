"""Whole-genome somatic test data: a tumour/normal pair and an in-silico mixture of two people.

Built on the trio test genome (same reference and population catalogue, whose files it does
not touch). :func:`generate_wgs_somatic` writes::

    truth/somatic.vcf.gz(.tbi)     somatic truth, one sample column per tumour (GT, FORMAT/VAF)
    truth/germline.vcf.gz(.tbi)    germline genotypes of every sample (a tumour has its patient's)
    cohort.tsv                     samples, units, depths and FASTQ paths (sheet columns)
    reads/<sample>_L001_R{1,2}.fastq.gz

Two truth sets at genome depth (default 30x tumours, 25x normals, 2x150 bp reads):

* **the pair** ``WGS001T``/``WGS001N``: somatic SNVs by VAF band (5-40%) and indels (some in
  homopolymers and tandem repeats) planted over the whole genome; every fragment of the
  tumour carries each somatic variant it overlaps with probability equal to its VAF, the
  normal with a small tumour-in-normal fraction of it;
* **the mixture** ``MIX001T``/``MIX001N``: the design bcbio uses for somatic truth from two
  reference individuals. Person A is the patient (``MIX001N`` is A); the "tumour" is A's DNA
  with a fraction ``mixture_fraction`` of person B's. Every allele B carries and A does not is
  "somatic" at VAF ``mixture_fraction x B's copies / 2``: a heterozygous B allele at 12%, a
  homozygous one at 24% with the default 0.24; alleles of both are germline.

Both patients are female (chrY is not sequenced). Fragments are drawn uniformly over the
genome (by copy number), from one haplotype each; mates overlap wherever a fragment is shorter
than two reads; 5% are PCR duplicates.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from genomflow.panels import Target
from genomflow.progress import progress
from genomflow.simulate.cancer import (
    FLANK,
    HOMOPOLYMER,
    STR,
    CancerSample,
    FastqTarget,
    GermlineVariant,
    Occupancy,
    Row,
    SomaticVariant,
    add_private_germline,
    catalogue_germline,
    cohort_row,
    fastq_paths,
    fragment_template,
    non_overlapping,
    place,
    random_indels,
    random_snvs,
    repeat_proposals,
    truth_header,
    write_cohort_rows,
    write_fragment_reads,
    write_germline_genotypes,
    write_records,
)
from genomflow.simulate.cohort import DEFAULT_SEED, build_dataset, make_testgenome_spec
from genomflow.simulate.common import N_CODE, Seq, rng_for
from genomflow.simulate.genome import Reference
from genomflow.simulate.reads import ReadModel
from genomflow.simulate.variants import FEMALE, Variant, ploidy_of

SOMATIC_TRUTH_VCF = "truth/somatic.vcf.gz"
GERMLINE_TRUTH_VCF = "truth/germline.vcf.gz"
COHORT_TSV = "cohort.tsv"
READS_DIR = "reads"
#: The people: the pair's patient, the mixture's patient (A) and the admixed person (B).
PAIR_PERSON, PERSON_A, PERSON_B = "PAT-W001", "PAT-W002", "PERSON-B"
PAIR_TUMOUR, PAIR_NORMAL = "WGS001T", "WGS001N"
MIX_TUMOUR, MIX_NORMAL = "MIX001T", "MIX001N"
#: Contexts of the mixture truth (INFO/CONTEXT).
MIXTURE_HET, MIXTURE_HOM = "mixture_het", "mixture_hom"
PLAIN = "plain"


@dataclass(frozen=True)
class WgsSomaticSpec:
    """Everything :func:`generate_wgs_somatic` needs besides the seed."""

    tumour_depth: float = 30.0
    normal_depth: float = 25.0
    purity: float = 0.8
    #: SNVs of the pair's tumour: (lowest VAF, highest VAF, count).
    snv_bands: tuple[tuple[float, float, int], ...] = (
        (0.05, 0.08, 80),
        (0.08, 0.15, 120),
        (0.15, 0.25, 80),
        (0.25, 0.40, 60),
    )
    indels: int = 40
    homopolymer_indels: int = 6
    str_indels: int = 4
    indel_vaf: tuple[float, float] = (0.05, 0.40)
    tumour_in_normal: float = 0.02
    #: Share of person B's DNA in the mixture "tumour".
    mixture_fraction: float = 0.24
    #: Private germline variants of each person (on top of the catalogue alleles they draw).
    private_snvs: int = 150
    private_indels: int = 20
    #: Share of person B's private variants made homozygous (the mixture's higher VAF band).
    mixture_hom_fraction: float = 0.4
    duplicate_fraction: float = 0.05
    read_model: ReadModel = field(default_factory=ReadModel)
    gzip_level: int = 1

    @property
    def samples(self) -> tuple[CancerSample, ...]:
        return (
            CancerSample(
                PAIR_TUMOUR,
                PAIR_PERSON,
                FEMALE,
                "tumour",
                self.tumour_depth,
                PAIR_NORMAL,
                self.purity,
            ),
            CancerSample(PAIR_NORMAL, PAIR_PERSON, FEMALE, "normal", self.normal_depth),
            CancerSample(
                MIX_TUMOUR,
                PERSON_A,
                FEMALE,
                "tumour",
                self.tumour_depth,
                MIX_NORMAL,
                self.mixture_fraction,
            ),
            CancerSample(MIX_NORMAL, PERSON_A, FEMALE, "normal", self.normal_depth),
        )


def scale_depth(spec: WgsSomaticSpec, factor: float) -> WgsSomaticSpec:
    """A copy of ``spec`` with both depths multiplied by ``factor``."""
    from dataclasses import replace

    return replace(
        spec, tumour_depth=spec.tumour_depth * factor, normal_depth=spec.normal_depth * factor
    )


#: A person's germline: contig -> variants with the haplotypes that carry them.
Germline = dict[str, list[GermlineVariant]]


@dataclass
class WgsSomaticData:
    """The generated data set (before reads)."""

    spec: WgsSomaticSpec
    seed: int
    reference: Reference
    germline: dict[str, Germline]
    somatic: list[SomaticVariant]
    mixture: list[SomaticVariant]
    pairs: dict[str, int] = field(default_factory=dict)


def genome_targets(reference: Reference, sex: str) -> list[Target]:
    """N-free stretches of every contig the sex has two copies of (where variants go)."""
    targets = []
    for contig, seq in reference.sequences.items():
        if ploidy_of(reference.kind(contig), sex) < 2:
            continue
        called = np.flatnonzero(seq != N_CODE)
        if called.size == 0:
            continue
        breaks = np.flatnonzero(np.diff(called) > 1)
        starts = np.concatenate([[called[0]], called[breaks + 1]])
        ends = np.concatenate([called[breaks] + 1, [called[-1] + 1]])
        for number, (start, end) in enumerate(zip(starts, ends, strict=True), start=1):
            targets.append(Target(contig, int(start), int(end), contig, f"part{number}"))
    return targets


def build_wgs_somatic(spec: WgsSomaticSpec, seed: int = DEFAULT_SEED) -> WgsSomaticData:
    """Germline of the three people, the pair's somatic variants and the mixture's truth."""
    base = build_dataset(make_testgenome_spec(), seed)
    reference = base.reference
    people = (PAIR_PERSON, PERSON_A, PERSON_B)
    germline = {
        person: catalogue_germline(base, FEMALE, rng_for(seed, "wgs-somatic", "germline", person))
        for person in people
    }
    catalogue = {
        (v.contig, v.pos, v.ref, v.alt)
        for variants in base.truth.variants.values()
        for v in variants
    }
    occupied = Occupancy(reference, genome_targets(reference, FEMALE), catalogue)
    for person in people:
        for carried in germline[person].values():
            for germ in carried:
                occupied.take_variant(germ.variant)
    for person in people:
        add_private_germline(
            germline[person],
            spec.private_snvs,
            spec.private_indels,
            occupied,
            rng_for(seed, "wgs-somatic", "private", person),
        )
    _make_homozygous(
        germline[PERSON_B], spec.mixture_hom_fraction, rng_for(seed, "wgs-somatic", "hom")
    )
    somatic = _plant_somatic(spec, reference, occupied, rng_for(seed, "wgs-somatic", "somatic"))
    mixture = mixture_truth(germline[PERSON_A], germline[PERSON_B], spec.mixture_fraction)
    return WgsSomaticData(spec, seed, reference, germline, somatic, mixture)


def _make_homozygous(germline: Germline, fraction: float, rng: np.random.Generator) -> None:
    """Make a share of a person's private heterozygous variants homozygous (in place)."""
    for carried in germline.values():
        for index, germ in enumerate(carried):
            if germ.variant.origin == "private" and rng.random() < fraction:
                carried[index] = GermlineVariant(germ.variant, (True, True))


def _plant_somatic(
    spec: WgsSomaticSpec, reference: Reference, occupied: Occupancy, rng: np.random.Generator
) -> list[SomaticVariant]:
    planted: list[SomaticVariant] = []

    def indel_vaf() -> float:
        return round(float(rng.uniform(*spec.indel_vaf)), 4)

    for kind, count in zip(
        (HOMOPOLYMER, STR), (spec.homopolymer_indels, spec.str_indels), strict=True
    ):
        features = reference.features_named(kind)
        for _ in range(count):
            variant = place(occupied, repeat_proposals(reference, features, kind, rng), kind)
            planted.append(SomaticVariant(PAIR_TUMOUR, variant, indel_vaf()))
    for low, high, count in spec.snv_bands:
        for _ in range(count):
            variant = place(occupied, random_snvs(occupied, rng, PLAIN), "a somatic SNV")
            planted.append(
                SomaticVariant(PAIR_TUMOUR, variant, round(float(rng.uniform(low, high)), 4))
            )
    for _ in range(spec.indels):
        variant = place(occupied, random_indels(occupied, rng, PLAIN), "a somatic indel")
        planted.append(SomaticVariant(PAIR_TUMOUR, variant, indel_vaf()))
    planted.sort(key=lambda s: (s.variant.contig, s.variant.pos))
    return planted


def _copies(germline: Germline) -> dict[tuple[str, int, str, str], int]:
    return {
        (v.variant.contig, v.variant.pos, v.variant.ref, v.variant.alt): sum(v.haplotypes)
        for carried in germline.values()
        for v in carried
    }


def mixture_truth(a: Germline, b: Germline, fraction: float) -> list[SomaticVariant]:
    """B's alleles that A does not carry, at VAF ``fraction x copies / 2``.

    >>> v = Variant("chr1", 10, "A", "G")
    >>> w = Variant("chr1", 20, "C", "T")
    >>> a = {"chr1": [GermlineVariant(w, (True, False))]}
    >>> b = {"chr1": [GermlineVariant(v, (True, True)), GermlineVariant(w, (False, True))]}
    >>> [(s.variant.pos, s.vaf, s.variant.label) for s in mixture_truth(a, b, 0.24)]
    [(10, 0.24, 'mixture_hom')]
    """
    in_a = _copies(a)
    truth = []
    for carried in b.values():
        for germ in carried:
            v = germ.variant
            if (v.contig, v.pos, v.ref, v.alt) in in_a:
                continue
            copies = sum(germ.haplotypes)
            label = MIXTURE_HOM if copies == 2 else MIXTURE_HET
            variant = Variant(v.contig, v.pos, v.ref, v.alt, "somatic", 0.0, label)
            truth.append(SomaticVariant(MIX_TUMOUR, variant, round(fraction * copies / 2, 4)))
    truth.sort(key=lambda s: (s.variant.contig, s.variant.pos))
    return truth


# --------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class Source:
    """DNA a sample's fragments come from: a person's germline, with a share of fragments."""

    germline: Germline
    share: float


@dataclass(frozen=True)
class _Alleles:
    """Per contig, what fragments of one source may carry: sorted positions and alleles."""

    positions: dict[str, list[int]]
    alleles: dict[str, list[tuple[Variant, float, int | None]]]


def _source_alleles(
    reference: Reference, source: Source, somatic: Sequence[tuple[Variant, float]]
) -> _Alleles:
    """Germline alleles (haplotype given) and somatic ones (with a probability) by contig."""
    alleles: dict[str, list[tuple[Variant, float, int | None]]] = {
        c: [] for c in reference.sequences
    }
    for contig, carried in source.germline.items():
        for germ in carried:
            for hap, on in enumerate(germ.haplotypes):
                if on:
                    alleles[contig].append((germ.variant, 1.0, hap))
    for variant, probability in somatic:
        alleles[variant.contig].append((variant, probability, None))
    for items in alleles.values():
        items.sort(key=lambda item: item[0].pos)
    positions = {c: [item[0].pos for item in items] for c, items in alleles.items()}
    return _Alleles(positions, alleles)


def _fragment_count(reference: Reference, depth: float, model: ReadModel) -> int:
    """Pairs for ``depth`` (diploid depth: each copy at half of it) over the female genome."""
    copies = sum(
        seq.size * ploidy_of(reference.kind(c), FEMALE) for c, seq in reference.sequences.items()
    )
    return round(depth / 2 * copies / (2 * model.read_length))


def simulate_wgs_reads(
    reference: Reference,
    sources: Sequence[Source],
    somatic: Sequence[tuple[Variant, float]],
    depth: float,
    spec: WgsSomaticSpec,
    rng: np.random.Generator,
    r1_path: Path,
    r2_path: Path,
    prefix: str,
) -> int:
    """Write one sample's FASTQ pair; return the number of pairs (duplicates included)."""
    model = spec.read_model
    names = [c for c in reference.sequences if ploidy_of(reference.kind(c), FEMALE) > 0]
    sizes = np.array(
        [reference.sequences[c].size * ploidy_of(reference.kind(c), FEMALE) for c in names],
        dtype=float,
    )
    tables = [_source_alleles(reference, source, somatic) for source in sources]
    shares = np.array([s.share for s in sources], dtype=float)
    count = _fragment_count(reference, depth, model)
    templates: list[Seq] = []
    while len(templates) < count:
        contig = names[int(rng.choice(len(names), p=sizes / sizes.sum()))]
        seq = reference.sequences[contig]
        length = int(
            np.clip(
                round(rng.normal(model.insert_mean, model.insert_sd)),
                model.insert_min,
                model.insert_max,
            )
        )
        start = int(rng.integers(0, seq.size - length))
        if (seq[start : start + length] == N_CODE).any():
            continue
        table = tables[int(rng.choice(len(tables), p=shares / shares.sum()))]
        hap = int(rng.integers(ploidy_of(reference.kind(contig), FEMALE)))
        lo = bisect.bisect_left(table.positions[contig], start - FLANK)
        hi = bisect.bisect_right(table.positions[contig], start + length + FLANK)
        carried = [
            variant
            for variant, probability, on in table.alleles[contig][lo:hi]
            if (on == hap if on is not None else rng.random() < probability)
        ]
        templates.append(fragment_template(seq, start, length, non_overlapping(carried)))
    return write_fragment_reads(
        templates,
        model,
        spec.duplicate_fraction,
        rng,
        FastqTarget(r1_path, r2_path, prefix, spec.gzip_level),
    )


def _sample_plan(
    data: WgsSomaticData, sample: CancerSample
) -> tuple[list[Source], list[tuple[Variant, float]]]:
    """Where a sample's fragments come from and the somatic alleles they may carry."""
    spec = data.spec
    if sample.sample == MIX_TUMOUR:
        w = spec.mixture_fraction
        return [Source(data.germline[PERSON_A], 1 - w), Source(data.germline[PERSON_B], w)], []
    if sample.sample == MIX_NORMAL:
        return [Source(data.germline[PERSON_A], 1.0)], []
    factor = 1.0 if sample.sample == PAIR_TUMOUR else spec.tumour_in_normal
    somatic = [(s.variant, s.vaf * factor) for s in data.somatic if factor > 0]
    return [Source(data.germline[PAIR_PERSON], 1.0)], somatic


# --------------------------------------------------------------------------------------------
# Output


def generate_wgs_somatic(
    spec: WgsSomaticSpec, out_dir: Path, seed: int = DEFAULT_SEED
) -> WgsSomaticData:
    """Build the data set and write every file into ``out_dir``."""
    data = build_wgs_somatic(spec, seed)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / READS_DIR).mkdir(parents=True, exist_ok=True)
    write_somatic_truth(out_dir / SOMATIC_TRUTH_VCF, data)
    write_germline_truth(out_dir / GERMLINE_TRUTH_VCF, data)
    for sample in progress(spec.samples, "simulating samples", unit="sample"):
        sources, somatic = _sample_plan(data, sample)
        r1, r2 = fastq_paths(sample)
        data.pairs[sample.sample] = simulate_wgs_reads(
            data.reference,
            sources,
            somatic,
            sample.depth,
            spec,
            rng_for(seed, "wgs-somatic", "reads", sample.sample),
            out_dir / r1,
            out_dir / r2,
            f"{sample.sample}.{sample.unit}",
        )
    write_cohort(out_dir / COHORT_TSV, data)
    return data


def _header(data: WgsSomaticData) -> pysam.VariantHeader:
    return truth_header("genomflow.simulate.wgs_somatic", data.seed, data.reference.lengths)


def _order(data: WgsSomaticData) -> dict[str, int]:
    return {name: i for i, name in enumerate(data.reference.sequences)}


def write_somatic_truth(path: Path, data: WgsSomaticData) -> None:
    """GT 0/1 and the planted VAF per tumour, INFO/CONTEXT."""
    header = _header(data)
    header.add_line(
        '##INFO=<ID=CONTEXT,Number=1,Type=String,Description="plain, homopolymer, str, or, in '
        'the mixture, mixture_het / mixture_hom (the admixed person carries 1 or 2 copies)">'
    )
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_line(
        '##FORMAT=<ID=VAF,Number=1,Type=Float,Description="Planted variant allele fraction">'
    )
    tumours = [PAIR_TUMOUR, MIX_TUMOUR]
    for tumour in tumours:
        header.add_sample(tumour)
    rows: list[Row] = []
    for planted in (*data.somatic, *data.mixture):
        formats: dict[str, dict[str, object]] = {
            t: {"GT": (0, 1) if t == planted.tumour else (0, 0)} for t in tumours
        }
        formats[planted.tumour]["VAF"] = planted.vaf
        rows.append((planted.variant, {"CONTEXT": planted.variant.label}, formats))
    write_records(path, header, _unique(rows), _order(data))


def _unique(rows: list[Row]) -> list[Row]:
    """One row per allele (a pair's somatic allele never repeats a mixture allele, but the
    catalogue can give the same allele twice only through different people)."""
    seen: set[tuple[str, int, str, str]] = set()
    kept = []
    for row in rows:
        v = row[0]
        key = (v.contig, v.pos, v.ref, v.alt)
        if key not in seen:
            seen.add(key)
            kept.append(row)
    return kept


def write_germline_truth(path: Path, data: WgsSomaticData) -> None:
    """Germline genotypes of every sample (a tumour has its patient's; the mixture's is A's)."""
    samples = [(s.sample, FEMALE, data.germline[s.patient]) for s in data.spec.samples]
    write_germline_genotypes(path, _header(data), samples, data.reference, _order(data))


def write_cohort(path: Path, data: WgsSomaticData) -> None:
    """``cohort.tsv``: one row per sample (sheet columns, FASTQ paths relative to the data)."""
    rows = [cohort_row(s, "wgs", "", data.pairs.get(s.sample, 0)) for s in data.spec.samples]
    write_cohort_rows(path, rows)
