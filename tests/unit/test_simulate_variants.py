"""Truth variants: placement rules, population model, inheritance and VCF output."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import numpy as np
import pysam
import pytest

from genomflow.errors import GenomflowError
from genomflow.simulate import DEFAULT_SEED, Dataset, build_dataset, make_testgenome_spec
from genomflow.simulate.common import rng_for, to_seq
from genomflow.simulate.genes import cds_sequence, translate
from genomflow.simulate.variants import (
    CONTIG_END_MARGIN,
    MIN_SPACING,
    SampleSpec,
    Variant,
    apply_variants,
    common_snp_sites,
    eligible_mask,
    haplotype_sequences,
    normalize_indel,
    simulate_truth,
    write_common_snps_vcf,
    write_truth_vcf,
)

FATHER, MOTHER, CHILD = "RD002", "RD003", "RD001"


@functools.cache
def dataset() -> Dataset:
    return build_dataset(make_testgenome_spec(), DEFAULT_SEED)


def all_variants() -> list[Variant]:
    return [v for variants in dataset().truth.variants.values() for v in variants]


def span(variant: Variant) -> tuple[int, int]:
    if variant.is_snv:
        return variant.pos, variant.end
    seq = dataset().reference.sequences[variant.contig]
    _, _, _, lo, hi = normalize_indel(seq, variant.pos, variant.ref, variant.alt)
    return lo, hi


def test_normalize_indel_left_aligns_in_repeats() -> None:
    seq = to_seq("GCATATATATGC")
    # Deleting the last "AT" of the STR left-aligns to just after the first G-C.
    assert normalize_indel(seq, 7, "TAT", "T")[:3] == (1, "CAT", "C")
    # Inserting one A into "AAAA" is anchored before the homopolymer.
    seq = to_seq("GCTAAAAGC")
    pos, ref, alt, lo, hi = normalize_indel(seq, 5, "A", "AA")
    assert (pos, ref, alt) == (2, "T", "TA")
    assert (lo, hi) == (2, 8)


def test_ref_alleles_match_the_reference_and_are_normalised() -> None:
    ref = dataset().reference
    for variant in all_variants():
        seq = ref.sequences[variant.contig]
        assert variant.ref == seq[variant.pos : variant.end].tobytes().decode()
        assert variant.ref[0] == variant.alt[0] or variant.is_snv
        if not variant.is_snv:
            assert normalize_indel(seq, variant.pos, variant.ref, variant.alt)[:3] == (
                variant.pos,
                variant.ref,
                variant.alt,
            )


def test_variants_keep_their_distance_and_avoid_excluded_zones() -> None:
    ref = dataset().reference
    for contig, variants in dataset().truth.variants.items():
        allowed = eligible_mask(ref, contig)
        spans = [span(v) for v in variants]
        for lo, hi in spans:
            assert allowed[lo:hi].all()
            assert lo >= CONTIG_END_MARGIN and hi <= ref.lengths[contig] - CONTIG_END_MARGIN
        for (_, hi), (lo, _) in itertools.pairwise(spans):
            assert lo - hi >= MIN_SPACING
    excluded = ref.features_named("n_gap", "segdup_source", "segdup_copy")
    for variant in all_variants():
        assert not any(
            f.contig == variant.contig and f.overlaps(variant.pos, variant.end) for f in excluded
        )


def test_density_and_type_mix_are_realistic() -> None:
    truth = dataset().truth
    genome = sum(dataset().reference.lengths.values())
    for sample in (FATHER, MOTHER, CHILD):
        carried = truth.sample_variants(sample)
        assert 400 <= genome / len(carried) <= 650
        snv_fraction = np.mean([v.is_snv for v in carried])
        assert 0.80 <= snv_fraction <= 0.90
    indels = [v for v in all_variants() if not v.is_snv]
    changes = [v.length_change for v in indels]
    assert any(c > 0 for c in changes) and any(c < 0 for c in changes)
    assert max(abs(c) for c in changes) <= 30
    assert np.mean([abs(c) <= 4 for c in changes]) > 0.8
    repeats = dataset().reference.features_named("homopolymer", "str")
    in_repeat = [
        v
        for v in indels
        if any(f.contig == v.contig and f.overlaps(v.pos, v.end, margin=1) for f in repeats)
    ]
    assert len(in_repeat) >= 20


def test_common_and_rare_frequencies_are_both_present() -> None:
    origins = {v.origin for v in all_variants()}
    assert {"common", "lowfreq", "private", "planted"} <= origins
    common = [v.af for v in all_variants() if v.origin == "common"]
    assert min(common) >= 0.2 and max(common) <= 0.8


def test_children_inherit_every_allele_from_a_parent() -> None:
    truth = dataset().truth
    for contig in ("chr1", "chr2"):
        child = truth.haplotypes[contig][CHILD]
        father = truth.haplotypes[contig][FATHER]
        mother = truth.haplotypes[contig][MOTHER]
        assert child.shape[0] == 2
        assert not np.any(child[0] & ~father.any(axis=0))  # paternal copy
        assert not np.any(child[1] & ~mother.any(axis=0))  # maternal copy
        # One crossover: the paternal copy switches source at most once.
        for parent, copy in ((father, child[0]), (mother, child[1])):
            informative = parent[0] != parent[1]
            source = np.where(copy[informative] == parent[0][informative], 0, 1)
            assert np.count_nonzero(np.diff(source)) <= 1


def test_son_gets_his_mothers_x_and_his_fathers_y() -> None:
    truth = dataset().truth
    son_x = truth.haplotypes["chrX"][CHILD]
    assert son_x.shape[0] == 1
    assert not np.any(son_x[0] & ~truth.haplotypes["chrX"][MOTHER].any(axis=0))
    father_only = truth.haplotypes["chrX"][FATHER][0] & ~truth.haplotypes["chrX"][MOTHER].any(
        axis=0
    )
    assert father_only.any() and not np.any(son_x[0] & father_only)
    assert np.array_equal(truth.haplotypes["chrY"][CHILD], truth.haplotypes["chrY"][FATHER])
    assert truth.haplotypes["chrY"][MOTHER].shape[0] == 0


def test_planted_variants_have_their_effect_and_are_inherited() -> None:
    ref, truth = dataset().reference, dataset().truth
    planted = [v for v in all_variants() if v.origin == "planted"]
    assert sorted(v.label for v in planted) == [
        "GFD4:frameshift",
        "GFD4:missense",
        "GFK7:stop_gained",
    ]
    for variant in planted:
        index = truth.variants[variant.contig].index(variant)
        child_gt = truth.genotype(CHILD, variant.contig)[index]
        assert child_gt == 1
        symbol, effect = variant.label.split(":")
        gene = next(g for g in ref.genes if g.symbol == symbol)
        mutated = apply_variants(ref.sequences[gene.contig], [variant])
        if effect == "frameshift":
            assert variant.length_change == -1
            continue
        before = translate(cds_sequence(ref.sequences[gene.contig], gene))
        after = translate(cds_sequence(mutated, gene))
        diff = [(a, b) for a, b in zip(before, after, strict=True) if a != b]
        assert len(diff) == 1 and (diff[0][1] == "*") == (effect == "stop_gained")


def test_haplotype_sequences_follow_ploidy() -> None:
    ref, truth = dataset().reference, dataset().truth
    son = [(c, i) for c, i, _ in haplotype_sequences(ref, truth, CHILD)]
    mother = [(c, i) for c, i, _ in haplotype_sequences(ref, truth, MOTHER)]
    assert son == [("chr1", 0), ("chr1", 1), ("chr2", 0), ("chr2", 1), ("chrX", 0), ("chrY", 0)]
    assert mother == [("chr1", 0), ("chr1", 1), ("chr2", 0), ("chr2", 1), ("chrX", 0), ("chrX", 1)]


def test_apply_variants_builds_the_alternate_sequence() -> None:
    seq = to_seq("ACGTACGTAC")
    variants = [Variant("c", 1, "C", "T"), Variant("c", 4, "ACG", "A"), Variant("c", 8, "A", "AGG")]
    assert apply_variants(seq, variants).tobytes() == b"ATGTATAGGC"


def test_truth_vcf_genotypes_and_ploidy(tmp_path: Path) -> None:
    path = tmp_path / "germline.vcf.gz"
    write_truth_vcf(path, dataset().truth, DEFAULT_SEED)
    assert (tmp_path / "germline.vcf.gz.tbi").exists()
    with pysam.VariantFile(str(path)) as vcf:
        assert list(vcf.header.samples) == [FATHER, MOTHER, CHILD]
        assert {c: vcf.header.contigs[c].length for c in vcf.header.contigs} == dict(
            dataset().reference.lengths
        )
        records = list(vcf)
    keys = [(list(dataset().reference.lengths).index(r.chrom), r.pos) for r in records]
    assert keys == sorted(keys)
    for record in records:
        gts = {s: record.samples[s]["GT"] for s in (FATHER, MOTHER, CHILD)}
        assert any(a for gt in gts.values() for a in gt if a)
        if record.chrom == "chrX":
            assert len(gts[FATHER]) == len(gts[CHILD]) == 1 and len(gts[MOTHER]) == 2
        elif record.chrom == "chrY":
            assert len(gts[FATHER]) == len(gts[CHILD]) == 1 and gts[MOTHER] == (None,)
        else:
            assert all(len(gt) == 2 for gt in gts.values())


def test_common_snps_vcf_is_sites_only_with_af(tmp_path: Path) -> None:
    sites = common_snp_sites(dataset().reference, dataset().truth, 250)
    path = tmp_path / "common.vcf.gz"
    write_common_snps_vcf(path, dataset().reference.lengths, sites, DEFAULT_SEED)
    with pysam.VariantFile(str(path)) as vcf:
        assert len(vcf.header.samples) == 0
        records = list(vcf)
    assert 150 <= len(records) <= 300
    assert {r.chrom for r in records} == {"chr1", "chr2", "chrX"}
    assert all(len(str(r.ref)) == 1 and len((r.alts or ("",))[0]) == 1 for r in records)
    assert all(0.2 <= r.info["AF"][0] <= 0.8 for r in records)


def test_pedigree_errors_are_reported() -> None:
    bad = [SampleSpec("KID", "M", "proband", father="DAD", mother="MUM")]
    with pytest.raises(GenomflowError, match="parent DAD"):
        simulate_truth(dataset().reference, bad, rng_for(1))
