"""Somatic test data from an independent read simulator: art_illumina on any reference.

Our own read simulator (:mod:`genomflow.simulate.reads`) shares its assumptions with the
caller it tests. This module uses ART (Huang et al. 2012, Bioinformatics 28:593; Debian
``art-nextgen-simulation-tools``, bioconda ``art``), with its empirical Illumina error and
quality profiles, on a reference we did not generate (a slice of real human sequence):

* a normal genome: germline SNVs and small indels on two haplotypes (heterozygous or
  homozygous), left-normalised;
* a tumour of nested clones: somatic variants at a ladder of allele fractions (a variant at
  VAF ``v`` is in a share ``2v`` of the cells, on one haplotype); each cell population's two
  haplotypes are written as FASTA and ART reads them at ``depth x share / 2`` each;
* ``truth/somatic.vcf.gz`` (sample ``TUMOUR``, GT and FORMAT/VAF, as :mod:`genomflow.somatic.
  evaluate` reads it) and ``truth/germline.vcf.gz``.

Reads of each ART run are renamed ``<sample>.<run>.<n>`` so that names stay unique, and the
runs are concatenated into one gzipped FASTQ pair per sample.
"""

from __future__ import annotations

import gzip
import itertools
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pysam

from genomflow.errors import GenomflowError
from genomflow.simulate.common import BASES, Seq, random_bases, to_seq, to_str
from genomflow.simulate.variants import Variant, apply_variants, normalize_indel

TUMOUR, NORMAL = "TUMOUR", "NORMAL"
#: Allele fractions of the tumour's clones, largest first (a clone's VAF x 2 = its cells).
DEFAULT_LADDER = (0.40, 0.30, 0.20, 0.15, 0.12, 0.10, 0.08, 0.06)


@dataclass(frozen=True)
class ArtSpec:
    """One simulated tumour/normal pair."""

    tumour_depth: float = 30.0
    normal_depth: float = 25.0
    read_length: int = 150
    fragment_mean: int = 250
    fragment_sd: int = 50
    #: ART's built-in profile (HSXt: HiSeq X TruSeq; HS25: HiSeq 2500; MSv3: MiSeq v3).
    profile: str = "HSXt"
    #: Shift of ART's quality scores (negative: more errors, quality still calibrated).
    quality_shift: int = 0
    ladder: tuple[float, ...] = DEFAULT_LADDER
    #: Somatic SNVs and indels per clone of the ladder.
    snvs_per_clone: int = 40
    indels_per_clone: int = 5
    germline_per_kb: float = 1.0
    germline_indel_share: float = 0.1
    spacing: int = 25
    #: Only this part of the reference (0-based start, end), or all of it.
    window: tuple[int, int] | None = None


#: Scenarios of the somatic tests and bench: depth, read and fragment lengths (mates overlap
#: where a fragment is shorter than two reads), ART's error profile.
SCENARIOS: dict[str, ArtSpec] = {
    # HiSeq X TruSeq, 2x150 on 250 bp fragments: most mates overlap; genome depth.
    "hsxt-30x-overlap": ArtSpec(),
    # HiSeq 2500, 2x125 on 400 bp fragments (no overlap), quality shifted down by 5 (three
    # times ART's error rate, still calibrated); a deeper genome.
    "hs25-60x-noisy": ArtSpec(
        tumour_depth=60.0,
        normal_depth=40.0,
        read_length=125,
        fragment_mean=400,
        fragment_sd=60,
        profile="HS25",
        quality_shift=-5,
    ),
    # HiSeq 2500, 2x150 on 220 bp fragments over 25 kb at panel depth, VAF down to 1%.
    "hs25-1000x-deep": ArtSpec(
        tumour_depth=1000.0,
        normal_depth=500.0,
        fragment_mean=220,
        fragment_sd=40,
        profile="HS25",
        ladder=(0.40, 0.20, 0.10, 0.05, 0.03, 0.02, 0.01),
        snvs_per_clone=8,
        indels_per_clone=1,
        spacing=60,
        window=(100_000, 125_000),
    ),
}


@dataclass(frozen=True)
class Planted:
    """A variant and where it is: germline (genotype) or somatic (clone index, haplotype)."""

    variant: Variant
    haplotypes: tuple[bool, bool]
    clone: int | None = None


def read_reference(fasta: Path, window: tuple[int, int] | None) -> tuple[str, Seq]:
    """The first contig of ``fasta`` (or a window of it), upper case, without N."""
    try:
        with pysam.FastaFile(str(fasta)) as handle:
            name = handle.references[0]
            start, end = window or (0, handle.get_reference_length(name))
            text = handle.fetch(name, start, end).upper()
    except (OSError, ValueError, KeyError) as err:
        raise GenomflowError(f"{fasta}: cannot read the reference: {err}") from err
    if "N" in text:
        raise GenomflowError(f"{fasta}: the simulated sequence must not hold N bases")
    return name, to_seq(text)


