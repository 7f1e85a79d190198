"""The reference genome: contigs with isochores, tandem repeats, a segmental duplication,
an N gap and protein-coding genes.

Construction order (all from one random stream per step):

1. lay out the large features (N gap, duplication source and copy, gene spans) so that
   they do not overlap;
2. fill every contig with isochore-like background sequence (segments of a few kb whose GC
   content wanders between ~35% and ~60%, with CpG depletion);
3. encode the genes (exons, UTRs, splice sites);
4. scatter homopolymers, di/tri-nucleotide STRs and minisatellites outside exons;
5. copy the duplication source (with ~1.5% substitutions) over the copy site;
6. overwrite the gap with ``N``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from genomflow.errors import GenomflowError
from genomflow.simulate.common import (
    BASES,
    N_CODE,
    Feature,
    Seq,
    gc_fraction,
    random_bases,
    reverse_complement,
    rng_for,
    to_str,
)
from genomflow.simulate.genes import GeneModel, GeneStructure, design_structure, write_gene

#: Contig kinds; they decide ploidy (see :mod:`genomflow.simulate.variants`).
AUTOSOME, CHR_X, CHR_Y = "autosome", "X", "Y"

#: Isochore model: segment length is log-normal around this median (bases) ...
ISOCHORE_MEDIAN_LENGTH = 3000
ISOCHORE_LOG_SD = 0.5
#: ... and GC content follows an AR(1) walk around this mean, clipped to this range.
ISOCHORE_GC_MEAN = 0.47
ISOCHORE_GC_AUTOCORRELATION = 0.7
ISOCHORE_GC_SD = 0.09
ISOCHORE_GC_RANGE = (0.35, 0.62)
#: Measured GC below/above which a segment is labelled ``gc_low``/``gc_high`` in the BED.
GC_LOW_LABEL, GC_HIGH_LABEL = 0.41, 0.51
#: Fraction of CpG dinucleotides turned into TpG/CpA (mammalian CpG depletion).
CPG_DEPLETION = 0.6

#: Tandem repeats.  Densities are per kb of contig; copy counts are inclusive ranges.
HOMOPOLYMER_PER_KB = 0.35
HOMOPOLYMER_LENGTH = (10, 22)
HOMOPOLYMER_AT_FRACTION = 0.8
STR_PER_KB = 0.3
STR_UNITS = (10, 40)
STR_DINUCLEOTIDE_FRACTION = 0.6
MINISATELLITE_PER_KB = 0.02
MINISATELLITE_UNIT = (15, 60)
MINISATELLITE_COPIES = (3, 8)
MINISATELLITE_DIVERGENCE = 0.03
#: Repeats keep this distance from exons and from each other.
REPEAT_MARGIN = 50

#: Large features keep this distance from each other and from contig ends during layout.
LAYOUT_MARGIN = 2000
LAYOUT_ATTEMPTS = 2000

#: Gene identifiers.
GENE_ID_PREFIX, TRANSCRIPT_ID_PREFIX, PROTEIN_ID_PREFIX = "GFG", "GFT", "GFP"
#: Invented gene symbols, used in order.
GENE_SYMBOLS = (
    "GFA1", "GFB2", "GFC3", "GFD4", "GFE5", "GFH6", "GFK7", "GFL8",
    "GFM9", "GFN10", "GFP11", "GFR12", "GFS13", "GFT14", "GFV15", "GFW16",
)  # fmt: skip
#: GC fraction of UTR sequence.
UTR_GC = 0.5
#: FASTA line width.
FASTA_WIDTH = 60


@dataclass(frozen=True)
class ContigSpec:
    """One contig of the genome to build."""

    name: str
    length: int
    kind: str = AUTOSOME
    genes: int = 0


@dataclass(frozen=True)
class GenomeSpec:
    """What to build: contigs, the N gap and the segmental duplication."""

    contigs: tuple[ContigSpec, ...]
    gap_contig: str | None = None
    gap_length: int = 1500
    segdup_source: str | None = None
    segdup_copy: str | None = None
    segdup_length: int = 5000
    segdup_divergence: float = 0.015

    def contig(self, name: str) -> ContigSpec:
        """The spec of contig ``name``."""
        for contig in self.contigs:
            if contig.name == name:
                return contig
        raise GenomflowError(f"genome spec has no contig {name!r}")


@dataclass
class Reference:
    """A built reference: sequences, annotated features and gene models."""

    spec: GenomeSpec
    sequences: dict[str, Seq]
    features: list[Feature] = field(default_factory=list)
    genes: list[GeneModel] = field(default_factory=list)

    @property
    def lengths(self) -> dict[str, int]:
        """Contig lengths in reference order."""
        return {name: int(seq.size) for name, seq in self.sequences.items()}

    def kind(self, contig: str) -> str:
        """Kind (autosome, X, Y) of a contig."""
        return self.spec.contig(contig).kind

    def features_named(self, *names: str) -> list[Feature]:
        """Features whose name is one of ``names``."""
        return [f for f in self.features if f.name in names]


@dataclass(frozen=True)
class _Slot:
    contig: str
    start: int
    end: int
    name: str
    structure: GeneStructure | None = None


def build_reference(spec: GenomeSpec, seed: int) -> Reference:
    """Build the reference genome described by ``spec``, deterministically from ``seed``."""
    slots = _layout(spec, rng_for(seed, "genome", "layout"))
    sequences: dict[str, Seq] = {}
    features: list[Feature] = []
    for contig in spec.contigs:
        seq, isochores = _background(contig, rng_for(seed, "genome", "background", contig.name))
        sequences[contig.name] = seq
        features += isochores
    genes = _write_genes(sequences, slots, rng_for(seed, "genome", "genes"))
    features += _write_repeats(spec, sequences, slots, genes, rng_for(seed, "genome", "repeats"))
    features += _write_segdup(spec, sequences, slots, rng_for(seed, "genome", "segdup"))
    features += _write_gap(sequences, slots)
    order = {c.name: i for i, c in enumerate(spec.contigs)}
    features.sort(key=lambda f: (order[f.contig], f.start, f.end, f.name))
    return Reference(spec, sequences, features, genes)


def _layout(spec: GenomeSpec, rng: np.random.Generator) -> list[_Slot]:
    """Place the gap, duplication and gene spans at non-overlapping random positions."""
    requests: list[tuple[str, int, str, GeneStructure | None]] = []
    if spec.gap_contig:
        requests.append((spec.gap_contig, spec.gap_length, "n_gap", None))
    if spec.segdup_source and spec.segdup_copy:
        requests.append((spec.segdup_source, spec.segdup_length, "segdup_source", None))
        requests.append((spec.segdup_copy, spec.segdup_length, "segdup_copy", None))
    for contig in spec.contigs:
        for _ in range(contig.genes):
            design = design_structure(rng)
            requests.append((contig.name, design.span, "gene", design))
    slots: list[_Slot] = []
    for contig_name, length, name, structure in requests:
        slots.append(_place(spec.contig(contig_name), length, name, structure, slots, rng))
    return slots


def _place(
    contig: ContigSpec,
    length: int,
    name: str,
    structure: GeneStructure | None,
    taken: list[_Slot],
    rng: np.random.Generator,
) -> _Slot:
    lo, hi = LAYOUT_MARGIN, contig.length - LAYOUT_MARGIN - length
    for _ in range(LAYOUT_ATTEMPTS):
        if hi <= lo:
            break
        start = int(rng.integers(lo, hi))
        slot = _Slot(contig.name, start, start + length, name, structure)
        if not any(
            s.contig == slot.contig
            and slot.start < s.end + LAYOUT_MARGIN
            and slot.end > s.start - LAYOUT_MARGIN
            for s in taken
        ):
            return slot
    raise GenomflowError(f"contig {contig.name} ({contig.length} bp) is too short for its features")


def _background(contig: ContigSpec, rng: np.random.Generator) -> tuple[Seq, list[Feature]]:
    """Isochore-like background sequence and its GC-class segments."""
    bounds = _isochore_bounds(contig.length, rng)
    gc_values = _isochore_gc(len(bounds) - 1, rng)
    pieces = [
        random_bases(rng, int(end - start), float(gc))
        for start, end, gc in zip(bounds[:-1], bounds[1:], gc_values, strict=True)
    ]
    seq = _deplete_cpg(np.concatenate(pieces), rng)
    features = []
    for start, end in itertools.pairwise(bounds):
        gc = gc_fraction(seq[start:end])
        label = "gc_low" if gc < GC_LOW_LABEL else "gc_high" if gc > GC_HIGH_LABEL else "gc_mid"
        features.append(Feature(contig.name, int(start), int(end), label))
    return seq, features


def _isochore_bounds(length: int, rng: np.random.Generator) -> list[int]:
    bounds = [0]
    while bounds[-1] < length:
        step = int(rng.lognormal(np.log(ISOCHORE_MEDIAN_LENGTH), ISOCHORE_LOG_SD))
        bounds.append(min(length, bounds[-1] + max(step, 500)))
    if len(bounds) > 2 and bounds[-1] - bounds[-2] < 500:
        del bounds[-2]
    return bounds


def _isochore_gc(count: int, rng: np.random.Generator) -> np.ndarray:
    values = np.empty(count)
    innovation = ISOCHORE_GC_SD * np.sqrt(1 - ISOCHORE_GC_AUTOCORRELATION**2)
    current = rng.normal(0.0, ISOCHORE_GC_SD)
    for i in range(count):
        values[i] = current
        current = ISOCHORE_GC_AUTOCORRELATION * current + rng.normal(0.0, innovation)
    return np.clip(ISOCHORE_GC_MEAN + values, *ISOCHORE_GC_RANGE)


def _deplete_cpg(seq: Seq, rng: np.random.Generator) -> Seq:
    """Turn a fraction of CpG into TpG (or CpA), as methylation-driven decay does."""
    cpg = np.flatnonzero((seq[:-1] == ord("C")) & (seq[1:] == ord("G")))
    hit = cpg[rng.random(cpg.size) < CPG_DEPLETION]
    to_tpg = rng.random(hit.size) < 0.5
    seq[hit[to_tpg]] = ord("T")
    seq[hit[~to_tpg] + 1] = ord("A")
    return seq


def _write_genes(
    sequences: dict[str, Seq], slots: list[_Slot], rng: np.random.Generator
) -> list[GeneModel]:
    genes = []
    gene_slots = [s for s in slots if s.name == "gene"]
    strands = _balanced_strands(len(gene_slots), rng)
    for number, (slot, strand) in enumerate(zip(gene_slots, strands, strict=True), start=1):
        assert slot.structure is not None
        symbol = GENE_SYMBOLS[(number - 1) % len(GENE_SYMBOLS)]
        ids = (
            f"{GENE_ID_PREFIX}{number:06d}",
            f"{TRANSCRIPT_ID_PREFIX}{number:06d}",
            f"{PROTEIN_ID_PREFIX}{number:06d}",
            symbol,
        )
        genes.append(
            write_gene(
                sequences[slot.contig],
                slot.structure,
                contig=slot.contig,
                start=slot.start,
                strand=strand,
                ids=ids,
                rng=rng,
                gc=UTR_GC,
            )
        )
    return genes


def _balanced_strands(count: int, rng: np.random.Generator) -> list[str]:
    """Alternate strands, in random order, so that both strands are represented."""
    strands = ["+" if i % 2 == 0 else "-" for i in range(count)]
    return [strands[i] for i in rng.permutation(count)]


def _write_repeats(
    spec: GenomeSpec,
    sequences: dict[str, Seq],
    slots: list[_Slot],
    genes: list[GeneModel],
    rng: np.random.Generator,
) -> list[Feature]:
    features: list[Feature] = []
    for contig in spec.contigs:
        seq = sequences[contig.name]
        blocked = _repeat_blocked_mask(contig, slots, genes)
        makers = (
            (HOMOPOLYMER_PER_KB, _homopolymer, "homopolymer"),
            (STR_PER_KB, _short_tandem_repeat, "str"),
            (MINISATELLITE_PER_KB, _minisatellite, "minisatellite"),
        )
        for per_kb, maker, name in makers:
            for _ in range(round(per_kb * contig.length / 1000)):
                unit_seq = maker(rng)
                start = _free_position(blocked, unit_seq.size, rng)
                if start is None:
                    continue
                seq[start : start + unit_seq.size] = unit_seq
                blocked[max(0, start - REPEAT_MARGIN) : start + unit_seq.size + REPEAT_MARGIN] = (
                    True
                )
                features.append(Feature(contig.name, start, start + unit_seq.size, name))
    return features


def _repeat_blocked_mask(
    contig: ContigSpec, slots: list[_Slot], genes: list[GeneModel]
) -> np.ndarray:
    blocked = np.zeros(contig.length, dtype=bool)
    blocked[:LAYOUT_MARGIN] = True
    blocked[contig.length - LAYOUT_MARGIN :] = True
    for slot in slots:
        if slot.contig == contig.name and slot.name != "gene":
            blocked[max(0, slot.start - REPEAT_MARGIN) : slot.end + REPEAT_MARGIN] = True
    for gene in genes:
        if gene.contig == contig.name:
            for start, end in gene.exons:
                blocked[max(0, start - REPEAT_MARGIN) : end + REPEAT_MARGIN] = True
    return blocked


def _free_position(blocked: np.ndarray, length: int, rng: np.random.Generator) -> int | None:
    for _ in range(100):
        start = int(rng.integers(0, blocked.size - length))
        if not blocked[start : start + length].any():
            return start
    return None


def _homopolymer(rng: np.random.Generator) -> Seq:
    at = rng.random() < HOMOPOLYMER_AT_FRACTION
    base = ord("A" if at else "C") if rng.random() < 0.5 else ord("T" if at else "G")
    length = int(rng.integers(HOMOPOLYMER_LENGTH[0], HOMOPOLYMER_LENGTH[1] + 1))
    return np.full(length, base, dtype=np.uint8)


def _short_tandem_repeat(rng: np.random.Generator) -> Seq:
    period = 2 if rng.random() < STR_DINUCLEOTIDE_FRACTION else 3
    unit = random_bases(rng, period)
    while np.all(unit == unit[0]):
        unit = random_bases(rng, period)
    log_lo, log_hi = np.log(STR_UNITS[0]), np.log(STR_UNITS[1] + 1)
    copies = int(np.exp(rng.uniform(log_lo, log_hi)))
    return np.tile(unit, copies)


def _minisatellite(rng: np.random.Generator) -> Seq:
    unit = random_bases(rng, int(rng.integers(MINISATELLITE_UNIT[0], MINISATELLITE_UNIT[1] + 1)))
    copies = int(rng.integers(MINISATELLITE_COPIES[0], MINISATELLITE_COPIES[1] + 1))
    seq = np.tile(unit, copies)
    mutate = np.flatnonzero(rng.random(seq.size) < MINISATELLITE_DIVERGENCE)
    seq[mutate] = _substitute(seq[mutate], rng)
    return seq


def _substitute(bases: Seq, rng: np.random.Generator) -> Seq:
    """Replace each base by a different random base."""
    index = np.searchsorted(BASES, bases)
    result: Seq = BASES[(index + rng.integers(1, 4, size=bases.size)) % 4]
    return result


def _write_segdup(
    spec: GenomeSpec, sequences: dict[str, Seq], slots: list[_Slot], rng: np.random.Generator
) -> list[Feature]:
    source = next((s for s in slots if s.name == "segdup_source"), None)
    copy = next((s for s in slots if s.name == "segdup_copy"), None)
    if source is None or copy is None:
        return []
    segment = sequences[source.contig][source.start : source.end].copy()
    if rng.random() < 0.5:
        segment = reverse_complement(segment)
    mutate = np.flatnonzero(rng.random(segment.size) < spec.segdup_divergence)
    segment[mutate] = _substitute(segment[mutate], rng)
    sequences[copy.contig][copy.start : copy.end] = segment
    return [
        Feature(source.contig, source.start, source.end, "segdup_source"),
        Feature(copy.contig, copy.start, copy.end, "segdup_copy"),
    ]


def _write_gap(sequences: dict[str, Seq], slots: list[_Slot]) -> list[Feature]:
    features = []
    for slot in slots:
        if slot.name == "n_gap":
            sequences[slot.contig][slot.start : slot.end] = N_CODE
            features.append(Feature(slot.contig, slot.start, slot.end, "n_gap"))
    return features


def write_fasta(path: Path, sequences: dict[str, Seq]) -> None:
    """Write sequences as FASTA with 60-column lines."""
    with path.open("w") as handle:
        for name, seq in sequences.items():
            handle.write(f">{name}\n")
            text = to_str(seq)
            for start in range(0, len(text), FASTA_WIDTH):
                handle.write(text[start : start + FASTA_WIDTH] + "\n")


def read_fasta(path: Path) -> dict[str, str]:
    """Read a FASTA file into a name -> sequence dictionary (for tests and checks)."""
    sequences: dict[str, list[str]] = {}
    current: list[str] = []
    for line in path.read_text().splitlines():
        if line.startswith(">"):
            current = sequences.setdefault(line[1:].split()[0], [])
        elif line:
            current.append(line.strip())
    return {name: "".join(parts) for name, parts in sequences.items()}


def write_features_bed(path: Path, reference: Reference) -> None:
    """Write the annotated features as a sorted 4-column BED."""
    lines = [f"{f.contig}\t{f.start}\t{f.end}\t{f.name}\n" for f in reference.features]
    path.write_text("".join(lines))
