"""Data sets: the demo trio test genome and the single-sample benchmark genome.

:func:`generate` builds a reference, the cohort's truth and reads, and writes them as::

    genome.fa                      reference (60-column FASTA, upper case, N gap)
    genes.gff3                     Ensembl-style gene models (snpEff reads them)
    features.bed                   annotated features (gaps, duplication, repeats, isochores)
    common_snps.vcf.gz(.tbi)       sites-only common SNPs with INFO/AF
    truth/germline.vcf.gz(.tbi)    truth genotypes of every sample
    cohort.tsv, cohort.ped         samples, pedigree, units and FASTQ paths
    reads/<sample>_<unit>_R{1,2}.fastq.gz
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from genomflow.errors import GenomflowError
from genomflow.progress import progress
from genomflow.simulate.common import Seq, rng_for
from genomflow.simulate.genes import write_gff3
from genomflow.simulate.genome import (
    AUTOSOME,
    CHR_X,
    CHR_Y,
    ContigSpec,
    GenomeSpec,
    Reference,
    build_reference,
    write_fasta,
    write_features_bed,
)
from genomflow.simulate.reads import (
    GZIP_LEVEL,
    Fragments,
    ReadModel,
    UnitSummary,
    pairs_for_depth,
    simulate_unit,
)
from genomflow.simulate.sv import (
    DEL,
    DUP,
    INV,
    StructuralVariant,
    edit_fragments,
    place,
    resolve_carriers,
    write_sv_truth,
)
from genomflow.simulate.variants import (
    FEMALE,
    MALE,
    PlantedVariant,
    SampleSpec,
    TruthSet,
    common_snp_sites,
    haplotype_sequences,
    simulate_truth,
    write_common_snps_vcf,
    write_truth_vcf,
)
from genomflow.tsv import read_table

#: Default seed of the committed test genome.
DEFAULT_SEED = 20261125
#: File names inside a data set directory.
GENOME_FASTA = "genome.fa"
SV_TRUTH_VCF = "truth/sv.vcf.gz"
GENES_GFF3 = "genes.gff3"
FEATURES_BED = "features.bed"
COMMON_SNPS_VCF = "common_snps.vcf.gz"
TRUTH_VCF = "truth/germline.vcf.gz"
COHORT_TSV = "cohort.tsv"
COHORT_PED = "cohort.ped"
READS_DIR = "reads"
#: Columns of ``cohort.tsv`` (one row per sequencing unit).
COHORT_COLUMNS = (
    "sample",
    "sex",
    "role",
    "father",
    "mother",
    "family",
    "unit",
    "coverage",
    "fastq_1",
    "fastq_2",
)
#: Written for a missing parent (as in PED files).
NO_PARENT = "0"
#: Number of common SNPs in ``common_snps.vcf.gz``.
COMMON_SNP_COUNT = 250
#: Benchmark genome: autosome names and their share of the total length.
BENCH_CONTIGS = (("chr1", 0.4), ("chr2", 0.35), ("chr3", 0.25))
BENCH_GENES_PER_MB = 8
BENCH_SAMPLE = "BENCH01"


@dataclass(frozen=True)
class UnitSpec:
    """One sequencing unit (lane) of a sample and its target depth (diploid coverage)."""

    unit: str
    coverage: float


@dataclass(frozen=True)
class Member:
    """A cohort sample and its sequencing units."""

    sample: SampleSpec
    units: tuple[UnitSpec, ...]

    @property
    def coverage(self) -> float:
        """Total target coverage over all units."""
        return sum(u.coverage for u in self.units)


@dataclass(frozen=True)
class DatasetSpec:
    """Everything :func:`generate` needs besides the seed."""

    genome: GenomeSpec
    family: str
    members: tuple[Member, ...]
    planted: tuple[PlantedVariant, ...] = ()
    common_snps: int = COMMON_SNP_COUNT
    read_model: ReadModel = field(default_factory=ReadModel)
    gzip_level: int = GZIP_LEVEL
    #: Germline structural variants planted into the reads (genomflow.simulate.sv).
    structural: tuple[StructuralVariant, ...] = ()

    @property
    def samples(self) -> tuple[SampleSpec, ...]:
        """The cohort's samples, parents first."""
        return tuple(m.sample for m in self.members)


@dataclass
class Dataset:
    """A generated data set (in memory) and what was written."""

    spec: DatasetSpec
    seed: int
    reference: Reference
    truth: TruthSet
    units: dict[tuple[str, str], UnitSummary] = field(default_factory=dict)


