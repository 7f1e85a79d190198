"""Cancer test data: a capture panel over the test genome, tumour/normal samples, somatic truth.

Built on top of the trio test genome (same seed, same reference, same population catalogue),
without touching its files. :func:`generate_cancer` writes::

    <panels>/<panel>.bed              the panel: exon targets (+/- padding) and intronic hotspots
    truth/somatic.vcf.gz(.tbi)        planted somatic variants, one sample column per tumour
    truth/germline.vcf.gz(.tbi)       germline genotypes of the cancer patients' samples
    truth/artefacts.vcf.gz(.tbi)      systematic artefact sites (in every sample's reads)
    population.vcf.gz(.tbi)           the population catalogue with INFO/AF (a gnomAD-like extract)
    clinvar.vcf.gz(.tbi)              a ClinVar-style VCF (CLNSIG, CLNREVSTAT, CLNDN, GENEINFO)
    cohort.tsv                        samples, units, depths and FASTQ paths
    reads/<sample>_<unit>_R{1,2}.fastq.gz

The read model is hybrid capture: fragments overlap a target (each target has its probe's
capture efficiency, shared by the panel's samples with a little per-sample noise; one is
deliberately poor), a fraction of fragments are off target (uniform over the
genome) and some are PCR duplicates. Every fragment comes from one germline haplotype of its
patient and carries each somatic variant it overlaps with probability equal to the variant's
VAF (a tumour) or its VAF times the tumour-in-normal contamination (the matched normal), and
each artefact with the artefact's rate (every sample: a systematic, assay-level error).
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
import gzip
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pysam

from genomflow.errors import GenomflowError
from genomflow.panels import Target
from genomflow.progress import progress
from genomflow.simulate.cohort import DEFAULT_SEED, Dataset, build_dataset, make_testgenome_spec
from genomflow.simulate.common import (
    N_CODE,
    Feature,
    Seq,
    random_bases,
    rng_for,
    to_seq,
    to_str,
)
from genomflow.simulate.genes import GeneModel, find_coding_snv
from genomflow.simulate.genome import AUTOSOME, Reference
from genomflow.simulate.reads import (
    CHUNK_PAIRS,
    Fragments,
    ReadModel,
    build_pairs,
    fastq_records,
    open_fastq,
)
from genomflow.simulate.variants import FEMALE, MALE, Variant, normalize_indel, ploidy_of

#: File names inside the cancer data set directory.
SOMATIC_TRUTH_VCF = "truth/somatic.vcf.gz"
GERMLINE_TRUTH_VCF = "truth/germline.vcf.gz"
ARTEFACTS_VCF = "truth/artefacts.vcf.gz"
POPULATION_VCF = "population.vcf.gz"
CLINVAR_VCF = "clinvar.vcf.gz"
COPY_NUMBER_TSV = "truth/copy_number.tsv"
#: Columns of :data:`COPY_NUMBER_TSV` (0-based half-open region, tumour-cell copies).
COPY_NUMBER_COLUMNS = (
    "tumour",
    "gene",
    "contig",
    "start",
    "end",
    "copies",
    "purity",
    "depth_ratio",
)
COHORT_TSV = "cohort.tsv"
READS_DIR = "reads"
COHORT_COLUMNS = (
    "sample",
    "patient",
    "sex",
    "type",
    "assay",
    "panel",
    "matched_normal",
    "purity",
    "unit",
    "depth",
    "pairs",
    "fastq_1",
    "fastq_2",
)

#: Somatic context labels (INFO/CONTEXT of the somatic truth).
CODING_EFFECTS = (
    "missense",
    "synonymous",
    "stop_gained",
    "frameshift",
    "splice_donor",
    "splice_acceptor",
)
HOMOPOLYMER, STR, NEAR_INDEL, PLAIN = "homopolymer", "str", "near_indel", "plain"
#: A one-unit deletion planted in a microsatellite of an MSI-high tumour.
MICROSATELLITE = "microsatellite"

#: Variants keep this many bases between their spans (except near-indel SNVs, on purpose).
SPACING = 12
#: Somatic variants and artefacts stay this far inside a target.
TARGET_MARGIN = 5
#: Fragments overlap their target by at least this many bases.
MIN_TARGET_OVERLAP = 20
#: Bases of sequence beyond a fragment used when applying variants to it.
FLANK = 60


@dataclass(frozen=True)
class CancerSample:
    """A sequenced sample of a cancer patient (all panel, one unit)."""

    sample: str
    patient: str
    sex: str
    type: str
    depth: float
    matched_normal: str | None = None
    purity: float | None = None
    unit: str = "L001"


@dataclass(frozen=True)
class SomaticPlan:
    """What to plant in one tumour: SNVs per VAF band, indels and hard cases."""

    snv_bands: tuple[tuple[float, float, int], ...]
    indels: int
    indel_vaf: tuple[float, float]
    coding: tuple[tuple[str, str], ...] = ()
    homopolymer_indels: int = 0
    str_indels: int = 0
    near_indel_snvs: int = 0
    hard_vaf: tuple[float, float] = (0.1, 0.35)
    #: Planted after everything else, in an occupancy of its own (the patient's germline
    #: variants and the artefacts spaced, the other tumours' variants only not overlapped):
    #: the earlier tumours' truth and every earlier sample's reads stay byte-identical.
    late: bool = False
    #: Share of the panel's microsatellites (MSIsensor scan defaults) given a one-unit
    #: deletion, for an MSI-high tumour, at VAFs in ``microsatellite_vaf``.
    microsatellite_share: float = 0.0
    microsatellite_vaf: tuple[float, float] = (0.25, 0.45)


@dataclass(frozen=True)
class CopyNumberEvent:
    """A somatic copy-number change of one tumour over a panel gene (± ``flank`` bases).

    ``copies`` is the total copy number in the tumour cells (normal cells keep 2); the read
    depth over the region is scaled by ``(purity x copies + (1 - purity) x 2) / 2``.
    """

    tumour: str
    gene: str
    copies: int
    flank: int = 1000


@dataclass(frozen=True)
class CancerSpec:
    """Everything :func:`generate_cancer` needs besides the seed."""

    panel_name: str
    panel_genes: tuple[str, ...]
    samples: tuple[CancerSample, ...]
    somatic: dict[str, SomaticPlan]
    exon_padding: int = 10
    intronic_homopolymers: int = 3
    intronic_strs: int = 1
    intron_flank: int = 30
    #: Target with a deliberately poor capture efficiency, and that efficiency.
    low_target: str = "GFE5:exon2"
    low_target_weight: float = 0.08
    #: Log-normal spread of the other targets' capture efficiencies: a property of the probe,
    #: drawn once per panel and shared by every sample of it.
    capture_sd: float = 0.2
    #: Log-normal spread of a sample's own deviation from each probe's efficiency (library and
    #: hybridisation noise), drawn per sample and target.
    capture_noise_sd: float = 0.05
    off_target_fraction: float = 0.1
    duplicate_fraction: float = 0.05
    #: Fraction of tumour DNA in the matched normal (normal VAF = this x tumour VAF).
    tumour_in_normal: float = 0.05
    artefacts: int = 5
    artefact_rate: tuple[float, float] = (0.04, 0.08)
    #: Somatic copy-number changes (a tumour's somatic variants in a region it lost are not
    #: planted: no tumour cell carries the region).
    copy_number: tuple[CopyNumberEvent, ...] = ()
    #: Private germline SNVs and indels per patient, inside the targets.
    private_snvs: int = 3
    private_indels: int = 2
    read_model: ReadModel = field(
        default_factory=lambda: ReadModel(
            read_length=100, insert_mean=200.0, insert_sd=40.0, insert_min=100, insert_max=400
        )
    )
    gzip_level: int = 9

    @property
    def patients(self) -> dict[str, str]:
        """Patient -> sex, in sheet order."""
        return {s.patient: s.sex for s in self.samples}

    @property
    def tumours(self) -> tuple[CancerSample, ...]:
        return tuple(s for s in self.samples if s.type == "tumour")


def make_cancer_spec() -> CancerSpec:
    """The demo cancer data: a paired tumour/normal, a tumour-only sample, one more normal."""
    samples = (
        CancerSample("CA001T", "PAT-0101", FEMALE, "tumour", 500, "CA001N", 0.8),
        CancerSample("CA001N", "PAT-0101", FEMALE, "normal", 200),
        CancerSample("CA002T", "PAT-0102", MALE, "tumour", 400, None, 0.6),
        CancerSample("CA003N", "PAT-0103", FEMALE, "normal", 150),
        # Tumour biomarkers (issue 17): an MSI-high and a hypermutated tumour-only sample.
        CancerSample("CA004T", "PAT-0103", FEMALE, "tumour", 400, None, 0.7),
        CancerSample("CA005T", "PAT-0102", MALE, "tumour", 400, None, 0.7),
    )
    somatic = {
        "CA001T": SomaticPlan(
            snv_bands=((0.02, 0.05, 10), (0.05, 0.10, 14), (0.10, 0.20, 12), (0.20, 0.40, 10)),
            indels=6,
            indel_vaf=(0.05, 0.40),
            coding=(
                ("GFB2", "missense"),
                ("GFA1", "stop_gained"),
                ("GFE5", "frameshift"),
                ("GFC3", "synonymous"),
                ("GFB2", "splice_donor"),
                ("GFD4", "splice_acceptor"),
            ),
            homopolymer_indels=2,
            str_indels=1,
            near_indel_snvs=2,
        ),
        "CA002T": SomaticPlan(
            snv_bands=((0.02, 0.05, 5), (0.05, 0.10, 8), (0.10, 0.20, 8), (0.20, 0.30, 7)),
            indels=4,
            indel_vaf=(0.05, 0.30),
            homopolymer_indels=1,
            hard_vaf=(0.1, 0.3),
        ),
        # MSI-high: one-unit deletions at half of the panel's microsatellites, few SNVs.
        "CA004T": SomaticPlan(
            snv_bands=((0.10, 0.30, 8),),
            indels=0,
            indel_vaf=(0.1, 0.3),
            late=True,
            microsatellite_share=0.5,
        ),
        # Hypermutated: 100 SNVs and 8 indels at 10-40% (about 4x CA001T's burden).
        "CA005T": SomaticPlan(
            snv_bands=((0.10, 0.40, 100),),
            indels=8,
            indel_vaf=(0.1, 0.4),
            late=True,
        ),
    }
    return CancerSpec(
        panel_name="gf-onco-v1",
        panel_genes=("GFC3", "GFB2", "GFA1", "GFE5", "GFD4"),
        samples=samples,
        somatic=somatic,
        # In the tumour-only CA002T (purity 0.6): GFB2 amplified to 8 copies, GFD4 lost on
        # both copies. CA001T and the normals keep two copies of every gene.
        copy_number=(
            CopyNumberEvent("CA002T", "GFB2", 8, flank=3000),
            CopyNumberEvent("CA002T", "GFD4", 0, flank=1000),
        ),
    )


def scale_depth(spec: CancerSpec, factor: float) -> CancerSpec:
    """A copy of ``spec`` with every sample's depth multiplied by ``factor`` (quick tests)."""
    samples = tuple(dataclasses.replace(s, depth=s.depth * factor) for s in spec.samples)
    return dataclasses.replace(spec, samples=samples)


