"""Whole-genome germline copy-number test data: one person with large deletions and
duplications (>= 10 kb), for CNVkit on whole genomes (``cnv.wgs``).

Built on the trio test genome (same reference and population catalogue, whose files it does
not touch). :func:`generate_wgs_cnv` writes::

    truth/copy_number.tsv          the planted events (WGS_CNV_COLUMNS), 0-based half-open
    cohort.tsv                     the sample, its unit, depth and FASTQ paths
    reads/<sample>_L001_R{1,2}.fastq.gz

The person (female) draws catalogue alleles as a founder of the trio does. Each event gives
each of the person's two haplotypes a number of copies of its region (0: deleted, 1, 2:
duplicated in tandem). Fragments are drawn uniformly over the genome and a haplotype, and
kept with probability (copies of the region on that haplotype at the fragment's middle) / 2,
so the read depth follows the copy number; a fragment is the reference sequence with the
haplotype's germline alleles (the junctions of the events are not modelled: depth only).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genomflow.errors import GenomflowError
from genomflow.simulate.cancer import (
    FLANK,
    CancerSample,
    FastqTarget,
    GermlineVariant,
    catalogue_germline,
    cohort_row,
    fastq_paths,
    fragment_template,
    non_overlapping,
    write_cohort_rows,
    write_fragment_reads,
)
from genomflow.simulate.cohort import DEFAULT_SEED, build_dataset, make_testgenome_spec
from genomflow.simulate.common import N_CODE, Seq, rng_for
from genomflow.simulate.genome import Reference
from genomflow.simulate.reads import ReadModel
from genomflow.simulate.variants import FEMALE, Variant, ploidy_of

TRUTH_TSV = "truth/copy_number.tsv"
COHORT_TSV = "cohort.tsv"
READS_DIR = "reads"
WGS_CNV_COLUMNS = ("sample", "contig", "start", "end", "copies", "svtype", "genotype")


@dataclass(frozen=True)
class CopyNumberEvent:
    """Copies of ``contig:start-end`` on each of the person's two haplotypes (0, 1 or 2)."""

    contig: str
    start: int
    end: int
    haplotypes: tuple[int, int]

    @property
    def copies(self) -> int:
        return sum(self.haplotypes)

    @property
    def svtype(self) -> str:
        return "DEL" if self.copies < 2 else "DUP"

    @property
    def genotype(self) -> str:
        """The genotype a caller should give (0/1, 1/1; ./1 for 4 or more copies).

        >>> [CopyNumberEvent("c", 0, 1, h).genotype for h in ((0, 1), (0, 0), (2, 1), (2, 2))]
        ['0/1', '1/1', '0/1', './1']
        """
        if self.copies == 0:
            return "1/1"
        if self.copies in (1, 3):
            return "0/1"
        return "./1"


@dataclass(frozen=True)
class WgsCnvSpec:
    """Everything :func:`generate_wgs_cnv` needs besides the seed."""

    sample: str = "CNV001"
    patient: str = "PAT-0301"
    depth: float = 30.0
    #: On the 330 kb test genome, clear of its N gap (chr1:123917-125417) and segmental
    #: duplication (chr1:87481-92481, chr2:100113-105113); the duplication covers GFC3.
    events: tuple[CopyNumberEvent, ...] = (
        CopyNumberEvent("chr1", 20_000, 35_000, (0, 1)),
        CopyNumberEvent("chr1", 52_000, 66_000, (2, 1)),
        CopyNumberEvent("chr2", 10_000, 22_000, (0, 0)),
        CopyNumberEvent("chr2", 78_000, 93_000, (2, 2)),
    )
    duplicate_fraction: float = 0.05
    read_model: ReadModel = field(default_factory=ReadModel)
    gzip_level: int = 1


def haplotype_copies(
    events: tuple[CopyNumberEvent, ...], contig: str, position: int, hap: int
) -> int:
    """Copies of ``contig:position`` on haplotype ``hap`` (1 outside every event).

    >>> events = (CopyNumberEvent("c", 10, 20, (0, 2)),)
    >>> [haplotype_copies(events, "c", p, h) for p, h in ((15, 0), (15, 1), (20, 1))]
    [0, 2, 1]
    """
    for event in events:
        if event.contig == contig and event.start <= position < event.end:
            return event.haplotypes[hap]
    return 1


