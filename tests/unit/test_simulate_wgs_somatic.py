"""The whole-genome somatic generator: the planted truth, the mixture's truth and the reads."""

from __future__ import annotations

import gzip
import itertools
from collections import Counter
from pathlib import Path

import pysam
import pytest

from genomflow.simulate.wgs_somatic import (
    MIX_TUMOUR,
    PAIR_TUMOUR,
    PERSON_A,
    PERSON_B,
    WgsSomaticData,
    WgsSomaticSpec,
    build_wgs_somatic,
    generate_wgs_somatic,
    scale_depth,
)

SPEC = WgsSomaticSpec()


@pytest.fixture(scope="module")
def data() -> WgsSomaticData:
    return build_wgs_somatic(SPEC)


def test_pair_truth_follows_the_spec(data: WgsSomaticData) -> None:
    snvs = [s for s in data.somatic if s.variant.is_snv]
    for low, high, count in SPEC.snv_bands:
        assert sum(low <= s.vaf <= high for s in snvs) >= count  # indels may fall in a band too
    assert len(snvs) == sum(count for *_, count in SPEC.snv_bands)
    indels = [s for s in data.somatic if not s.variant.is_snv]
    assert len(indels) == SPEC.indels + SPEC.homopolymer_indels + SPEC.str_indels
    labels = Counter(s.variant.label for s in indels)
    assert labels["homopolymer"] == SPEC.homopolymer_indels and labels["str"] == SPEC.str_indels
    assert all(s.tumour == PAIR_TUMOUR for s in data.somatic)


def test_mixture_truth_is_what_b_carries_and_a_does_not(data: WgsSomaticData) -> None:
    def alleles(person: str) -> dict[tuple[str, int, str, str], int]:
        return {
            (g.variant.contig, g.variant.pos, g.variant.ref, g.variant.alt): sum(g.haplotypes)
            for carried in data.germline[person].values()
            for g in carried
        }

    a, b = alleles(PERSON_A), alleles(PERSON_B)
    expected = {
        key: SPEC.mixture_fraction * copies / 2 for key, copies in b.items() if key not in a
    }
    found = {
        (s.variant.contig, s.variant.pos, s.variant.ref, s.variant.alt): s.vaf for s in data.mixture
    }
    assert found == pytest.approx(expected)
    assert all(s.tumour == MIX_TUMOUR for s in data.mixture)
    vafs = Counter(found.values())
    assert vafs[0.12] > 150 and vafs[0.24] > 60  # enough in each band to measure recall


def test_planted_variants_keep_clear_of_germline_and_each_other(data: WgsSomaticData) -> None:
    germline = {
        (g.variant.contig, g.variant.pos)
        for person in data.germline.values()
        for carried in person.values()
        for g in carried
    }
    positions = sorted((s.variant.contig, s.variant.pos) for s in data.somatic)
    assert not germline & set(positions)
    for (c1, p1), (c2, p2) in itertools.pairwise(positions):
        assert c1 != c2 or p2 - p1 >= 12


def test_generation_is_deterministic_and_reads_carry_the_variants(tmp_path: Path) -> None:
    spec = scale_depth(SPEC, 0.2)
    first = generate_wgs_somatic(spec, tmp_path / "a")
    generate_wgs_somatic(spec, tmp_path / "b")
    for name in ("truth/somatic.vcf.gz", "reads/WGS001T_L001_R1.fastq.gz", "cohort.tsv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    with pysam.VariantFile(str(tmp_path / "a/truth/somatic.vcf.gz")) as truth:
        assert list(truth.header.samples) == [PAIR_TUMOUR, MIX_TUMOUR]
        assert sum(1 for _ in truth) == len(first.somatic) + len(first.mixture)
    # 6x (30x x 0.2) over the 305 kb of a female genome, 300 bp a pair: 6,100 pairs, plus
    # 5% duplicates.
    with gzip.open(tmp_path / "a/reads/WGS001T_L001_R1.fastq.gz", "rt") as reads:
        pairs = sum(1 for _ in reads) // 4
    assert pairs == first.pairs[PAIR_TUMOUR]
    assert 6_300 < pairs < 6_500