class _Spacer:
    """Positions kept free so that planted variants stay ``spacing`` apart."""

    def __init__(self, length: int, spacing: int) -> None:
        self.taken = np.zeros(length, dtype=bool)
        self.spacing = spacing

    def take(self, lo: int, hi: int) -> bool:
        lo, hi = max(0, lo - self.spacing), min(self.taken.size, hi + self.spacing)
        if self.taken[lo:hi].any():
            return False
        self.taken[lo:hi] = True
        return True


def _propose(
    seq: Seq, contig: str, rng: np.random.Generator, indel: bool
) -> tuple[Variant, int, int]:
    margin = 200
    pos = int(rng.integers(margin, seq.size - margin))
    if not indel:
        ref = chr(int(seq[pos]))
        alt = to_str(BASES[rng.integers(4, size=1)])
        while alt == ref:
            alt = to_str(BASES[rng.integers(4, size=1)])
        return Variant(contig, pos, ref, alt), pos, pos + 1
    length = int(rng.choice([1, 1, 1, 2, 2, 3, 4, 6]))
    anchor = chr(int(seq[pos]))
    if rng.random() < 0.5:
        ref, alt = to_str(seq[pos : pos + 1 + length]), anchor
    else:
        ref, alt = anchor, anchor + to_str(random_bases(rng, length))
    npos, nref, nalt, lo, hi = normalize_indel(seq, pos, ref, alt)
    return Variant(contig, npos, nref, nalt), lo, hi


def _plant(
    seq: Seq,
    contig: str,
    spacer: _Spacer,
    rng: np.random.Generator,
    count: int,
    indel: bool,
) -> Iterator[Variant]:
    placed = 0
    for _ in range(count * 200):
        if placed == count:
            return
        variant, lo, hi = _propose(seq, contig, rng, indel)
        if variant.ref != variant.alt and spacer.take(lo, hi):
            placed += 1
            yield variant
    raise GenomflowError(f"cannot place {count} variants {spacer.spacing} bp apart")


def plan_variants(contig: str, seq: Seq, spec: ArtSpec, rng: np.random.Generator) -> list[Planted]:
    """Germline variants (2/3 heterozygous) and each clone's somatic variants."""
    spacer = _Spacer(seq.size, spec.spacing)
    planted: list[Planted] = []
    germline = round(seq.size / 1000 * spec.germline_per_kb)
    indels = round(germline * spec.germline_indel_share)
    for indel, count in ((False, germline - indels), (True, indels)):
        for variant in _plant(seq, contig, spacer, rng, count, indel):
            hom = rng.random() < 1 / 3
            first = bool(rng.random() < 0.5)
            planted.append(Planted(variant, (True, True) if hom else (first, not first)))
    for clone in range(len(spec.ladder)):
        for indel, count in ((False, spec.snvs_per_clone), (True, spec.indels_per_clone)):
            for variant in _plant(seq, contig, spacer, rng, count, indel):
                first = bool(rng.random() < 0.5)
                labelled = Variant(
                    contig,
                    variant.pos,
                    variant.ref,
                    variant.alt,
                    "somatic",
                    0.0,
                    f"clone{clone + 1}",
                )
                planted.append(Planted(labelled, (first, not first), clone))
    planted.sort(key=lambda p: p.variant.pos)
    return planted


def _haplotype(seq: Seq, planted: Sequence[Planted], hap: int, clones: int) -> Seq:
    """Haplotype ``hap`` of the cells carrying the first ``clones`` clones' variants."""
    chosen = [
        p.variant for p in planted if p.haplotypes[hap] and (p.clone is None or p.clone < clones)
    ]
    return apply_variants(seq, chosen)


def populations(ladder: Sequence[float]) -> list[tuple[int, float]]:
    """Cell populations of nested clones: (clones carried, share of the tumour's cells).

    >>> populations((0.4, 0.2, 0.1))
    [(0, 0.2), (1, 0.4), (2, 0.2), (3, 0.2)]
    """
    cells = [2 * vaf for vaf in ladder] + [0.0]
    if any(b > a for a, b in itertools.pairwise(cells)) or cells[0] > 1:
        raise GenomflowError("the clone ladder must fall, with 2 x VAF <= 1")
    shares = [(0, round(1 - cells[0], 10))]
    shares += [(k + 1, round(cells[k] - cells[k + 1], 10)) for k in range(len(ladder))]
    return [(k, share) for k, share in shares if share > 0]


def run_art(
    fasta: Path, coverage: float, spec: ArtSpec, seed: int, prefix: Path
) -> tuple[Path, Path]:
    """Run art_illumina on one FASTA; return its two FASTQ files."""
    command = [
        "art_illumina", "-ss", spec.profile, "-i", str(fasta), "-p", "-l", str(spec.read_length),
        "-f", f"{coverage:.6g}", "-m", str(spec.fragment_mean), "-s", str(spec.fragment_sd),
        "-rs", str(seed), "-o", str(prefix), "-na", "-q",
    ]  # fmt: skip
    if spec.quality_shift:
        command += ["-qs", str(spec.quality_shift), "-qs2", str(spec.quality_shift)]
    if shutil.which("art_illumina") is None:
        raise GenomflowError("art_illumina not found (Debian: art-nextgen-simulation-tools)")
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise GenomflowError(f"art_illumina failed: {done.stderr.strip()[-500:]}")
    return Path(f"{prefix}1.fq"), Path(f"{prefix}2.fq")


