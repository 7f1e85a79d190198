"""Serial plasma samples of a cancer patient, with UMIs, for the ctDNA pipeline.

Built on the cancer data set (:mod:`genomflow.simulate.cancer`, same seed): the plasma of the
patient of ``spec.tumour`` (CA001T's PAT-0101) at several timepoints, each with its own
tumour fraction. Molecules are cfDNA-like fragments (~167 bp) captured on the panel's targets
(capture weights as the tissue samples, plus a few off-target ones). A molecule comes from the
patient's germline (one haplotype) and, with probability ``tumour_fraction``, from the tumour,
when it carries each of the tumour's somatic variants with probability VAF / purity (the
variant's share of tumour cells' alleles).

Each molecule gets a random UMI on each end (duplex library) and is sequenced as a family of
1 + Poisson(``mean_family_size`` - 1) PCR copies, each from the top or the bottom strand with
equal odds and with its own sequencing errors (the trio's quality-driven model). Reads are
``umi_length`` UMI bases then ``read_length - umi_length`` template bases: read structure
``8M92T 8M92T``. The top strand's read 1 starts at the fragment's left end with UMI *a*; the
bottom strand's read 1 starts at the right end with UMI *b*.

Everything is deterministic given the seed.
"""

from __future__ import annotations

import bisect
import csv
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genomflow.progress import progress
from genomflow.simulate.cancer import (
    CancerData,
    CancerSample,
    build_cancer,
    capture_weights,
    draw_fragments,
    fragment_template,
    make_cancer_spec,
    non_overlapping,
)
from genomflow.simulate.cohort import DEFAULT_SEED
from genomflow.simulate.common import Seq, rng_for
from genomflow.simulate.reads import (
    CHUNK_PAIRS,
    Fragments,
    ReadModel,
    build_pairs,
    fastq_records,
    open_fastq,
)
from genomflow.simulate.variants import Variant, ploidy_of

READS_DIR = "reads"
TIMEPOINTS_TSV = "timepoints.tsv"
#: Quality character of UMI bases (Q37, the top bin of the read model).
UMI_QUALITY = ord("F")
BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
TIMEPOINT_COLUMNS = (
    "sample",
    "patient",
    "tumour_sample",
    "collection_date",
    "tumour_fraction",
    "molecules",
    "tumour_molecules",
    "read_pairs",
    "read_structure",
    "fastq_1",
    "fastq_2",
)


@dataclass(frozen=True)
class Timepoint:
    """One plasma sample: its id, collection date (ISO) and true tumour fraction."""

    sample: str
    collection_date: str
    tumour_fraction: float


@dataclass(frozen=True)
class PlasmaSpec:
    """What :func:`generate_plasma` writes."""

    tumour: str
    timepoints: tuple[Timepoint, ...]
    #: Original molecules per target base (before PCR copies).
    molecule_depth: float = 120.0
    mean_family_size: float = 2.5
    umi_length: int = 8
    off_target_fraction: float = 0.05
    read_model: ReadModel = field(
        default_factory=lambda: ReadModel(
            read_length=100, insert_mean=167.0, insert_sd=12.0, insert_min=120, insert_max=240
        )
    )
    gzip_level: int = 9
    unit: str = "L001"

    @property
    def read_structure(self) -> str:
        template = self.read_model.read_length - self.umi_length
        return f"{self.umi_length}M{template}T {self.umi_length}M{template}T"


def make_plasma_spec() -> PlasmaSpec:
    """The demo: CA001T's patient at baseline, on treatment, after it, and at relapse."""
    return PlasmaSpec(
        tumour="CA001T",
        timepoints=(
            Timepoint("CA001P1", "2026-04-01", 5e-2),
            Timepoint("CA001P2", "2026-06-03", 8e-3),
            Timepoint("CA001P3", "2026-08-05", 0.0),
            Timepoint("CA001P4", "2026-10-07", 1e-2),
        ),
    )


@dataclass(frozen=True)
class _Carried:
    variant: Variant
    probability: float  # per tumour molecule; germline: 1.0 on its haplotype
    haplotype: int | None


