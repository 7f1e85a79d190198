"""Tests for genomflow.germline_evaluate on a hand-built reference and hand-written VCFs.

Expected numbers are worked out by hand from the fixture tables below.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pysam
import pytest

from genomflow import germline_evaluate as evaluate
from genomflow.errors import GenomflowError
from genomflow.germline_evaluate import (
    ClassMetrics,
    GenotypeMismatch,
    VariantKey,
    Zygosity,
    compare,
    normalise,
)

#          1234567890 1234567890 1234567890 1234567890
CHR1 = "GATTACAGCTCCAAAAAAGTACGTTGCAGTCAGTCAGTCA"  # A homopolymer at 13-18
#          1234567890 1234567890
CHR2 = "TTGCATGCAAGGCCTTAGCA"
#          1234567890 123456
CHRX = "ACGTGCATGCATCGAT"

HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=40>
##contig=<ID=chr2,length=20>
##contig=<ID=chrX,length=16>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
"""

# Truth for a male PROBAND (haploid on chrX) and his MOTHER.
TRUTH_ROWS = [
    ("chr1", 3, "T", "C", "0/1", "0/0"),  # SNV, called 1|0: TP, concordant (phase ignored)
    ("chr1", 8, "G", "A", "1/1", "0/1"),  # SNV, called 1/1: TP, concordant
    ("chr1", 12, "CA", "C", "0/1", "0/0"),  # deletion, called at 17 AA>A: TP after left-align
    ("chr1", 22, "C", "T", "0/1", "0/0"),  # SNV, called 1/1: TP, genotype mismatch
    ("chr1", 25, "T", "TGA", "0/1", "0/0"),  # insertion, not called: FN
    ("chr1", 30, "T", "G", "0/0", "0/1"),  # PROBAND is 0/0: not counted
    ("chr1", 33, "G", "A,T", "1/2", "0/0"),  # split into two het SNVs, both called: 2 TP
    ("chr1", 36, "A", "C", "0/1", "0/0"),  # called as A>C,G 1/2: TP for A>C
    ("chr2", 5, "A", "G", "0/1", "0/0"),  # called but LowQual: FN with pass_only
    ("chrX", 4, "T", "C", "1", "0/1"),  # haploid truth, called 1/1: TP, concordant
    ("chrX", 9, "G", "A", "1", "0/0"),  # haploid truth, called 0/1: TP, genotype mismatch
]

CALL_ROWS = [
    ("chr1", 3, "T", "C", "PASS", "1|0"),
    ("chr1", 8, "G", "A", "PASS", "1/1"),
    ("chr1", 17, "AA", "A", "PASS", "0/1"),  # same deletion as truth chr1:12 CA>C
    ("chr1", 22, "C", "T", "PASS", "1/1"),
    ("chr1", 33, "G", "A,T", "PASS", "1/2"),
    ("chr1", 36, "A", "C,G", "PASS", "1/2"),  # A>G half is a FP
    ("chr1", 39, "C", "T", "LowQual", "0/1"),  # filtered: ignored with pass_only, else FP
    ("chr2", 5, "A", "G", "LowQual", "0/1"),  # filtered: FN with pass_only, else TP
    ("chr2", 10, "A", "C", "PASS", "0/1"),  # FP SNV
    ("chr2", 12, "G", "C", ".", "0/0"),  # reference genotype: not a call
    ("chr2", 15, "T", "TA", "PASS", "0/1"),  # FP insertion
    ("chrX", 4, "T", "C", "PASS", "1/1"),
    ("chrX", 9, "G", "A", "PASS", "0/1"),
]


def key(text: str) -> VariantKey:
    chrom, pos, ref, alt = text.split(":")
    return VariantKey(chrom, int(pos), ref, alt)


def write_vcf(path: Path, samples: list[str], rows: list[str]) -> Path:
    """Write VCF text, bgzip it and build a tabix index; return the .vcf.gz path."""
    columns = "\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"])
    columns += "\t" + "\t".join(["FORMAT", *samples]) if samples else ""
    plain = path.with_suffix("")
    plain.write_text(HEADER + columns + "\n" + "".join(row + "\n" for row in rows))
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


