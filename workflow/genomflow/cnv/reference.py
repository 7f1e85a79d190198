"""A panel's CNVkit reference: pooled from the batch's normals, or flat (flagged) without."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from genomflow import atomic
from genomflow.cnv.setup import WGS
from genomflow.errors import GenomflowError

POOLED = "pooled"
FLAT = "flat"
#: CNVkit's bias corrections, off: a panel of tens of targets has too few bins to fit GC,
#: edge and repeat curves, and the fits absorb real copy-number changes (on the demo panel
#: they halved the log2 ratio of the amplified gene).
NO_BIAS_CORRECTION = ("--no-gc", "--no-edge", "--no-rmask")


@dataclass(frozen=True)
class ReferenceSummary:
    """What a reference was built from: ``kind`` pooled or flat, the normals, and why."""

    panel: str
    kind: str
    normals: tuple[str, ...]
    note: str

    @property
    def flagged(self) -> bool:
        return self.kind == FLAT


def summarise(
    panel: str, normals: Sequence[str], min_normals: int, available: Sequence[str] = ()
) -> ReferenceSummary:
    """The reference a panel gets from its ``normals`` (``available``: the panel's normals
    in the batch when they are too few to pool, for the message).

    >>> summarise("p1", [], 1).note.split(" (")[0]
    'flat reference: no normal sample of panel p1 in the batch'
    >>> summarise("p1", ["N1", "N2"], 1).kind
    'pooled'
    >>> summarise("wgs", [], 1).note.split(" (")[0]
    'flat reference: no whole-genome normal sample in the batch'
    """
    if len(normals) >= max(1, min_normals) and normals:
        return ReferenceSummary(panel, POOLED, tuple(normals), f"pooled from {', '.join(normals)}")
    present = list(normals) or list(available)
    kind = "whole-genome normal" if panel == WGS else "normal"
    found = f"{len(present)} {kind} sample(s)" if present else f"no {kind} sample"
    of = "" if panel == WGS else f" of panel {panel}"
    bias = "bin-specific depth bias" if panel == WGS else "target-specific capture bias"
    return ReferenceSummary(
        panel,
        FLAT,
        (),
        f"flat reference: {found}{of} in the batch"
        + (f" (at least {min_normals} needed)" if present else "")
        + f" (copy numbers are relative to a uniform expected depth; {bias} is not removed)",
    )


def read_summary(path: Path) -> ReferenceSummary:
    try:
        data = json.loads(path.read_text())
        return ReferenceSummary(data["panel"], data["kind"], tuple(data["normals"]), data["note"])
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise GenomflowError(f"{path}: not a copy-number reference summary ({err})") from None


def cnvkit_command(
    summary: ReferenceSummary,
    coverages: Sequence[Path],
    targets: Path,
    antitargets: Path,
    fasta: Path,
    out: Path,
) -> list[str]:
    """The ``cnvkit.py reference`` command line for ``summary``."""
    command = ["cnvkit.py", "reference", "-f", str(fasta), "-o", str(out), *NO_BIAS_CORRECTION]
    if summary.kind == FLAT:
        return [*command, "-t", str(targets), "-a", str(antitargets)]
    return [*command, *(str(c) for c in coverages)]


def build(
    summary: ReferenceSummary,
    coverages: Sequence[Path],
    targets: Path,
    antitargets: Path,
    fasta: Path,
    out: Path,
    summary_out: Path,
) -> None:
    """Run CNVkit and write the reference and its summary (both, or neither)."""
    if summary.kind == POOLED and len(coverages) != 2 * len(summary.normals):
        raise GenomflowError(
            f"reference of panel {summary.panel}: {len(coverages)} coverage files for "
            f"{len(summary.normals)} normals (a target and an antitarget file each)"
        )
    with atomic.all_or_nothing(out, summary_out) as (staged, staged_summary):
        command = cnvkit_command(summary, coverages, targets, antitargets, fasta, staged)
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        print(done.stderr, end="")
        if done.returncode != 0:
            raise GenomflowError(
                f"cnvkit.py reference failed for panel {summary.panel} "
                f"(exit {done.returncode}): {done.stderr.strip().splitlines()[-1:]}"
            )
        staged_summary.write_text(json.dumps(asdict(summary), indent=2) + "\n")
