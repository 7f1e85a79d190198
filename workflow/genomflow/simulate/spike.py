"""Somatic SNVs spiked into real reads (in the manner of BAMSurgeon), for tests on real data.

Real reads keep everything a simulator gets wrong: their error profile, quality calibration,
GC and mapping biases. To measure a somatic caller on them, a "tumour" is made by changing the
base of a fraction of the fragments that cover chosen sites: each fragment (both mates) covering
a site carries the new allele with probability equal to the site's VAF. The positions of the
bases in each read come from an alignment of the same reads (any BAM of them); only bases that
show the reference are changed, in the original FASTQ orientation, and qualities are kept.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from genomflow.errors import GenomflowError

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


@dataclass(frozen=True)
class Spike:
    """An SNV to plant: 1-based position, alleles and the fraction of fragments to carry it."""

    contig: str
    pos: int
    ref: str
    alt: str
    vaf: float


#: read name -> mate (1 or 2) -> [(0-based offset in the FASTQ read, new base)]
Edits = dict[str, dict[int, list[tuple[int, str]]]]


def plan_edits(bam: Path, spikes: Sequence[Spike], rng: np.random.Generator) -> Edits:
    """The base changes that plant ``spikes`` into the reads of ``bam``.

    A fragment is drawn once per site (both mates agree); a mate whose base at the site is
    not the reference (a sequencing error or a deletion) is left alone.
    """
    edits: Edits = {}
    try:
        alignments = pysam.AlignmentFile(str(bam))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{bam}: cannot read the alignments: {err}") from err
    with alignments:
        for spike in spikes:
            carriers: dict[str, bool] = {}
            for column in alignments.pileup(
                spike.contig, spike.pos - 1, spike.pos, truncate=True, stepper="nofilter",
                ignore_overlaps=False, min_base_quality=0,
            ):  # fmt: skip
                for read in column.pileups:
                    if read.is_del or read.is_refskip or read.query_position is None:
                        continue
                    segment = read.alignment
                    name = str(segment.query_name)
                    if name not in carriers:
                        carriers[name] = bool(rng.random() < spike.vaf)
                    if not carriers[name]:
                        continue
                    sequence = str(segment.query_sequence)
                    if sequence[read.query_position] != spike.ref:
                        continue
                    offset, base = read.query_position, spike.alt
                    if segment.is_reverse:  # the FASTQ holds the read as sequenced
                        offset = len(sequence) - 1 - offset
                        base = base.translate(_COMPLEMENT)
                    mate = 1 if segment.is_read1 else 2
                    edits.setdefault(name, {}).setdefault(mate, []).append((offset, base))
    return edits


def _records(path: Path) -> Iterator[list[bytes]]:
    with gzip.open(path, "rb") as handle:
        while True:
            record = [handle.readline() for _ in range(4)]
            if not record[0]:
                return
            yield record


def _read_name(header: bytes) -> str:
    name = header[1:].split(maxsplit=1)[0].decode()
    return name[:-2] if name.endswith(("/1", "/2")) else name


def apply_edits(
    fastq: Path, mate: int, edits: Mapping[str, Mapping[int, list[tuple[int, str]]]], out: Path
) -> int:
    """Copy a gzipped FASTQ with the edits of ``mate`` applied; return the bases changed."""
    changed = 0
    with gzip.open(out, "wb", compresslevel=1) as handle:
        for header, sequence, plus, quality in _records(fastq):
            changes = edits.get(_read_name(header), {}).get(mate, [])
            if changes:
                bases = bytearray(sequence.rstrip(b"\n"))
                for offset, base in changes:
                    bases[offset] = ord(base)
                    changed += 1
                sequence = bytes(bases) + b"\n"
            handle.write(header + sequence + plus + quality)
    return changed


def write_truth(
    path: Path, spikes: Sequence[Spike], contigs: Mapping[str, int], sample: str
) -> None:
    """The spiked SNVs as a somatic truth VCF (GT, FORMAT/VAF, INFO/CONTEXT)."""
    header = pysam.VariantHeader()
    header.add_line("##source=genomflow.simulate.spike")
    for name, length in contigs.items():
        header.contigs.add(name, length=length)
    header.add_line('##INFO=<ID=CONTEXT,Number=1,Type=String,Description="spiked">')
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_line('##FORMAT=<ID=VAF,Number=1,Type=Float,Description="Planted VAF">')
    header.add_sample(sample)
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for spike in sorted(spikes, key=lambda s: (s.contig, s.pos)):
            record = out.new_record(
                contig=spike.contig, start=spike.pos - 1, alleles=(spike.ref, spike.alt)
            )
            record.info["CONTEXT"] = "spiked"
            record.samples[sample]["GT"] = (0, 1)
            record.samples[sample]["VAF"] = spike.vaf
            out.write(record)
    pysam.tabix_index(str(path), preset="vcf", force=True)


@dataclass(frozen=True)
class SpikedPair:
    """A tumour/normal pair made from one sample's real reads (see :func:`spiked_pair`)."""

    reference: Path
    tumour: tuple[Path, Path]
    normal: tuple[Path, Path]
    truth: Path
    spikes: tuple[Spike, ...]


