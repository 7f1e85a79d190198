"""Molecule counts at loci, contexts and the off-target background, on hand-made BAMs."""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from genomflow.ctdna import counts
from genomflow.ctdna.counts import Allele, AlleleCounts, CountSettings, Locus, Template
from genomflow.ctdna.simulate import (
    PlasmaSpec,
    ReadSpec,
    write_bam,
    write_plasma_bam,
    write_reference,
)

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
    assert tally == AlleleCounts(
        ref=11,
        alt=4,
        other=1,
        discordant=1,
        low_quality=1,
        # pairs whose two mates show the allele are both_mates; the clipped read alone and
        # the pair whose other mate is low quality at the locus are one_mate
        kinds=(("one_mate", 1, 1), ("both_mates", 10, 3)),
    )
    assert tally.informative == 15
    assert tally.vaf == pytest.approx(4 / 15)


def test_fast_path_agrees_with_the_general_allele_of_a_read(
    snv_bam: Path, genome: tuple[Path, str]
) -> None:
    locus = snv(genome[1])
    settings = CountSettings()
    templates: dict[str, Template] = {}
    with pysam.AlignmentFile(str(snv_bam)) as bam:
        for read in bam.fetch("chr1", 499, 500):
            if read.flag & counts.SKIP_FLAGS or read.mapping_quality < 30:
                continue
            allele = counts.read_allele(read, locus, settings.min_base_quality)
            name = read.query_name or ""
            templates[name] = templates.get(name, Template()).add(allele)
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
        _, by_kind = counts.count_loci(bam, reference, [locus], settings)
    assert set(by_kind) == {"one_mate"}  # unpaired reads: one read per molecule
    rates = by_kind["one_mate"]
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


def background_of(
    fasta: Path, bam_path: Path, locus: Locus, settings: CountSettings
) -> dict[str, counts.ClassRates]:
    with pysam.AlignmentFile(str(bam_path)) as bam, pysam.FastaFile(str(fasta)) as reference:
        return counts.count_loci(bam, reference, [locus], settings)[1]