def truth_vcf(tmp_path: Path) -> Path:
    rows = [
        f"{c}\t{p}\t.\t{r}\t{a}\t.\tPASS\t.\tGT\t{g1}\t{g2}" for c, p, r, a, g1, g2 in TRUTH_ROWS
    ]
    return write_vcf(tmp_path / "truth.vcf.gz", ["PROBAND", "MOTHER"], rows)


def calls_vcf(tmp_path: Path) -> Path:
    rows = [f"{c}\t{p}\t.\t{r}\t{a}\t50\t{f}\t.\tGT\t{g}" for c, p, r, a, f, g in CALL_ROWS]
    return write_vcf(tmp_path / "calls.vcf.gz", ["S1"], rows)


@pytest.fixture
def reference(tmp_path: Path) -> Path:
    assert (len(CHR1), len(CHR2), len(CHRX)) == (40, 20, 16)
    fasta = tmp_path / "ref.fa"
    fasta.write_text(f">chr1\n{CHR1}\n>chr2\n{CHR2}\n>chrX\n{CHRX}\n")
    pysam.faidx(str(fasta))
    return fasta


@pytest.fixture
def truth(tmp_path: Path) -> Path:
    return truth_vcf(tmp_path)


@pytest.fixture
def calls(tmp_path: Path) -> Path:
    return calls_vcf(tmp_path)


def read_keys(path: Path) -> list[tuple[str, str]]:
    with pysam.VariantFile(str(path)) as vcf:
        return [
            (f"{r.chrom}:{r.pos}:{r.ref}:{(r.alts or ('',))[0]}", "/".join(map(str, gt(r))))
            for r in vcf
        ]


def gt(record: pysam.VariantRecord) -> tuple[int | None, ...]:
    value = record.samples[0]["GT"]
    assert isinstance(value, tuple)
    return value


# --------------------------------------------------------------------------- normalise


def test_normalise_keeps_sample_non_ref_sites_split_and_left_aligned(
    tmp_path: Path, reference: Path, truth: Path
) -> None:
    out = normalise(truth, reference, tmp_path / "norm.vcf.gz", sample="PROBAND")
    assert out == tmp_path / "norm.vcf.gz"
    assert (tmp_path / "norm.vcf.gz.tbi").is_file()
    with pysam.VariantFile(str(out)) as vcf:
        assert list(vcf.header.samples) == ["PROBAND"]
    # chr1:30 (PROBAND 0/0) is gone; the 1/2 at chr1:33 is split into 1/0 and 0/1.
    assert read_keys(out) == [
        ("chr1:3:T:C", "0/1"),
        ("chr1:8:G:A", "1/1"),
        ("chr1:12:CA:C", "0/1"),
        ("chr1:22:C:T", "0/1"),
        ("chr1:25:T:TGA", "0/1"),
        ("chr1:33:G:A", "1/0"),
        ("chr1:33:G:T", "0/1"),
        ("chr1:36:A:C", "0/1"),
        ("chr2:5:A:G", "0/1"),
        ("chrX:4:T:C", "1"),
        ("chrX:9:G:A", "1"),
    ]


def test_normalise_left_aligns_homopolymer_deletion(
    tmp_path: Path, reference: Path, calls: Path
) -> None:
    out = normalise(calls, reference, tmp_path / "norm.vcf.gz")
    keys = [k for k, _ in read_keys(out)]
    assert "chr1:12:CA:C" in keys
    assert "chr1:17:AA:A" not in keys
    # without a sample nothing is dropped: 13 rows, two of them split in two
    assert len(keys) == 15


def test_normalise_reports_ref_mismatch_with_file_and_bcftools_message(
    tmp_path: Path, reference: Path
) -> None:
    bad = write_vcf(tmp_path / "bad.vcf.gz", ["S1"], ["chr1\t3\t.\tG\tC\t.\tPASS\t.\tGT\t0/1"])
    with pytest.raises(GenomflowError, match=r"bad\.vcf\.gz.*bcftools norm.*(?i:ref)"):
        normalise(bad, reference, tmp_path / "out.vcf.gz")


def test_normalise_reports_unknown_sample(tmp_path: Path, reference: Path, truth: Path) -> None:
    with pytest.raises(GenomflowError, match=r"truth\.vcf\.gz.*bcftools view.*NOBODY"):
        normalise(truth, reference, tmp_path / "out.vcf.gz", sample="NOBODY")