def _split_pairs(
    fastqs: tuple[Path, Path], out_dir: Path
) -> tuple[tuple[Path, Path], tuple[Path, Path]]:
    """Alternate read pairs into two halves (a "tumour" and a "normal" of the same person)."""
    halves = (
        (out_dir / "half1_R1.fastq.gz", out_dir / "half1_R2.fastq.gz"),
        (out_dir / "half2_R1.fastq.gz", out_dir / "half2_R2.fastq.gz"),
    )
    for mate in (0, 1):
        with (
            gzip.open(halves[0][mate], "wb", compresslevel=1) as first,
            gzip.open(halves[1][mate], "wb", compresslevel=1) as second,
        ):
            for number, record in enumerate(_records(fastqs[mate])):
                (first if number % 2 == 0 else second).write(b"".join(record))
    return halves


def _align(reference: Path, fastqs: tuple[Path, Path], bam: Path) -> None:
    """bwa mem, sorted and indexed (only to know where each read's bases lie)."""
    import subprocess

    subprocess.run(["bwa", "index", str(reference)], check=True, capture_output=True)
    sam = subprocess.run(
        ["bwa", "mem", str(reference), str(fastqs[0]), str(fastqs[1])],
        check=True,
        capture_output=True,
    ).stdout
    unsorted = bam.with_suffix(".unsorted.sam")
    unsorted.write_bytes(sam)
    pysam.sort("-o", str(bam), str(unsorted))
    pysam.index(str(bam))
    unsorted.unlink()


def choose_sites(
    reference: Path, avoid: Sequence[int], count: int, vafs: Sequence[float], margin: int = 300
) -> list[Spike]:
    """``count`` SNVs evenly spaced over the first contig, 25 bp or more from ``avoid``."""
    with pysam.FastaFile(str(reference)) as fasta:
        contig = fasta.references[0]
        sequence = fasta.fetch(contig).upper()
    step = max(1, (len(sequence) - 2 * margin) // count)
    spikes: list[Spike] = []
    for pos in range(margin, len(sequence) - margin, step):
        base = sequence[pos - 1]
        if base not in "ACGT" or any(abs(pos - other) < 25 for other in avoid):
            continue
        alt = "ACGT"["ACGT".index(base) ^ 1]  # a fixed transversion (A<>C, G<>T)
        spikes.append(Spike(contig, pos, base, alt, vafs[len(spikes) % len(vafs)]))
        if len(spikes) == count:
            break
    return spikes


def spiked_pair(
    reference: Path,
    fastqs: tuple[Path, Path],
    known: Path,
    out_dir: Path,
    count: int,
    vafs: Sequence[float],
    seed: int = 1,
) -> SpikedPair:
    """Split one sample's pairs into two halves, spike SNVs into the first (the tumour).

    ``known`` is a VCF of the sample's own variants, kept clear of the spiked sites.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    local = out_dir / "reference.fa"
    local.write_bytes(reference.read_bytes())
    pysam.faidx(str(local))
    tumour, normal = _split_pairs(fastqs, out_dir)
    bam = out_dir / "tumour.bam"
    _align(local, tumour, bam)
    with pysam.VariantFile(str(known)) as vcf:
        avoid = [int(record.pos) for record in vcf]
    spikes = choose_sites(local, avoid, count, vafs)
    edits = plan_edits(bam, spikes, np.random.default_rng(seed))
    spiked = (out_dir / "tumour_R1.fastq.gz", out_dir / "tumour_R2.fastq.gz")
    for mate in (1, 2):
        apply_edits(tumour[mate - 1], mate, edits, spiked[mate - 1])
    with pysam.FastaFile(str(local)) as fasta:
        contigs = dict(zip(fasta.references, fasta.lengths, strict=True))
    truth = out_dir / "truth.vcf.gz"
    write_truth(truth, spikes, contigs, "TUMOUR")
    return SpikedPair(local, spiked, normal, truth, tuple(spikes))