# --------------------------------------------------------------------------------------------
# In-memory data set


@dataclass(frozen=True)
class SomaticVariant:
    """A planted somatic variant of one tumour; ``variant.label`` is its context."""

    tumour: str
    variant: Variant
    vaf: float


@dataclass(frozen=True)
class GermlineVariant:
    """A germline variant of a patient and which of the patient's haplotypes carry it."""

    variant: Variant
    haplotypes: tuple[bool, ...]


@dataclass
class CancerData:
    """The generated cancer data set (before reads)."""

    spec: CancerSpec
    seed: int
    base: Dataset
    targets: list[Target]
    germline: dict[str, dict[str, list[GermlineVariant]]]  # patient -> contig -> variants
    somatic: list[SomaticVariant]
    artefacts: list[tuple[Variant, float]]
    pairs: dict[str, int] = field(default_factory=dict)
    #: Somatic variants drawn in a region their tumour lost (homozygous deletion): not in the
    #: truth, never carried by a read (kept so that every random draw stays where it was).
    lost: list[SomaticVariant] = field(default_factory=list)

    @property
    def reference(self) -> Reference:
        return self.base.reference


def build_cancer(spec: CancerSpec, seed: int = DEFAULT_SEED) -> CancerData:
    """Build panel, germline, somatic and artefact truth in memory (no reads).

    Order: each patient's catalogue alleles, the panel (its repeat hotspots clear of those
    alleles), each patient's private germline variants, the somatic variants, the artefacts.
    Planted variants keep :data:`SPACING` from every germline variant of the cancer patients
    and never repeat a catalogue allele (so the population VCF cannot filter them).
    """
    base = build_dataset(make_testgenome_spec(), seed)
    reference = base.reference
    germline = {
        patient: catalogue_germline(base, sex, rng_for(seed, "cancer", "germline", patient))
        for patient, sex in spec.patients.items()
    }
    carried = [
        g.variant for by_contig in germline.values() for gs in by_contig.values() for g in gs
    ]
    targets = design_panel(reference, spec, rng_for(seed, "cancer", "panel"), carried)
    catalogue = {
        (v.contig, v.pos, v.ref, v.alt)
        for variants in base.truth.variants.values()
        for v in variants
    }
    # Nothing is planted in the deliberately under-covered target: it tests the gap report.
    placeable = [t for t in targets if t.name != spec.low_target]
    occupied = Occupancy(reference, placeable, catalogue)
    for variant in carried:
        occupied.take_variant(variant)
    for patient in spec.patients:
        add_private_germline(
            germline[patient],
            spec.private_snvs,
            spec.private_indels,
            occupied,
            rng_for(seed, "cancer", "private", patient),
        )
    somatic: list[SomaticVariant] = []
    planned = [(t, spec.somatic[t.sample]) for t in spec.tumours if t.sample in spec.somatic]
    late = [(t, plan) for t, plan in planned if plan.late]
    planned = [(t, plan) for t, plan in planned if not plan.late]
    for tumour, plan in planned:  # hard cases first, while repeats are still free
        rng = rng_for(seed, "cancer", "somatic", tumour.sample, "hard")
        somatic += _plant_hard(
            reference, tumour.sample, plan, germline[tumour.patient], occupied, rng
        )
    for tumour, plan in planned:
        rng = rng_for(seed, "cancer", "somatic", tumour.sample, "plain")
        somatic += _plant_plain(tumour.sample, plan, occupied, rng)
    somatic.sort(key=lambda v: (v.variant.contig, v.variant.pos))
    artefacts = _plant_artefacts(spec, occupied, rng_for(seed, "cancer", "artefacts"))
    for tumour, plan in late:
        own = _late_occupancy(
            reference, placeable, catalogue, somatic, germline[tumour.patient], artefacts
        )
        rng = rng_for(seed, "cancer", "somatic", tumour.sample, "microsatellites")
        somatic += _plant_microsatellites(reference, tumour.sample, plan, own, rng)
        rng = rng_for(seed, "cancer", "somatic", tumour.sample, "plain")
        somatic += _plant_plain(tumour.sample, plan, own, rng)
    somatic.sort(key=lambda v: (v.variant.contig, v.variant.pos))
    data = CancerData(spec, seed, base, targets, germline, somatic, artefacts)
    deleted = [e for e in spec.copy_number if e.copies == 0]
    data.lost = [
        s
        for s in somatic
        if any(
            e.tumour == s.tumour and _in_region(s.variant, event_region(data, e)) for e in deleted
        )
    ]
    data.somatic = [s for s in somatic if s not in data.lost]
    return data


@dataclass(frozen=True)
class Region:
    """A 0-based half-open interval of one contig."""

    contig: str
    start: int
    end: int

    def overlaps(self, contig: str, start: int, end: int) -> bool:
        return contig == self.contig and start < self.end and self.start < end


