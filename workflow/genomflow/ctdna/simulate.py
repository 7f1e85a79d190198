"""Small plasma data sets with known tumour fractions, for tests and demonstrations.

* :func:`write_reference`: a random genome (FASTA + .fai);
* :func:`choose_loci` and :func:`write_tumour_vcf`: somatic SNVs of a tumour, as
  ``genomflow somatic classify`` writes them (FORMAT AF of the tumour, ``##tumor_sample`` and
  ``##tumour_purity`` in the header), with some non-PASS records that must not be tracked;
* :func:`write_plasma_bam`: aligned read pairs around every locus from cfDNA-like fragments.
  A fragment comes from the tumour with probability ``tumour_fraction`` and then carries the
  alt allele with probability ``tumour_allele_fraction``; each molecule is sequenced as a
  family of PCR copies (1 + Poisson(``mean_family_size`` - 1) read pairs, drawn by the one
  UMI-family model :func:`genomflow.simulate.plasma.umi_families`) that share its UMI
  (in the read name after ``:``, as fastp writes it, or in an ``RX`` tag) and get
  independent sequencing errors (``error_rate`` per base, at a lower base quality), after
  the molecule's own errors (``molecule_error_rate`` per base: damage or a first-cycle PCR
  error, on both strands, seen by every copy and read at a good quality). With
  ``duplex`` both reads carry a UMI and copies come from both strands of the molecule (the
  bottom strand's read 1 starts at the fragment's right end, its UMI pair swapped).

Everything is deterministic given the seed.
"""

from __future__ import annotations

import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from genomflow.ctdna.counts import Locus
from genomflow.simulate.plasma import umi_families

BASES = "ACGT"
#: Base qualities of correct and of erroneous bases.
GOOD_QUALITY = 37
ERROR_QUALITY = 25


@dataclass(frozen=True)
class PlasmaSpec:
    """How a plasma BAM is simulated."""

    tumour_fraction: float
    molecules_per_locus: int = 400
    mean_family_size: float = 3.0
    #: Share of tumour molecules carrying the alt allele (0.5: clonal heterozygous).
    tumour_allele_fraction: float = 0.5
    error_rate: float = 2e-3
    #: Errors of the molecule itself (every copy and both mates show them).
    molecule_error_rate: float = 0.0
    read_length: int = 100
    fragment_mean: int = 167
    fragment_sd: int = 10
    umi_length: int = 8
    duplex: bool = False
    #: ``name``: UMI after the last ':' of the read name; ``tag``: RX tag.
    umi_in: str = "name"
    seed: int = 1


def write_reference(path: Path, contigs: dict[str, int], seed: int = 1) -> dict[str, str]:
    """A random genome written as FASTA (60 columns) with its .fai; returns the sequences."""
    rng = np.random.default_rng(seed)
    sequences = {
        name: "".join(rng.choice(list(BASES), size=length)) for name, length in contigs.items()
    }
    with path.open("w") as out:
        for name, sequence in sequences.items():
            out.write(f">{name}\n")
            for start in range(0, len(sequence), 60):
                out.write(sequence[start : start + 60] + "\n")
    pysam.faidx(str(path))
    return sequences


def choose_loci(
    sequences: dict[str, str],
    count: int,
    tumour_vaf: float = 0.3,
    spacing: int = 1000,
    seed: int = 2,
) -> list[Locus]:
    """``count`` SNVs spread ``spacing`` bp apart over the contigs (away from their ends)."""
    rng = np.random.default_rng(seed)
    slots = [
        (name, pos)
        for name, sequence in sequences.items()
        for pos in range(spacing, len(sequence) - spacing, spacing)
    ]
    if len(slots) < count:
        raise ValueError(f"room for {len(slots)} loci, {count} asked")
    loci = []
    for name, pos in slots[:count]:
        ref = sequences[name][pos - 1]
        alt = str(rng.choice([b for b in BASES if b != ref]))
        loci.append(Locus(name, pos, ref, alt, tumour_vaf))
    return loci


