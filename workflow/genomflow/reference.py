"""Reference preparation (validate a FASTA and write the pipeline's own plain copy) and the
one reader of contig names and lengths (:func:`read_fai`, :func:`reference_contigs`).

A reference is used by every step, so a broken one must fail first and clearly: unreadable
file, not FASTA, empty or duplicate contig names, empty sequences or letters outside IUPAC.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pysam

from genomflow import atomic, snpeff
from genomflow.errors import GenomflowError

LINE_WIDTH = 60
_VALID_SEQUENCE = re.compile(r"^[ACGTURYSWKMBDHVNacgturyswkmbdhvn]*$")
_VALID_NAME = re.compile(r"^[!-)+-<>-~][!-~]*$")  # the SAM spec's rule for reference names


def read_fai(fai: Path) -> dict[str, int]:
    """Contig names and lengths from a FASTA index, in reference order; a file that is not
    a FASTA index (``samtools faidx``: 5 tab-separated fields) is a :class:`GenomflowError`
    naming the file and the line."""
    try:
        text = fai.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GenomflowError(f"{fai}: FASTA index not found") from None
    except UnicodeDecodeError:
        raise GenomflowError(f"{fai}: not a FASTA index (binary data)") from None
    contigs: dict[str, int] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split("\t")
        if len(fields) != 5 or not all(f.isdigit() for f in fields[1:]):
            raise GenomflowError(
                f"{fai} line {number}: not a FASTA index line (expected 5 tab-separated fields: "
                "name, length, offset, bases and bytes per line)"
            )
        contigs[fields[0]] = int(fields[1])
    if not contigs:
        raise GenomflowError(f"{fai}: empty FASTA index (no contigs)")
    return contigs


def reference_contigs(fasta: Path) -> dict[str, int]:
    """Contig names and lengths of a FASTA, in order.

    Uses ``<fasta>.fai`` (:func:`read_fai`) when it exists and is not older than the FASTA;
    otherwise reads the FASTA (plain or gzip) with pysam, without writing an index next to it.
    """
    if not fasta.is_file():
        raise GenomflowError(f"{fasta}: reference FASTA not found")
    fai = Path(f"{fasta}.fai")
    if fai.is_file() and fai.stat().st_mtime >= fasta.stat().st_mtime:
        return read_fai(fai)
    try:
        with pysam.FastxFile(str(fasta)) as reader:
            contigs = {str(entry.name): len(entry.sequence or "") for entry in reader}
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{fasta}: cannot read the reference: {err}") from err
    empty = [name for name, length in contigs.items() if length == 0]
    if not contigs or empty:
        problem = f"contig {empty[0]!r} has no sequence" if empty else "no sequences"
        raise GenomflowError(f"{fasta}: not a usable FASTA reference: {problem}")
    return contigs


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
    snpeff.add_subcommand(sub)
