"""The read simulator: pair structure, fragment sizes, adapters, qualities and errors."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

import numpy as np
import pytest

from genomflow.errors import GenomflowError
from genomflow.simulate import DEFAULT_SEED, build_dataset, make_testgenome_spec
from genomflow.simulate.common import COMPLEMENT, Seq, random_bases, rng_for
from genomflow.simulate.reads import (
    ADAPTER_R1,
    ADAPTER_R2,
    ReadModel,
    ReadPairs,
    bin_qualities,
    build_pairs,
    pairs_for_depth,
    sample_fragments,
    simulate_unit,
)
from genomflow.simulate.variants import haplotype_sequences

MODEL = ReadModel()
BINNED = set(b"#-8F")


@functools.cache
def haplotypes() -> tuple[Seq, ...]:
    ds = build_dataset(make_testgenome_spec(), DEFAULT_SEED)
    return tuple(seq for _, _, seq in haplotype_sequences(ds.reference, ds.truth, "RD001"))


@functools.cache
def pairs() -> ReadPairs:
    rng = rng_for(7, "reads-test")
    counts = [pairs_for_depth(h.size, 1.0, MODEL.read_length) for h in haplotypes()]
    fragments = sample_fragments(haplotypes(), counts, MODEL, rng)
    return build_pairs(haplotypes(), fragments, MODEL, rng)


def test_fragment_lengths_follow_the_truncated_normal() -> None:
    rng = rng_for(3)
    fragments = sample_fragments(haplotypes(), [4000] * len(haplotypes()), MODEL, rng)
    lengths = fragments.length
    assert lengths.min() >= MODEL.insert_min and lengths.max() <= MODEL.insert_max
    assert abs(lengths.mean() - MODEL.insert_mean) < 6
    assert abs(lengths.std() - MODEL.insert_sd) < 6
    assert 0.3 < fragments.forward.mean() < 0.7
    assert np.bincount(fragments.hap).tolist() == [4000] * len(haplotypes())


def test_fragments_never_touch_n() -> None:
    chr1 = haplotypes()[0]
    fragments = sample_fragments([chr1], [5000], MODEL, rng_for(4))
    n_prefix = np.concatenate([[0], np.cumsum(chr1 == ord("N"))])
    end = fragments.start + fragments.length
    assert np.all(n_prefix[end] == n_prefix[fragments.start])


def test_extreme_gc_fragments_are_rarer() -> None:
    rng = rng_for(5)
    seq = np.concatenate([random_bases(rng, 50_000, 0.47), random_bases(rng, 50_000, 0.75)])
    fragments = sample_fragments([seq], [10_000], MODEL, rng)
    in_balanced = np.mean(fragments.start + fragments.length <= 50_000)
    assert 0.55 < in_balanced < 0.8


def test_reads_are_exact_copies_of_their_fragment_ends() -> None:
    p = pairs()
    concat = haplotypes()
    for i in range(len(p)):
        hap = concat[p.fragments.hap[i]]
        start, length = p.fragments.start[i], p.fragments.length[i]
        fragment = hap[start : start + length]
        top = fragment[: MODEL.read_length]
        bottom = COMPLEMENT[fragment[::-1][: MODEL.read_length]]
        one, two = (top, bottom) if p.fragments.forward[i] else (bottom, top)
        n = min(length, MODEL.read_length)
        assert np.array_equal(p.template1[i, :n], one[:n])
        assert np.array_equal(p.template2[i, :n], two[:n])


def test_short_fragments_read_into_the_adapter() -> None:
    rng = rng_for(8)
    fragments = sample_fragments(haplotypes()[:1], [20_000], MODEL, rng)
    fragments = fragments.subset(fragments.length < MODEL.read_length)
    assert 50 < len(fragments) < 400  # about 0.75% of fragments are shorter than a read
    p = build_pairs(haplotypes()[:1], fragments, MODEL, rng)
    for i in range(len(p)):
        length = p.fragments.length[i]
        seen = MODEL.read_length - length
        assert p.template1[i, length:].tobytes().decode() == ADAPTER_R1[:seen]
        assert p.template2[i, length:].tobytes().decode() == ADAPTER_R2[:seen]


def test_qualities_are_binned_and_q2_bases_are_n() -> None:
    p = pairs()
    for bases, quals in ((p.r1, p.q1), (p.r2, p.q2)):
        assert set(np.unique(quals).tolist()) <= BINNED
        assert np.all((bases == ord("N")) == (quals == ord("#")))
        assert set(np.unique(bases).tolist()) <= set(b"ACGTN")
    assert bin_qualities(np.array([2, 3, 14, 15, 30, 31, 41])).tolist() == [
        2,
        12,
        12,
        23,
        23,
        37,
        37,
    ]


def test_quality_decays_along_the_read_and_read2_is_worse() -> None:
    p = pairs()
    first, last = p.true_q1[:, :10].mean(), p.true_q1[:, -10:].mean()
    assert 35 < first < 38 and last < first - 3
    assert p.true_q2.mean() < p.true_q1.mean()


def test_error_rate_matches_the_true_qualities() -> None:
    p = pairs()
    for read, template, quality, indel in (
        (p.r1, p.template1, p.true_q1, p.indel1),
        (p.r2, p.template2, p.true_q2, p.indel2),
    ):
        keep = ~indel[:, None] & (read != ord("N"))
        observed = np.mean((read != template)[keep])
        expected = np.mean(10.0 ** (-quality.astype(float) / 10.0)[keep])
        assert 0.5e-3 < expected < 5e-3
        assert abs(observed - expected) < 0.15 * expected


def test_indel_errors_are_rare() -> None:
    p = pairs()
    rate = (p.indel1.sum() + p.indel2.sum()) / (2 * len(p) * MODEL.read_length)
    assert rate < 1e-4


def test_unit_files_are_deterministic_and_paired(tmp_path: Path) -> None:
    def run(seed: int, name: str) -> tuple[bytes, bytes]:
        r1, r2 = tmp_path / f"{name}_R1.fastq.gz", tmp_path / f"{name}_R2.fastq.gz"
        counts = [300] * len(haplotypes())
        summary = simulate_unit(
            haplotypes(), counts, MODEL, rng_for(seed), r1_path=r1, r2_path=r2, prefix="S.L1"
        )
        assert summary.pairs == sum(counts)
        return r1.read_bytes(), r2.read_bytes()

    first, again, other = run(1, "a"), run(1, "b"), run(2, "c")
    assert first == again and first != other
    lines1 = gzip.decompress(first[0]).decode().splitlines()
    lines2 = gzip.decompress(first[1]).decode().splitlines()
    assert len(lines1) == len(lines2) == 4 * 300 * len(haplotypes())
    for head1, head2 in zip(lines1[::4], lines2[::4], strict=True):
        name1, comment1 = head1.split(" ")
        name2, comment2 = head2.split(" ")
        assert name1 == name2 and name1.startswith("@S.L1.")
        assert (comment1, comment2) == ("1:N:0:1", "2:N:0:1")
    assert all(len(line) == MODEL.read_length for line in lines1[1::4] + lines1[3::4])


def test_too_short_sequences_are_rejected() -> None:
    with pytest.raises(GenomflowError):
        sample_fragments([random_bases(rng_for(1), 100)], [5], MODEL, rng_for(1))