def event_region(data: CancerData, event: CopyNumberEvent) -> Region:
    """The region a copy-number event covers: its gene ± the event's flank."""
    genes = {g.symbol: g for g in data.reference.genes}
    if event.gene not in genes:
        raise GenomflowError(f"copy-number event on unknown gene {event.gene!r}")
    gene = genes[event.gene]
    length = data.reference.lengths[gene.contig]
    return Region(
        gene.contig, max(0, gene.start - event.flank), min(length, gene.end + event.flank)
    )


def _in_region(variant: Variant, region: Region) -> bool:
    return region.overlaps(variant.contig, variant.pos, variant.end)


def depth_ratio(copies: int, purity: float, normal_copies: int = 2) -> float:
    """Read depth over a region with ``copies`` in the tumour cells, relative to two copies.

    >>> depth_ratio(8, 0.6)
    2.8
    >>> round(depth_ratio(0, 0.6), 3)
    0.4
    """
    return (purity * copies + (1 - purity) * normal_copies) / normal_copies


def copy_number_events(data: CancerData, sample: CancerSample) -> list[CopyNumberEvent]:
    """The copy-number events of ``sample`` (a tumour with a purity), in spec order."""
    events = [e for e in data.spec.copy_number if e.tumour == sample.sample]
    if events and sample.purity is None:
        raise GenomflowError(f"copy-number events planted in {sample.sample}, which has no purity")
    return events


def _late_occupancy(
    reference: Reference,
    targets: Sequence[Target],
    catalogue: set[tuple[str, int, str, str]],
    somatic: Sequence[SomaticVariant],
    germline: dict[str, list[GermlineVariant]],
    artefacts: Sequence[tuple[Variant, float]],
) -> Occupancy:
    """Where a late tumour's variants may go: spaced from its patient's germline variants
    and the artefacts (both in its reads), never on another tumour's variant."""
    forbidden = catalogue | {
        (v.variant.contig, v.variant.pos, v.variant.ref, v.variant.alt) for v in somatic
    }
    own = Occupancy(reference, targets, forbidden)
    for variants in germline.values():
        for g in variants:
            own.take_variant(g.variant)
    for artefact, _ in artefacts:
        own.take_variant(artefact)
    for other in somatic:
        lo, hi = own.span(other.variant)
        own.taken[other.variant.contig][lo:hi] = True
    return own


def _plant_microsatellites(
    reference: Reference,
    tumour: str,
    plan: SomaticPlan,
    occupied: Occupancy,
    rng: np.random.Generator,
) -> list[SomaticVariant]:
    """One-unit deletions at a share of the microsatellites inside the targets (as the MSI
    scan of the pipeline finds them), left-normalised; sites that do not fit are skipped."""
    from genomflow.biomarkers.msi import MsiSettings, find_repeats

    if plan.microsatellite_share <= 0:
        return []
    settings = MsiSettings()
    sites: list[tuple[str, int, int, str]] = []
    for target in occupied.targets:
        text = to_str(reference.sequences[target.contig][target.start : target.end]).upper()
        for start, end, unit in find_repeats(text, settings):
            if start >= settings.flank and end + settings.flank <= len(text):
                sites.append((target.contig, target.start + start, target.start + end, unit))
    chosen = sorted(
        int(i) for i in rng.permutation(len(sites))[: round(len(sites) * plan.microsatellite_share)]
    )
    planted: list[SomaticVariant] = []
    for index in chosen:
        contig, start, _, unit = sites[index]
        seq = reference.sequences[contig]
        ref = to_str(seq[start - 1 : start + len(unit)])
        npos, nref, nalt, lo, hi = normalize_indel(seq, start - 1, ref, ref[0])
        variant = Variant(contig, npos, nref, nalt, "somatic", 0.0, MICROSATELLITE)
        if (contig, npos, nref, nalt) in occupied.forbidden or not occupied.fits(contig, lo, hi):
            continue
        occupied.take(contig, lo, hi)
        vaf = round(float(rng.uniform(*plan.microsatellite_vaf)), 4)
        planted.append(SomaticVariant(tumour, variant, vaf))
    return planted


# --------------------------------------------------------------------------------------------
# Panel design


def exon_number(gene: GeneModel, exon: tuple[int, int]) -> int:
    """1-based number of ``exon`` in transcript order."""
    return gene.exons_in_transcript_order().index(exon) + 1


def intron_number(gene: GeneModel, intron: tuple[int, int]) -> int:
    """1-based number of ``intron`` in transcript order."""
    introns = gene.introns() if gene.strand == "+" else list(reversed(gene.introns()))
    return introns.index(intron) + 1


def design_panel(
    reference: Reference,
    spec: CancerSpec,
    rng: np.random.Generator,
    avoid: Sequence[Variant] = (),
) -> list[Target]:
    """Exon targets (exon +/- padding) of the panel genes plus intronic repeat hotspots.

    Hotspots are homopolymers and STRs inside introns with no ``avoid`` variant nearby, so
    that somatic indels can be planted in them.
    """
    genes = {g.symbol: g for g in reference.genes}
    targets: list[Target] = []
    hotspots: dict[str, list[tuple[Target, str]]] = {"homopolymer": [], "str": []}
    for symbol in spec.panel_genes:
        if symbol not in genes:
            raise GenomflowError(f"panel gene {symbol!r} is not a gene of the test genome")
        gene = genes[symbol]
        for exon in gene.exons:
            targets.append(
                Target(
                    gene.contig,
                    exon[0] - spec.exon_padding,
                    exon[1] + spec.exon_padding,
                    symbol,
                    f"exon{exon_number(gene, exon)}",
                )
            )
        for feature in reference.features_named("homopolymer", "str"):
            for intron in gene.introns():
                inside = intron[0] + 60 <= feature.start and feature.end <= intron[1] - 60
                clear = not any(
                    v.contig == feature.contig
                    and v.pos < feature.end + spec.intron_flank
                    and v.end > feature.start - spec.intron_flank
                    for v in avoid
                )
                if feature.contig == gene.contig and inside and clear:
                    target = Target(
                        gene.contig,
                        feature.start - spec.intron_flank,
                        feature.end + spec.intron_flank,
                        symbol,
                        f"intron{intron_number(gene, intron)}",
                    )
                    hotspots[feature.name].append((target, feature.name))
    for kind, count in (("homopolymer", spec.intronic_homopolymers), ("str", spec.intronic_strs)):
        pool = hotspots[kind]
        if len(pool) < count:
            raise GenomflowError(f"only {len(pool)} intronic {kind} hotspots in the panel genes")
        chosen: list[Target] = []
        for index in rng.permutation(len(pool)):
            candidate = pool[int(index)][0]
            if all(t.name != candidate.name for t in targets + chosen):
                chosen.append(candidate)
            if len(chosen) == count:
                break
        targets += chosen
    order = {name: i for i, name in enumerate(reference.sequences)}
    targets.sort(key=lambda t: (order[t.contig], t.start))
    for left, right in itertools.pairwise(targets):
        if left.contig == right.contig and right.start < left.end:
            raise GenomflowError(f"panel targets {left.name} and {right.name} overlap")
    return targets


def panel_bed_lines(targets: Iterable[Target]) -> list[str]:
    """BED4 lines (no newline): contig, start, end, ``GENE:exonN``."""
    return [f"{t.contig}\t{t.start}\t{t.end}\t{t.name}" for t in targets]


# --------------------------------------------------------------------------------------------
# Placement