def _check(reference: Reference, events: tuple[CopyNumberEvent, ...]) -> None:
    for event in events:
        length = reference.lengths.get(event.contig)
        if length is None or not 0 <= event.start < event.end <= length:
            raise GenomflowError(f"copy-number event {event} is outside the reference")
        if ploidy_of(reference.kind(event.contig), FEMALE) != 2:
            raise GenomflowError(f"copy-number event {event} is not on an autosome or chrX")


def _haplotype_alleles(carried: list[GermlineVariant]) -> list[tuple[Variant, int]]:
    """(variant, haplotype) of every allele the person carries, by position."""
    pairs = [(g.variant, h) for g in carried for h, on in enumerate(g.haplotypes) if on]
    return sorted(pairs, key=lambda item: item[0].pos)


def simulate_reads(
    reference: Reference,
    germline: dict[str, list[GermlineVariant]],
    spec: WgsCnvSpec,
    rng: np.random.Generator,
    target: FastqTarget,
) -> int:
    """Write the sample's FASTQ pair; return the number of pairs (duplicates included)."""
    model = spec.read_model
    names = [c for c in reference.sequences if ploidy_of(reference.kind(c), FEMALE) > 0]
    sizes = np.array([reference.sequences[c].size for c in names], dtype=float)
    # Pairs for `depth` over two copies of the genome, each at half of it; every try is a try
    # at two copies per haplotype (kept with probability copies / 2): twice as many tries.
    tries = 2 * round(spec.depth * sizes.sum() / (2 * model.read_length))
    alleles = {c: _haplotype_alleles(germline.get(c, [])) for c in names}
    positions = {c: [v.pos for v, _ in items] for c, items in alleles.items()}
    templates: list[Seq] = []
    for _ in range(tries):
        contig = names[int(rng.choice(len(names), p=sizes / sizes.sum()))]
        seq = reference.sequences[contig]
        length = int(np.clip(round(rng.normal(model.insert_mean, model.insert_sd)),
                             model.insert_min, model.insert_max))  # fmt: skip
        start = int(rng.integers(0, seq.size - length))
        hap = int(rng.integers(2))
        keep = rng.random() < haplotype_copies(spec.events, contig, start + length // 2, hap) / 2
        if not keep or (seq[start : start + length] == N_CODE).any():
            continue
        lo = bisect.bisect_left(positions[contig], start - FLANK)
        hi = bisect.bisect_right(positions[contig], start + length + FLANK)
        carried = [v for v, on in alleles[contig][lo:hi] if on == hap]
        templates.append(fragment_template(seq, start, length, non_overlapping(carried)))
    return write_fragment_reads(templates, model, spec.duplicate_fraction, rng, target)


def write_truth(path: Path, spec: WgsCnvSpec) -> None:
    """The planted events, one row each (:data:`WGS_CNV_COLUMNS`)."""
    rows = [
        (spec.sample, e.contig, e.start, e.end, e.copies, e.svtype, e.genotype) for e in spec.events
    ]
    path.write_text(
        "\t".join(WGS_CNV_COLUMNS) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows)
    )


def generate_wgs_cnv(
    out_dir: Path, spec: WgsCnvSpec | None = None, seed: int = DEFAULT_SEED
) -> int:
    """Write the data set into ``out_dir``; return the sample's read pairs."""
    spec = spec or WgsCnvSpec()
    base = build_dataset(make_testgenome_spec(), seed)
    _check(base.reference, spec.events)
    germline = catalogue_germline(base, FEMALE, rng_for(seed, "wgs-cnv", "germline"))
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / READS_DIR).mkdir(parents=True, exist_ok=True)
    write_truth(out_dir / TRUTH_TSV, spec)
    sample = CancerSample(spec.sample, spec.patient, FEMALE, "germline", spec.depth)
    r1, r2 = fastq_paths(sample)
    target = FastqTarget(out_dir / r1, out_dir / r2, f"{spec.sample}.L001", spec.gzip_level)
    pairs = simulate_reads(
        base.reference, germline, spec, rng_for(seed, "wgs-cnv", "reads"), target
    )
    write_cohort_rows(out_dir / COHORT_TSV, [cohort_row(sample, "wgs", "", pairs)])
    return pairs
