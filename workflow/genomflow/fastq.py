"""FASTQ pairs checked before and after trimming: no unit loses reads without a word.

``genomflow fastq check --fq1 R1 --fq2 R2`` reads both files to their end (pysam) and fails,
naming both files, when either is not FASTQ (no reads, no qualities, truncated gzip) or the
two are not mates: different read counts, or read names that disagree (``/1`` and ``/2``
suffixes and comments aside). The ``fastp_trim`` rule runs it beside fastp, which keeps the
pairs it can read and drops the rest silently.

``genomflow fastq kept --json FASTP.json`` fails when trimming kept no read, so that no
empty alignment or VCF is delivered for the unit's sample.
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam

from genomflow.errors import GenomflowError

#: Suffixes that mark the mate of a read in older Illumina names (``NAME/1``, ``NAME/2``).
MATE_SUFFIXES: tuple[str, ...] = ("/1", "/2")


class FastqError(GenomflowError):
    """A FASTQ file, or a pair of them, that cannot be used."""


@dataclass(frozen=True)
class PairCheck:
    """What :func:`check_pair` read: the number of read pairs."""

    fq1: Path
    fq2: Path
    pairs: int


def mate_name(name: str) -> str:
    """A read's name without its mate suffix.

    >>> mate_name("A00123:8:H7:1:1101:1000:2000/1"), mate_name("read7")
    ('A00123:8:H7:1:1101:1000:2000', 'read7')
    """
    return name[:-2] if name.endswith(MATE_SUFFIXES) else name


def _records(path: Path) -> Iterator[tuple[int, str]]:
    """(read number, name) of every record; a file that is not FASTQ raises FastqError."""
    if not path.is_file():  # htslib crashes on a folder
        problem = "is a folder, not a FASTQ file" if path.is_dir() else "file not found"
        raise FastqError(f"{path}: {problem}")
    try:
        with pysam.FastxFile(str(path)) as reader:
            for number, entry in enumerate(reader, start=1):
                if entry.quality is None:
                    raise FastqError(f"{path}: read {number} has no qualities: FASTA, not FASTQ")
                yield number, mate_name(str(entry.name))
    except (OSError, ValueError) as err:
        problem = _gzip_problem(path) or f"not a readable FASTQ file ({str(err).strip()})"
        raise FastqError(f"{path}: {problem}") from None


def _gzip_problem(path: Path) -> str | None:
    """What is wrong with a gzip file, as gzip -t would say; None if it is fine or not gzip."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(1 << 20):
                pass
    except EOFError:
        return "unexpected end of file (truncated gzip)"
    except gzip.BadGzipFile:
        return None
    except (OSError, zlib.error) as err:
        return f"corrupt gzip data ({err})"
    return None


def _count_rest(records: Iterator[tuple[int, str]], seen: int) -> int:
    return max([seen, *(number for number, _ in records)])


def check_pair(fq1: Path, fq2: Path) -> PairCheck:
    """Read both files of a pair to the end; :class:`FastqError` naming both files when
    either is empty or not FASTQ, or when they are not mates.

    >>> import gzip, tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> def fastq(name, reads):
    ...     path = folder / name
    ...     path.write_bytes(gzip.compress("".join(
    ...         f"@{r}\\nACGT\\n+\\nIIII\\n" for r in reads).encode()))
    ...     return path
    >>> check_pair(fastq("a_R1.fq.gz", ["x/1", "y/1"]), fastq("a_R2.fq.gz", ["x/2", "y/2"])).pairs
    2
    >>> check_pair(fastq("b_R1.fq.gz", ["x", "y"]), fastq("b_R2.fq.gz", ["x", "y", "z"]))
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    genomflow.fastq.FastqError: .../b_R1.fq.gz has 2 reads but .../b_R2.fq.gz has 3: \
the files are not a pair (truncated or from different runs)
    """
    # Messages name the files absolutely: a job's log then says which file, wherever it ran.
    fq1, fq2 = fq1.absolute(), fq2.absolute()
    reads1, reads2 = _records(fq1), _records(fq2)
    pairs = 0
    for first, second in itertools.zip_longest(reads1, reads2):
        if first is None or second is None:
            n1 = pairs if first is None else _count_rest(reads1, first[0])
            n2 = pairs if second is None else _count_rest(reads2, second[0])
            raise FastqError(
                f"{fq1} has {n1:,} reads but {fq2} has {n2:,}: the files are not a pair "
                "(truncated or from different runs)"
            )
        (number, name1), (_, name2) = first, second
        if name1 != name2:
            raise FastqError(
                f"{fq1} and {fq2}: read {number:,} is {name1!r} in the first and {name2!r} "
                "in the second: the files are not mates"
            )
        pairs = number
    if pairs == 0:
        raise FastqError(f"{fq1} and {fq2}: no reads (empty, or not FASTQ)")
    return PairCheck(fq1, fq2, pairs)


def kept_reads(report: Path) -> int:
    """Reads fastp kept (``summary.after_filtering.total_reads`` of its JSON report);
    :class:`FastqError` when it kept none or the report is not a fastp report."""
    try:
        data: Any = json.loads(report.read_text(encoding="utf-8"))
        before = int(data["summary"]["before_filtering"]["total_reads"])
        after = int(data["summary"]["after_filtering"]["total_reads"])
    except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
        raise FastqError(f"{report}: not a fastp JSON report") from None
    if after == 0:
        raise FastqError(
            f"{report}: trimming kept no reads (of {before:,}); the unit's FASTQ files hold no "
            "usable reads"
        )
    return after


def fastp_trim_options(trimming: Mapping[str, Any]) -> str:
    """fastp's trimming options from the config's ``trimming`` section (schema defaults filled).

    Read-through adapters are trimmed by fastp's per-pair overlap analysis, on by default for
    pairs. Its sequence-based adapter detection (``--detect_adapter_for_pe``) is not used: on
    bench/e2e_overhead it took 8 of fastp's 11 CPU seconds, and on every demo unit it found no
    adapter and changed no read (bench/e2e_overhead/README.md).

    >>> fastp_trim_options({"min_length": 36, "cut_mean_quality": 20})
    '--cut_right --cut_right_mean_quality 20 --length_required 36'
    """
    return (
        f"--cut_right --cut_right_mean_quality {int(trimming['cut_mean_quality'])}"
        f" --length_required {int(trimming['min_length'])}"
    )


def _cmd_check(args: argparse.Namespace) -> int:
    result = check_pair(args.fq1, args.fq2)
    print(f"{result.fq1}, {result.fq2}: {result.pairs:,} read pairs, names agree")
    return 0


def _cmd_kept(args: argparse.Namespace) -> int:
    print(f"{args.json}: {kept_reads(args.json):,} reads kept")
    return 0


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``genomflow fastq check`` and ``genomflow fastq kept``."""
    parser = subparsers.add_parser("fastq", help="check FASTQ pairs", description=__doc__)
    commands = parser.add_subparsers(dest="fastq_command", required=True)
    check = commands.add_parser(
        "check", help="read a FASTQ pair to the end; fail unless the two are mates"
    )
    check.add_argument("--fq1", type=Path, required=True, metavar="R1.fastq.gz")
    check.add_argument("--fq2", type=Path, required=True, metavar="R2.fastq.gz")
    check.set_defaults(func=_cmd_check)
    kept = commands.add_parser("kept", help="fail when fastp kept no reads")
    kept.add_argument("--json", type=Path, required=True, metavar="FASTP.json")
    kept.set_defaults(func=_cmd_kept)
