"""Panel of normals, background rates and the exclusion of loci."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam
import pytest
from scipy import stats

from genomflow.ctdna import background as bg
from genomflow.ctdna import model
from genomflow.ctdna.counts import AlleleCounts, ClassRates, Locus
from genomflow.errors import GenomflowError

HEADER = "chrom\tpos\tref\talt\talt_count\tdepth\tnormal\n"


def site(key: str, alt: int, depth: int, **extra: object) -> bg.PonSite:
    chrom, pos, ref, alt_base = key.split(":")
    return bg.PonSite(chrom, int(pos), ref, alt_base, alt, depth, 1, **extra)  # type: ignore[arg-type]


def test_pon_rows_of_a_site_are_summed_with_the_top_normal(tmp_path: Path) -> None:
    path = tmp_path / "pon.tsv"
    path.write_text(
        HEADER
        + "chr1\t100\tC\tT\t2\t3000\tN1\n"
        + "chr1\t100\tC\tT\t9\t300\tN2\n"
        + "chr1\t200\tA\tG\t0\t2500\tN1\n"
    )
    sites = bg.read_pon(path)
    assert sites["chr1:100:C:T"].alt_count == 11
    assert sites["chr1:100:C:T"].depth == 3300
    assert sites["chr1:100:C:T"].normals == 2
    assert sites["chr1:100:C:T"].top_normal == "N2"
    assert sites["chr1:100:C:T"].top_normal_vaf == pytest.approx(0.03)
    assert sites["chr1:200:A:G"].rate == 0.0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("chrom\tpos\tref\talt\tdepth\nchr1\t1\tA\tC\t3\n", "missing column(s) alt_count"),
        (HEADER + "chr1\t0\tA\tC\t1\t10\tN\n", "line 2, column 'pos': '0' is not a position"),
        (HEADER + "chr1\t5\tA\tC\tx\t10\tN\n", "line 2, column 'alt_count': 'x' is not a count"),
        (HEADER + "chr1\t5\tA\tC\t11\t10\tN\n", "more alt molecules than the depth"),
        (HEADER, "has no rows"),
    ],
)
def test_bad_pon_files_name_file_line_and_column(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "pon.tsv"
    path.write_text(body)
    with pytest.raises(GenomflowError, match=str(path)) as raised:
        bg.read_pon(path)
    assert message in str(raised.value)


def test_missing_pon_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GenomflowError, match="panel of normals not found"):
        bg.read_pon(tmp_path / "none.tsv")


def test_moment_kappa_by_hand() -> None:
    alt, depth, prior = np.array([1000, 3000]), np.array([10**6, 10**6]), np.array([0.002, 0.002])
    excess = ((0.001**2 + 0.001**2) / 2) - 0.002 * 0.998 / 1e6
    assert bg.moment_kappa(alt, depth, prior) == pytest.approx(0.002 * 0.998 / excess - 1)
    # No spread beyond binomial noise: the prior wins.
    assert bg.moment_kappa(np.array([2, 2]), np.array([1000, 1000]), np.array([0.002] * 2)) == (
        bg.KAPPA_MAX
    )


def test_rates_are_shrunk_from_locus_to_context_to_class() -> None:
    sites = {
        "chr1:1:C:T": site("chr1:1:C:T", 3, 10_000),
        "chr1:2:C:T": site("chr1:2:C:T", 1, 10_000),
        "chr1:3:C:T": site("chr1:3:C:T", 8, 10_000),
        "chr1:4:T:C": site("chr1:4:T:C", 1, 10_000),
    }
    contexts = {
        "chr1:1:C:T": ("C>T", "ACG"),
        "chr1:2:C:T": ("C>T", "ACG"),
        "chr1:3:C:T": ("C>T", "TCA"),
        "chr1:4:T:C": ("T>C", "ATA"),
    }
    pon = bg.fit_pon(sites, contexts, bg.BackgroundSettings())
    assert pon.class_rates["C>T"] == pytest.approx(12.5 / 30_001)
    assert pon.class_rates["T>C"] == pytest.approx(1.5 / 10_001)
    kappa = pon.kappa_context["C>T"]
    assert pon.context_rates[("C>T", "ACG")] == pytest.approx(
        (4 + kappa * pon.class_rates["C>T"]) / (20_000 + kappa)
    )
    locus = Locus("chr1", 3, "C", "T")
    rate = pon.locus_rate(locus, "C>T", "TCA")
    k_locus = pon.kappa_locus["C>T"]
    prior = pon.context_rates[("C>T", "TCA")]
    assert rate.source == bg.PON_LOCUS
    assert rate.rate == pytest.approx((8 + k_locus * prior) / (10_000 + k_locus))
    assert rate.support == 10_000 + k_locus
    absent = pon.locus_rate(Locus("chr1", 9, "C", "T"), "C>T", "GCG")
    assert absent == bg.LocusRate(pon.class_rates["C>T"], bg.PON_CLASS, 30_001)
    context = pon.locus_rate(Locus("chr1", 9, "C", "T"), "C>T", "ACG")
    assert context.source == bg.PON_CONTEXT and context.support == 20_000 + kappa
    unknown = pon.locus_rate(Locus("chr1", 9, "C", "CA"), "indel", "-")
    assert unknown == bg.LocusRate(bg.DEFAULT_INDEL_RATE, bg.DEFAULT_RATE, 10 / 1e-4)


def test_noisy_sites_are_excluded_with_their_reason() -> None:
    sites = {f"chr1:{i}:C:T": site(f"chr1:{i}:C:T", 6, 60_000) for i in range(1, 40)}
    sites["chr1:50:C:T"] = site("chr1:50:C:T", 40, 3000)  # 1.3% in the panel
    sites["chr1:51:C:T"] = site("chr1:51:C:T", 30, 60_000)  # 5x its context
    sites["chr1:52:C:T"] = site(
        "chr1:52:C:T", 10, 60_000, top_normal="N7", top_normal_vaf=0.03, top_normal_alt=9
    )
    contexts = {key: ("C>T", "ACA") for key in sites}
    pon = bg.fit_pon(sites, contexts, bg.BackgroundSettings())
    assert set(pon.noisy) == {"chr1:50:C:T", "chr1:51:C:T", "chr1:52:C:T"}
    assert "alt fraction 1.333%" in pon.noisy["chr1:50:C:T"]
    assert "the rate of its context ACA C>T" in pon.noisy["chr1:51:C:T"]
    assert "present in normal plasma N7" in pon.noisy["chr1:52:C:T"]
    # the noisy sites do not feed the class rate
    assert pon.class_rates["C>T"] == pytest.approx((39 * 6 + 0.5) / (39 * 60_000 + 1))


def test_offtarget_class_rate_and_defaults() -> None:
    rates = ClassRates(errors={"C>T": 9}, bases={"C>T": 99_999})
    assert bg.offtarget_rate("C>T", rates) == bg.LocusRate(
        9.5 / 100_000, bg.OFF_TARGET_CLASS, 100_000
    )
    assert bg.offtarget_rate("T>A", rates).source == bg.DEFAULT_RATE
    assert bg.offtarget_rate("indel", rates).rate == bg.DEFAULT_INDEL_RATE


def test_germline_in_the_plasma_only_when_the_others_are_low() -> None:
    keys = ["a", "b", "c"]
    low = [AlleleCounts(ref=990, alt=10), AlleleCounts(ref=500, alt=480)]
    found = bg.germline_in_plasma(keys[:2], low, bg.BackgroundSettings())
    assert list(found) == ["b"]
    assert "germline-like in the plasma: VAF 49.0%" in found["b"]
    high = [AlleleCounts(ref=600, alt=400), AlleleCounts(ref=500, alt=480)]
    assert bg.germline_in_plasma(keys[:2], high, bg.BackgroundSettings()) == {}


def test_germline_in_the_matched_normal(tmp_path: Path) -> None:
    header = pysam.VariantHeader()
    header.contigs.add("chr1", length=1000)
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_sample("NORMAL")
    path = tmp_path / "normal.vcf"
    with pysam.VariantFile(str(path), "w", header=header) as vcf:
        for pos, gt in ((100, (0, 1)), (200, (0, 0))):
            record = vcf.new_record(contig="chr1", start=pos - 1, alleles=("C", "T"))
            record.samples["NORMAL"]["GT"] = gt
            vcf.write(record)
    loci = [
        Locus("chr1", 100, "C", "T"),
        Locus("chr1", 200, "C", "T"),
        Locus("chr1", 100, "C", "A"),
    ]
    found = bg.germline_in_normal(loci, path, bg.BackgroundSettings())
    assert found == {"chr1:100:C:T": "germline in the matched normal (normal.vcf)"}


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.001, 0.2, 0.03, 0.04, 0.5, 0.011])
    assert bg.benjamini_hochberg(p) == pytest.approx(stats.false_discovery_control(p))


def test_one_wild_locus_is_the_only_outlier() -> None:
    rng = np.random.default_rng(1)
    depth = np.full(20, 3000)
    alt = rng.binomial(depth, 0.5 * 2e-3 + 1e-4)
    alt[7] = 60  # an artefact or clonal haematopoiesis
    ev = model.Evidence.of(alt, depth, [0.5] * 20, [1e-4] * 20)
    keys = [f"L{i}" for i in range(20)]
    found = bg.outliers(ev, keys, bg.BackgroundSettings())
    assert list(found) == ["L7"]
    assert found["L7"].startswith("outlier: 60 alt of 3000 molecules where")


def test_no_outliers_in_data_that_fit() -> None:
    rng = np.random.default_rng(2)
    depth = rng.integers(2000, 4000, 30)
    ev = model.Evidence.of(rng.binomial(depth, 3e-4), depth, [0.5] * 30, [3e-4] * 30)
    assert bg.outliers(ev, [str(i) for i in range(30)], bg.BackgroundSettings()) == {}


def test_contexts_of_pon_sites_must_match_the_reference(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\nAACGTTACGT\n")
    pysam.faidx(str(fasta))
    good = {"chr1:3:C:T": site("chr1:3:C:T", 1, 100)}
    bad = {"chr1:3:G:T": site("chr1:3:G:T", 1, 100)}
    other = {"chr9:3:C:T": site("chr9:3:C:T", 1, 100)}
    with pysam.FastaFile(str(fasta)) as reference:
        pon = tmp_path / "pon.tsv"
        assert bg.site_contexts(good, reference, pon, fasta) == {"chr1:3:C:T": ("C>T", "ACG")}
        with pytest.raises(GenomflowError, match="does not match the reference"):
            bg.site_contexts(bad, reference, pon, fasta)
        with pytest.raises(GenomflowError, match="contig 'chr9' of site chr9:3:C:T is not in"):
            bg.site_contexts(other, reference, pon, fasta)
