"""``genomflow ctdna pon``: the panel of normal plasmas, counted the way monitor counts."""

from __future__ import annotations

import json
from itertools import product
from pathlib import Path

import numpy as np
import pysam
import pytest

from genomflow.cli import main
from genomflow.ctdna import background as bg
from genomflow.ctdna import counts, pon, simulate
from genomflow.ctdna.counts import Allele, CountSettings, Locus
from genomflow.ctdna.simulate import ReadSpec, write_bam
from genomflow.errors import GenomflowError

READ = 50
FORWARD_R1 = 0x1 | 0x2 | 0x40 | 0x20
REVERSE_R2 = 0x1 | 0x2 | 0x80 | 0x10
SETTINGS = CountSettings()
#: The hand-made BAM's target: 0-based 490..509, i.e. positions 491..510; the SNV is at 500.
TARGET = (490, 510)
SNV = 499  # 0-based


def table(path: Path) -> dict[tuple[str, int, str, str, str], tuple[int, int]]:
    """Rows of a PoN TSV: (chrom, pos, ref, alt, normal) -> (alt_count, depth)."""
    rows = {}
    lines = [x for x in path.read_text().splitlines() if not x.startswith("#")]
    assert lines[0].split("\t") == [*bg.PON_COLUMNS, bg.PON_NORMAL]
    for line in lines[1:]:
        chrom, pos, ref, alt, alt_count, depth, normal = line.split("\t")
        rows[(chrom, int(pos), ref, alt, normal)] = (int(alt_count), int(depth))
    return rows


def build(bams: list[Path], bed: Path, fasta: Path, out: Path, *extra: str) -> int:
    args = ["ctdna", "pon", "--bams", *map(str, bams), "--targets", str(bed)]
    return main([*args, "--reference", str(fasta), "--out", str(out), *extra])


def assert_same_as_count_locus(
    rows: dict[tuple[str, int, str, str, str], tuple[int, int]],
    bam_path: Path,
    normal: str,
    sequence: str,
    chrom: str,
    start: int,
    end: int,
) -> int:
    """Every position and alt of [start, end) agrees with monitor's count_locus; returns the
    rows checked."""
    checked = 0
    with pysam.AlignmentFile(str(bam_path)) as bam:
        for offset, alt in product(range(start, end), "ACGT"):
            ref = sequence[offset]
            if alt == ref:
                continue
            tally, _ = counts.count_locus(bam, Locus(chrom, offset + 1, ref, alt), SETTINGS)
            got = rows.get((chrom, offset + 1, ref, alt, normal))
            if tally.informative == 0:
                assert got is None, (offset, alt)
            else:
                assert got == (tally.alt, tally.informative), (offset, alt, tally)
                checked += 1
    return checked


# --- hand-countable ------------------------------------------------------------------------


