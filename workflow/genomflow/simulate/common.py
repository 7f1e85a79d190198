"""Shared helpers of the simulator: seeded random streams, DNA byte arrays and intervals.

Sequences are held as ``numpy.uint8`` arrays of upper-case ASCII codes (``b"ACGTN"``) so that
the heavy steps (mutating, copying, sampling reads) are vectorised.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

#: A DNA sequence: one ASCII code per base.
Seq = npt.NDArray[np.uint8]

#: The four bases in a fixed order; random bases are drawn as indices into this array.
BASES: Seq = np.frombuffer(b"ACGT", dtype=np.uint8).copy()
#: ASCII code of the gap base.
N_CODE = ord("N")
#: ASCII codes of G and C.
GC_CODES = (ord("G"), ord("C"))


def _complement_table() -> Seq:
    table = np.arange(256, dtype=np.uint8)
    for base, comp in zip(b"ACGTN", b"TGCAN", strict=True):
        table[base] = comp
    return table


#: Lookup table mapping an ASCII base to its complement (other codes map to themselves).
COMPLEMENT: Seq = _complement_table()


def _base_index_table() -> npt.NDArray[np.int8]:
    table = np.full(256, -1, dtype=np.int8)
    for index, base in enumerate(b"ACGT"):
        table[base] = index
    return table


#: Lookup table mapping an ASCII base to its index in ``BASES`` (``-1`` for N and others).
BASE_INDEX: npt.NDArray[np.int8] = _base_index_table()


def rng_for(seed: int, *labels: str) -> np.random.Generator:
    """Return an independent random generator derived from ``seed`` and a path of labels.

    Each component (genome, genes, variants, each read unit...) draws from its own stream, so
    changing one component's parameters does not reshuffle the others.
    """
    words = [seed & 0xFFFFFFFF, seed >> 32] + [zlib.crc32(label.encode()) for label in labels]
    return np.random.default_rng(np.random.SeedSequence(words))


def to_seq(text: str) -> Seq:
    """Encode a DNA string as a sequence array."""
    return np.frombuffer(text.upper().encode("ascii"), dtype=np.uint8).copy()


def to_str(seq: Seq) -> str:
    """Decode a sequence array into a string."""
    return seq.tobytes().decode("ascii")


def reverse_complement(seq: Seq) -> Seq:
    """Reverse complement of a sequence array."""
    return COMPLEMENT[seq[::-1]]


def revcomp_str(text: str) -> str:
    """Reverse complement of a DNA string."""
    return to_str(reverse_complement(to_seq(text)))


def random_bases(rng: np.random.Generator, length: int, gc: float = 0.5) -> Seq:
    """Draw ``length`` independent bases with the given GC fraction."""
    at = (1.0 - gc) / 2.0
    probs = np.array([at, gc / 2.0, gc / 2.0, at])
    return BASES[rng.choice(4, size=length, p=probs)]


def gc_fraction(seq: Seq) -> float:
    """Fraction of G+C among the non-N bases (0.0 for an empty or all-N sequence)."""
    called = seq[seq != N_CODE]
    if called.size == 0:
        return 0.0
    return float(np.isin(called, GC_CODES).mean())


@dataclass(frozen=True, order=True)
class Feature:
    """A named interval on the reference, 0-based half-open, as written to ``features.bed``."""

    contig: str
    start: int
    end: int
    name: str

    @property
    def length(self) -> int:
        """Number of bases covered."""
        return self.end - self.start

    def overlaps(self, start: int, end: int, margin: int = 0) -> bool:
        """True when ``[start, end)`` comes within ``margin`` bases of this interval."""
        return start < self.end + margin and end > self.start - margin
