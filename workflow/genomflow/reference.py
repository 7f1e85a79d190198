"""Reference preparation: validate a FASTA and write the pipeline's own plain copy.

A reference is used by every step, so a broken one must fail first and clearly: unreadable
file, not FASTA, empty or duplicate contig names, empty sequences or letters outside IUPAC.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError

LINE_WIDTH = 60
_VALID_SEQUENCE = re.compile(r"^[ACGTURYSWKMBDHVNacgturyswkmbdhvn]*$")
_VALID_NAME = re.compile(r"^[!-)+-<>-~][!-~]*$")  # the SAM spec's rule for reference names


def _records(fasta: Path) -> Iterator[tuple[str, str]]:
    if not fasta.is_file():
        raise GenomflowError(f"{fasta}: reference FASTA not found")
    with fasta.open("rb") as handle:
        head = handle.read(2)
    if head[:1] != b">" and head != b"\x1f\x8b":
        raise GenomflowError(f"{fasta}: not a FASTA file (it must start with '>')")
    try:
        with pysam.FastxFile(str(fasta)) as reader:
            for entry in reader:
                yield entry.name or "", entry.sequence or ""
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{fasta}: cannot read the reference: {err}") from err


def prepare(fasta: Path, out: Path) -> dict[str, int]:
    """Validate ``fasta`` and write it uncompressed, 60 columns, to ``out`` (atomically).

    Returns contig lengths in order.
    """
    lengths: dict[str, int] = {}
    with atomic.open_atomic(out) as sink:
        for name, sequence in _records(fasta):
            if not _VALID_NAME.match(name):
                raise GenomflowError(f"{fasta}: contig name '{name}' is not a valid SAM name")
            if name in lengths:
                raise GenomflowError(f"{fasta}: contig '{name}' appears twice")
            if not sequence:
                raise GenomflowError(f"{fasta}: contig '{name}' has no sequence")
            if not _VALID_SEQUENCE.match(sequence):
                bad = sorted(set(re.sub(r"[ACGTURYSWKMBDHVN]", "", sequence.upper())))
                raise GenomflowError(
                    f"{fasta}: contig '{name}' has letters that are not nucleotides: "
                    + "".join(bad[:10])
                )
            lengths[name] = len(sequence)
            sink.write(f">{name}\n")
            for start in range(0, len(sequence), LINE_WIDTH):
                sink.write(sequence[start : start + LINE_WIDTH] + "\n")
        if not lengths:
            raise GenomflowError(f"{fasta}: the reference has no contigs")
    return lengths


def _cmd_prepare(args: argparse.Namespace) -> int:
    lengths = prepare(args.fasta, args.out)
    print(f"{args.out}: {len(lengths)} contigs, {sum(lengths.values())} bp")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("reference", help="reference genome preparation")
    sub = parser.add_subparsers(dest="reference_command", required=True)
    prep = sub.add_parser("prepare", help="validate a FASTA and write a plain copy")
    prep.add_argument("--fasta", type=Path, required=True)
    prep.add_argument("--out", type=Path, required=True)
    prep.set_defaults(func=_cmd_prepare)