def _alleles(data: CancerData, tumour: CancerSample) -> dict[str, list[_Carried]]:
    """Per contig, by position: the patient's germline alleles and the tumour's variants."""
    alleles: dict[str, list[_Carried]] = {c: [] for c in data.reference.sequences}
    for contig, variants in data.germline[tumour.patient].items():
        for germ in variants:
            for hap, carried in enumerate(germ.haplotypes):
                if carried:
                    alleles[contig].append(_Carried(germ.variant, 1.0, hap))
    purity = tumour.purity or 1.0
    for somatic in data.somatic:
        if somatic.tumour == tumour.sample:
            share = min(1.0, somatic.vaf / purity)
            alleles[somatic.variant.contig].append(_Carried(somatic.variant, share, None))
    for items in alleles.values():
        items.sort(key=lambda a: a.variant.pos)
    return alleles


@dataclass
class _Molecules:
    templates: list[Seq] = field(default_factory=list)
    tumour: int = 0


def _molecules(
    data: CancerData,
    spec: PlasmaSpec,
    tumour: CancerSample,
    point: Timepoint,
    rng: np.random.Generator,
) -> _Molecules:
    cancer_spec = dataclasses.replace(
        data.spec, read_model=spec.read_model, off_target_fraction=spec.off_target_fraction
    )
    plasma = dataclasses.replace(tumour, sample=point.sample, depth=spec.molecule_depth)
    weights = capture_weights(data, rng_for(data.seed, "plasma", "capture"))
    draws = draw_fragments(dataclasses.replace(data, spec=cancer_spec), plasma, weights, rng)
    alleles = _alleles(data, tumour)
    positions = {c: [a.variant.pos for a in items] for c, items in alleles.items()}
    out = _Molecules()
    for contig, start, length in zip(draws.contig, draws.start, draws.length, strict=True):
        copies = max(1, ploidy_of(data.reference.kind(contig), tumour.sex))
        hap = int(rng.integers(copies))
        from_tumour = bool(rng.random() < point.tumour_fraction)
        out.tumour += int(from_tumour)
        lo = bisect.bisect_left(positions[contig], start - 60)
        hi = bisect.bisect_right(positions[contig], start + length + 60)
        carried = [
            a.variant
            for a in alleles[contig][lo:hi]
            if (a.haplotype == hap)
            or (a.haplotype is None and from_tumour and rng.random() < a.probability)
        ]
        out.templates.append(
            fragment_template(
                data.reference.sequences[contig], start, length, non_overlapping(carried)
            )
        )
    return out


def _with_umis(reads: Seq, qualities: Seq, umis: Seq, length: int) -> tuple[Seq, Seq]:
    """Reads of ``length`` bases: the UMI, then the first template bases."""
    template = length - umis.shape[1]
    sequence = np.concatenate([umis, reads[:, :template]], axis=1)
    umi_quality = np.full(umis.shape, UMI_QUALITY, dtype=np.uint8)
    quality = np.concatenate([umi_quality, qualities[:, :template]], axis=1)
    return np.ascontiguousarray(sequence), np.ascontiguousarray(quality)


@dataclass(frozen=True)
class UmiFamilies:
    """The UMI families of ``count`` molecules: each molecule's UMI at either end (letters,
    one row per molecule) and, per read pair, its molecule (``source``, in molecule order)
    and strand (``top``)."""

    umi_a: np.ndarray
    umi_b: np.ndarray
    source: np.ndarray
    top: np.ndarray

    def umi(self, molecule: int, end: str = "a") -> str:
        """The UMI of one molecule's end ``a`` or ``b``, as text."""
        row = (self.umi_a if end == "a" else self.umi_b)[molecule]
        return bytes(row).decode()


def umi_families(
    rng: np.random.Generator, count: int, umi_length: int, mean_family_size: float
) -> UmiFamilies:
    """The one model of UMI families (the demo plasma and :mod:`genomflow.ctdna.simulate`):
    a random UMI at each end of each molecule, then 1 + Poisson(``mean_family_size`` - 1)
    PCR copies per molecule, each from the top or the bottom strand with equal odds.

    >>> families = umi_families(np.random.default_rng(1), 3, 4, 2.0)
    >>> families.umi_a.shape, int(families.source.size) >= 3, families.source[0]
    ((3, 4), True, np.int64(0))
    """
    umi_a = BASES[rng.integers(0, 4, size=(count, umi_length))]
    umi_b = BASES[rng.integers(0, 4, size=(count, umi_length))]
    family = 1 + rng.poisson(max(0.0, mean_family_size - 1), size=count)
    source = np.repeat(np.arange(count), family)
    top = rng.random(source.size) < 0.5
    return UmiFamilies(umi_a, umi_b, source, top)