class Occupancy:
    """Which bases are inside targets (minus a margin) and which are taken by variants."""

    def __init__(
        self,
        reference: Reference,
        targets: Sequence[Target],
        forbidden: set[tuple[str, int, str, str]] | None = None,
    ) -> None:
        self.reference = reference
        self.forbidden = forbidden or set()
        self.inside = {c: np.zeros(s.size, dtype=bool) for c, s in reference.sequences.items()}
        for target in targets:
            self.inside[target.contig][
                target.start + TARGET_MARGIN : target.end - TARGET_MARGIN
            ] = True
        self.taken = {c: np.zeros(s.size, dtype=bool) for c, s in reference.sequences.items()}
        self.targets = list(targets)

    def span(self, variant: Variant) -> tuple[int, int]:
        if variant.is_snv:
            return variant.pos, variant.end
        seq = self.reference.sequences[variant.contig]
        _, _, _, lo, hi = normalize_indel(seq, variant.pos, variant.ref, variant.alt)
        return lo, hi

    def fits(self, contig: str, lo: int, hi: int, near: Variant | None = None) -> bool:
        """Whether ``[lo, hi)`` is inside a target and free (``near``'s spacing not counted)."""
        inside = self.inside[contig]
        if lo < 0 or hi > inside.size:
            return False
        taken = self.taken[contig][lo:hi].copy()
        if near is not None:
            near_lo, near_hi = self.span(near)
            positions = np.arange(lo, hi)
            in_spacing = (positions >= near_lo - SPACING) & (positions < near_hi + SPACING)
            outside_span = (positions < near_lo) | (positions >= near_hi)
            taken[in_spacing & outside_span] = False
        return bool(inside[lo:hi].all() and not taken.any())

    def take(self, contig: str, lo: int, hi: int) -> None:
        self.taken[contig][max(0, lo - SPACING) : hi + SPACING] = True

    def take_variant(self, variant: Variant) -> None:
        self.take(variant.contig, *self.span(variant))

    def random_position(
        self, rng: np.random.Generator, targets: Sequence[Target] | None = None
    ) -> tuple[str, int]:
        targets = self.targets if targets is None else targets
        weights = np.array([t.length for t in targets], dtype=float)
        target = targets[int(rng.choice(len(targets), p=weights / weights.sum()))]
        return target.contig, int(rng.integers(target.start, target.end))


def _snv_at(
    seq: Seq, contig: str, pos: int, rng: np.random.Generator, label: str
) -> Variant | None:
    ref = chr(int(seq[pos]))
    if ref not in "ACGT":
        return None
    alt = "ACGT".replace(ref, "")[int(rng.integers(3))]
    return Variant(contig, pos, ref, alt, "somatic", 0.0, label)


def _random_indel(
    seq: Seq, contig: str, pos: int, rng: np.random.Generator, label: str, max_length: int = 6
) -> tuple[Variant, int, int]:
    lengths = np.arange(1, max_length + 1)
    weights = lengths**-1.5
    length = int(rng.choice(lengths, p=weights / weights.sum()))
    anchor = to_str(seq[pos : pos + 1])
    if rng.random() < 0.55:
        ref, alt = to_str(seq[pos : pos + 1 + length]), anchor
    else:
        ref, alt = anchor, anchor + to_str(random_bases(rng, length))
    npos, nref, nalt, lo, hi = normalize_indel(seq, pos, ref, alt)
    return Variant(contig, npos, nref, nalt, "somatic", 0.0, label), lo, hi


def place(
    occupied: Occupancy,
    propose: Iterable[tuple[Variant, int, int] | None],
    what: str,
    near: Variant | None = None,
) -> Variant:
    for proposal in itertools.islice(propose, 500):
        if proposal is None:
            continue
        variant, lo, hi = proposal
        key = (variant.contig, variant.pos, variant.ref, variant.alt)
        if key in occupied.forbidden or variant.ref == variant.alt:
            continue
        if occupied.fits(variant.contig, lo, hi, near):
            occupied.take(variant.contig, lo, hi)
            return variant
    raise GenomflowError(f"cannot place {what} inside the panel targets")


def random_snvs(
    occupied: Occupancy,
    rng: np.random.Generator,
    label: str,
    targets: Sequence[Target] | None = None,
) -> Iterable[tuple[Variant, int, int] | None]:
    while True:
        contig, pos = occupied.random_position(rng, targets)
        snv = _snv_at(occupied.reference.sequences[contig], contig, pos, rng, label)
        yield None if snv is None else (snv, pos, pos + 1)


def random_indels(
    occupied: Occupancy,
    rng: np.random.Generator,
    label: str,
    targets: Sequence[Target] | None = None,
) -> Iterable[tuple[Variant, int, int]]:
    while True:
        contig, pos = occupied.random_position(rng, targets)
        yield _random_indel(occupied.reference.sequences[contig], contig, pos, rng, label)


# --------------------------------------------------------------------------------------------
# Germline of the cancer patients


def catalogue_germline(
    base: Dataset, sex: str, rng: np.random.Generator
) -> dict[str, list[GermlineVariant]]:
    """A founder's draw from the population catalogue: each allele with its AF per copy."""
    reference = base.reference
    result: dict[str, list[GermlineVariant]] = {}
    for contig, variants in base.truth.variants.items():
        copies = ploidy_of(reference.kind(contig), sex)
        carried = []
        for variant in variants:
            if variant.origin not in ("common", "lowfreq"):
                continue
            haps = tuple(bool(rng.random() < variant.af) for _ in range(copies))
            if any(haps):
                carried.append(GermlineVariant(variant, haps))
        result[contig] = carried
    return result


def add_private_germline(
    germline: dict[str, list[GermlineVariant]],
    snvs: int,
    indels: int,
    occupied: Occupancy,
    rng: np.random.Generator,
) -> None:
    """Private heterozygous SNVs and indels inside the autosomal targets (in place)."""
    reference = occupied.reference
    autosomal = [t for t in occupied.targets if reference.kind(t.contig) == AUTOSOME]
    private: list[Variant] = []
    for _ in range(snvs):
        proposals = (
            None if p is None else (as_private(p[0]), p[1], p[2])
            for p in random_snvs(occupied, rng, "private", autosomal)
        )
        private.append(place(occupied, proposals, "a private germline SNV"))
    for _ in range(indels):
        proposals = (
            (as_private(v), lo, hi)
            for v, lo, hi in random_indels(occupied, rng, "private", autosomal)
        )
        private.append(place(occupied, proposals, "a private germline indel"))
    for variant in private:
        hap = int(rng.integers(2))
        germline[variant.contig].append(GermlineVariant(variant, tuple(i == hap for i in range(2))))
    for carried in germline.values():
        carried.sort(key=lambda g: g.variant.pos)


def as_private(variant: Variant) -> Variant:
    return Variant(variant.contig, variant.pos, variant.ref, variant.alt, "private", 0.0, "")


# --------------------------------------------------------------------------------------------
# Somatic variants and artefacts


def _plant_hard(
    reference: Reference,
    tumour: str,
    plan: SomaticPlan,
    germline: dict[str, list[GermlineVariant]],
    occupied: Occupancy,
    rng: np.random.Generator,
) -> list[SomaticVariant]:
    """Coding variants, repeat indels and SNVs next to the patient's germline indels."""
    planted: list[SomaticVariant] = []

    def hard_vaf() -> float:
        return round(float(rng.uniform(*plan.hard_vaf)), 4)

    genes = {g.symbol: g for g in reference.genes}
    for symbol, effect in plan.coding:
        gene = genes[symbol]
        variant = place(occupied, _coding_proposals(reference, gene, effect, rng), effect)
        planted.append(SomaticVariant(tumour, variant, hard_vaf()))

    repeats = {
        kind: [
            f
            for f in reference.features_named(kind)
            if any(
                t.contig == f.contig and t.start <= f.start and f.end <= t.end
                for t in occupied.targets
            )
        ]
        for kind in (HOMOPOLYMER, STR)
    }
    for kind, count in ((HOMOPOLYMER, plan.homopolymer_indels), (STR, plan.str_indels)):
        for _ in range(count):
            variant = place(occupied, repeat_proposals(reference, repeats[kind], kind, rng), kind)
            planted.append(SomaticVariant(tumour, variant, hard_vaf()))

    indels = [
        g.variant
        for variants in germline.values()
        for g in variants
        if g.variant.origin == "private" and not g.variant.is_snv
    ]
    for index in range(plan.near_indel_snvs):
        anchor = indels[index % len(indels)]
        proposals = _near_indel_proposals(occupied, anchor, rng)
        variant = place(occupied, proposals, "an SNV near an indel", near=anchor)
        planted.append(SomaticVariant(tumour, variant, hard_vaf()))
    return planted