def write_tumour_vcf(
    path: Path,
    loci: Sequence[Locus],
    sequences: dict[str, str],
    tumour: str = "TUMOUR",
    purity: float | None = 0.6,
    filtered: Sequence[Locus] = (),
) -> None:
    """A bgzipped, indexed somatic VCF: ``loci`` PASS, ``filtered`` with FILTER LowVAF."""
    header = pysam.VariantHeader()
    for name, sequence in sequences.items():
        header.contigs.add(name, length=len(sequence))
    header.add_line(f"##tumor_sample={tumour}")
    header.add_line(f"##tumour_purity={'.' if purity is None else purity}")
    header.filters.add("LowVAF", None, None, "Tumour VAF below the minimum")
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_line('##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction">')
    header.add_sample(tumour)
    records = [(x, "PASS") for x in loci] + [(x, "LowVAF") for x in filtered]
    records.sort(key=lambda item: (list(sequences).index(item[0].chrom), item[0].pos))
    plain = path.with_name(path.name.removesuffix(".gz") + ".tmp")
    with pysam.VariantFile(str(plain), "w", header=header) as vcf:
        for locus, flt in records:
            record = vcf.new_record(
                contig=locus.chrom,
                start=locus.start,
                alleles=(locus.ref, locus.alt),
                filter=flt,
            )
            record.samples[tumour]["GT"] = (0, 1)
            record.samples[tumour]["AF"] = (locus.tumour_vaf or 0.3,)
            vcf.write(record)
    pysam.tabix_compress(str(plain), str(path), force=True)
    plain.unlink()
    pysam.tabix_index(str(path), preset="vcf", force=True)