def make_testgenome_spec() -> DatasetSpec:
    """The demo data set: a ~330 kb genome and a rare-disease trio (proband at 30x)."""
    genome = GenomeSpec(
        contigs=(
            ContigSpec("chr1", 150_000, AUTOSOME, genes=3),
            ContigSpec("chr2", 110_000, AUTOSOME, genes=3),
            ContigSpec("chrX", 45_000, CHR_X, genes=1),
            ContigSpec("chrY", 25_000, CHR_Y),
        ),
        gap_contig="chr1",
        gap_length=1500,
        segdup_source="chr1",
        segdup_copy="chr2",
        segdup_length=5000,
        segdup_divergence=0.015,
    )
    father = SampleSpec("RD002", MALE, "father")
    mother = SampleSpec("RD003", FEMALE, "mother")
    proband = SampleSpec("RD001", MALE, "proband", father="RD002", mother="RD003")
    members = (
        Member(father, (UnitSpec("L001", 25.0),)),
        Member(mother, (UnitSpec("L001", 25.0),)),
        Member(proband, (UnitSpec("L001", 15.0), UnitSpec("L002", 15.0))),
    )
    planted = (
        # Compound heterozygous in GFD4 (chr2) and a maternal X-linked stop in GFK7.
        PlantedVariant("GFD4", "missense", parent="RD002", child="RD001"),
        PlantedVariant("GFD4", "frameshift", parent="RD003", child="RD001"),
        PlantedVariant("GFK7", "stop_gained", parent="RD003", child="RD001"),
    )
    # Germline SVs (truth/sv.vcf.gz): a deletion the proband inherits from his father, a de
    # novo tandem duplication, an inversion inherited from the mother. A parent's copy -1 is
    # the one the proband received (resolved from the truth's transmissions).
    structural = (
        StructuralVariant(
            DEL, "chr1", 112_300, 114_500, (("RD002", -1), ("RD001", 0)), "inherited"
        ),
        StructuralVariant(DUP, "chr2", 70_000, 72_500, (("RD001", 1),), "de_novo"),
        StructuralVariant(
            INV, "chr1", 140_000, 142_000, (("RD003", -1), ("RD001", 1)), "inherited"
        ),
    )
    return DatasetSpec(genome, "FAM001", members, planted, gzip_level=9, structural=structural)


def make_benchgenome_spec(length_mb: float = 1.0, coverage: float = 60.0) -> DatasetSpec:
    """A single-sample benchmark data set over three autosomes (~``length_mb`` Mb)."""
    if not 0.1 <= length_mb <= 50:
        raise GenomflowError(f"--length-mb must be between 0.1 and 50, not {length_mb}")
    if not 1 <= coverage <= 500:
        raise GenomflowError(f"--coverage must be between 1 and 500, not {coverage}")
    total = length_mb * 1e6
    genes = max(len(BENCH_CONTIGS), round(BENCH_GENES_PER_MB * length_mb))
    contigs = tuple(
        ContigSpec(name, int(total * share), AUTOSOME, genes=round(genes * share))
        for name, share in BENCH_CONTIGS
    )
    genome = GenomeSpec(contigs, gap_contig="chr1", segdup_source="chr1", segdup_copy="chr2")
    sample = SampleSpec(BENCH_SAMPLE, FEMALE, "proband")
    return DatasetSpec(genome, "BENCH", (Member(sample, (UnitSpec("L001", coverage),)),))


def scale_coverage(spec: DatasetSpec, factor: float) -> DatasetSpec:
    """A copy of ``spec`` with every unit's coverage multiplied by ``factor`` (for quick runs)."""
    members = tuple(
        replace(m, units=tuple(replace(u, coverage=u.coverage * factor) for u in m.units))
        for m in spec.members
    )
    return replace(spec, members=members)


def fastq_paths(sample: str, unit: str) -> tuple[str, str]:
    """Relative paths of a unit's FASTQ files inside a data set directory."""
    stem = f"{READS_DIR}/{sample}_{unit}"
    return f"{stem}_R1.fastq.gz", f"{stem}_R2.fastq.gz"


def build_dataset(spec: DatasetSpec, seed: int) -> Dataset:
    """Build the reference and truth of a data set (no reads, nothing written)."""
    reference = build_reference(spec.genome, seed)
    truth = simulate_truth(reference, spec.samples, rng_for(seed, "variants"), spec.planted)
    return Dataset(spec, seed, reference, truth)


def generate(spec: DatasetSpec, out_dir: Path, seed: int = DEFAULT_SEED) -> Dataset:
    """Build a data set from ``seed`` and write all of its files into ``out_dir``."""
    dataset = build_dataset(spec, seed)
    write_dataset_files(dataset, out_dir)
    units = [(member, unit) for member in spec.members for unit in member.units]
    for member, unit in progress(units, "simulating units", unit="unit"):
        dataset.units[(member.sample.sample, unit.unit)] = write_unit_reads(
            dataset, member, unit, out_dir
        )
    return dataset


