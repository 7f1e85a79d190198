"""The genome-wide copy-number plot of a sample: bins, segments, the panel genes labelled."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from genomflow import atomic
from genomflow.cnv.calls import ANTITARGET, NEUTRAL, GeneCopies, Segment

#: Colours of the segment calls (neutral grey).
CALL_COLOURS = {
    "amplification": "#b2182b",
    "gain": "#ef8a62",
    NEUTRAL: "#404040",
    "loss": "#67a9cf",
    "deletion": "#2166ac",
}
LOG2_LIMITS = (-3.0, 3.0)


def plot(
    path: Path,
    title: str,
    bins: pd.DataFrame,
    segments: Sequence[Segment],
    genes: Sequence[GeneCopies],
    contig_lengths: dict[str, int],
) -> None:
    """Write the plot as PNG (atomically)."""
    offsets: dict[str, int] = {}
    total = 0
    for name, length in contig_lengths.items():
        offsets[name] = total
        total += length
    figure, axes = plt.subplots(figsize=(12, 4), dpi=100)
    low, high = LOG2_LIMITS
    shown = bins[bins["chromosome"].isin(offsets)]
    x = shown["chromosome"].map(offsets) + (shown["start"] + shown["end"]) / 2
    y = shown["log2"].clip(low, high)
    off = shown["gene"].astype(str) == ANTITARGET
    axes.scatter(x[off], y[off], s=6, color="#bbbbbb", label="off-target bins")
    axes.scatter(x[~off], y[~off], s=10, color="#555555", label="target bins")
    for segment in segments:
        if segment.contig not in offsets:
            continue
        start = offsets[segment.contig] + segment.start
        axes.plot(
            [start, start + segment.end - segment.start],
            [max(low, min(high, segment.log2))] * 2,
            color=CALL_COLOURS.get(segment.call, "black"),
            linewidth=3,
        )
    for index, gene in enumerate(genes):
        if gene.contig not in offsets:
            continue
        middle = offsets[gene.contig] + (gene.start + gene.end) / 2
        axes.annotate(
            f"{gene.gene}\nCN {gene.copies}",
            (middle, high + 0.5 - 0.6 * (index % 2)),  # alternate heights: neighbours
            ha="center",
            va="top",
            fontsize=8,
            color=CALL_COLOURS.get(gene.call, "black"),
        )
    for name, start in offsets.items():
        axes.axvline(start, color="#dddddd", linewidth=0.8)
        axes.text(start + contig_lengths[name] / 2, low, name, ha="center", va="bottom", fontsize=8)
    axes.axhline(0, color="#999999", linewidth=0.8, linestyle="--")
    axes.set_xlim(0, total)
    axes.set_ylim(low, high + 0.6)  # room for the gene labels
    axes.set_ylabel("log2 ratio")
    axes.set_xticks([])
    axes.set_title(title, fontsize=10)
    axes.legend(loc="lower right", fontsize=7)
    figure.tight_layout()
    with atomic.open_atomic(path, binary=True) as handle:
        figure.savefig(handle, format="png")
    plt.close(figure)
