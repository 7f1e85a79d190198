"""An Illumina-like paired-end read simulator.

Fragments are drawn uniformly from each chromosome copy (haplotype) of a sample, with a length
from a truncated normal distribution, rejected when they touch an ``N`` and, mildly, when their
GC content is extreme.  Read 1 is the fragment's first ``read_length`` bases on a random strand
and read 2 the last ones on the other strand; a fragment shorter than a read continues into the
TruSeq adapter and then random bases.  Each base gets a "true" quality from a position-dependent
model (read 2 worse, occasional low-quality tails); the base is miscalled with probability
``10 ** (-Q / 10)`` and the quality is written binned like a NovaSeq (2, 12, 23, 37); Q2 bases
are written as ``N``.  Rare 1-bp insertion/deletion errors are added too.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np

from genomflow.errors import GenomflowError
from genomflow.simulate.common import (
    BASE_INDEX,
    BASES,
    COMPLEMENT,
    GC_CODES,
    N_CODE,
    Seq,
    to_seq,
)

#: Illumina TruSeq adapters as read through at the 3' end of read 1 and read 2.
ADAPTER_R1 = "AGATCGGAAGAGCACACGTCTGAACTCCAGTCA"
ADAPTER_R2 = "AGATCGGAAGAGCGTCGTGTAGGGAAAGAGTGT"
#: NovaSeq quality bins: (highest true Q in the bin, emitted Q).
QUALITY_BINS: tuple[tuple[int, int], ...] = ((2, 2), (14, 12), (30, 23), (99, 37))
PHRED_OFFSET = 33
MAX_TRUE_QUALITY = 41
#: Extra template bases kept beyond the read so that a deletion error can pull one in.
_TEMPLATE_PAD = 4
#: Fragments drawn per batch, relative to the number still needed.
_OVERSAMPLE = 1.6
#: Pairs generated and written per chunk (bounds memory on big runs).
CHUNK_PAIRS = 20_000
#: Default gzip level of the FASTQ files.
GZIP_LEVEL = 6


@dataclass(frozen=True)
class ReadModel:
    """Parameters of the read simulator."""

    read_length: int = 150
    insert_mean: float = 320.0
    insert_sd: float = 70.0
    insert_min: int = 120
    insert_max: int = 800
    adapter_r1: str = ADAPTER_R1
    adapter_r2: str = ADAPTER_R2
    #: Mean true quality at the first and last cycle of each read.
    q_first_r1: float = 36.5
    q_last_r1: float = 32.0
    q_first_r2: float = 35.5
    q_last_r2: float = 29.5
    #: Shape of the decay (quality drop grows as position ** exponent).
    q_decay_exponent: float = 1.6
    #: Standard deviation of the per-read offset and of the per-base noise.
    q_read_sd: float = 1.5
    q_base_sd: float = 2.5
    #: Probability that a read ends in a low-quality tail, and the tail's quality range.
    tail_prob_r1: float = 0.03
    tail_prob_r2: float = 0.06
    tail_quality: tuple[int, int] = (3, 22)
    tail_n_prob: float = 0.05
    #: Per-base rate of 1-bp insertion/deletion errors.
    indel_error_rate: float = 1e-5
    #: GC bias: a fragment is kept with probability ``exp(-strength * (gc - optimum) ** 2)``.
    gc_bias_strength: float = 6.0
    gc_optimum: float = 0.47


@dataclass
class Fragments:
    """Sampled fragments: haplotype index, 0-based start on it, length and orientation."""

    hap: np.ndarray
    start: np.ndarray
    length: np.ndarray
    forward: np.ndarray

    def __len__(self) -> int:
        return int(self.hap.size)

    def subset(self, index: np.ndarray | slice) -> Fragments:
        """The fragments selected by ``index``."""
        return Fragments(
            self.hap[index], self.start[index], self.length[index], self.forward[index]
        )


@dataclass
class ReadPairs:
    """Simulated pairs with their truth (all arrays have one row per pair)."""

    fragments: Fragments
    #: Emitted bases and Phred+33 quality characters (uint8 ASCII), shape (n, read_length).
    r1: Seq
    r2: Seq
    q1: Seq
    q2: Seq
    #: True (unbinned) qualities that drove the errors.
    true_q1: np.ndarray
    true_q2: np.ndarray
    #: Error-free bases of each read (fragment, then adapter and random bases).
    template1: Seq
    template2: Seq
    #: True for reads that received an insertion/deletion error.
    indel1: np.ndarray
    indel2: np.ndarray

    def __len__(self) -> int:
        return int(self.r1.shape[0])


@dataclass(frozen=True)
class UnitSummary:
    """What was written for one sequencing unit."""

    pairs: int
    fragment_mean: float
    fragment_sd: float
    short_fragments: int


def pairs_for_depth(length: int, depth: float, read_length: int) -> int:
    """Pairs needed to cover a sequence of ``length`` at ``depth`` with two reads per pair."""
    return round(depth * length / (2 * read_length))


def sample_fragments(
    haplotypes: Sequence[Seq], pairs: Sequence[int], model: ReadModel, rng: np.random.Generator
) -> Fragments:
    """Draw ``pairs[i]`` fragments from ``haplotypes[i]`` (N-free, GC-biased acceptance)."""
    parts = [
        _fragments_from(seq, count, model, rng, index)
        for index, (seq, count) in enumerate(zip(haplotypes, pairs, strict=True))
        if count > 0
    ]
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Fragments(empty, empty, empty, np.zeros(0, dtype=bool))
    return Fragments(*(np.concatenate([getattr(p, f) for p in parts]) for f in _FIELDS))


_FIELDS = ("hap", "start", "length", "forward")


def _fragments_from(
    seq: Seq, count: int, model: ReadModel, rng: np.random.Generator, hap_index: int
) -> Fragments:
    if seq.size <= model.insert_min:
        raise GenomflowError(f"sequence of {seq.size} bp is shorter than the shortest fragment")
    n_prefix = np.concatenate([[0], np.cumsum(seq == N_CODE)])
    gc_prefix = np.concatenate([[0], np.cumsum(np.isin(seq, GC_CODES))])
    starts: list[np.ndarray] = []
    lengths: list[np.ndarray] = []
    have = 0
    while have < count:
        batch = int((count - have) * _OVERSAMPLE) + 16
        length = np.rint(rng.normal(model.insert_mean, model.insert_sd, batch)).astype(np.int64)
        length = length[(length >= model.insert_min) & (length <= min(model.insert_max, seq.size))]
        start = (rng.random(length.size) * (seq.size - length + 1)).astype(np.int64)
        end = start + length
        has_n = n_prefix[end] - n_prefix[start] > 0
        gc = (gc_prefix[end] - gc_prefix[start]) / length
        keep_prob = np.exp(-model.gc_bias_strength * (gc - model.gc_optimum) ** 2)
        keep = ~has_n & (rng.random(length.size) < keep_prob)
        starts.append(start[keep])
        lengths.append(length[keep])
        have += int(keep.sum())
    start_all = np.concatenate(starts)[:count]
    length_all = np.concatenate(lengths)[:count]
    forward = rng.random(count) < 0.5
    hap = np.full(count, hap_index, dtype=np.int64)
    return Fragments(hap, start_all, length_all, forward)


def build_pairs(
    haplotypes: Sequence[Seq], fragments: Fragments, model: ReadModel, rng: np.random.Generator
) -> ReadPairs:
    """Turn fragments into read pairs with quality scores and sequencing errors."""
    concat = np.concatenate(list(haplotypes))
    offsets = np.concatenate([[0], np.cumsum([h.size for h in haplotypes])[:-1]])
    width = model.read_length + _TEMPLATE_PAD
    first = offsets[fragments.hap] + fragments.start
    last = first + fragments.length - 1
    cycle = np.arange(width)
    top = concat[np.minimum(first[:, None] + cycle, concat.size - 1)]
    bottom = COMPLEMENT[concat[np.maximum(last[:, None] - cycle, 0)]]
    forward = fragments.forward[:, None]
    template1 = np.where(forward, top, bottom)
    template2 = np.where(forward, bottom, top)
    _read_through(template1, fragments.length, model.adapter_r1, rng)
    _read_through(template2, fragments.length, model.adapter_r2, rng)
    read1, indel1 = _indel_errors(template1, model, rng)
    read2, indel2 = _indel_errors(template2, model, rng)
    length = model.read_length
    true_q1 = _true_qualities(len(fragments), model, rng, read=1)
    true_q2 = _true_qualities(len(fragments), model, rng, read=2)
    r1, q1 = _call_bases(read1, true_q1, rng)
    r2, q2 = _call_bases(read2, true_q2, rng)
    return ReadPairs(
        fragments,
        r1,
        r2,
        q1,
        q2,
        true_q1,
        true_q2,
        template1[:, :length].copy(),
        template2[:, :length].copy(),
        indel1,
        indel2,
    )


def _read_through(
    template: Seq, length: np.ndarray, adapter: str, rng: np.random.Generator
) -> None:
    """Past the end of short fragments, the read continues into the adapter, then random bases."""
    short = np.flatnonzero(length < template.shape[1])
    if short.size == 0:
        return
    width = template.shape[1]
    tail = BASES[rng.integers(0, 4, size=(short.size, width))]
    adapter_seq = to_seq(adapter)[:width]
    tail[:, : adapter_seq.size] = adapter_seq
    cycle = np.arange(width)
    offset = cycle[None, :] - length[short][:, None]
    rows, cols = np.nonzero(offset >= 0)
    template[short[rows], cols] = tail[rows, offset[rows, cols]]


def _indel_errors(
    template: Seq, model: ReadModel, rng: np.random.Generator
) -> tuple[Seq, np.ndarray]:
    """Apply rare 1-bp insertion/deletion errors; return reads of ``read_length`` and flags."""
    length = model.read_length
    reads = template.copy()
    per_read = 1.0 - (1.0 - model.indel_error_rate) ** length
    hit = np.flatnonzero(rng.random(template.shape[0]) < per_read)
    for row in hit:
        where = int(rng.integers(1, length))
        original = template[row]
        if rng.random() < 0.5:
            inserted = BASES[rng.integers(0, 4, size=1)]
            reads[row] = np.concatenate([original[:where], inserted, original[where:-1]])
        else:
            reads[row] = np.concatenate([original[:where], original[where + 1 :], original[-1:]])
    flags = np.zeros(template.shape[0], dtype=bool)
    flags[hit] = True
    return reads[:, :length], flags


def _true_qualities(
    count: int, model: ReadModel, rng: np.random.Generator, *, read: int
) -> np.ndarray:
    """Position-dependent true Phred qualities, shape ``(count, read_length)``."""
    length = model.read_length
    q_first, q_last, tail_prob = (
        (model.q_first_r1, model.q_last_r1, model.tail_prob_r1)
        if read == 1
        else (model.q_first_r2, model.q_last_r2, model.tail_prob_r2)
    )
    position = np.arange(length) / (length - 1)
    mean = q_first - (q_first - q_last) * position**model.q_decay_exponent
    quality = (
        mean[None, :]
        + rng.normal(0.0, model.q_read_sd, size=(count, 1))
        + rng.normal(0.0, model.q_base_sd, size=(count, length))
    )
    tail_rows = np.flatnonzero(rng.random(count) < tail_prob)
    tail_start = rng.integers(int(0.6 * length), length, size=tail_rows.size)
    low = rng.integers(
        model.tail_quality[0], model.tail_quality[1] + 1, size=(tail_rows.size, length)
    )
    low[rng.random(low.shape) < model.tail_n_prob] = 2
    in_tail = np.arange(length)[None, :] >= tail_start[:, None]
    quality[tail_rows] = np.where(in_tail, low, quality[tail_rows])
    result: np.ndarray = np.clip(np.rint(quality), 2, MAX_TRUE_QUALITY).astype(np.uint8)
    return result


def _call_bases(
    template: Seq, true_quality: np.ndarray, rng: np.random.Generator
) -> tuple[Seq, Seq]:
    """Miscall bases with probability 10^(-Q/10); return bases and binned quality characters."""
    error_prob = 10.0 ** (-true_quality.astype(np.float64) / 10.0)
    wrong = rng.random(template.shape) < error_prob
    index = BASE_INDEX[template].astype(np.int64)
    shifted = (index + rng.integers(1, 4, size=template.shape)) % 4
    called = np.where(wrong & (index >= 0), BASES[shifted], template)
    emitted = bin_qualities(true_quality)
    called[emitted == 2] = N_CODE
    return called.astype(np.uint8), (emitted + PHRED_OFFSET).astype(np.uint8)


def bin_qualities(quality: np.ndarray) -> np.ndarray:
    """Map true Phred qualities onto the NovaSeq bins (2, 12, 23, 37)."""
    uppers = np.array([upper for upper, _ in QUALITY_BINS])
    values = np.array([value for _, value in QUALITY_BINS], dtype=np.uint8)
    result: np.ndarray = values[np.searchsorted(uppers, quality, side="left")]
    return result


def open_fastq(path: Path, level: int = GZIP_LEVEL) -> gzip.GzipFile:
    """A gzip stream with no name and a zero timestamp, so equal content gives equal bytes."""
    raw = path.open("wb")
    return _OwningGzip(raw, level)


class _OwningGzip(gzip.GzipFile):
    """A :class:`gzip.GzipFile` that also closes the file object it writes to."""

    def __init__(self, raw: IO[bytes], level: int) -> None:
        super().__init__(filename="", mode="wb", compresslevel=level, fileobj=raw, mtime=0)
        self._raw = raw

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._raw.close()


def fastq_records(
    pairs: ReadPairs, prefix: str, first_number: int, keep: np.ndarray | None = None
) -> tuple[bytes, bytes]:
    """FASTQ text of read 1 and read 2; names are ``<prefix>.<number>`` with Illumina comments.

    With ``keep``, only the pairs it flags are written (their numbers do not change)."""
    length = pairs.r1.shape[1]
    blobs = (pairs.r1.tobytes(), pairs.q1.tobytes(), pairs.r2.tobytes(), pairs.q2.tobytes())
    out1: list[bytes] = []
    out2: list[bytes] = []
    for i in range(len(pairs)):
        if keep is not None and not keep[i]:
            continue
        name = f"@{prefix}.{first_number + i}".encode()
        lo, hi = i * length, (i + 1) * length
        out1.append(b"%s 1:N:0:1\n%s\n+\n%s\n" % (name, blobs[0][lo:hi], blobs[1][lo:hi]))
        out2.append(b"%s 2:N:0:1\n%s\n+\n%s\n" % (name, blobs[2][lo:hi], blobs[3][lo:hi]))
    return b"".join(out1), b"".join(out2)


def simulate_unit(
    haplotypes: Sequence[Seq],
    pairs: Sequence[int],
    model: ReadModel,
    rng: np.random.Generator,
    *,
    r1_path: Path,
    r2_path: Path,
    prefix: str,
    gzip_level: int = GZIP_LEVEL,
    edit: Callable[[Fragments], tuple[np.ndarray, list[Seq], Fragments, np.random.Generator]]
    | None = None,
) -> UnitSummary:
    """Simulate one sequencing unit and write its two gzipped FASTQ files.

    Fragments from all haplotypes are shuffled so that the files are in random genomic order.
    ``edit`` (structural variants, :mod:`genomflow.simulate.sv`) may leave some of the drawn
    fragments out (after every random draw) and add fragments over other sequences, with its
    own random stream, written after the others.
    """
    fragments = sample_fragments(haplotypes, pairs, model, rng)
    fragments = fragments.subset(rng.permutation(len(fragments)))
    keep = None
    extra = None
    if edit is not None:
        keep, sequences, added, edit_rng = edit(fragments)
        extra = (sequences, added.subset(edit_rng.permutation(len(added))), edit_rng)
    with open_fastq(r1_path, gzip_level) as out1, open_fastq(r2_path, gzip_level) as out2:
        for begin in range(0, len(fragments), CHUNK_PAIRS):
            chunk = fragments.subset(slice(begin, begin + CHUNK_PAIRS))
            text1, text2 = fastq_records(
                build_pairs(haplotypes, chunk, model, rng),
                prefix,
                begin + 1,
                None if keep is None else keep[begin : begin + CHUNK_PAIRS],
            )
            out1.write(text1)
            out2.write(text2)
        if extra is not None and len(extra[1]):
            sequences, added, edit_rng = extra
            for begin in range(0, len(added), CHUNK_PAIRS):
                chunk = added.subset(slice(begin, begin + CHUNK_PAIRS))
                text1, text2 = fastq_records(
                    build_pairs(sequences, chunk, model, edit_rng),
                    f"{prefix}.sv",
                    begin + 1,
                )
                out1.write(text1)
                out2.write(text2)
    if keep is not None:
        fragments = fragments.subset(keep)
    lengths = fragments.length
    return UnitSummary(
        pairs=len(fragments),
        fragment_mean=float(lengths.mean()) if lengths.size else 0.0,
        fragment_sd=float(lengths.std()) if lengths.size else 0.0,
        short_fragments=int((lengths < model.read_length).sum()),
    )