def test_normalise_missing_input(tmp_path: Path, reference: Path) -> None:
    with pytest.raises(GenomflowError, match=r"nope\.vcf\.gz: no such file"):
        normalise(tmp_path / "nope.vcf.gz", reference, tmp_path / "out.vcf.gz")


# --------------------------------------------------------------------------- compare


def test_compare_pass_only(truth: Path, calls: Path, reference: Path) -> None:
    ev = compare(truth, calls, reference, truth_sample="PROBAND")
    assert ev.call_sample == "S1"

    # SNV truth: chr1:3 8 22 33A 33T 36C, chr2:5, chrX:4 9 = 9
    # SNV calls (PASS, alt carried): chr1:3 8 22 33A 33T 36C 36G, chr2:10, chrX:4 9 = 10
    snv = ev.snv
    assert (snv.tp, snv.fp, snv.fn) == (8, 2, 1)
    assert snv.recall == pytest.approx(8 / 9)
    assert snv.precision == pytest.approx(8 / 10)
    assert snv.f1 == pytest.approx(2 * (8 / 9) * 0.8 / (8 / 9 + 0.8))
    assert snv.false_negatives == (key("chr2:5:A:G"),)
    assert snv.false_positives == (key("chr1:36:A:G"), key("chr2:10:A:C"))
    # mismatches: chr1:22 het called hom, chrX:9 haploid (hom) called het; chrX:4 1 vs 1/1 ok
    assert snv.genotype_mismatches == (
        GenotypeMismatch(key("chr1:22:C:T"), Zygosity.HET, Zygosity.HOM_ALT),
        GenotypeMismatch(key("chrX:9:G:A"), Zygosity.HOM_ALT, Zygosity.HET),
    )
    assert (snv.gt_concordant, snv.gt_discordant) == (6, 2)
    assert snv.genotype_concordance == pytest.approx(6 / 8)

    indel = ev.indel
    assert (indel.tp, indel.fp, indel.fn) == (1, 1, 1)
    assert indel.recall == pytest.approx(0.5)
    assert indel.precision == pytest.approx(0.5)
    assert indel.false_negatives == (key("chr1:25:T:TGA"),)
    assert indel.false_positives == (key("chr2:15:T:TA"),)
    assert indel.genotype_concordance == pytest.approx(1.0)

    assert (ev.other.tp, ev.other.fp, ev.other.fn) == (0, 0, 0)


def test_compare_all_filters_counts_filtered_calls(
    truth: Path, calls: Path, reference: Path
) -> None:
    ev = compare(truth, calls, reference, truth_sample="PROBAND", pass_only=False)
    # chr2:5 (LowQual, het as in truth) becomes a concordant TP, chr1:39 (LowQual) a FP
    assert (ev.snv.tp, ev.snv.fp, ev.snv.fn) == (9, 3, 0)
    assert key("chr1:39:C:T") in ev.snv.false_positives
    assert ev.snv.genotype_concordance == pytest.approx(7 / 9)
    assert (ev.indel.tp, ev.indel.fp, ev.indel.fn) == (1, 1, 1)


def test_compare_regions_use_normalised_positions(
    tmp_path: Path, truth: Path, calls: Path, reference: Path
) -> None:
    # chr1 positions 1-14 (holds the left-aligned deletion at 12, not its raw 17),
    # chrX positions 1-5; chr2 not at all.
    bed = tmp_path / "regions.bed"
    bed.write_text("track name=test\nchr1\t0\t10\nchr1\t8\t14\nchrX\t0\t5\n")
    ev = compare(truth, calls, reference, truth_sample="PROBAND", regions=bed)
    # SNV truth and calls in regions: chr1:3, chr1:8, chrX:4, all concordant
    assert (ev.snv.tp, ev.snv.fp, ev.snv.fn) == (3, 0, 0)
    assert ev.snv.genotype_concordance == pytest.approx(1.0)
    assert (ev.indel.tp, ev.indel.fp, ev.indel.fn) == (1, 0, 0)


def test_compare_identical_sets(tmp_path: Path, truth: Path, reference: Path) -> None:
    ev = compare(truth, truth, reference, truth_sample="PROBAND", call_sample="PROBAND")
    assert (ev.snv.tp, ev.snv.fp, ev.snv.fn, ev.snv.gt_concordant) == (9, 0, 0, 9)
    assert (ev.indel.tp, ev.indel.fp, ev.indel.fn) == (2, 0, 0)
    assert ev.snv.recall == ev.snv.precision == ev.snv.f1 == 1.0