def write_dataset_files(dataset: Dataset, out_dir: Path) -> None:
    """Write everything except the reads."""
    spec, reference = dataset.spec, dataset.reference
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / READS_DIR).mkdir(parents=True, exist_ok=True)
    write_fasta(out_dir / GENOME_FASTA, reference.sequences)
    write_gff3(out_dir / GENES_GFF3, reference.genes, reference.lengths)
    write_features_bed(out_dir / FEATURES_BED, reference)
    write_truth_vcf(out_dir / TRUTH_VCF, dataset.truth, dataset.seed)
    if spec.structural:
        svs = resolve_carriers(spec.structural, dataset.truth, spec.samples)
        names = [s.sample for s in spec.samples]
        write_sv_truth(out_dir / SV_TRUTH_VCF, svs, dataset.truth, names)
    sites = common_snp_sites(reference, dataset.truth, spec.common_snps)
    write_common_snps_vcf(out_dir / COMMON_SNPS_VCF, reference.lengths, sites, dataset.seed)
    write_cohort_tsv(out_dir / COHORT_TSV, spec)
    write_ped(out_dir / COHORT_PED, spec)


def write_unit_reads(
    dataset: Dataset, member: Member, unit: UnitSpec, out_dir: Path
) -> UnitSummary:
    """Simulate and write the FASTQ pair of one unit."""
    sample = member.sample.sample
    copies = haplotype_sequences(dataset.reference, dataset.truth, sample)
    haplotypes = [seq for _, _, seq in copies]
    model = dataset.spec.read_model
    pairs = [pairs_for_depth(h.size, unit.coverage / 2, model.read_length) for h in haplotypes]
    r1, r2 = fastq_paths(sample, unit.unit)
    svs = resolve_carriers(dataset.spec.structural, dataset.truth, dataset.spec.samples)
    placed = place(svs, sample, dataset.truth, [(c, i) for c, i, _ in copies])
    edit = None
    if placed:
        edit_rng = rng_for(dataset.seed, "structural", sample, unit.unit)

        def edit(
            fragments: Fragments,
        ) -> tuple[np.ndarray, list[Seq], Fragments, np.random.Generator]:
            done = edit_fragments(fragments, haplotypes, placed, model, edit_rng)
            return done.keep, done.sequences, done.extra, edit_rng

    return simulate_unit(
        haplotypes,
        pairs,
        model,
        rng_for(dataset.seed, "reads", sample, unit.unit),
        r1_path=out_dir / r1,
        r2_path=out_dir / r2,
        prefix=f"{sample}.{unit.unit}",
        gzip_level=dataset.spec.gzip_level,
        edit=edit,
    )


def cohort_rows(spec: DatasetSpec) -> list[dict[str, str]]:
    """Rows of ``cohort.tsv``: one per sequencing unit."""
    rows = []
    for member in spec.members:
        sample = member.sample
        for unit in member.units:
            r1, r2 = fastq_paths(sample.sample, unit.unit)
            rows.append(
                {
                    "sample": sample.sample,
                    "sex": sample.sex,
                    "role": sample.role,
                    "father": sample.father or NO_PARENT,
                    "mother": sample.mother or NO_PARENT,
                    "family": spec.family,
                    "unit": unit.unit,
                    "coverage": f"{unit.coverage:g}",
                    "fastq_1": r1,
                    "fastq_2": r2,
                }
            )
    return rows


def write_cohort_tsv(path: Path, spec: DatasetSpec) -> None:
    """Write ``cohort.tsv``."""
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=COHORT_COLUMNS, delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(cohort_rows(spec))


def read_cohort_tsv(path: Path) -> list[dict[str, str]]:
    """Read ``cohort.tsv`` back as a list of rows."""
    return read_table(path, "cohort sheet", rectangular=True)[1]


def write_ped(path: Path, spec: DatasetSpec) -> None:
    """Write a PED file (family, sample, father, mother, sex 1/2, phenotype 2 for probands)."""
    lines = []
    for sample in _unique(spec.samples):
        sex = "1" if sample.sex == MALE else "2"
        phenotype = "2" if sample.role == "proband" else "1"
        father, mother = sample.father or NO_PARENT, sample.mother or NO_PARENT
        lines.append("\t".join((spec.family, sample.sample, father, mother, sex, phenotype)))
    path.write_text("\n".join(lines) + "\n")


def _unique(samples: Sequence[SampleSpec]) -> list[SampleSpec]:
    seen: dict[str, SampleSpec] = {}
    for sample in samples:
        seen.setdefault(sample.sample, sample)
    return list(seen.values())