class Hand:
    """One normal of hand-made reads over an SNV at position 500 of chr1."""

    def __init__(self, folder: Path) -> None:
        self.fasta = folder / "ref.fa"
        self.sequence = simulate.write_reference(self.fasta, {"chr1": 3000}, seed=11)["chr1"]
        self.ref = self.sequence[SNV]
        self.alt, self.second, self.third = (b for b in "ACGT" if b != self.ref)
        s = self.sequence
        reads: list[ReadSpec] = []
        for i in range(10):  # overlapping pairs: one molecule each
            reads += self.pair(f"ref{i}", None, None)
        for i in range(3):
            reads += self.pair(f"alt{i}", self.alt, self.alt)
        reads += self.pair("disagree", self.alt, None)  # discordant: no evidence
        reads += self.pair("disagree2", self.alt, self.second)
        # One read with the second alt, its mate elsewhere.
        reads.append(ReadSpec("single", 480, self.with_base(480, self.second), flag=FORWARD_R1))
        # The alt at a base quality below 20: the mate's reference base decides.
        low = tuple(10 if i == SNV - 470 else 37 for i in range(READ))
        reads.append(ReadSpec("lowq", 470, self.with_base(470, self.alt), qualities=low))
        reads.append(ReadSpec("lowq", 480, s[480:530], flag=REVERSE_R2))
        # The alt alone at low quality: not evidence at all.
        reads.append(ReadSpec("lowq_only", 470, self.with_base(470, self.alt), qualities=low))
        # Filtered reads with the alt: duplicate, secondary, QC fail, supplementary, low MAPQ.
        for i, flag in enumerate((0x400, 0x100, 0x200, 0x800)):
            reads += self.pair(f"filtered{i}", self.alt, self.alt, extra=flag)
        reads += self.pair("mapq", self.alt, self.alt, mapq=10)
        # Gapped reads: a deletion over the SNV (other), soft clips and an insertion nearby.
        deleted = s[479:499] + s[500:530]
        reads.append(ReadSpec("deletion", 479, deleted, cigar="20M1D30M", flag=FORWARD_R1))
        clipped = "GG" + s[488:499] + self.third + s[500:515] + "T" + s[515:530] + "AAA"
        reads.append(ReadSpec("clip", 488, clipped, cigar="2S27M1I15M3S", flag=FORWARD_R1))
        self.bam = write_bam(folder / "hand.bam", {"chr1": 3000}, reads)
        self.bed = folder / "targets.bed"
        self.bed.write_text(f"# a comment\nchr1\t{TARGET[0]}\t{TARGET[1]}\tGENE:exon1\n")

    def with_base(self, start: int, base: str) -> str:
        read = self.sequence[start : start + READ]
        return read[: SNV - start] + base + read[SNV - start + 1 :]

    def pair(
        self, name: str, first: str | None, second: str | None, extra: int = 0, mapq: int = 60
    ) -> list[ReadSpec]:
        reads = []
        for start, base, flag in ((470, first, FORWARD_R1), (480, second, REVERSE_R2)):
            bases = self.sequence[start : start + READ] if base is None else None
            bases = bases or self.with_base(start, base or "")
            reads.append(ReadSpec(name, start, bases, flag=flag | extra, mapq=mapq))
        return reads


@pytest.fixture(scope="module")
def hand(tmp_path_factory: pytest.TempPathFactory) -> Hand:
    return Hand(tmp_path_factory.mktemp("hand"))