def _plant_plain(
    tumour: str, plan: SomaticPlan, occupied: Occupancy, rng: np.random.Generator
) -> list[SomaticVariant]:
    """SNVs by VAF band and indels anywhere in the targets."""
    planted: list[SomaticVariant] = []
    for low, high, count in plan.snv_bands:
        for _ in range(count):
            variant = place(occupied, random_snvs(occupied, rng, PLAIN), "a somatic SNV")
            vaf = round(float(rng.uniform(low, high)), 4)
            planted.append(SomaticVariant(tumour, variant, vaf))
    for _ in range(plan.indels):
        variant = place(occupied, random_indels(occupied, rng, PLAIN), "a somatic indel")
        planted.append(
            SomaticVariant(tumour, variant, round(float(rng.uniform(*plan.indel_vaf)), 4))
        )
    return planted


def _coding_proposals(
    reference: Reference, gene: GeneModel, effect: str, rng: np.random.Generator
) -> Iterable[tuple[Variant, int, int] | None]:
    seq = reference.sequences[gene.contig]
    while True:
        if effect in ("missense", "synonymous", "stop_gained"):
            snv = find_coding_snv(seq, gene, effect, rng)
            variant = Variant(gene.contig, snv.pos, snv.ref, snv.alt, "somatic", 0.0, effect)
            yield variant, snv.pos, snv.pos + 1
        elif effect == "frameshift":
            yield _frameshift(seq, gene, rng)
        elif effect in ("splice_donor", "splice_acceptor"):
            yield _splice_snv(seq, gene, effect, rng)
        else:
            raise GenomflowError(f"unknown coding effect {effect!r}")


def _frameshift(
    seq: Seq, gene: GeneModel, rng: np.random.Generator
) -> tuple[Variant, int, int] | None:
    """A 1-bp deletion inside a coding segment, already left-normalised."""
    positions = gene.cds_positions()
    g = int(positions[int(rng.integers(6, positions.size - 6))])
    inside = any(a + 1 < g < b - 1 for a, b in gene.cds_segments())
    if not inside or seq[g - 1] == seq[g] or seq[g] == seq[g + 1]:
        return None
    ref = to_str(seq[g - 1 : g + 1])
    return Variant(gene.contig, g - 1, ref, ref[0], "somatic", 0.0, "frameshift"), g - 1, g + 1


def _splice_snv(
    seq: Seq, gene: GeneModel, effect: str, rng: np.random.Generator
) -> tuple[Variant, int, int] | None:
    """An SNV of the intron's first (donor) or last (acceptor) base, in transcript terms."""
    introns = gene.introns()
    start, end = introns[int(rng.integers(len(introns)))]
    donor = effect == "splice_donor"
    first, last = (start, end - 1) if gene.strand == "+" else (end - 1, start)
    pos = first if donor else last
    ref = chr(int(seq[pos]))
    alt = {"G": "A", "C": "T", "A": "G", "T": "C"}[ref]
    return Variant(gene.contig, pos, ref, alt, "somatic", 0.0, effect), pos, pos + 1


def repeat_proposals(
    reference: Reference, features: Sequence[Feature], kind: str, rng: np.random.Generator
) -> Iterable[tuple[Variant, int, int] | None]:
    if not features:
        raise GenomflowError(f"no {kind} inside the panel targets")
    while True:
        feature = features[int(rng.integers(len(features)))]
        contig, start, end = feature.contig, feature.start, feature.end
        seq = reference.sequences[contig]
        period = 1 if kind == HOMOPOLYMER else _period(seq[start:end])
        unit = to_str(seq[start : start + period])
        anchor = chr(int(seq[start - 1]))
        if rng.random() < 0.6:
            ref, alt = anchor + unit, anchor
        else:
            ref, alt = anchor, anchor + unit
        npos, nref, nalt, lo, hi = normalize_indel(seq, start - 1, ref, alt)
        yield Variant(contig, npos, nref, nalt, "somatic", 0.0, kind), lo, hi


def _period(repeat: Seq) -> int:
    for period in (2, 3):
        if np.array_equal(repeat[period:], repeat[:-period]):
            return period
    return 2


def _near_indel_proposals(
    occupied: Occupancy, anchor: Variant, rng: np.random.Generator
) -> Iterable[tuple[Variant, int, int] | None]:
    """SNVs 3-12 bases from a germline indel's span (place with ``near=anchor``)."""
    lo, hi = occupied.span(anchor)
    seq = occupied.reference.sequences[anchor.contig]
    while True:
        distance = int(rng.integers(3, 13))
        pos = hi - 1 + distance if rng.random() < 0.5 else lo - distance
        snv = _snv_at(seq, anchor.contig, pos, rng, NEAR_INDEL)
        yield None if snv is None else (snv, pos, pos + 1)


def _plant_artefacts(
    spec: CancerSpec, occupied: Occupancy, rng: np.random.Generator
) -> list[tuple[Variant, float]]:
    artefacts = []
    for _ in range(spec.artefacts):
        variant = place(occupied, random_snvs(occupied, rng, "artefact"), "an artefact site")
        artefact = Variant(variant.contig, variant.pos, variant.ref, variant.alt, "artefact")
        artefacts.append((artefact, round(float(rng.uniform(*spec.artefact_rate)), 4)))
    return artefacts


# --------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class _Allele:
    """A variant a fragment may carry: germline of a haplotype, or with a probability."""

    variant: Variant
    probability: float  # 1.0 for germline alleles of the fragment's haplotype
    haplotype: int | None  # germline: the haplotype index; None: drawn per fragment


def _sample_alleles(data: CancerData, sample: CancerSample) -> dict[str, list[_Allele]]:
    """Per contig, sorted by position: what fragments of ``sample`` may carry."""
    spec = data.spec
    alleles: dict[str, list[_Allele]] = {c: [] for c in data.reference.sequences}
    for contig, variants in data.germline[sample.patient].items():
        for germ in variants:
            for hap, carried in enumerate(germ.haplotypes):
                if carried:
                    alleles[contig].append(_Allele(germ.variant, 1.0, hap))
    tumour_of = {s.matched_normal: s.sample for s in spec.tumours if s.matched_normal}
    planted = sorted(data.somatic + data.lost, key=lambda v: (v.variant.contig, v.variant.pos))
    for somatic in planted:
        if somatic.tumour == sample.sample:
            probability = somatic.vaf
        elif tumour_of.get(sample.sample) == somatic.tumour:
            probability = somatic.vaf * spec.tumour_in_normal
        else:
            continue
        if somatic in data.lost:
            probability = 0.0  # drawn all the same, so that every other draw stays put
        alleles[somatic.variant.contig].append(_Allele(somatic.variant, probability, None))
    for artefact, rate in data.artefacts:
        alleles[artefact.contig].append(_Allele(artefact, rate, None))
    for contig_alleles in alleles.values():
        contig_alleles.sort(key=lambda a: a.variant.pos)
    return alleles


def capture_weights(data: CancerData, rng: np.random.Generator) -> list[float]:
    """Capture efficiency per target drawn from ``rng`` alone (log-normal, ``capture_sd``;
    the poor target at ``low_target_weight``): one capture of its own, as the plasma data
    draw it. Panel samples use :func:`sample_capture_weights`."""
    spec = data.spec
    weights = []
    for target in data.targets:
        weight = float(np.exp(rng.normal(0.0, spec.capture_sd)))
        weights.append(spec.low_target_weight if target.name == spec.low_target else weight)
    return weights


def probe_efficiencies(data: CancerData) -> list[float]:
    """The panel's capture efficiency per target: a property of the probe, the same for
    every sample of the panel (drawn from the panel's own random stream)."""
    return capture_weights(data, rng_for(data.seed, "cancer", "capture", data.spec.panel_name))


def sample_capture_weights(data: CancerData, sample: str) -> list[float]:
    """Capture efficiency per target in ``sample``: the probe's (:func:`probe_efficiencies`)
    times the sample's own log-normal noise (``capture_noise_sd``), so that a reference pooled
    from normals corrects most of it, as on a real panel.
    """
    rng = rng_for(data.seed, "cancer", "capture", sample)
    noise = np.exp(rng.normal(0.0, data.spec.capture_noise_sd, len(data.targets)))
    return [float(p * n) for p, n in zip(probe_efficiencies(data), noise, strict=True)]


