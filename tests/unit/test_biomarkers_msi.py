"""Microsatellite instability on hand-worked cases: the scan, repeat lengths read from CIGARs,
the per-site chi-square and distance, Benjamini-Hochberg, the call and its stated failures."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pysam
import pytest
from scipy.stats import chi2

from genomflow.biomarkers.cli import biomarker_table
from genomflow.biomarkers.msi import (
    ASSESSED,
    BASELINE,
    MSI_H,
    MSS,
    NOT_ASSESSABLE,
    PAIRED,
    MsiSettings,
    Site,
    benjamini_hochberg,
    call_msi,
    chi_square_p,
    distance,
    find_repeats,
    pooled,
    read_sites,
    repeat_length_in_read,
    scan_sites,
    site_lengths,
    write_sites,
)
from genomflow.errors import GenomflowError

#: 20 bases of flank, an 8-base A homopolymer at [20, 28), flank, a (CA)x4 repeat at
#: [48, 56), flank.
LEFT = "GCTGACTGCATGCTAGCTGC"
MIDDLE = "GTCGATGCTAGCTGCATCGT"
RIGHT = "TGCATGCTGCATGCTACGTAGCTGCATG"
SEQ = LEFT + "A" * 8 + MIDDLE + "CACACACA" + RIGHT
HOMOPOLYMER = Site("c1", 20, 28, "A", 8, LEFT[-5:], MIDDLE[:5])


def test_scan_finds_homopolymers_and_unit_repeats() -> None:
    settings = MsiSettings(min_homopolymer=5, min_repeats=3)
    assert find_repeats(SEQ, settings) == [(20, 28, "A"), (48, 56, "CA")]
    # (CA)x4 is kept at 3 copies, dropped at 5; a 4-base homopolymer never counts.
    assert find_repeats(SEQ, MsiSettings(min_homopolymer=5, min_repeats=5)) == [(20, 28, "A")]
    assert find_repeats("GCAAAAGCTA", settings) == []
    # ATAT... is an AT repeat, never reported again as ATAT.
    assert find_repeats("GCATATATATATGC", settings) == [(2, 12, "AT")]


def test_scan_keeps_sites_with_flanks_inside_the_region(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(f">c1\n{SEQ}\n")
    pysam.faidx(str(fasta))
    settings = MsiSettings(min_homopolymer=5, min_repeats=3, flank=5)
    sites = scan_sites(fasta, [("c1", 0, len(SEQ))], settings)
    assert [(s.start, s.end, s.unit, s.copies) for s in sites] == [
        (20, 28, "A", 8),
        (48, 56, "CA", 4),
    ]
    assert (sites[0].left_flank, sites[0].right_flank) == (LEFT[-5:], MIDDLE[:5])
    # A region ending 3 bases after the homopolymer leaves no room for its right flank.
    assert scan_sites(fasta, [("c1", 10, 31)], settings) == []
    table = tmp_path / "sites.tsv"
    write_sites(table, sites)
    assert read_sites(table) == sites


def test_bad_microsatellite_tables_are_named(tmp_path: Path) -> None:
    table = tmp_path / "sites.tsv"
    write_sites(table, [Site("c1", 20, 28, "A", 8, "GCTGA", "TTGCA")])
    header, row = table.read_text().splitlines()
    with pytest.raises(GenomflowError, match=r"none\.tsv: cannot read the microsatellite table"):
        read_sites(tmp_path / "none.tsv")
    table.write_text(f"{header}\n{row.replace('28', 'x')}\n")
    with pytest.raises(GenomflowError, match=r"sites\.tsv: not a microsatellite table \(invalid"):
        read_sites(table)
    table.write_text(f"{header}\n{row}\textra\n")
    with pytest.raises(GenomflowError, match=r"sites\.tsv: .*table \(line 2 has 8 fields for 7"):
        read_sites(table)
    table.write_text("chrom\tstart\tend\nc1\t20\t28\n")
    with pytest.raises(GenomflowError, match=r"sites\.tsv: not a microsatellite table \(columns"):
        read_sites(table)
    table.write_bytes(f"{header}\n".encode() + b"c\xff1\t20\t28\tA\t8\tG\tT\n")
    with pytest.raises(GenomflowError, match=r"sites\.tsv: cannot read the microsatellite table"):
        read_sites(table)


class Read:
    """Enough of pysam.AlignedSegment for :func:`repeat_length_in_read`."""

    def __init__(self, start: int, cigar: list[tuple[int, int]]) -> None:
        self.reference_start = start
        self.cigartuples = cigar
        ref = sum(n for op, n in cigar if op in (0, 2, 3, 7, 8))
        self.reference_end = start + ref


M, INS, DEL, SOFT = 0, 1, 2, 4


@pytest.mark.parametrize(
    ("read", "length"),
    [
        (Read(0, [(M, 60)]), 8),  # the reference length
        (Read(0, [(M, 20), (DEL, 1), (M, 39)]), 7),  # left-aligned 1-bp deletion
        (Read(0, [(M, 26), (DEL, 2), (M, 32)]), 6),  # 2 bases at the right end of the repeat
        (Read(0, [(M, 20), (INS, 1), (M, 40)]), 9),  # left-aligned insertion (before base 20)
        (Read(0, [(M, 28), (INS, 2), (M, 32)]), 10),  # right-aligned (after the last base)
        (Read(0, [(M, 10), (DEL, 1), (M, 50)]), 8),  # a deletion elsewhere is not counted
        (Read(0, [(M, 30), (INS, 1), (M, 30)]), 8),  # an insertion in the flank neither
        (Read(16, [(M, 40)]), None),  # starts inside the left flank
        (Read(0, [(M, 31)]), None),  # ends inside the right flank
        (Read(0, [(SOFT, 5), (M, 31), (SOFT, 20)]), None),  # clipped in the right flank
    ],
)
def test_repeat_length_from_the_cigar(read: Read, length: int | None) -> None:
    assert repeat_length_in_read(read, HOMOPOLYMER, flank=5) == length


def test_chi_square_and_distance_by_hand() -> None:
    # Table [[50, 50], [100, 0]]: expected 75/25 per row, chi2 = 2 x (625/75 + 625/25) = 66.67.
    tumour, normal = {8: 50, 7: 50}, {8: 100}
    assert chi_square_p(tumour, normal) == pytest.approx(chi2.sf(200 / 3, 1))
    assert distance(tumour, normal) == 0.5
    assert chi_square_p({8: 40}, {8: 90}) == 1.0
    assert distance({8: 90, 7: 10}, {8: 45, 7: 5}) == 0.0


def test_benjamini_hochberg_by_hand() -> None:
    # Sorted p 0.001, 0.01, 0.02, 0.3 (n = 4): p x n / rank = 0.004, 0.02, 0.0267, 0.3
    assert benjamini_hochberg([0.3, 0.01, 0.001, 0.02]) == pytest.approx(
        [0.3, 0.02, 0.004, 0.08 / 3]
    )


def sites(n: int) -> list[Site]:
    return [Site("c1", 100 * i + 20, 100 * i + 28, "A", 8) for i in range(n)]


def test_two_shifted_of_five_sites_is_msi_high() -> None:
    five = sites(5)
    stable = Counter({8: 100})
    shifted = Counter({8: 60, 7: 40})  # a 1-bp deletion in 40% of the tumour's reads
    stutter = Counter({8: 95, 7: 5})  # significant at this depth? distance 0.05 < 0.1
    tumour = {five[0].name: shifted, five[1].name: shifted, five[2].name: stutter}
    tumour |= {s.name: stable for s in five[3:]}
    normal = {s.name: stable for s in five}
    result = call_msi("T1", five, tumour, normal, MsiSettings(), PAIRED, "N1")
    assert (result.status, result.call, result.mode) == (ASSESSED, MSI_H, PAIRED)
    assert (result.sites_unstable, result.sites_evaluable, result.unstable_share) == (2, 5, 0.4)
    assert [r.unstable for r in result.sites] == [True, True, False, False, False]
    # The same tumour with one shifted site: 1/5 = 0.2 is still MSI-H at threshold 0.2,
    # MSS at 0.25.
    tumour[five[1].name] = stable
    assert call_msi("T1", five, tumour, normal, MsiSettings(), PAIRED, "N1").call == MSI_H
    high = MsiSettings(threshold=0.25)
    assert call_msi("T1", five, tumour, normal, high, PAIRED, "N1").call == MSS


def test_tumour_only_against_the_pooled_normals() -> None:
    three = sites(3)
    n1 = {s.name: Counter({8: 50, 7: 2}) for s in three}
    n2 = {s.name: Counter({8: 40, 7: 1}) for s in three}
    baseline = pooled([n1, n2])
    assert baseline[three[0].name] == Counter({8: 90, 7: 3})
    tumour = {s.name: Counter({8: 55, 7: 3}) for s in three}
    result = call_msi("T2", three, tumour, baseline, MsiSettings(), BASELINE, "N1,N2")
    assert (result.call, result.unstable_share, result.mode) == (MSS, 0.0, BASELINE)


def test_a_panel_without_microsatellites_is_stated() -> None:
    result = call_msi("T1", [], {}, {}, MsiSettings(), PAIRED, "N1")
    assert (result.status, result.call) == (NOT_ASSESSABLE, None)
    assert result.reason == "no microsatellites inside the targets"


def test_a_tumour_without_a_normal_is_stated() -> None:
    three = sites(3)
    tumour = {s.name: Counter({8: 50}) for s in three}
    result = call_msi("T1", three, tumour, None, MsiSettings(), PAIRED, "")
    assert (result.status, result.call, result.mode) == (NOT_ASSESSABLE, None, None)
    assert result.reason == (
        "no matched normal and no baseline of normals of the same panel: MSI needs one"
    )


def test_too_few_evaluable_sites_are_stated() -> None:
    three = sites(3)
    tumour = {s.name: Counter({8: 50}) for s in three}
    normal = {three[0].name: Counter({8: 50}), three[1].name: Counter({8: 19})}
    result = call_msi("T1", three, tumour, normal, MsiSettings(), PAIRED, "N1")
    assert (result.status, result.sites_evaluable) == (NOT_ASSESSABLE, 1)
    assert result.reason == (
        "1 of 3 microsatellites have 20 reads in both samples; at least 3 are needed"
    )


def write_bam(path: Path, deleted: int, total: int) -> Path:
    """``total`` read pairs over the homopolymer of SEQ, ``deleted`` of them with a 1-bp
    deletion in it (both mates the same fragment: counted once)."""
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": len(SEQ)}]}
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        for number in range(total):
            for mate in (0x40, 0x80):
                read = pysam.AlignedSegment(out.header)
                read.query_name = f"f{number}"
                read.flag = 0x1 | mate
                read.reference_id = 0
                read.reference_start = 0
                read.mapping_quality = 60
                if number < deleted:
                    read.query_sequence = SEQ[:20] + SEQ[21:60]
                    read.cigartuples = [(M, 20), (DEL, 1), (M, 39)]
                else:
                    read.query_sequence = SEQ[:60]
                    read.cigartuples = [(M, 60)]
                read.query_qualities = pysam.qualitystring_to_array("I" * read.query_length)
                out.write(read)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


def test_lengths_are_counted_once_per_fragment(tmp_path: Path) -> None:
    bam = write_bam(tmp_path / "t.bam", deleted=12, total=30)
    lengths = site_lengths(bam, [HOMOPOLYMER], MsiSettings())
    assert lengths[HOMOPOLYMER.name] == Counter({8: 18, 7: 12})


def test_cli_calls_a_paired_tumour(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(f">c1\n{SEQ}\n")
    pysam.faidx(str(fasta))
    regions = tmp_path / "panel.bed"
    regions.write_text(f"c1\t0\t{len(SEQ)}\tGA:exon1\n")
    tumour = write_bam(tmp_path / "t.bam", deleted=12, total=30)
    normal = write_bam(tmp_path / "n.bam", deleted=0, total=30)
    genomflow = [sys.executable, "-m", "genomflow", "biomarkers"]

    def run(*args: str) -> None:
        done = subprocess.run([*genomflow, *args], capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stderr

    table = tmp_path / "sites.tsv"
    run("msi-scan", "--fasta", str(fasta), "--regions", str(regions), "--out", str(table))
    out = tmp_path / "t.msi.json"
    common = ["--sites", str(table), "--bam", str(tumour), "--min-sites", "1", "--out", str(out)]
    run("msi", "--sample", "T1", "--normal", "N1", "--normal-bam", str(normal), *common)
    result = json.loads(out.read_text())
    # The homopolymer: 12/30 reads shifted (distance 0.4); the CA repeat: no read spans it
    # with its flanks (reads end at base 60, the repeat's right flank ends at 61).
    assert (result["call"], result["sites_unstable"], result["sites_evaluable"]) == (MSI_H, 1, 1)
    assert result["sites_total"] == 2
    baseline = tmp_path / "baseline.json"
    run(
        "msi-baseline",
        "--sites",
        str(table),
        "--sample",
        "N1",
        "--bam",
        str(normal),
        "--out",
        str(baseline),
    )
    run("msi", "--sample", "T1", "--baseline", str(baseline), *common)
    assert json.loads(out.read_text())["mode"] == BASELINE
    run("msi", "--sample", "T1", *common)
    stated = json.loads(out.read_text())
    assert (stated["status"], stated["call"]) == (NOT_ASSESSABLE, None)
    row = biomarker_table([], [stated])["data"]["T1"]
    assert row["msi_call"] == NOT_ASSESSABLE