def _mutate(
    sequence: np.ndarray, rate: float, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Codes with random substitutions at ``rate``, and a mask of the substituted bases."""
    errors = rng.random(sequence.size) < rate
    if errors.any():
        shift = rng.integers(1, 4, size=int(errors.sum()))
        sequence = sequence.copy()
        sequence[errors] = (sequence[errors] + shift) % 4
    return sequence, errors


def _encode(sequence: str) -> np.ndarray:
    return np.frombuffer(sequence.encode(), dtype=np.uint8).copy()


_CODE_OF = np.full(256, 0, dtype=np.uint8)
for _i, _b in enumerate(BASES):
    _CODE_OF[ord(_b)] = _i
_LETTER = np.frombuffer(BASES.encode(), dtype=np.uint8)


@dataclass(frozen=True)
class _Fragment:
    chrom_id: int
    start: int
    codes: np.ndarray  # the top strand, A/C/G/T as 0..3
    umi_a: str
    umi_b: str


def write_plasma_bam(
    path: Path,
    sequences: dict[str, str],
    loci: Sequence[Locus],
    spec: PlasmaSpec,
    name_prefix: str = "sim",
    sample: str | None = None,
) -> dict[str, int]:
    """A coordinate-sorted, indexed BAM of UMI read families around ``loci``, of read group
    sample ``sample`` (default: the file's stem).

    Returns the numbers of molecules, alt molecules and read pairs written.
    """
    rng = np.random.default_rng(spec.seed)
    names = list(sequences)
    header = {
        "HD": {"VN": "1.6", "SO": "unsorted"},
        "SQ": [{"SN": n, "LN": len(sequences[n])} for n in names],
        "RG": [{"ID": "sim", "SM": sample or path.stem}],
    }
    tmp = path.with_name(path.name + ".unsorted.bam")
    stats = {"molecules": 0, "alt_molecules": 0, "read_pairs": 0}
    with pysam.AlignmentFile(str(tmp), "wb", header=header) as out:
        for locus in loci:
            chrom_id = names.index(locus.chrom)
            reference = sequences[locus.chrom]
            drawn = [
                _fragment(rng, spec, chrom_id, reference, locus)
                for _ in range(spec.molecules_per_locus)
            ]
            stats["molecules"] += len(drawn)
            stats["alt_molecules"] += sum(is_alt for _, is_alt in drawn)
            families = umi_families(rng, len(drawn), spec.umi_length, spec.mean_family_size)
            for molecule, strand in zip(families.source, families.top, strict=True):
                (chrom, start, codes), _ = drawn[molecule]
                umi_a, umi_b = families.umi(molecule, "a"), families.umi(molecule, "b")
                fragment = _Fragment(chrom, start, codes, umi_a, umi_b)
                top = not spec.duplex or bool(strand)
                stats["read_pairs"] += 1
                name = f"{name_prefix}{stats['read_pairs']}"
                for read in _read_pair(name, fragment, top, spec, rng):
                    out.write(read)
    pysam.sort("-o", str(path), str(tmp))
    tmp.unlink()
    pysam.index(str(path))
    return stats


def _fragment(
    rng: np.random.Generator,
    spec: PlasmaSpec,
    chrom_id: int,
    reference: str,
    locus: Locus,
) -> tuple[tuple[int, int, np.ndarray], bool]:
    """A molecule around ``locus`` (contig id, start, codes) and whether it carries the alt."""
    length = int(
        np.clip(
            rng.normal(spec.fragment_mean, spec.fragment_sd),
            spec.read_length + 10,
            2 * spec.read_length,
        )
    )
    start = locus.start - int(rng.integers(0, length))
    start = max(0, min(start, len(reference) - length))
    codes = _CODE_OF[_encode(reference[start : start + length])]
    if spec.molecule_error_rate > 0:
        codes, _ = _mutate(codes, spec.molecule_error_rate, rng)
    tumour = rng.random() < spec.tumour_fraction
    is_alt = bool(tumour and rng.random() < spec.tumour_allele_fraction)
    if is_alt and start <= locus.start < start + length:
        codes[locus.start - start] = BASES.index(locus.alt)
    return (chrom_id, start, codes), is_alt


def _read_pair(
    name: str,
    fragment: _Fragment,
    top: bool,
    spec: PlasmaSpec,
    rng: np.random.Generator,
) -> list[pysam.AlignedSegment]:
    """Read 1 and read 2 of one PCR copy (top strand: read 1 forward at the left end)."""
    length = fragment.codes.size
    read_length = min(spec.read_length, length)
    left = (fragment.start, fragment.codes[:read_length])
    right_start = fragment.start + length - read_length
    right = (right_start, fragment.codes[length - read_length :])
    if spec.duplex:
        umi = f"{fragment.umi_a}_{fragment.umi_b}" if top else f"{fragment.umi_b}_{fragment.umi_a}"
    else:
        umi = fragment.umi_a
    first, second = (left, right) if top else (right, left)
    reads = []
    for is_read1, (start, codes), (mate_start, _) in (
        (True, first, second),
        (False, second, first),
    ):
        reverse = is_read1 != top
        seq_codes, errors = _mutate(codes, spec.error_rate, rng)
        read = pysam.AlignedSegment()
        read.query_name = f"{name}:{umi}" if spec.umi_in == "name" else name
        read.flag = 0x1 | 0x2 | (0x40 if is_read1 else 0x80) | (0x10 if reverse else 0x20)
        read.reference_id = fragment.chrom_id
        read.reference_start = start
        read.mapping_quality = 60
        read.cigartuples = [(0, read_length)]
        read.next_reference_id = fragment.chrom_id
        read.next_reference_start = mate_start
        read.template_length = -length if reverse else length
        read.query_sequence = _LETTER[seq_codes].tobytes().decode()
        read.query_qualities = array.array(
            "B", np.where(errors, ERROR_QUALITY, GOOD_QUALITY).astype(np.uint8).tobytes()
        )
        read.set_tag("MC", f"{read_length}M")
        read.set_tag("RG", "sim")
        if spec.umi_in == "tag":
            read.set_tag("RX", umi.replace("_", "-"))
        reads.append(read)
    return reads


@dataclass(frozen=True)
class ReadSpec:
    """One hand-made read for small test BAMs (0-based ``start``, CIGAR as text)."""

    name: str
    start: int
    sequence: str
    cigar: str = ""
    quality: int = GOOD_QUALITY
    flag: int = 0x1 | 0x2 | 0x40 | 0x20
    mapq: int = 60
    mate_start: int = -1
    chrom: str = "chr1"
    tags: tuple[tuple[str, str | int], ...] = ()
    #: Per-base qualities overriding ``quality``.
    qualities: tuple[int, ...] = ()


def write_bam(path: Path, contigs: dict[str, int], reads: Sequence[ReadSpec]) -> Path:
    """A coordinate-sorted, indexed BAM of hand-made reads."""
    names = list(contigs)
    header = {
        "HD": {"VN": "1.6", "SO": "unsorted"},
        "SQ": [{"SN": n, "LN": length} for n, length in contigs.items()],
    }
    tmp = path.with_name(path.name + ".unsorted.bam")
    with pysam.AlignmentFile(str(tmp), "wb", header=header) as out:
        for spec in reads:
            read = pysam.AlignedSegment()
            read.query_name = spec.name
            read.flag = spec.flag
            read.reference_id = names.index(spec.chrom)
            read.reference_start = spec.start
            read.mapping_quality = spec.mapq
            read.cigarstring = spec.cigar or f"{len(spec.sequence)}M"
            read.next_reference_id = names.index(spec.chrom)
            read.next_reference_start = spec.mate_start if spec.mate_start >= 0 else spec.start
            read.query_sequence = spec.sequence
            qualities = spec.qualities or (spec.quality,) * len(spec.sequence)
            read.query_qualities = array.array("B", bytes(qualities))
            for tag, value in spec.tags:
                read.set_tag(tag, value)
            out.write(read)
    pysam.sort("-o", str(path), str(tmp))
    tmp.unlink()
    pysam.index(str(path))
    return path
