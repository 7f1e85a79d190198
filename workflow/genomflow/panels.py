"""Capture panels: ``<panels dir>/<name>.bed``, read and checked against the reference.

A panel BED has one target per line, tab-separated, 0-based half-open as BED is::

    chr1    58389   58668   GFC3:exon4

The fourth column names the target ``GENE:EXON`` (the exon part is free text such as
``exon4``, ``intron2`` or ``promoter``); more columns are allowed and ignored. Lines starting
with ``#``, ``track`` or ``browser`` and blank lines are skipped. Targets must lie on the
reference (contig known, ``0 <= start < end <= contig length``) and must not overlap one
another (merge overlapping probes into one target): coverage per gene is then a plain
length-weighted sum. The first fault raises :class:`PanelError` naming the file and line::

    resources/panels/x.bed line 12: chr1:149990-150100 ends past the end of chr1 (150000 bp)
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.intervals import BedRecord, read_bed
from genomflow.reference import reference_contigs as reference_contigs  # re-exported (cancer)

if TYPE_CHECKING:  # pandas and pyranges are imported where intervals are joined
    import pyranges as pr

#: File name extension of a panel in the panels directory.
PANEL_SUFFIX = ".bed"
#: Panel names: they become file names and wildcard values.
PANEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
#: Separator of gene and exon in the name column.
NAME_SEPARATOR = ":"


class PanelError(GenomflowError):
    """A fault in a panel BED or in a sample's panel name."""


@dataclass(frozen=True, order=True)
class Target:
    """One panel target, 0-based half-open; ``line`` is its line in the BED."""

    contig: str
    start: int
    end: int
    gene: str
    exon: str
    line: int = 0

    @property
    def name(self) -> str:
        """``GENE:EXON``, as in the BED."""
        return f"{self.gene}{NAME_SEPARATOR}{self.exon}"

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Panel:
    """A checked panel: its targets in reference order."""

    name: str
    path: Path
    targets: tuple[Target, ...]

    @property
    def genes(self) -> tuple[str, ...]:
        """Gene names in order of first appearance."""
        return tuple(dict.fromkeys(t.gene for t in self.targets))

    @property
    def size(self) -> int:
        """Bases targeted."""
        return sum(t.length for t in self.targets)

    def ranges(self) -> pr.PyRanges:
        """The targets as PyRanges (columns Name, Gene, Exon)."""
        import pandas as pd
        import pyranges as pr

        return pr.PyRanges(
            pd.DataFrame(
                {
                    "Chromosome": [t.contig for t in self.targets],
                    "Start": [t.start for t in self.targets],
                    "End": [t.end for t in self.targets],
                    "Name": [t.name for t in self.targets],
                    "Gene": [t.gene for t in self.targets],
                    "Exon": [t.exon for t in self.targets],
                }
            )
        )


def panel_path(panels_dir: Path, name: str) -> Path:
    """Where panel ``name`` lives."""
    return panels_dir / f"{name}{PANEL_SUFFIX}"


def available_panels(panels_dir: Path) -> list[str]:
    """Names of the panels in ``panels_dir`` (sorted)."""
    if not panels_dir.is_dir():
        return []
    return sorted(p.name[: -len(PANEL_SUFFIX)] for p in panels_dir.glob(f"*{PANEL_SUFFIX}"))


def read_panel(
    path: Path, contigs: Mapping[str, int] | None = None, *, name: str | None = None
) -> Panel:
    """Read and check a panel BED; with ``contigs``, targets must lie on that reference."""
    display = os.fspath(path)
    records = read_bed(
        path,
        what="panel BED",
        columns=("contig", "start", "end", f"GENE{NAME_SEPARATOR}EXON"),
        contigs=contigs,
        error=PanelError,
    )
    targets = [_target(display, record) for record in records]
    order = {contig: index for index, contig in enumerate(contigs or {})}
    targets.sort(key=lambda t: (order.get(t.contig, len(order)), t.contig, t.start, t.end))
    for left, right in itertools.pairwise(targets):
        if left.contig == right.contig and right.start < left.end:
            raise PanelError(
                f"{display} line {right.line}: {right.name} {_where(right)} overlaps "
                f"{left.name} {_where(left)} on line {left.line}; merge overlapping targets"
            )
    stem = path.name[: -len(PANEL_SUFFIX)] if path.name.endswith(PANEL_SUFFIX) else path.stem
    return Panel(name=name or stem, path=path, targets=tuple(targets))


def _where(target: Target) -> str:
    return f"({target.contig}:{target.start}-{target.end})"


def _target(display: str, record: BedRecord) -> Target:
    label = record.extra[0]
    gene, separator, exon = label.partition(NAME_SEPARATOR)
    if not (separator and gene.strip() and exon.strip()) or label != label.strip():
        raise PanelError(
            f"{display} line {record.line}: name {label!r} is not GENE{NAME_SEPARATOR}EXON "
            "(for example GFB2:exon3)"
        )
    return Target(record.contig, record.start, record.end, gene, exon, record.line)


def check_panel_name(name: str) -> None:
    """Raise unless ``name`` can be a panel (file) name."""
    if not PANEL_NAME.fullmatch(name):
        raise PanelError(
            f"{name!r} is not a valid panel name (letters, digits, '.', '_' and '-', "
            "starting with a letter or digit)"
        )


def write_regions(panel: Panel, out: Path) -> None:
    """The targets as a sorted BED4 (atomically), for tools that take regions."""
    atomic.write_text(
        out, "".join(f"{t.contig}\t{t.start}\t{t.end}\t{t.name}\n" for t in panel.targets)
    )


def write_genome_regions(contigs: Mapping[str, int], out: Path) -> None:
    """Whole contigs as BED3 (atomically): the calling regions of whole-genome samples."""
    atomic.write_text(out, "".join(f"{c}\t0\t{n}\n" for c, n in contigs.items()))


# --- command line ---------------------------------------------------------------------------


def _cmd_check(args: argparse.Namespace) -> int:
    contigs = reference_contigs(args.reference) if args.reference else None
    panel = read_panel(args.bed, contigs)
    print(
        f"{args.bed}: {len(panel.targets)} targets, {panel.size} bp, "
        f"{len(panel.genes)} genes ({', '.join(panel.genes)})"
    )
    return 0


def _cmd_genome(args: argparse.Namespace) -> int:
    write_genome_regions(reference_contigs(args.fasta), args.out)
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``genomflow panels check`` and ``genomflow panels genome``."""
    parser = subparsers.add_parser("panels", help="capture panels")
    sub = parser.add_subparsers(dest="panels_command", required=True)
    check = sub.add_parser("check", help="check a panel BED (against a reference)")
    check.add_argument("--bed", type=Path, required=True)
    check.add_argument("--reference", type=Path, default=None, help="FASTA (its .fai if fresh)")
    check.set_defaults(func=_cmd_check)
    genome = sub.add_parser("genome", help="write whole contigs as BED (WGS calling regions)")
    genome.add_argument("--fasta", type=Path, required=True)
    genome.add_argument("--out", type=Path, required=True)
    genome.set_defaults(func=_cmd_genome)
