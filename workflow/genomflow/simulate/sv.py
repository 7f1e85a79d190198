"""Germline structural variants of the demo trio, planted into its reads.

Each :class:`StructuralVariant` lies on one haplotype of its carriers. The trio's reads are
drawn as before (:func:`genomflow.simulate.reads.simulate_unit`), then edited, so that every
read away from the events stays byte-identical:

* a deletion drops the carrier haplotype's fragments that overlap it, and adds fragments that
  span the new junction;
* a tandem duplication adds fragments across its junction (end -> start) and a second copy's
  worth of fragments inside it;
* an inversion drops the fragments that cross either breakpoint and adds fragments across
  the two inverted junctions.

The added fragments come from their own random stream and are written after the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from genomflow.simulate.common import Seq, reverse_complement
from genomflow.simulate.reads import Fragments, ReadModel
from genomflow.simulate.variants import SampleSpec, TruthSet, Variant

DEL, DUP, INV = "DEL", "DUP", "INV"


@dataclass(frozen=True)
class StructuralVariant:
    """A germline SV: 0-based half-open ``[start, end)`` on the reference, and its carriers
    as (sample, haplotype index) pairs (index 0 of a child is the paternal copy)."""

    kind: str
    contig: str
    start: int
    end: int
    carriers: tuple[tuple[str, int], ...]
    label: str = ""

    @property
    def length(self) -> int:
        return self.end - self.start

    def haplotypes_of(self, sample: str) -> tuple[int, ...]:
        return tuple(h for s, h in self.carriers if s == sample)


def to_haplotype(pos: int, variants: Sequence[Variant]) -> int:
    """A reference position on a haplotype carrying ``variants`` (sorted): shifted by the
    length changes of the indels before it.

    >>> to_haplotype(100, [Variant("c", 10, "A", "AT"), Variant("c", 50, "GCC", "G")])
    99
    """
    shift = 0
    for variant in variants:
        if variant.pos >= pos:
            break
        shift += len(variant.alt) - len(variant.ref)
    return pos + shift


@dataclass
class Edit:
    """What one unit's reads become: which drawn fragments to keep, and extra fragments
    (their sequences, and fragments over them)."""

    keep: np.ndarray
    sequences: list[Seq]
    extra: Fragments


@dataclass(frozen=True)
class Placed:
    """An SV on one of a unit's haplotypes: its index there, start and end on it."""

    sv: StructuralVariant
    hap: int
    start: int
    end: int


def place(
    svs: Sequence[StructuralVariant],
    sample: str,
    truth: TruthSet,
    hap_keys: Sequence[tuple[str, int]],
) -> list[Placed]:
    """The SVs ``sample`` carries, on its haplotypes (``hap_keys``: (contig, copy) of each)."""
    placed = []
    for sv in svs:
        for copy in sv.haplotypes_of(sample):
            variants = truth.haplotype_variants(sample, sv.contig, copy)
            placed.append(
                Placed(
                    sv,
                    list(hap_keys).index((sv.contig, copy)),
                    to_haplotype(sv.start, variants),
                    to_haplotype(sv.end, variants),
                )
            )
    return placed


def edit_fragments(
    fragments: Fragments,
    haplotypes: Sequence[Seq],
    events: Sequence[Placed],
    model: ReadModel,
    rng: np.random.Generator,
) -> Edit:
    """Apply ``events`` to the fragments drawn from ``haplotypes``."""
    keep = np.ones(len(fragments), dtype=bool)
    sequences: list[Seq] = []
    parts: list[Fragments] = []
    flank = model.insert_max
    for event in events:
        sv, hap, start, end = event.sv, event.hap, event.start, event.end
        seq = haplotypes[hap]
        density = _density(fragments, hap, seq.size)
        on = fragments.hap == hap
        first, last = fragments.start, fragments.start + fragments.length
        if sv.kind == DEL:
            keep &= ~(on & (first < end) & (last > start))
            junctions = [
                np.concatenate([seq[max(0, start - flank) : start], seq[end : end + flank]])
            ]
            cuts = [min(start, flank)]
        elif sv.kind == INV:
            crossing = (first < start) & (last > start) | (first < end) & (last > end)
            keep &= ~(on & crossing)
            inverted = reverse_complement(seq[start:end])
            junctions = [
                np.concatenate([seq[max(0, start - flank) : start], inverted[:flank]]),
                np.concatenate([inverted[-flank:], seq[end : end + flank]]),
            ]
            cuts = [min(start, flank), min(flank, end - start)]
        elif sv.kind == DUP:
            junctions = [
                np.concatenate([seq[max(start, end - flank) : end], seq[start : start + flank]])
            ]
            cuts = [min(flank, end - start)]
            interior = seq[start:end]
            sequences.append(interior)
            parts.append(_inside(interior, len(sequences) - 1, density, model, rng))
        else:
            raise ValueError(f"unknown SV kind {sv.kind!r}")
        for junction, cut in zip(junctions, cuts, strict=True):
            sequences.append(junction)
            parts.append(_spanning(junction, cut, len(sequences) - 1, density, model, rng))
    fields = ("hap", "start", "length", "forward")
    if parts:
        extra = Fragments(*(np.concatenate([getattr(p, f) for p in parts]) for f in fields))
    else:
        empty = np.zeros(0, dtype=np.int64)
        extra = Fragments(empty, empty, empty, np.zeros(0, dtype=bool))
    return Edit(keep, sequences, extra)


def _density(fragments: Fragments, hap: int, size: int) -> float:
    """Fragments per base of one haplotype."""
    return float((fragments.hap == hap).sum()) / size