def test_compare_other_truth_sample(truth: Path, calls: Path, reference: Path) -> None:
    # MOTHER carries chr1:8 (het), chr1:30 (het), chrX:4 (het)
    ev = compare(truth, calls, reference, truth_sample="MOTHER")
    assert (ev.snv.tp, ev.snv.fn) == (2, 1)
    assert ev.snv.false_negatives == (key("chr1:30:T:G"),)
    assert ev.indel.tp == 0
    assert ev.indel.recall is None


def test_compare_needs_call_sample_when_several(truth: Path, reference: Path) -> None:
    with pytest.raises(GenomflowError, match="2 samples"):
        compare(truth, truth, reference, truth_sample="PROBAND")


def test_compare_unknown_truth_sample(truth: Path, calls: Path, reference: Path) -> None:
    with pytest.raises(GenomflowError, match="no sample 'NOBODY'"):
        compare(truth, calls, reference, truth_sample="NOBODY")


def test_bad_bed_line(tmp_path: Path, truth: Path, calls: Path, reference: Path) -> None:
    bed = tmp_path / "bad.bed"
    bed.write_text("chr1\t0\n")
    with pytest.raises(GenomflowError, match=r"bad\.bed line 1: expected at least 3"):
        compare(truth, calls, reference, truth_sample="PROBAND", regions=bed)


# --------------------------------------------------------------------------- metrics


def test_zygosity() -> None:
    assert evaluate.zygosity((0, 1)) is Zygosity.HET
    assert evaluate.zygosity((1, 0)) is Zygosity.HET
    assert evaluate.zygosity((1, 1)) is Zygosity.HOM_ALT
    assert evaluate.zygosity((1,)) is Zygosity.HOM_ALT
    assert evaluate.zygosity((None, 1)) is Zygosity.HET
    assert evaluate.zygosity((0, 0)) is None
    assert evaluate.zygosity((None, None)) is None
    assert evaluate.zygosity((0,)) is None


def test_empty_denominators_are_none() -> None:
    m = ClassMetrics()
    assert m.recall is None and m.precision is None and m.f1 is None
    assert m.genotype_concordance is None
    only_fp = ClassMetrics(fp=3)
    assert only_fp.recall is None and only_fp.precision == 0.0 and only_fp.f1 is None
    nothing_found = ClassMetrics(fp=1, fn=1)
    assert nothing_found.recall == nothing_found.precision == nothing_found.f1 == 0.0


def test_to_dict_is_json(truth: Path, calls: Path, reference: Path) -> None:
    data = json.loads(
        json.dumps(compare(truth, calls, reference, truth_sample="PROBAND").to_dict())
    )
    assert data["truth_sample"] == "PROBAND"
    assert data["snv"]["tp"] == 8
    assert data["snv"]["false_negatives"] == ["chr2:5:A:G"]
    assert data["indel"]["false_positives"] == ["chr2:15:T:TA"]
    assert data["other"]["recall"] is None
    assert data["snv"]["genotype_mismatches"][0] == {
        "variant": "chr1:22:C:T",
        "truth": "het",
        "call": "hom_alt",
    }


# --------------------------------------------------------------------------- CLI


def test_cli_germline(
    tmp_path: Path,
    truth: Path,
    calls: Path,
    reference: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = argparse.ArgumentParser(prog="genomflow")
    evaluate.add_cli(parser.add_subparsers(dest="command", required=True))
    out = tmp_path / "metrics.json"
    args = parser.parse_args(
        [
            "evaluate",
            "germline",
            "--truth",
            str(truth),
            "--truth-sample",
            "PROBAND",
            "--calls",
            str(calls),
            "--reference",
            str(reference),
            "--out",
            str(out),
        ]
    )
    assert args.func(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "class", "TP", "FP", "FN", "recall", "precision", "F1", "GT_concordance"
    ]  # fmt: skip
    assert lines[1].split() == ["snv", "8", "2", "1", "0.8889", "0.8000", "0.8421", "0.7500"]
    assert lines[2].split() == ["indel", "1", "1", "1", "0.5000", "0.5000", "0.5000", "1.0000"]
    assert lines[3].split() == ["other", "0", "0", "0", "-", "-", "-", "-"]
    assert json.loads(out.read_text())["indel"]["tp"] == 1