@dataclass
class _FragmentDraws:
    contig: list[str] = field(default_factory=list)
    start: list[int] = field(default_factory=list)
    length: list[int] = field(default_factory=list)


def draw_fragments(
    data: CancerData, sample: CancerSample, weights: Sequence[float], rng: np.random.Generator
) -> _FragmentDraws:
    """On-target fragments per target (by capture weight), then off-target ones."""
    spec = data.spec
    draws = _FragmentDraws()
    for target, weight in zip(data.targets, weights, strict=True):
        _draw_on_target(data, target, sample.depth * weight, rng, draws)
    on_target = len(draws.start)
    off_target = round(on_target * spec.off_target_fraction / (1 - spec.off_target_fraction))
    lengths_by_contig = data.reference.lengths
    names, sizes = _copies_by_contig(data, sample)
    while len(draws.start) < on_target + off_target:
        contig = names[int(rng.choice(len(names), p=sizes / sizes.sum()))]
        _draw_off_target(data, Region(contig, 0, lengths_by_contig[contig]), rng, draws)
    return draws


def _copies_by_contig(data: CancerData, sample: CancerSample) -> tuple[list[str], np.ndarray]:
    """The contigs ``sample`` has copies of and their bases x copies."""
    lengths_by_contig = data.reference.lengths
    sex = data.spec.patients[sample.patient]
    names = [c for c in lengths_by_contig if ploidy_of(data.reference.kind(c), sex) > 0]
    sizes = np.array(
        [lengths_by_contig[c] * ploidy_of(data.reference.kind(c), sex) for c in names], dtype=float
    )
    return names, sizes


def _draw_on_target(
    data: CancerData,
    target: Target,
    depth: float,
    rng: np.random.Generator,
    draws: _FragmentDraws,
) -> None:
    model = data.spec.read_model
    coverage_per_fragment = min(2 * model.read_length, model.insert_mean)
    footprint = target.length + model.insert_mean - 2 * MIN_TARGET_OVERLAP
    count = round(depth * footprint / coverage_per_fragment)
    lengths = _fragment_lengths(model, count, rng)
    lo = target.start + MIN_TARGET_OVERLAP - lengths
    hi = target.end - MIN_TARGET_OVERLAP
    starts = lo + (rng.random(count) * (hi - lo + 1)).astype(np.int64)
    draws.contig += [target.contig] * count
    draws.start += [int(s) for s in starts]
    draws.length += [int(n) for n in lengths]


def _draw_off_target(
    data: CancerData, region: Region, rng: np.random.Generator, draws: _FragmentDraws
) -> bool:
    """Draw one fragment inside ``region``; False (nothing drawn) when it touches an N."""
    length = int(_fragment_lengths(data.spec.read_model, 1, rng)[0])
    start = region.start + int(rng.integers(0, region.end - region.start - length))
    if (data.reference.sequences[region.contig][start : start + length] == N_CODE).any():
        return False
    draws.contig.append(region.contig)
    draws.start.append(start)
    draws.length.append(length)
    return True


def copy_number_draws(
    data: CancerData,
    sample: CancerSample,
    weights: Sequence[float],
    draws: _FragmentDraws,
    rng: np.random.Generator,
) -> tuple[np.ndarray, _FragmentDraws]:
    """Apply the sample's copy-number events to its fragments: which of ``draws`` to keep
    (a loss drops a fragment with probability 1 - depth ratio) and the extra fragments of a
    gain (on and off target, as many more as the depth ratio asks)."""
    keep = np.ones(len(draws.start), dtype=bool)
    extra = _FragmentDraws()
    events = copy_number_events(data, sample)
    if not events:
        return keep, extra
    assert sample.purity is not None  # copy_number_events checked it
    contigs = np.array(draws.contig)
    starts = np.array(draws.start, dtype=np.int64)
    ends = starts + np.array(draws.length, dtype=np.int64)
    uniform = rng.random(len(draws.start))
    for event in events:
        region = event_region(data, event)
        ratio = depth_ratio(event.copies, sample.purity)
        inside = (contigs == region.contig) & (starts < region.end) & (ends > region.start)
        if ratio < 1:
            keep &= ~(inside & (uniform >= ratio))
            continue
        for target, weight in zip(data.targets, weights, strict=True):
            if region.overlaps(target.contig, target.start, target.end):
                _draw_on_target(data, target, sample.depth * weight * (ratio - 1), rng, extra)
        _, sizes = _copies_by_contig(data, sample)
        on = _on_target_count(data, sample, weights)
        off = on * data.spec.off_target_fraction / (1 - data.spec.off_target_fraction)
        per_base_copy = off / sizes.sum()
        wanted = round(per_base_copy * (region.end - region.start) * 2 * (ratio - 1))
        drawn = 0
        while drawn < wanted:
            drawn += _draw_off_target(data, region, rng, extra)
    return keep, extra


def _on_target_count(data: CancerData, sample: CancerSample, weights: Sequence[float]) -> int:
    model = data.spec.read_model
    coverage_per_fragment = min(2 * model.read_length, model.insert_mean)
    return sum(
        round(
            sample.depth
            * weight
            * (t.length + model.insert_mean - 2 * MIN_TARGET_OVERLAP)
            / coverage_per_fragment
        )
        for t, weight in zip(data.targets, weights, strict=True)
    )


def _fragment_lengths(model: ReadModel, count: int, rng: np.random.Generator) -> np.ndarray:
    lengths = np.rint(rng.normal(model.insert_mean, model.insert_sd, count)).astype(np.int64)
    result: np.ndarray = np.clip(lengths, model.insert_min, model.insert_max)
    return result


def fragment_template(seq: Seq, start: int, length: int, variants: Sequence[Variant]) -> Seq:
    """The bases of a fragment starting at reference ``start`` on a copy carrying ``variants``.

    ``variants`` are sorted and non-overlapping; the fragment keeps ``length`` bases of the
    mutated copy, beginning where the reference base ``start`` lies on it (or right after a
    variant that covers ``start``).
    """
    lo = max(0, start - FLANK)
    hi = min(seq.size, start + length + FLANK)
    pieces: list[Seq] = []
    cursor = lo
    offset = None
    for variant in variants:
        if variant.pos < lo or variant.end > hi or variant.pos < cursor:
            continue
        pieces.append(seq[cursor : variant.pos])
        if offset is None and start <= variant.pos:
            offset = sum(p.size for p in pieces) - (variant.pos - start)
        pieces.append(to_seq(variant.alt))
        if offset is None and start < variant.end:
            offset = sum(p.size for p in pieces)
        cursor = variant.end
    if offset is None:
        offset = sum(p.size for p in pieces) + (start - cursor)
    pieces.append(seq[cursor:hi])
    mutated = np.concatenate(pieces)
    return mutated[offset : offset + length]


def simulate_sample_reads(
    data: CancerData, sample: CancerSample, r1_path: Path, r2_path: Path
) -> int:
    """Simulate and write one sample's FASTQ pair; return the number of pairs.

    Copy-number events (:func:`copy_number_draws`) drop fragments of a lost region after
    every read is drawn and add a gained region's extra fragments at the end of the files,
    from their own random stream: the reads elsewhere stay the same with or without them.
    """
    spec = data.spec
    rng = rng_for(data.seed, "cancer", "reads", sample.sample, sample.unit)
    weights = sample_capture_weights(data, sample.sample)
    draws = draw_fragments(data, sample, weights, rng)
    alleles = _sample_alleles(data, sample)
    templates = _templates(data, sample, draws, alleles, rng)
    cn_rng = rng_for(data.seed, "cancer", "copy-number", sample.sample)
    keep, extra_draws = copy_number_draws(data, sample, weights, draws, cn_rng)
    extra = _templates(data, sample, extra_draws, alleles, cn_rng)
    return write_fragment_reads(
        templates,
        spec.read_model,
        spec.duplicate_fraction,
        rng,
        FastqTarget(r1_path, r2_path, f"{sample.sample}.{sample.unit}", spec.gzip_level),
        keep=keep,
        extra=(extra, cn_rng) if extra else None,
    )