@pytest.fixture(scope="module")
def hand_table(hand: Hand, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hand_pon") / "pon.tsv"
    assert build([hand.bam], hand.bed, hand.fasta, out) == 0
    return out


def test_molecules_at_the_snv_by_hand(hand: Hand, hand_table: Path) -> None:
    rows = table(hand_table)
    # ref: 10 pairs (each once) + the pair whose low-quality alt gives way to its mate.
    assert rows[("chr1", 500, hand.ref, hand.alt, "hand")] == (3, 14)
    assert rows[("chr1", 500, hand.ref, hand.second, "hand")] == (1, 12)
    assert rows[("chr1", 500, hand.ref, hand.third, "hand")] == (1, 12)  # the clipped read
    # Every position of the target, 3 alts each, and nothing outside it.
    assert {pos for _, pos, *_ in rows} == set(range(TARGET[0] + 1, TARGET[1] + 1))
    assert len(rows) == 3 * (TARGET[1] - TARGET[0])


def test_a_base_next_to_the_snv_counts_each_template_once(hand: Hand, hand_table: Path) -> None:
    rows = table(hand_table)
    at_501 = {key[3]: value for key, value in rows.items() if key[1] == SNV + 2}
    # 10 ref + 3 alt + 2 disagreeing pairs + single + lowq + lowq_only + deletion + clip show
    # the reference at 501, once per template (the filtered pairs not at all): 20.
    assert len(at_501) == 3
    assert set(at_501.values()) == {(0, 20)}


def test_every_row_equals_monitors_count_locus(hand: Hand, hand_table: Path) -> None:
    rows = table(hand_table)
    checked = assert_same_as_count_locus(rows, hand.bam, "hand", hand.sequence, "chr1", *TARGET)
    assert checked == len(rows)


def test_merge_codes_is_merge_mates_for_every_alt() -> None:
    """The vectorised merge agrees with counts.merge_mates for all evidence pairs and alts."""
    evidence = [*range(4), pon.OTHER, pon.NO_EVIDENCE]  # a read's code at one position
    ref = 0
    for alt in (1, 2, 3):

        def allele(code: int, alt: int = alt) -> Allele:
            if code == pon.NO_EVIDENCE:
                return Allele.NONE
            return Allele.REF if code == ref else Allele.ALT if code == alt else Allele.OTHER

        for first, second in product(evidence, repeat=2):
            merged = pon.merge_codes(np.array([first], np.uint8), np.array([second], np.uint8))
            tally = pon.base_counts(merged.reshape(1, 1))[0]
            expected = counts.merge_mates(allele(first), allele(second))
            assert (tally[ref] == 1) == (expected is Allele.REF), (first, second)
            assert (tally[alt] == 1) == (expected is Allele.ALT), (first, second, alt)


def test_the_table_round_trips_through_read_pon(hand: Hand, hand_table: Path) -> None:
    sites = bg.read_pon(hand_table)
    site = sites[f"chr1:500:{hand.ref}:{hand.alt}"]
    assert (site.alt_count, site.depth, site.normals, site.top_normal) == (3, 14, 1, "hand")
    assert len(sites) == 3 * (TARGET[1] - TARGET[0])
    with pysam.FastaFile(str(hand.fasta)) as fasta:
        contexts = bg.site_contexts(sites, fasta, hand_table, hand.fasta)
    assert len(contexts) == len(sites)


def test_quality_options_change_the_counts(hand: Hand, tmp_path: Path) -> None:
    out = tmp_path / "pon.tsv"
    assert build([hand.bam], hand.bed, hand.fasta, out, "--min-mapping-quality", "5") == 0
    # The MAPQ 10 pair now shows the alt.
    assert table(out)[("chr1", 500, hand.ref, hand.alt, "hand")] == (4, 15)
    assert build([hand.bam], hand.bed, hand.fasta, out, "--min-base-quality", "5") == 0
    # Both low-quality alts now count: lowq is discordant, lowq_only an alt.
    assert table(out)[("chr1", 500, hand.ref, hand.alt, "hand")] == (4, 14)


# --- simulated normal plasmas --------------------------------------------------------------


class Plasmas:
    """Normal plasmas at a known error rate, with reads of 60 bp on fragments of exactly
    120 bp (the simulator clips fragments to twice the read length), so that the mates never
    overlap: every molecule over a position shows it in one read, and each of the 3 alt bases
    appears in it at error_rate / 3 (the simulator's errors are uniform over the 3 others)."""

    ERROR = 0.01

    def __init__(self, folder: Path) -> None:
        self.fasta = folder / "ref.fa"
        self.sequences = simulate.write_reference(self.fasta, {"chr1": 14_000}, seed=5)
        self.loci = simulate.choose_loci(self.sequences, 12, spacing=1000, seed=6)
        self.bed = folder / "targets.bed"
        self.bed.write_text("".join(f"chr1\t{x.start - 20}\t{x.start + 21}\n" for x in self.loci))
        self.normals = []
        for i in range(2):
            spec = simulate.PlasmaSpec(
                0.0,
                molecules_per_locus=1500,
                mean_family_size=1.0,
                error_rate=self.ERROR,
                read_length=60,
                seed=20 + i,
            )
            path = folder / f"N{i + 1}.bam"
            simulate.write_plasma_bam(path, self.sequences, self.loci, spec, name_prefix=f"n{i}_")
            self.normals.append(path)
        self.pon = folder / "pon.tsv"
        assert build(self.normals, self.bed, self.fasta, self.pon) == 0


@pytest.fixture(scope="module")
def plasmas(tmp_path_factory: pytest.TempPathFactory) -> Plasmas:
    return Plasmas(tmp_path_factory.mktemp("plasmas"))


def test_pooled_rate_of_normals_is_the_simulated_error_rate(plasmas: Plasmas) -> None:
    rows = table(plasmas.pon)
    assert {normal for *_, normal in rows} == {"N1", "N2"}
    alt = sum(a for a, _ in rows.values())
    depth = sum(d for _, d in rows.values())
    e = Plasmas.ERROR
    # Per alt base: e/3 errors among molecules showing ref (1 - e) or this alt (e/3).
    expected = (e / 3) / (1 - e + e / 3)
    assert depth > 3 * 12 * 41 * 2 * 1000
    assert alt / depth == pytest.approx(expected, rel=0.05)
    sites = bg.read_pon(plasmas.pon)
    assert all(site.normals == 2 for site in sites.values())


def test_monitor_accepts_the_built_panel(plasmas: Plasmas, tmp_path: Path) -> None:
    vcf = tmp_path / "tumour.vcf.gz"
    simulate.write_tumour_vcf(vcf, plasmas.loci, plasmas.sequences)
    plasma = tmp_path / "PL1.bam"
    spec = simulate.PlasmaSpec(0.05, molecules_per_locus=800, mean_family_size=1.0, seed=9)
    simulate.write_plasma_bam(plasma, plasmas.sequences, plasmas.loci, spec)
    out = tmp_path / "PL1.json"
    args = ["ctdna", "monitor", "--variants", str(vcf), "--bam", str(plasma), "--reference"]
    args += [str(plasmas.fasta), "--sample", "PL1", "--out", str(out)]
    args += ["--background", str(plasmas.pon), "--null-simulations", "200"]
    assert main([*args, "--lod-simulations", "0"]) == 0
    result = json.loads(out.read_text())
    assert result["background"]["source"] == "panel_of_normals"
    assert {row["background_source"] for row in result["loci"]} == {"pon_locus"}
    assert result["status"] == "detected"


def test_overlapping_mates_and_families_equal_count_locus(tmp_path: Path) -> None:
    """Default reads (100 bp on ~167 bp fragments: mates overlap), PCR families, a high error
    rate (discordant mates), and a CRAM of the same reads."""
    fasta = tmp_path / "ref.fa"
    sequences = simulate.write_reference(fasta, {"chr1": 4000}, seed=8)
    loci = simulate.choose_loci(sequences, 2, spacing=1000, seed=9)
    spec = simulate.PlasmaSpec(0.0, molecules_per_locus=150, error_rate=0.05, seed=3)
    bam = tmp_path / "N1.bam"
    simulate.write_plasma_bam(bam, sequences, loci, spec)
    bed = tmp_path / "targets.bed"
    bed.write_text("".join(f"chr1\t{x.start - 60}\t{x.start + 60}\n" for x in loci))
    out = tmp_path / "pon.tsv"
    assert build([bam], bed, fasta, out) == 0
    rows = table(out)
    checked = sum(
        assert_same_as_count_locus(
            rows, bam, "N1", sequences["chr1"], "chr1", x.start - 60, x.end + 59
        )
        for x in loci
    )
    assert checked == len(rows) == 2 * 120 * 3
    cram = tmp_path / "cram" / "N1.cram"
    cram.parent.mkdir()
    pysam.view("-C", "-T", str(fasta), "-o", str(cram), str(bam), catch_stdout=False)
    pysam.index(str(cram))
    from_cram = tmp_path / "cram.tsv"
    assert build([cram], bed, fasta, from_cram) == 0
    assert table(from_cram) == rows


def test_normals_are_named_by_read_group_else_file_stem(hand: Hand, tmp_path: Path) -> None:
    tagged = tmp_path / "renamed.bam"
    with pysam.AlignmentFile(str(hand.bam)) as source:
        header = source.header.to_dict()
        header["RG"] = [{"ID": "rg1", "SM": "NORMAL7"}]
        with pysam.AlignmentFile(str(tagged), "wb", header=header) as out:
            for read in source.fetch():
                out.write(pysam.AlignedSegment.fromstring(read.to_string(), out.header))
    pysam.index(str(tagged))
    out = tmp_path / "pon.tsv"
    assert build([hand.bam, tagged], hand.bed, hand.fasta, out) == 0
    rows = table(out)
    assert {normal for *_, normal in rows} == {"hand", "NORMAL7"}
    assert rows[("chr1", 500, hand.ref, hand.alt, "NORMAL7")] == (3, 14)


# --- bad input -----------------------------------------------------------------------------


def test_duplicate_normal_names_are_an_error(hand: Hand, tmp_path: Path) -> None:
    copy = tmp_path / "hand.bam"
    copy.write_bytes(hand.bam.read_bytes())
    Path(f"{copy}.bai").write_bytes(Path(f"{hand.bam}.bai").read_bytes())
    with pytest.raises(GenomflowError) as raised:
        pon.build_pon([hand.bam, copy], hand.bed, hand.fasta, tmp_path / "pon.tsv", SETTINGS)
    message = str(raised.value)
    assert str(hand.bam) in message and str(copy) in message and "'hand'" in message
    assert not (tmp_path / "pon.tsv").exists()


@pytest.mark.parametrize(
    ("bed", "message"),
    [
        ("chr9\t1\t10\n", "line 1: contig 'chr9' is not in the reference"),
        ("chr1\t2990\t3010\n", "line 1: chr1:2990-3010 ends past the end of chr1 (3000 bp)"),
        ("chr1\t20\t10\n", "line 1: start 20 is not before end 10"),
        ("chr1\tten\t20\n", "line 1: start and end must be whole numbers"),
        ("# only a comment\n\n", "the targets BED has no intervals"),
    ],
)
def test_bad_targets_name_file_and_line(hand: Hand, tmp_path: Path, bed: str, message: str) -> None:
    path = tmp_path / "bad.bed"
    path.write_text(bed)
    out = tmp_path / "pon.tsv"
    with pytest.raises(GenomflowError, match=str(path)) as raised:
        pon.build_pon([hand.bam], path, hand.fasta, out, SETTINGS)
    assert message in str(raised.value)
    assert not out.exists()


def test_bad_bams_are_errors_naming_the_file(hand: Hand, tmp_path: Path) -> None:
    out = tmp_path / "pon.tsv"
    missing = tmp_path / "missing.bam"
    garbage = tmp_path / "garbage.bam"
    garbage.write_bytes(b"this is not a BAM file at all")
    unindexed = tmp_path / "unindexed.bam"
    unindexed.write_bytes(hand.bam.read_bytes())
    cases = [(missing, "BAM not found"), (garbage, "cannot read the BAM")]
    cases.append((unindexed, "has no index"))
    for path, message in cases:
        with pytest.raises(GenomflowError, match=str(path)) as raised:
            pon.build_pon([hand.bam, path], hand.bed, hand.fasta, out, SETTINGS)
        assert message in str(raised.value)
        assert not out.exists()
    # On the command line: exit status 2, nothing written.
    assert build([garbage], hand.bed, hand.fasta, out) == 2
    assert not out.exists()


def test_bam_of_another_reference_is_an_error(hand: Hand, tmp_path: Path) -> None:
    other = tmp_path / "other.fa"
    simulate.write_reference(other, {"chr1": 3500}, seed=11)
    out = tmp_path / "pon.tsv"
    with pytest.raises(GenomflowError) as raised:
        pon.build_pon([hand.bam], hand.bed, other, out, SETTINGS)
    message = str(raised.value)
    assert str(hand.bam) in message and str(other) in message
    assert "contig chr1 is 3000 bp in the BAM and 3500 bp in the FASTA" in message
    assert not out.exists()
