"""Sample identity: genotype calls, relatedness, relations expected from the sheet, swaps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pysam
import pytest

from genomflow.config import resolve
from genomflow.errors import GenomflowError
from genomflow.qc.checks import Status
from genomflow.qc.identity import (
    FAMILY,
    FIRST_DEGREE,
    IDENTICAL,
    SECOND_DEGREE,
    UNRELATED,
    IdentityConfig,
    PairStats,
    Pedigree,
    SiteKey,
    check_all_pairs,
    check_pair,
    compare,
    kinship_matrix,
    read_allele_counts,
    read_checks,
    read_pairs,
    read_sites,
    sample_checks,
    write_checks,
    write_pairs,
)
from genomflow.sheets import Cohort, Sample

CONFIG = IdentityConfig.from_config(resolve({"reference": {"fasta": "r.fa"}})["qc"]["identity"])


def sample(
    name: str, patient: str, sex: str = "female", kind: str = "germline", **extra: str
) -> Sample:
    return Sample(sample=name, patient=patient, sex=sex, type=kind, assay="wgs", **extra)  # type: ignore[arg-type]


def cohort(*samples: Sample) -> Cohort:
    return Cohort(samples={s.sample: s for s in samples}, units=())


def test_config_comes_from_the_schema_defaults() -> None:
    assert IdentityConfig() == CONFIG


# --- relatedness from simulated genotypes -----------------------------------------------------

N_SITES = 400


def founders(rng: np.random.Generator, n: int, freqs: np.ndarray) -> list[np.ndarray]:
    """Haplotype pairs (2 x sites) of unrelated people."""
    return [(rng.random((2, len(freqs))) < freqs).astype(int) for _ in range(n)]


def child(rng: np.random.Generator, father: np.ndarray, mother: np.ndarray) -> np.ndarray:
    sites = np.arange(father.shape[1])
    return np.vstack(
        [
            father[rng.integers(0, 2, sites.size), sites],
            mother[rng.integers(0, 2, sites.size), sites],
        ]
    )


def genotypes(haplotypes: np.ndarray) -> dict[SiteKey, int]:
    return {("chr1", i): int(g) for i, g in enumerate(haplotypes.sum(axis=0))}


@pytest.fixture(scope="module")
def family() -> dict[str, dict[SiteKey, int]]:
    rng = np.random.default_rng(7)
    freqs = rng.uniform(0.2, 0.8, N_SITES)
    dad, mum, stranger = founders(rng, 3, freqs)
    kid = child(rng, dad, mum)
    return {
        "dad": genotypes(dad),
        "mum": genotypes(mum),
        "kid": genotypes(kid),
        "stranger": genotypes(stranger),
    }


def test_kinship_separates_same_person_parent_child_and_unrelated(
    family: dict[str, dict[SiteKey, int]],
) -> None:
    same = compare(family["kid"], family["kid"])
    assert (same.kinship, same.discordance, same.sites) == (0.5, 0.0, N_SITES)
    parent = compare(family["kid"], family["dad"])
    assert parent.kinship is not None and 0.2 < parent.kinship < 0.3
    assert parent.ibs0 == 0.0  # a parent and child always share an allele
    spouses = compare(family["dad"], family["mum"])
    assert spouses.kinship is not None and abs(spouses.kinship) < 0.06
    assert spouses.ibs0 is not None and spouses.ibs0 > 0.05


def test_only_sites_called_in_both_count() -> None:
    a = {("chr1", 1): 0, ("chr1", 2): 1, ("chr1", 3): 2}
    b = {("chr1", 2): 1, ("chr1", 3): 0, ("chr1", 4): 1}
    stats = compare(a, b)
    assert (stats.sites, stats.discordance, stats.ibs0) == (2, 0.5, 0.5)
    assert stats.kinship == pytest.approx((1 - 2 * 1) / 2)
    assert compare(a, {}) == PairStats(0, None, None, None)


# --- relations declared by the sheet ----------------------------------------------------------


@pytest.fixture
def pedigree() -> Pedigree:
    return Pedigree.from_cohort(
        cohort(
            sample("T1", "P1", kind="tumour"),
            sample("N1", "P1", kind="normal"),
            sample("PL1", "P1", kind="plasma"),
            sample("G", "PG", sex="male", family="F"),
            sample("D", "PD", sex="male", family="F", father="G"),
            sample("M", "PM", family="F"),
            sample("C", "PC", family="F", father="D", mother="M"),
            sample("S", "PS", family="F", father="D", mother="M"),
            sample("H", "PH", family="F", father="D"),
            sample("X", "PX"),
        )
    )


@pytest.mark.parametrize(
    ("a", "b", "relation"),
    [
        ("T1", "N1", IDENTICAL),
        ("PL1", "T1", IDENTICAL),
        ("C", "D", FIRST_DEGREE),
        ("M", "C", FIRST_DEGREE),
        ("C", "S", FIRST_DEGREE),
        ("C", "H", SECOND_DEGREE),
        ("C", "G", SECOND_DEGREE),
        ("D", "M", FAMILY),
        ("C", "X", UNRELATED),
        ("T1", "X", UNRELATED),
    ],
)
def test_relation_from_the_sheet(pedigree: Pedigree, a: str, b: str, relation: str) -> None:
    assert pedigree.relation(a, b) == relation
    assert pedigree.relation(b, a) == relation


# --- checks -------------------------------------------------------------------------------------


def stats(kinship: float, sites: int = 200) -> PairStats:
    return PairStats(sites=sites, discordance=0.5 - kinship, ibs0=0.0, kinship=kinship)


def test_tumour_and_normal_of_one_patient_that_differ_is_a_swap(pedigree: Pedigree) -> None:
    result = check_pair("T1", "N1", pedigree, stats(0.01), CONFIG)
    assert (result.expected, result.observed, result.status) == (IDENTICAL, UNRELATED, Status.FAIL)
    assert result.reason == (
        "T1 and N1 (both of patient P1) should be the same person but are unrelated "
        "(sample swap?): kinship 0.010, discordance 0.49 over 200 sites"
    )


def test_two_patients_with_one_genome_is_a_swap(pedigree: Pedigree) -> None:
    result = check_pair("N1", "X", pedigree, stats(0.49), CONFIG)
    assert result.status is Status.FAIL
    assert result.reason.startswith(
        "N1 and X (of patients P1 and PX) should be unrelated but are the same person"
    )


@pytest.mark.parametrize(
    ("a", "b", "kinship", "status"),
    [
        ("C", "D", 0.24, Status.PASS),
        ("C", "D", 0.12, Status.WARN),
        ("C", "D", 0.01, Status.FAIL),  # declared father unrelated: swap or non-paternity
        ("C", "H", 0.13, Status.PASS),
        ("C", "H", 0.0, Status.WARN),
        ("D", "M", 0.0, Status.PASS),
        ("D", "M", 0.5, Status.FAIL),
        ("C", "X", 0.25, Status.WARN),  # relatives not declared in the sheet
        ("C", "X", 0.1, Status.PASS),
        ("T1", "PL1", 0.47, Status.PASS),
    ],
)
def test_observed_against_expected(
    pedigree: Pedigree, a: str, b: str, kinship: float, status: Status
) -> None:
    assert check_pair(a, b, pedigree, stats(kinship), CONFIG).status is status


def test_too_few_shared_sites_warn_only_where_a_relation_must_be_confirmed(
    pedigree: Pedigree,
) -> None:
    result = check_pair("T1", "N1", pedigree, stats(0.5, sites=12), CONFIG)
    assert (result.status, result.observed) == (Status.WARN, "not_assessed")
    assert result.reason == "T1 and N1: too few identity sites called in both (12 < 15)"
    assert check_pair("C", "D", pedigree, stats(0.25, sites=12), CONFIG).status is Status.WARN
    assert check_pair("T1", "X", pedigree, stats(0.0, sites=12), CONFIG).status is Status.NA


@pytest.mark.parametrize(
    ("a", "b", "kinship", "observed", "status"),
    [
        ("T1", "N1", 0.48, IDENTICAL, Status.PASS),
        ("T1", "N1", 0.1, "not_identical", Status.FAIL),
        ("T1", "X", 0.45, IDENTICAL, Status.FAIL),
        ("T1", "X", 0.25, "not_identical", Status.PASS),  # no spurious relatives on few sites
        ("C", "D", 0.25, "not_identical", Status.WARN),  # cannot confirm the parent
    ],
)
def test_few_sites_tell_only_whether_two_samples_are_one_person(
    pedigree: Pedigree, a: str, b: str, kinship: float, observed: str, status: Status
) -> None:
    result = check_pair(a, b, pedigree, stats(kinship, sites=40), CONFIG)
    assert (result.observed, result.status) == (observed, status)


def test_a_sample_with_few_genotyped_sites_warns(pedigree: Pedigree) -> None:
    pairs = [check_pair("T1", "N1", pedigree, stats(0.5, sites=12), CONFIG)]
    checks = sample_checks(["T1", "N1"], pairs, {"T1": 12, "N1": 180}, CONFIG)
    assert checks["T1"].status is Status.WARN
    assert checks["T1"].reason == (
        "identity: only 12 identity sites genotyped in T1 (at least 15 with depth ≥ 10 needed)"
        " | T1 and N1: too few identity sites called in both (12 < 15)"
    )
    assert checks["T1"].value == "12 sites, 1 comparison"
    assert checks["N1"].status is Status.WARN
    assert (
        checks["N1"].reason
        == "identity: T1 and N1: too few identity sites called in both (12 < 15)"
    )


def test_checks_table_round_trip(tmp_path: Path, pedigree: Pedigree) -> None:
    pairs = [check_pair("T1", "N1", pedigree, stats(0.01), CONFIG)]
    checks = sample_checks(["T1", "N1"], pairs, {"T1": 200, "N1": 200}, CONFIG)
    path = tmp_path / "samples.tsv"
    write_checks(path, checks)
    assert read_checks(path) == checks
    with pytest.raises(
        GenomflowError, match=r"x\.tsv: cannot read identity checks table \(.*No such"
    ):
        read_checks(tmp_path / "x.tsv")
    lines = path.read_text().splitlines()
    cut = tmp_path / "cut.tsv"  # the last row cut short after its status
    cut.write_text("\n".join([*lines[:-1], "\t".join(lines[-1].split("\t")[:3])]) + "\n")
    with pytest.raises(GenomflowError, match=rf"cut\.tsv: .*line {len(lines)} has 3 fields for 6"):
        read_checks(cut)
    latin1 = tmp_path / "latin1.tsv"
    latin1.write_bytes(path.read_text().replace("T1", "T\u00e9").encode("latin-1"))
    with pytest.raises(GenomflowError, match=r"latin1\.tsv: cannot read identity checks table"):
        read_checks(latin1)
    fields = lines[-1].split("\t")
    path.write_text("\n".join([*lines[:-1], "\t".join([*fields[:2], "OK", *fields[3:]])]) + "\n")
    with pytest.raises(GenomflowError, match=r"samples\.tsv: not an identity checks table \('OK'"):
        read_checks(path)


def test_swapped_fastqs_fail_every_sample_involved(family: dict[str, dict[SiteKey, int]]) -> None:
    # Patient A: tumour TA and normal NA; patient B: tumour TB and normal NB.
    # The FASTQs of TA and NB were swapped: TA holds B's genome and NB holds A's.
    sheet = cohort(
        sample("TA", "PA", kind="tumour", matched_normal="NA"),
        sample("NA", "PA", kind="normal"),
        sample("TB", "PB", kind="tumour", matched_normal="NB"),
        sample("NB", "PB", kind="normal"),
    )
    data = {"TA": family["mum"], "NA": family["dad"], "TB": family["mum"], "NB": family["dad"]}
    pairs = check_all_pairs(list(sheet.samples), data, Pedigree.from_cohort(sheet), CONFIG)
    checks = sample_checks(list(sheet.samples), pairs)
    assert {s: c.status for s, c in checks.items()} == dict.fromkeys(sheet.samples, Status.FAIL)
    assert "TA and NA (both of patient PA) should be the same person" in checks["TA"].reason
    assert "TA and TB (of patients PA and PB) should be unrelated" in checks["TA"].reason
    assert checks["NA"].reason.startswith("identity: TA and NA")


def test_a_clean_trio_passes(family: dict[str, dict[SiteKey, int]]) -> None:
    sheet = cohort(
        sample("kid", "P1", family="F", father="dad", mother="mum"),
        sample("dad", "P2", sex="male", family="F"),
        sample("mum", "P3", family="F"),
    )
    pairs = check_all_pairs(list(sheet.samples), family, Pedigree.from_cohort(sheet), CONFIG)
    assert [(p.expected, p.observed, p.status) for p in pairs] == [
        (FIRST_DEGREE, FIRST_DEGREE, Status.PASS),
        (FIRST_DEGREE, FIRST_DEGREE, Status.PASS),
        (FAMILY, UNRELATED, Status.PASS),
    ]
    checks = sample_checks(list(sheet.samples), pairs)
    assert checks["kid"].status is Status.PASS
    assert checks["kid"].value == "2 comparisons"


def test_pairs_table_round_trip_and_matrix(tmp_path: Path, pedigree: Pedigree) -> None:
    pairs = [
        check_pair("T1", "N1", pedigree, stats(0.5), CONFIG),
        check_pair("T1", "X", pedigree, PairStats(0, None, None, None), CONFIG),
        check_pair("N1", "X", pedigree, stats(0.01), CONFIG),
    ]
    path = tmp_path / "pairs.tsv"
    write_pairs(path, pairs)
    again = read_pairs(path)
    assert [(p.sample_a, p.sample_b, p.status, p.stats.sites) for p in again] == [
        ("T1", "N1", Status.PASS, 200),
        ("T1", "X", Status.NA, 0),
        ("N1", "X", Status.PASS, 200),
    ]
    assert again[1].stats.kinship is None
    assert kinship_matrix(["T1", "N1", "X"], again) == [
        [0.5, 0.5, None],
        [0.5, 0.5, 0.01],
        [None, 0.01, 0.5],
    ]
    bad = tmp_path / "bad.tsv"
    bad.write_text("sample_a\tsample_b\nA\tB\n")
    with pytest.raises(GenomflowError, match=r"bad\.tsv: not an identity pairs table"):
        read_pairs(bad)
    lines = path.read_text().splitlines()
    ragged = tmp_path / "ragged.tsv"  # a row with a field too many
    ragged.write_text("\n".join([*lines[:2], lines[2] + "\textra", *lines[3:]]) + "\n")
    with pytest.raises(GenomflowError, match=r"ragged\.tsv: .*line 3 has 11 fields for 10"):
        read_pairs(ragged)
    binary = tmp_path / "binary.tsv"
    binary.write_bytes(b"\x1f\x8b\x08\x00" + bytes(range(128, 256)))  # gzip, not text
    with pytest.raises(GenomflowError, match=r"binary\.tsv: cannot read identity pairs table"):
        read_pairs(binary)


# --- reading sites and read counts --------------------------------------------------------------


def write_vcf(
    path: Path, records: list[tuple[str, int, str, tuple[str, ...], tuple[int, ...] | None]]
) -> None:
    header = pysam.VariantHeader()
    for contig in ("chr1", "chrX"):
        header.contigs.add(contig, length=1000)
    header.formats.add("AD", "R", "Integer", "Allelic depths")
    with_sample = any(ad is not None for *_, ad in records)
    if with_sample:
        header.add_sample("S1")
    with pysam.VariantFile(str(path), "wz", header=header) as out:
        for chrom, pos, ref, alts, ad in records:
            record = out.new_record(contig=chrom, start=pos - 1, alleles=(ref, *alts))
            if ad is not None:
                record.samples["S1"]["AD"] = ad
            out.write(record)


def test_read_sites_and_allele_counts(tmp_path: Path) -> None:
    sites_vcf = tmp_path / "sites.vcf.gz"
    write_vcf(
        sites_vcf,
        [
            ("chr1", 100, "A", ("G",), None),
            ("chr1", 200, "C", ("T",), None),
            ("chr1", 300, "C", ("T", "G"), None),  # multi-allelic: not used
            ("chr1", 400, "CA", ("C",), None),  # indel: not used
            ("chrX", 50, "G", ("A",), None),  # sex chromosome: not used
        ],
    )
    sites = read_sites(sites_vcf, "chrX", "chrY")
    assert [(s.chrom, s.pos, s.ref, s.alt) for s in sites] == [
        ("chr1", 100, "A", "G"),
        ("chr1", 200, "C", "T"),
    ]
    pileup = tmp_path / "S1.vcf.gz"
    write_vcf(
        pileup,
        [
            ("chr1", 100, "A", ("G", "<*>"), (5, 7, 0)),
            ("chr1", 200, "C", ("<*>",), (12, 0)),  # ALT not seen: 0 reads
            ("chr1", 250, "T", ("<*>",), (9, 0)),  # not a site
        ],
    )
    assert read_allele_counts(pileup, sites) == {("chr1", 100): (5, 7), ("chr1", 200): (12, 0)}


def test_unreadable_sites_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "missing.vcf.gz"
    with pytest.raises(GenomflowError, match=r"missing\.vcf\.gz: cannot read identity sites VCF"):
        read_sites(path, "chrX", "chrY")


def test_a_failing_pair_outranks_few_genotyped_sites(pedigree: Pedigree) -> None:
    pairs = [check_pair("T1", "X", pedigree, stats(0.5, sites=20), CONFIG)]
    checks = sample_checks(["T1", "X"], pairs, {"T1": 20, "X": 10}, CONFIG)
    assert checks["X"].status is Status.FAIL
    assert checks["X"].reason.startswith("identity: T1 and X (of patients P1 and PX) should be")
    assert "only 10" not in checks["X"].reason