def _templates(
    data: CancerData,
    sample: CancerSample,
    draws: _FragmentDraws,
    alleles: dict[str, list[_Allele]],
    rng: np.random.Generator,
) -> list[Seq]:
    """The bases of each drawn fragment: a random haplotype of the patient, its germline
    alleles, and each somatic or artefact allele with its probability."""
    positions = {c: [a.variant.pos for a in items] for c, items in alleles.items()}
    copies = {
        c: ploidy_of(data.reference.kind(c), _sex_of(data.spec, sample.patient))
        for c in data.reference.sequences
    }
    templates: list[Seq] = []
    for contig, start, length in zip(draws.contig, draws.start, draws.length, strict=True):
        hap = int(rng.integers(max(1, copies[contig])))
        lo = bisect.bisect_left(positions[contig], start - FLANK)
        hi = bisect.bisect_right(positions[contig], start + length + FLANK)
        carried: list[Variant] = []
        for allele in alleles[contig][lo:hi]:
            if allele.haplotype is None:
                if rng.random() < allele.probability:
                    carried.append(allele.variant)
            elif allele.haplotype == hap:
                carried.append(allele.variant)
        carried = non_overlapping(carried)
        templates.append(
            fragment_template(data.reference.sequences[contig], start, length, carried)
        )
    return templates


@dataclass(frozen=True)
class FastqTarget:
    """Where one unit's reads go: the two files, the read-name prefix, the gzip level."""

    r1: Path
    r2: Path
    prefix: str
    gzip_level: int


def write_fragment_reads(
    templates: list[Seq],
    model: ReadModel,
    duplicate_fraction: float,
    rng: np.random.Generator,
    target: FastqTarget,
    *,
    keep: np.ndarray | None = None,
    extra: tuple[list[Seq], np.random.Generator] | None = None,
) -> int:
    """Sequence fragments (their bases, as they lie on the sample's DNA) into read pairs:
    a share of them twice (PCR duplicates, independent errors), a random strand each, in
    random order; return the number of pairs written.

    ``keep`` (one flag per template) leaves out the pairs of some templates (and of their
    duplicates) after every random draw is made; ``extra`` templates are sequenced the same
    way with their own random stream and written after the others.
    """
    with (
        open_fastq(target.r1, target.gzip_level) as out1,
        open_fastq(target.r2, target.gzip_level) as out2,
    ):
        written, numbered = _write_pairs(
            templates, model, duplicate_fraction, rng, (out1, out2), target.prefix, 1, keep
        )
        if extra is not None:
            more, _ = _write_pairs(
                extra[0], model, duplicate_fraction, extra[1], (out1, out2), target.prefix,
                numbered + 1, None,
            )  # fmt: skip
            written += more
    return written


def _write_pairs(
    templates: list[Seq],
    model: ReadModel,
    duplicate_fraction: float,
    rng: np.random.Generator,
    out: tuple[gzip.GzipFile, gzip.GzipFile],
    prefix: str,
    first_number: int,
    keep: np.ndarray | None,
) -> tuple[int, int]:
    """Write the pairs of ``templates``; return (pairs written, pairs numbered)."""
    duplicates = round(len(templates) * duplicate_fraction)
    sources = rng.choice(len(templates), size=duplicates, replace=False)
    forward = rng.random(len(templates)) < 0.5
    templates = templates + [templates[int(i)] for i in sources]
    forward = np.concatenate([forward, forward[sources]])
    kept = (
        np.ones(len(templates), dtype=bool)
        if keep is None
        else np.concatenate([keep, keep[sources]])
    )
    order = rng.permutation(len(templates))
    written = 0
    for begin in range(0, len(order), CHUNK_PAIRS):
        chunk = order[begin : begin + CHUNK_PAIRS]
        haplotypes = [templates[int(i)] for i in chunk]
        fragments = Fragments(
            hap=np.arange(len(chunk), dtype=np.int64),
            start=np.zeros(len(chunk), dtype=np.int64),
            length=np.array([h.size for h in haplotypes], dtype=np.int64),
            forward=forward[chunk],
        )
        pairs = build_pairs(haplotypes, fragments, model, rng)
        text1, text2 = fastq_records(pairs, prefix, first_number + begin, kept[chunk])
        out[0].write(text1)
        out[1].write(text2)
        written += int(kept[chunk].sum())
    return written, len(order)


def non_overlapping(variants: list[Variant]) -> list[Variant]:
    variants.sort(key=lambda v: v.pos)
    kept: list[Variant] = []
    for variant in variants:
        if not kept or variant.pos >= kept[-1].end:
            kept.append(variant)
    return kept


def _sex_of(spec: CancerSpec, patient: str) -> str:
    return spec.patients[patient]


# --------------------------------------------------------------------------------------------
# Output


def fastq_paths(sample: CancerSample) -> tuple[str, str]:
    stem = f"{READS_DIR}/{sample.sample}_{sample.unit}"
    return f"{stem}_R1.fastq.gz", f"{stem}_R2.fastq.gz"


def generate_cancer(
    spec: CancerSpec, out_dir: Path, panels_dir: Path, seed: int = DEFAULT_SEED
) -> CancerData:
    """Build the cancer data set and write every file (panel BED into ``panels_dir``)."""
    data = build_cancer(spec, seed)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / READS_DIR).mkdir(parents=True, exist_ok=True)
    panels_dir.mkdir(parents=True, exist_ok=True)
    (panels_dir / f"{spec.panel_name}.bed").write_text(
        "".join(line + "\n" for line in panel_bed_lines(data.targets))
    )
    write_somatic_truth(out_dir / SOMATIC_TRUTH_VCF, data)
    write_germline_truth(out_dir / GERMLINE_TRUTH_VCF, data)
    write_artefacts(out_dir / ARTEFACTS_VCF, data)
    write_population(out_dir / POPULATION_VCF, data)
    write_clinvar(out_dir / CLINVAR_VCF, data)
    write_copy_number_truth(out_dir / COPY_NUMBER_TSV, data)
    for sample in progress(spec.samples, "simulating samples", unit="sample"):
        r1, r2 = fastq_paths(sample)
        data.pairs[sample.sample] = simulate_sample_reads(data, sample, out_dir / r1, out_dir / r2)
    write_cohort(out_dir / COHORT_TSV, data)
    return data


def truth_header(source: str, seed: int, lengths: dict[str, int]) -> pysam.VariantHeader:
    """A VCF header for truth files: the generator, its seed and the contigs."""
    header = pysam.VariantHeader()
    header.add_line(f"##source={source}")
    header.add_line(f"##genomflow_simulate_seed={seed}")
    for name, length in lengths.items():
        header.contigs.add(name, length=length)
    return header


def _header(data: CancerData) -> pysam.VariantHeader:
    return truth_header("genomflow.simulate.cancer", data.seed, data.reference.lengths)


#: A record to write: the variant, its INFO values and FORMAT values per sample.
Row = tuple[Variant, dict[str, object], dict[str, dict[str, object]]]


def write_records(
    path: Path,
    header: pysam.VariantHeader,
    rows: Iterable[Row],
    order: dict[str, int],
) -> None:
    ordered = sorted(rows, key=lambda r: (order[r[0].contig], r[0].pos, r[0].ref, r[0].alt))
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for variant, info, formats in ordered:
            record = out.new_record(
                contig=variant.contig, start=variant.pos, alleles=(variant.ref, variant.alt)
            )
            for key, value in info.items():
                record.info[key] = value
            for sample, values in formats.items():
                for key, value in values.items():
                    record.samples[sample][key] = value
            out.write(record)
    pysam.tabix_index(str(path), preset="vcf", force=True)


def _order(data: CancerData) -> dict[str, int]:
    return {name: i for i, name in enumerate(data.reference.sequences)}