def _append_renamed(source: Path, out: gzip.GzipFile, name: str, mate: int) -> int:
    """Copy a FASTQ, renaming its reads ``<name>.<n>``; return the number of reads."""
    count = 0
    with source.open("rb") as handle:
        for number, line in enumerate(handle):
            if number % 4 == 0:
                count += 1
                out.write(f"@{name}.{count}/{mate}\n".encode())
            elif number % 4 == 2:
                out.write(b"+\n")
            else:
                out.write(line)
    return count


def simulate_sample(
    contig: str,
    seq: Seq,
    planted: Sequence[Planted],
    shares: Sequence[tuple[int, float]],
    depth: float,
    spec: ArtSpec,
    seed: int,
    sample: str,
    out_dir: Path,
) -> int:
    """Reads of one sample: each population's two haplotypes at ``depth x share / 2``."""
    r1, r2 = out_dir / f"{sample}_R1.fastq.gz", out_dir / f"{sample}_R2.fastq.gz"
    pairs = 0
    with tempfile.TemporaryDirectory(prefix=f"art-{sample}-") as scratch:
        work = Path(scratch)
        with (
            gzip.open(r1, "wb", compresslevel=1) as out1,
            gzip.open(r2, "wb", compresslevel=1) as out2,
        ):
            for run, (clones, share) in enumerate((c, s) for c, s in shares for _ in range(2)):
                hap = run % 2
                fasta = work / f"p{run}.fa"
                fasta.write_text(f">{contig}\n{to_str(_haplotype(seq, planted, hap, clones))}\n")
                fq1, fq2 = run_art(fasta, depth * share / 2, spec, seed + run, work / f"p{run}_")
                name = f"{sample}.{run}"
                pairs += _append_renamed(fq1, out1, name, 1)
                _append_renamed(fq2, out2, name, 2)
    return pairs


def _write_truth(
    path: Path, contig: str, length: int, rows: Sequence[tuple[Variant, dict[str, object]]],
    sample: str, vaf: bool,
) -> None:  # fmt: skip
    header = pysam.VariantHeader()
    header.add_line("##source=genomflow.simulate.art")
    header.contigs.add(contig, length=length)
    header.add_line(
        '##INFO=<ID=CONTEXT,Number=1,Type=String,Description="germline, or the somatic '
        "variant's clone (clone1 = the largest)\">"
    )
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    if vaf:
        header.add_line('##FORMAT=<ID=VAF,Number=1,Type=Float,Description="Planted VAF">')
    header.add_sample(sample)
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for variant, values in rows:
            record = out.new_record(
                contig=contig, start=variant.pos, alleles=(variant.ref, variant.alt)
            )
            record.info["CONTEXT"] = variant.label or "germline"
            for key, value in values.items():
                record.samples[sample][key] = value
            out.write(record)
    pysam.tabix_index(str(path), preset="vcf", force=True)


@dataclass(frozen=True)
class ArtData:
    """What :func:`generate_art_somatic` wrote."""

    reference: Path
    planted: list[Planted]
    pairs: dict[str, int]


def generate_art_somatic(
    reference_fasta: Path, spec: ArtSpec, out_dir: Path, seed: int = 1
) -> ArtData:
    """Write ``reference.fa`` (the simulated sequence), the truth and both samples' reads."""
    contig, seq = read_reference(reference_fasta, spec.window)
    rng = np.random.default_rng(seed)
    planted = plan_variants(contig, seq, spec, rng)
    (out_dir / "truth").mkdir(parents=True, exist_ok=True)
    (out_dir / "reads").mkdir(parents=True, exist_ok=True)
    reference = out_dir / "reference.fa"
    reference.write_text(f">{contig}\n{to_str(seq)}\n")
    pysam.faidx(str(reference))
    somatic: list[tuple[Variant, dict[str, object]]] = [
        (p.variant, {"GT": (0, 1), "VAF": spec.ladder[p.clone]})
        for p in planted
        if p.clone is not None
    ]
    germline: list[tuple[Variant, dict[str, object]]] = [
        (p.variant, {"GT": tuple(sorted(int(h) for h in p.haplotypes))})
        for p in planted
        if p.clone is None
    ]
    _write_truth(out_dir / "truth/somatic.vcf.gz", contig, seq.size, somatic, TUMOUR, True)
    _write_truth(out_dir / "truth/germline.vcf.gz", contig, seq.size, germline, TUMOUR, False)
    tumour_shares = populations(spec.ladder)
    pairs = {
        TUMOUR: simulate_sample(
            contig, seq, planted, tumour_shares, spec.tumour_depth, spec, seed * 1000,
            TUMOUR, out_dir / "reads",
        ),
        NORMAL: simulate_sample(
            contig, seq, planted, [(0, 1.0)], spec.normal_depth, spec, seed * 1000 + 500,
            NORMAL, out_dir / "reads",
        ),
    }  # fmt: skip
    return ArtData(reference, planted, pairs)