def test_overlapping_mates_are_one_molecule_in_the_background(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    """Pairs whose mates overlap over 30 bases: an error in one mate makes the molecule
    discordant there (no error counted), an error in both is one both_mates error, and the
    bases only one mate covers are one_mate molecules."""
    fasta, sequence = genome
    s = sequence
    first, second = 2000, 2020  # mates of 50 overlap over 2020..2049
    c_in = next(i for i in range(2030, 2045) if s[i] in "CG")  # inside the overlap
    c_out = next(i for i in range(2005, 2015) if s[i] in "CG")  # only the first mate
    wrong = {"C": "T", "G": "A"}  # a C>T error on either strand
    locus = Locus("chr1", 2026, s[2025], "N")  # fetched at 2025: both mates overlap it
    reads = []
    for i in range(20):
        r1 = s[first : first + READ]
        r2 = s[second : second + READ]
        if i < 3:  # one mate wrong inside the overlap: discordant
            r1 = with_base(r1, 0, c_in - first, wrong[s[c_in]])
        if i == 3:  # both mates wrong inside the overlap: one both_mates error
            r1 = with_base(r1, 0, c_in - first, wrong[s[c_in]])
            r2 = with_base(r2, 0, c_in - second, wrong[s[c_in]])
        if i < 2:  # a first-mate-only error: one_mate
            r1 = with_base(r1, 0, c_out - first, wrong[s[c_out]])
        reads.append(ReadSpec(f"p{i}", first, r1, flag=FORWARD_R1, mate_start=second))
        reads.append(ReadSpec(f"p{i}", second, r2, flag=REVERSE_R2, mate_start=first))
    bam_path = write_bam(tmp_path / "pairs.bam", {"chr1": 3000}, reads)
    rates = background_of(fasta, bam_path, locus, CountSettings(exclude_flank=3))
    excluded = set(range(locus.start - 3, locus.end + 3))
    overlap = [i for i in range(second, first + READ) if i not in excluded]
    single = [i for i in range(first, second)] + [
        i for i in range(first + READ, second + READ) if i not in excluded
    ]
    cg = sum(1 for i in overlap if s[i] in "CG")
    # 20 molecules at each overlap position, less the 3 discordant ones at c_in
    assert rates["both_mates"].bases["C>T"] == 20 * cg - 3
    assert rates["both_mates"].errors["C>T"] == 1
    assert rates["one_mate"].bases["C>T"] == 20 * sum(1 for i in single if s[i] in "CG")
    assert rates["one_mate"].errors["C>T"] == 2


def test_a_mate_that_was_not_kept_leaves_its_span_out(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    """Where a kept read's mate may lie but was not fetched, its molecule is unknown."""
    fasta, s = genome
    locus = Locus("chr1", 2006, s[2005], "N")
    # read 1 over 2000..2049; its mate starts at 2030 (MC 50M) and is left out of the BAM
    reads = [
        ReadSpec(
            f"r{i}", 2000, s[2000:2050], flag=FORWARD_R1, mate_start=2030, tags=(("MC", "50M"),)
        )
        for i in range(10)
    ]
    bam_path = write_bam(tmp_path / "orphans.bam", {"chr1": 3000}, reads)
    rates = background_of(fasta, bam_path, locus, CountSettings(exclude_flank=3))
    used = [i for i in range(2000, 2030) if not 2002 <= i < 2009]
    molecules = sum(rates["one_mate"].bases[k] for k in ("C>A", "T>A"))
    assert molecules == 10 * len(used)
    assert set(rates) == {"one_mate"}


# --- the compiled SNV count against the per-read definition -----------------------------------


def per_read_counts(
    bam: pysam.AlignmentFile, locus: Locus, settings: CountSettings
) -> AlleleCounts:
    """The definition: read_allele of every read passing the filters, mates merged by name."""
    templates: dict[str, Template] = {}
    for read in bam.fetch(locus.chrom, locus.start, locus.start + 1):
        if read.flag & counts.SKIP_FLAGS or read.mapping_quality < settings.min_mapping_quality:
            continue
        allele = counts.read_allele(read, locus, settings.min_base_quality)
        name = read.query_name or ""
        templates[name] = templates.get(name, Template()).add(allele, counts.is_duplex(read))
    return counts.template_counts(templates.values())


def assert_snvs_match_the_definition(
    bam_path: Path,
    sequence: str,
    positions: range,
    settings: CountSettings,
    keep: int = 7,
    reference: Path | None = None,
) -> int:
    """The compiled count of an SNV (count_locus) equals per_read_counts at every position
    (each alt in turn) and the Python reference read by read (_count_reads), background reads
    included; returns the molecules checked. ``reference``: the FASTA of a CRAM."""
    checked = 0
    fasta = str(reference) if reference else None
    with pysam.AlignmentFile(str(bam_path), reference_filename=fasta) as bam:
        for position in positions:
            ref = sequence[position]
            for alt in (b for b in "ACGT" if b != ref):
                locus = Locus("chr1", position + 1, ref, alt)
                compiled = counts._compiled_snv_counts(bam, locus, settings, keep)
                assert compiled is not None, locus.key
                tally, kept = compiled
                assert (tally, kept) == counts.count_locus(bam, locus, settings, keep)
                assert tally == per_read_counts(bam, locus, settings), locus.key
                assert (tally, kept) == counts._count_reads(bam, locus, settings, keep), locus.key
                checked += tally.ref + tally.alt + tally.other + tally.discordant
    return checked


def test_the_compiled_snv_count_is_built() -> None:
    """make setup, the conda route and CI build it; without it counting is ~3x slower."""
    assert counts._snvcount is not None


def hand_made_reads(s: str) -> list[ReadSpec]:
    """Reads over 0-based 499 with every feature that changes what a read shows there."""
    alt = "A" if s[499] != "A" else "C"
    other = next(b for b in "ACGT" if b not in (s[499], alt))
    low = [37] * READ
    low[499 - 470] = 19
    zero = [37] * READ
    zero[510 - 470] = 0
    r2 = REVERSE_R2
    return [
        ReadSpec("del", 470, s[470:499] + s[501:522], cigar="29M2D21M"),
        ReadSpec("del_after", 470, s[470:500] + s[502:522], cigar="30M2D20M"),
        ReadSpec("skip", 470, s[470:499] + s[509:530], cigar="29M10N21M"),
        ReadSpec("ins_after", 470, s[470:500] + "GT" + s[500:518], cigar="30M2I18M"),
        ReadSpec("ins_before", 470, s[470:499] + "AC" + s[499:518], cigar="29M2I19M"),
        ReadSpec("clip_start", 475, "TTTTT" + with_base(s, 475, 499, alt, 45), cigar="5S45M"),
        ReadSpec("clip_end", 460, s[460:500] + "GGGGGGGGGG", cigar="40M10S", flag=r2),
        ReadSpec("hard_clip", 480, s[480:520], cigar="5H40M"),
        ReadSpec("clip_at_locus", 450, s[450:499] + "A", cigar="49M1S"),
        ReadSpec("low", 470, with_base(s, 470, 499, alt), qualities=tuple(low)),
        ReadSpec("q0", 470, with_base(s, 470, 510, other), qualities=tuple(zero)),
        ReadSpec("n_base", 470, with_base(s, 470, 499, "N")),
        ReadSpec("lower", 470, with_base(s, 470, 499, alt.lower())),
        ReadSpec("mapq29", 470, with_base(s, 470, 499, alt), mapq=29),
        ReadSpec("mapq30", 471, with_base(s, 471, 499, alt), mapq=30),
        ReadSpec("secondary", 470, with_base(s, 470, 499, alt), flag=0x100),
        ReadSpec("supplementary", 470, with_base(s, 470, 499, alt), flag=0x800),
        ReadSpec("duplicate", 470, with_base(s, 470, 499, alt), flag=0x400 | FORWARD_R1),
        ReadSpec("qcfail", 470, with_base(s, 470, 499, alt), flag=0x200),
        ReadSpec("orphan", 470, with_base(s, 470, 499, alt), flag=0x1 | 0x40),
        ReadSpec("unpaired", 472, s[472:522], flag=0x10),
        # mates that agree, disagree, or where one has no evidence
        ReadSpec("agree", 460, with_base(s, 460, 499, alt)),
        ReadSpec("agree", 490, with_base(s, 490, 499, alt), flag=r2),
        ReadSpec("ref_alt", 460, s[460:510]),
        ReadSpec("ref_alt", 490, with_base(s, 490, 499, alt), flag=r2),
        ReadSpec("alt_other", 462, with_base(s, 462, 499, alt)),
        ReadSpec("alt_other", 488, with_base(s, 488, 499, other), flag=r2),
        ReadSpec("low_alt", 470, with_base(s, 470, 499, "T"), qualities=tuple(low)),
        ReadSpec("low_alt", 485, with_base(s, 485, 499, alt), flag=r2),
        ReadSpec("low_low", 470, with_base(s, 470, 499, alt), qualities=tuple(low)),
        ReadSpec("low_low", 470, s[470:520], qualities=tuple(low), flag=r2),
        ReadSpec("del_ref", 470, s[470:499] + s[500:521], cigar="29M1D21M"),
        ReadSpec("del_ref", 480, s[480:530], flag=r2),
        ReadSpec("mate_elsewhere", 470, s[470:520]),
        ReadSpec("mate_elsewhere", 600, s[600:650], flag=r2),
        ReadSpec("three", 465, s[465:515]),
        ReadSpec("three", 475, with_base(s, 475, 499, alt), flag=r2),
        ReadSpec("three", 480, s[480:530], flag=0x1 | 0x2 | 0x40),
    ]


def test_compiled_snv_count_equals_the_per_read_definition(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    _, s = genome
    reads = hand_made_reads(s)
    # > 8,000 reads deep at 0-based 1,499 (htslib's default pileup depth cap), mixed alleles
    deep = 8_300
    for i in range(deep // 2):
        start = 1450 + i % 40
        first = with_base(s, start, 1499, "ACGT"[i % 4]) if i % 97 == 0 else s[start : start + READ]
        reads.append(ReadSpec(f"deep{i}", start, first))
        if i % 3:
            mate = 1460 + i % 30
            reads.append(ReadSpec(f"deep{i}", mate, s[mate : mate + READ], flag=REVERSE_R2))
        else:
            reads.append(ReadSpec(f"deep{i}b", 1455, s[1455:1505], flag=0x10, mapq=40))
    bam = write_bam(tmp_path / "hand.bam", {"chr1": 3000}, reads)
    settings = CountSettings(min_base_quality=20, min_mapping_quality=30)
    assert assert_snvs_match_the_definition(bam, s, range(440, 560), settings) > 0
    assert assert_snvs_match_the_definition(bam, s, range(498, 501), CountSettings(0, 0)) > 0
    with pysam.AlignmentFile(str(bam)) as handle:
        depth = counts.count_locus(handle, Locus("chr1", 1500, s[1499], "N"), settings)[0]
    assert depth.ref + depth.other + depth.discordant + depth.low_quality > 8_000 * 2 // 3
    assert assert_snvs_match_the_definition(bam, s, range(1497, 1502), settings, keep=300) > 0


def test_a_read_without_qualities_is_counted_in_python(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    """The compiled count leaves a locus with a read without qualities (0xff) to the Python
    reference, whose rule for such reads it does not copy."""
    _, s = genome
    reads = pair("ref", s, None, None)
    reads.append(ReadSpec("no_qualities", 475, s[475:525], qualities=(255,) * READ))
    bam = write_bam(tmp_path / "noqual.bam", {"chr1": 3000}, reads)
    settings = CountSettings()
    locus = snv(s)
    with pysam.AlignmentFile(str(bam)) as handle:
        assert counts._compiled_snv_counts(handle, locus, settings, 5) is None
        tally, kept = counts.count_locus(handle, locus, settings, 5)
        assert (tally, kept) == counts._count_reads(handle, locus, settings, 5)
    assert tally.ref == 1 and len(kept.starts) == 2


@pytest.mark.parametrize("duplex", [False, True])
def test_compiled_snv_count_equals_the_definition_on_simulated_plasma(
    genome: tuple[Path, str], tmp_path: Path, duplex: bool
) -> None:
    _, s = genome
    loci = [
        Locus("chr1", pos, s[pos - 1], "A" if s[pos - 1] != "A" else "G") for pos in (800, 2100)
    ]
    spec = PlasmaSpec(
        tumour_fraction=0.3,
        molecules_per_locus=60,
        error_rate=0.02,
        read_length=50,
        fragment_mean=80,
        fragment_sd=15,
        duplex=duplex,
        seed=5,
    )
    bam = tmp_path / "plasma.bam"
    write_plasma_bam(bam, {"chr1": s}, loci, spec)
    settings = CountSettings(min_base_quality=30)
    for locus in loci:
        near = range(locus.start - 3, locus.start + 4)
        assert assert_snvs_match_the_definition(bam, s, near, settings, keep=20) > 50


def test_compiled_snv_count_reads_a_cram(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, s = genome
    locus = Locus("chr1", 900, s[899], "A" if s[899] != "A" else "G")
    spec = PlasmaSpec(0.3, molecules_per_locus=60, read_length=50, fragment_mean=80, seed=6)
    bam = tmp_path / "plasma.bam"
    write_plasma_bam(bam, {"chr1": s}, [locus], spec)
    cram = tmp_path / "plasma.cram"
    pysam.view("-C", "-T", str(fasta), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    near = range(locus.start - 2, locus.start + 3)
    settings = CountSettings()
    assert assert_snvs_match_the_definition(cram, s, near, settings, 20, fasta) > 50