def write_somatic_truth(path: Path, data: CancerData) -> None:
    """Somatic truth: GT 0/1 and the planted VAF per tumour, INFO/CONTEXT and INFO/GENE."""
    header = _header(data)
    header.add_line(
        '##INFO=<ID=CONTEXT,Number=1,Type=String,Description="Where the variant was planted: '
        "plain, homopolymer, str, near_indel, microsatellite (MSI-high), or its coding effect "
        "(missense, synonymous, "
        'stop_gained, frameshift, splice_donor, splice_acceptor)">'
    )
    header.add_line(
        '##INFO=<ID=TARGET,Number=1,Type=String,Description="Panel target (GENE:exonN)">'
    )
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_line(
        '##FORMAT=<ID=VAF,Number=1,Type=Float,Description="Planted variant allele fraction">'
    )
    tumours = [s.sample for s in data.spec.tumours]
    for tumour in tumours:
        header.add_sample(tumour)
    rows: list[Row] = []
    for somatic in data.somatic:
        formats: dict[str, dict[str, object]] = {
            t: {"GT": (0, 1) if t == somatic.tumour else (0, 0)} for t in tumours
        }
        formats[somatic.tumour]["VAF"] = somatic.vaf
        info: dict[str, object] = {
            "CONTEXT": somatic.variant.label,
            "TARGET": _target_of(data, somatic.variant).name,
        }
        rows.append((somatic.variant, info, formats))
    write_records(path, header, rows, _order(data))


def _target_of(data: CancerData, variant: Variant) -> Target:
    for target in data.targets:
        if target.contig == variant.contig and target.start <= variant.pos < target.end:
            return target
    raise GenomflowError(f"{variant} is outside the panel")


def _truth_samples(data: CancerData) -> list[CancerSample]:
    return list(data.spec.samples)


def write_germline_truth(path: Path, data: CancerData) -> None:
    """Germline genotypes of every cancer sample (a tumour shares its patient's)."""
    samples = [(s.sample, s.sex, data.germline[s.patient]) for s in _truth_samples(data)]
    write_germline_genotypes(path, _header(data), samples, data.reference, _order(data))


def write_germline_genotypes(
    path: Path,
    header: pysam.VariantHeader,
    samples: Sequence[tuple[str, str, dict[str, list[GermlineVariant]]]],
    reference: Reference,
    order: dict[str, int],
) -> None:
    """A germline truth VCF: every allele any sample carries, with each sample's genotype
    (``samples``: name, sex and the person's germline variants by contig)."""
    header.add_line(
        '##INFO=<ID=ORIGIN,Number=1,Type=String,Description="common, lowfreq (catalogue) '
        'or private">'
    )
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    for name, _, _ in samples:
        header.add_sample(name)
    by_key: dict[tuple[str, int, str, str], dict[str, tuple[int, ...]]] = {}
    variants: dict[tuple[str, int, str, str], Variant] = {}
    for name, _, germline in samples:
        for contig, carried in germline.items():
            for germ in carried:
                v = germ.variant
                key = (contig, v.pos, v.ref, v.alt)
                variants[key] = v
                by_key.setdefault(key, {})[name] = tuple(sorted(int(h) for h in germ.haplotypes))
    rows: list[Row] = []
    for key, genotypes in by_key.items():
        formats: dict[str, dict[str, object]] = {}
        for name, sex, _ in samples:
            copies = ploidy_of(reference.kind(key[0]), sex)
            gt = genotypes.get(name, tuple(0 for _ in range(copies)))
            formats[name] = {"GT": gt if gt else (None,)}
        info: dict[str, object] = {"ORIGIN": variants[key].origin}
        rows.append((variants[key], info, formats))
    write_records(path, header, rows, order)


def write_artefacts(path: Path, data: CancerData) -> None:
    """Sites-only VCF of the systematic artefacts with INFO/RATE."""
    header = _header(data)
    header.add_line(
        '##INFO=<ID=RATE,Number=1,Type=Float,Description="Fraction of fragments carrying '
        'the artefact, in every sample">'
    )
    rows: list[Row] = [(v, {"RATE": rate}, {}) for v, rate in data.artefacts]
    write_records(path, header, rows, _order(data))


def write_population(path: Path, data: CancerData) -> None:
    """The population catalogue (common and low-frequency sites) with INFO/AF."""
    header = _header(data)
    header.add_line('##INFO=<ID=AF,Number=A,Type=Float,Description="Population allele frequency">')
    rows: list[Row] = [
        (v, {"AF": v.af}, {})
        for variants in data.base.truth.variants.values()
        for v in variants
        if v.origin in ("common", "lowfreq")
    ]
    write_records(path, header, rows, _order(data))


#: Clinical significance given to planted coding variants in the ClinVar-style VCF.
CLNSIG_BY_EFFECT = {
    "missense": "Likely_pathogenic",
    "stop_gained": "Pathogenic",
    "frameshift": "Pathogenic",
    "splice_donor": "Pathogenic",
    "splice_acceptor": "Likely_pathogenic",
    "synonymous": "Benign",
}


def write_clinvar(path: Path, data: CancerData) -> None:
    """A ClinVar-style VCF: planted coding variants (somatic and the trio's) with CLNSIG."""
    header = _header(data)
    for line in (
        '##INFO=<ID=ALLELEID,Number=1,Type=Integer,Description="the ClinVar Allele ID">',
        '##INFO=<ID=CLNSIG,Number=.,Type=String,Description="Clinical significance">',
        '##INFO=<ID=CLNREVSTAT,Number=.,Type=String,Description="ClinVar review status">',
        '##INFO=<ID=CLNDN,Number=.,Type=String,Description="Preferred disease name">',
        '##INFO=<ID=GENEINFO,Number=1,Type=String,Description="Gene symbol">',
    ):
        header.add_line(line)
    genes = data.reference.genes
    rows: list[Row] = []
    planted = [
        (s.variant, s.variant.label) for s in data.somatic if s.variant.label in CLNSIG_BY_EFFECT
    ]
    for variants in data.base.truth.variants.values():
        for v in variants:
            if v.origin == "planted":
                planted.append((v, v.label.split(":")[1]))
    for number, (variant, effect) in enumerate(
        sorted(planted, key=lambda p: (p[0].contig, p[0].pos)), start=1
    ):
        gene = next(
            g for g in genes if g.contig == variant.contig and g.start <= variant.pos < g.end
        )
        info: dict[str, object] = {
            "ALLELEID": 900000 + number,
            "CLNSIG": CLNSIG_BY_EFFECT[effect],
            "CLNREVSTAT": "criteria_provided,_single_submitter",
            "CLNDN": f"{gene.symbol}-related_disorder",
            "GENEINFO": gene.symbol,
        }
        rows.append((variant, info, {}))
    write_records(path, header, rows, _order(data))


def write_copy_number_truth(path: Path, data: CancerData) -> None:
    """The planted copy-number events, one row each (:data:`COPY_NUMBER_COLUMNS`)."""
    samples = {s.sample: s for s in data.spec.samples}
    rows = []
    for event in data.spec.copy_number:
        region = event_region(data, event)
        purity = samples[event.tumour].purity
        assert purity is not None
        values = (event.tumour, event.gene, region.contig, region.start, region.end,
                  event.copies, purity, round(depth_ratio(event.copies, purity), 4))  # fmt: skip
        rows.append("\t".join(str(v) for v in values))
    path.write_text("\t".join(COPY_NUMBER_COLUMNS) + "\n" + "".join(r + "\n" for r in rows))


def write_cohort(path: Path, data: CancerData) -> None:
    """``cohort.tsv``: one row per sample and unit."""
    rows = [
        cohort_row(s, "panel", data.spec.panel_name, data.pairs.get(s.sample, 0))
        for s in data.spec.samples
    ]
    write_cohort_rows(path, rows)


def cohort_row(sample: CancerSample, assay: str, panel: str, pairs: int) -> dict[str, str]:
    """A sample's row of ``cohort.tsv``."""
    r1, r2 = fastq_paths(sample)
    return {
        "sample": sample.sample,
        "patient": sample.patient,
        "sex": sample.sex,
        "type": sample.type,
        "assay": assay,
        "panel": panel,
        "matched_normal": sample.matched_normal or "",
        "purity": "" if sample.purity is None else f"{sample.purity:g}",
        "unit": sample.unit,
        "depth": f"{sample.depth:g}",
        "pairs": str(pairs),
        "fastq_1": r1,
        "fastq_2": r2,
    }


def write_cohort_rows(path: Path, rows: Iterable[dict[str, str]]) -> None:
    """A ``cohort.tsv`` (columns :data:`COHORT_COLUMNS`)."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=COHORT_COLUMNS, delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