def simulate_timepoint(
    data: CancerData, spec: PlasmaSpec, point: Timepoint, r1_path: Path, r2_path: Path
) -> dict[str, int]:
    """Write one plasma sample's FASTQ pair; return its molecule and read-pair counts."""
    tumour = next(s for s in data.spec.samples if s.sample == spec.tumour)
    rng = rng_for(data.seed, "plasma", point.sample)
    molecules = _molecules(data, spec, tumour, point, rng)
    count = len(molecules.templates)
    families = umi_families(rng, count, spec.umi_length, spec.mean_family_size)
    umi_a, umi_b, source, top = families.umi_a, families.umi_b, families.source, families.top
    order = rng.permutation(source.size)
    model = spec.read_model
    with open_fastq(r1_path, spec.gzip_level) as out1, open_fastq(r2_path, spec.gzip_level) as out2:
        for begin in range(0, order.size, CHUNK_PAIRS):
            chunk = order[begin : begin + CHUNK_PAIRS]
            templates = [molecules.templates[int(source[i])] for i in chunk]
            strand = top[chunk]
            fragments = Fragments(
                hap=np.arange(chunk.size, dtype=np.int64),
                start=np.zeros(chunk.size, dtype=np.int64),
                length=np.array([t.size for t in templates], dtype=np.int64),
                forward=strand,
            )
            pairs = build_pairs(templates, fragments, model, rng)
            first = np.where(strand[:, None], umi_a[source[chunk]], umi_b[source[chunk]])
            second = np.where(strand[:, None], umi_b[source[chunk]], umi_a[source[chunk]])
            pairs.r1, pairs.q1 = _with_umis(pairs.r1, pairs.q1, first, model.read_length)
            pairs.r2, pairs.q2 = _with_umis(pairs.r2, pairs.q2, second, model.read_length)
            text1, text2 = fastq_records(pairs, f"{point.sample}.{spec.unit}", begin + 1)
            out1.write(text1)
            out2.write(text2)
    return {"molecules": count, "tumour_molecules": molecules.tumour, "read_pairs": int(order.size)}


def fastq_paths(spec: PlasmaSpec, point: Timepoint) -> tuple[str, str]:
    stem = f"{READS_DIR}/{point.sample}_{spec.unit}"
    return f"{stem}_R1.fastq.gz", f"{stem}_R2.fastq.gz"


def generate_plasma(
    spec: PlasmaSpec, out_dir: Path, seed: int = DEFAULT_SEED
) -> list[dict[str, str]]:
    """Write every timepoint's reads and ``timepoints.tsv``; return the table's rows."""
    data = build_cancer(make_cancer_spec(), seed)
    tumour = next(s for s in data.spec.samples if s.sample == spec.tumour)
    (out_dir / READS_DIR).mkdir(parents=True, exist_ok=True)
    rows = []
    for point in progress(spec.timepoints, "simulating timepoints", unit="sample"):
        r1, r2 = fastq_paths(spec, point)
        counts = simulate_timepoint(data, spec, point, out_dir / r1, out_dir / r2)
        rows.append(
            {
                "sample": point.sample,
                "patient": tumour.patient,
                "tumour_sample": tumour.sample,
                "collection_date": point.collection_date,
                "tumour_fraction": f"{point.tumour_fraction:g}",
                **{key: str(value) for key, value in counts.items()},
                "read_structure": spec.read_structure,
                "fastq_1": r1,
                "fastq_2": r2,
            }
        )
    with (out_dir / TIMEPOINTS_TSV).open("w", newline="") as handle:
        writer = csv.DictWriter(
            handle, fieldnames=TIMEPOINT_COLUMNS, delimiter="\t", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(rows)
    return rows


def timepoints_of(rows: Sequence[dict[str, str]]) -> dict[str, float]:
    """Sample -> true tumour fraction, from ``timepoints.tsv`` rows."""
    return {row["sample"]: float(row["tumour_fraction"]) for row in rows}