def _lengths(model: ReadModel, count: int, rng: np.random.Generator, limit: int) -> np.ndarray:
    lengths = np.rint(rng.normal(model.insert_mean, model.insert_sd, count)).astype(np.int64)
    result: np.ndarray = np.clip(lengths, model.insert_min, min(model.insert_max, limit))
    return result


def _spanning(
    junction: Seq, cut: int, index: int, density: float, model: ReadModel, rng: np.random.Generator
) -> Fragments:
    """Fragments over ``junction`` that cross base ``cut`` (as many as cross a point)."""
    count = int(rng.poisson(density * model.insert_mean))
    lengths = _lengths(model, count, rng, junction.size)
    lo = np.maximum(0, cut - lengths + 1)
    hi = np.minimum(cut - 1, junction.size - lengths)
    starts = lo + (rng.random(count) * np.maximum(1, hi - lo + 1)).astype(np.int64)
    return Fragments(
        np.full(count, index, dtype=np.int64), starts, lengths, rng.random(count) < 0.5
    )


def _inside(
    seq: Seq, index: int, density: float, model: ReadModel, rng: np.random.Generator
) -> Fragments:
    """Fragments entirely inside ``seq`` at ``density`` per base."""
    count = int(rng.poisson(density * max(0, seq.size - model.insert_mean)))
    lengths = _lengths(model, count, rng, seq.size)
    starts = (rng.random(count) * (seq.size - lengths + 1)).astype(np.int64)
    return Fragments(
        np.full(count, index, dtype=np.int64), starts, lengths, rng.random(count) < 0.5
    )


def resolve_carriers(
    svs: Sequence[StructuralVariant], truth: TruthSet, samples: Sequence[SampleSpec]
) -> list[StructuralVariant]:
    """The SVs with each parent's copy -1 replaced by the copy its carrier child received."""
    by_name = {s.sample: s for s in samples}
    resolved = []
    for sv in svs:
        carriers = []
        for sample, copy in sv.carriers:
            if copy < 0:
                child, child_copy = next(
                    (c, h)
                    for c, h in sv.carriers
                    if h >= 0 and sample in (by_name[c].father, by_name[c].mother)
                )
                copy = transmitted(truth, child, child_copy, sample, sv.contig, sv.start)
            carriers.append((sample, copy))
        resolved.append(dataclasses.replace(sv, carriers=tuple(carriers)))
    return resolved


def genotype(sv: StructuralVariant, sample: str, ploidy: int) -> tuple[int, ...]:
    """The sample's genotype of ``sv`` (one allele per copy).

    >>> genotype(StructuralVariant("DEL", "c", 0, 10, (("A", 1),)), "A", 2)
    (0, 1)
    """
    carried = set(sv.haplotypes_of(sample))
    return tuple(1 if copy in carried else 0 for copy in range(ploidy))


def transmitted(
    truth: TruthSet, child: str, child_hap: int, parent: str, contig: str, pos: int
) -> int:
    """Which haplotype of ``parent`` the child's ``child_hap`` copies at ``pos``: the one that
    agrees with it at the nearest sites where the parent's two copies differ."""
    child_haps = truth.haplotypes[contig][child]
    parent_haps = truth.haplotypes[contig][parent]
    positions = np.array([v.pos for v in truth.variants[contig]])
    informative = np.flatnonzero(parent_haps[0] != parent_haps[1])
    if informative.size == 0:
        return 0
    nearest = informative[np.argsort(np.abs(positions[informative] - pos))[:5]]
    agree = [(parent_haps[h][nearest] == child_haps[child_hap][nearest]).sum() for h in (0, 1)]
    return int(np.argmax(agree))


def write_sv_truth(
    path: Path, svs: Sequence[StructuralVariant], truth: TruthSet, samples: Sequence[str]
) -> None:
    """The planted SVs as a bgzipped, indexed VCF: symbolic ALTs, SVTYPE, END, SVLEN, a GT
    per sample (phased: paternal|maternal) and INFO/ORIGIN (inherited or de_novo)."""
    header = pysam.VariantHeader()
    for name, length in truth.contig_lengths.items():
        header.contigs.add(name, length=length)
    for line in (
        '##ALT=<ID=DEL,Description="Deletion">',
        '##ALT=<ID=DUP,Description="Tandem duplication">',
        '##ALT=<ID=INV,Description="Inversion">',
        '##INFO=<ID=SVTYPE,Number=1,Type=String,Description="Type of the SV">',
        '##INFO=<ID=END,Number=1,Type=Integer,Description="Last base of the SV">',
        '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length (negative: deletion)">',
        '##INFO=<ID=ORIGIN,Number=1,Type=String,Description="inherited or de_novo">',
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    ):
        header.add_line(line)
    for sample in samples:
        header.add_sample(sample)
    unsorted = path.with_name(path.name + ".unsorted.vcf")
    with pysam.VariantFile(str(unsorted), "w", header=header) as out:
        for sv in sorted(svs, key=lambda v: (list(truth.contig_lengths).index(v.contig), v.start)):
            record = out.new_record(
                contig=sv.contig, start=sv.start - 1, stop=sv.end, alleles=("N", f"<{sv.kind}>")
            )
            record.info["SVTYPE"] = sv.kind
            record.info["SVLEN"] = -sv.length if sv.kind == DEL else sv.length
            record.info["ORIGIN"] = sv.label
            for sample in samples:
                record.samples[sample]["GT"] = genotype(sv, sample, 2)
                record.samples[sample].phased = True
            out.write(record)
    pysam.tabix_compress(str(unsorted), str(path), force=True)
    unsorted.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)
