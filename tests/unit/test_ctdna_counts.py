"""Molecule counts at loci, contexts and the off-target background, on hand-made BAMs."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from genomflow.ctdna import counts
from genomflow.ctdna.counts import Allele, AlleleCounts, CountSettings, Locus
from genomflow.ctdna.simulate import ReadSpec, write_bam, write_reference

READ = 50
FORWARD_R1 = 0x1 | 0x2 | 0x40 | 0x20
REVERSE_R2 = 0x1 | 0x2 | 0x80 | 0x10


@pytest.fixture(scope="module")
def genome(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("genome")
    fasta = folder / "ref.fa"
    sequence = write_reference(fasta, {"chr1": 3000}, seed=11)["chr1"]
    return fasta, sequence


def with_base(sequence: str, start: int, position: int, base: str, length: int = READ) -> str:
    read = sequence[start : start + length]
    return read[: position - start] + base + read[position - start + 1 :]


def snv(sequence: str) -> Locus:
    ref = sequence[499]
    return Locus("chr1", 500, ref, "A" if ref != "A" else "C", 0.3)


def pair(
    name: str, sequence: str, first: str | None, second: str | None, extra: int = 0, mapq: int = 60
) -> list[ReadSpec]:
    """A pair over the SNV at 0-based 499 with the given bases (None: reference)."""
    reads = []
    for start, base, flag in ((470, first, FORWARD_R1), (480, second, REVERSE_R2)):
        if base is None:
            bases = sequence[start : start + READ]
        else:
            bases = with_base(sequence, start, 499, base)
        reads.append(ReadSpec(name, start, bases, flag=flag | extra, mapq=mapq))
    return reads


@pytest.fixture(scope="module")
def snv_bam(genome: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, sequence = genome
    locus = snv(sequence)
    alt, other = locus.alt, next(b for b in "ACGT" if b not in (locus.ref, locus.alt))
    reads: list[ReadSpec] = []
    for i in range(10):
        reads += pair(f"ref{i}", sequence, None, None)
    for i in range(3):
        reads += pair(f"alt{i}", sequence, alt, alt)
    reads += pair("discordant", sequence, alt, None)
    low = [30] * READ
    low[499 - 470] = 5
    reads.append(ReadSpec("lowq", 470, with_base(sequence, 470, 499, alt), qualities=tuple(low)))
    reads.append(ReadSpec("rescued", 470, with_base(sequence, 470, 499, alt), qualities=tuple(low)))
    reads.append(ReadSpec("rescued", 480, with_base(sequence, 480, 499, alt), flag=REVERSE_R2))
    reads += pair("duplicate", sequence, alt, alt, extra=0x400)
    reads.append(ReadSpec("secondary", 470, with_base(sequence, 470, 499, alt), flag=0x100))
    reads += pair("lowmapq", sequence, alt, alt, mapq=5)
    reads.append(ReadSpec("other", 475, with_base(sequence, 475, 499, other)))
    reads.append(ReadSpec("clipped", 475, sequence[470:520], cigar="5S45M"))
    return write_bam(tmp_path_factory.mktemp("snv") / "snv.bam", {"chr1": 3000}, reads)


def test_molecules_at_an_snv(snv_bam: Path, genome: tuple[Path, str]) -> None:
    locus = snv(genome[1])
    with pysam.AlignmentFile(str(snv_bam)) as bam:
        tally, _ = counts.count_locus(bam, locus, CountSettings(min_base_quality=20))
    # 10 ref pairs + a soft-clipped ref read; 3 alt pairs + one rescued by its mate
    assert tally == AlleleCounts(ref=11, alt=4, other=1, discordant=1, low_quality=1)
    assert tally.informative == 15
    assert tally.vaf == pytest.approx(4 / 15)


def test_fast_path_agrees_with_the_general_allele_of_a_read(
    snv_bam: Path, genome: tuple[Path, str]
) -> None:
    locus = snv(genome[1])
    settings = CountSettings()
    templates: dict[str, Allele] = {}
    with pysam.AlignmentFile(str(snv_bam)) as bam:
        for read in bam.fetch("chr1", 499, 500):
            if read.flag & counts.SKIP_FLAGS or read.mapping_quality < 30:
                continue
            allele = counts.read_allele(read, locus, settings.min_base_quality)
            name = read.query_name or ""
            templates[name] = (
                counts.merge_mates(templates[name], allele) if name in templates else allele
            )
        fast, _ = counts.count_locus(bam, locus, settings)
    assert counts.template_counts(templates.values()) == fast


def test_mate_merging_rules() -> None:
    merge = counts.merge_mates
    assert merge(Allele.REF, Allele.REF) is Allele.REF
    assert merge(Allele.ALT, Allele.REF) is Allele.DISCORDANT
    assert merge(Allele.OTHER, Allele.ALT) is Allele.DISCORDANT
    assert merge(Allele.LOW_QUALITY, Allele.ALT) is Allele.ALT
    assert merge(Allele.NONE, Allele.LOW_QUALITY) is Allele.LOW_QUALITY
    assert merge(Allele.NONE, Allele.NONE) is Allele.NONE


def test_deletion_and_insertion_alleles(genome: tuple[Path, str], tmp_path: Path) -> None:
    _, sequence = genome
    deletion = Locus("chr1", 1000, sequence[999:1002], sequence[999])
    insertion = Locus("chr1", 1500, sequence[1499], sequence[1499] + "GT")
    s = sequence
    reads = [
        ReadSpec("del_alt", 980, s[980:1000] + s[1002:1032], cigar="20M2D30M"),
        ReadSpec("del_ref", 975, s[975:1025]),
        ReadSpec("del_short", 952, s[952:1002]),  # ends on the last base of the span
        ReadSpec("del_other", 980, s[980:1000] + s[1001:1031], cigar="20M1D30M"),
        ReadSpec("ins_alt", 1480, s[1480:1500] + "GT" + s[1500:1528], cigar="20M2I28M"),
        ReadSpec("ins_ref", 1470, s[1470:1520]),
        ReadSpec("ins_other", 1480, s[1480:1500] + "G" + s[1500:1529], cigar="20M1I29M"),
    ]
    bam_path = write_bam(tmp_path / "indel.bam", {"chr1": 3000}, reads)
    settings = CountSettings()
    with pysam.AlignmentFile(str(bam_path)) as bam:
        deleted, _ = counts.count_locus(bam, deletion, settings)
        inserted, _ = counts.count_locus(bam, insertion, settings)
    assert (deleted.ref, deleted.alt, deleted.other) == (1, 1, 1)
    assert (inserted.ref, inserted.alt, inserted.other) == (1, 1, 1)
    assert deletion.kind == "deletion" and insertion.kind == "insertion"


def test_substitution_class_collapses_strands() -> None:
    pairs = [("C", "A"), ("G", "T"), ("C", "T"), ("G", "A"), ("T", "G"), ("A", "C")]
    classes = [counts.substitution_class(r, a) for r, a in pairs]
    assert classes == ["C>A", "C>A", "C>T", "C>T", "T>G", "T>G"]
    assert counts.substitution_class("AC", "GT") == counts.MNV_CLASS
    assert counts.substitution_class("A", "AT") == counts.INDEL_CLASS


def test_trinucleotide_context_is_read_on_the_pyrimidine_strand(tmp_path: Path) -> None:
    fasta = tmp_path / "tiny.fa"
    fasta.write_text(">t\nTTACGATT\n")
    pysam.faidx(str(fasta))
    with pysam.FastaFile(str(fasta)) as reference:
        assert counts.trinucleotide_context(reference, "t", 4) == "ACG"  # the C of ACG
        assert counts.trinucleotide_context(reference, "t", 5) == "TCG"  # the G of CGA
        assert counts.trinucleotide_context(reference, "t", 1) == "NTT"  # contig start
        assert counts.locus_context(reference, Locus("t", 5, "G", "A")) == ("C>T", "TCG")


def test_offtarget_rates_count_mismatches_and_skip_variant_positions(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    fasta, sequence = genome
    start = 2000
    window = sequence[start : start + READ]
    c_pos = start + next(i for i, b in enumerate(window) if b == "C" and 5 < i < 20)
    a_pos = start + next(i for i, b in enumerate(window) if b == "A" and 25 < i < 40)
    locus = Locus("chr1", start + 46, sequence[start + 45], "N")
    reads = []
    for i in range(40):
        bases = window
        if i < 4:
            bases = with_base(bases, 0, c_pos - start, "T")
        if i < 20:
            bases = with_base(bases, 0, a_pos - start, "G")
        reads.append(ReadSpec(f"r{i}", start, bases, flag=0))
    bam_path = write_bam(tmp_path / "bg.bam", {"chr1": 3000}, reads)
    settings = CountSettings(exclude_flank=3)
    with pysam.AlignmentFile(str(bam_path)) as bam, pysam.FastaFile(str(fasta)) as reference:
        _, rates = counts.count_loci(bam, reference, [locus], settings)
    excluded = set(range(locus.start - 3, locus.end + 3)) | {a_pos}
    kept = [i for i in range(start, start + READ) if i not in excluded]
    c_group = sum(1 for i in kept if sequence[i] in "CG")
    t_group = sum(1 for i in kept if sequence[i] in "AT")
    assert rates.errors == {"C>A": 0, "C>G": 0, "C>T": 4, "T>A": 0, "T>C": 0, "T>G": 0}
    assert rates.bases["C>T"] == 40 * c_group
    assert rates.bases["T>C"] == 40 * t_group
    assert rates.variant_positions == 1
    assert rates.rate("C>T") == pytest.approx(4.5 / (40 * c_group + 1))
    assert rates.rate("T>A") == pytest.approx(0.5 / (40 * t_group + 1))
