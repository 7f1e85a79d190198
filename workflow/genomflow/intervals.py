"""Half-open genomic intervals ``(start, end)``, and the one BED reader (:func:`read_bed`).

Every fault of a BED names the file and the line: ``PATH line N: problem``.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from genomflow.errors import GenomflowError

#: Lines of a BED that hold no interval.
BED_HEADERS = ("#", "track", "browser")


def merge_spans(spans: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted union of spans; overlapping or touching spans become one.

    >>> merge_spans([(10, 20), (0, 5), (15, 30), (30, 31)])
    [(0, 5), (10, 31)]
    """
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


@dataclass(frozen=True)
class BedRecord:
    """One interval of a BED: ``[start, end)`` on ``contig``, the further columns, and the
    line it was read from (1-based)."""

    contig: str
    start: int
    end: int
    extra: tuple[str, ...]
    line: int


def read_bed(
    path: Path,
    *,
    what: str = "BED",
    columns: Sequence[str] = ("contig", "start", "end"),
    contigs: Mapping[str, int] | None = None,
    error: type[GenomflowError] = GenomflowError,
) -> list[BedRecord]:
    """The intervals of a BED in file order, checked: at least ``len(columns)`` tab-separated
    columns, whole-number ``start < end``, and with ``contigs`` on that reference.

    ``what`` names the file in messages (``panel BED``); faults raise ``error`` as
    ``PATH line N: problem``; a file without intervals is an error.

    >>> import tempfile
    >>> bed = Path(tempfile.mkdtemp()) / "t.bed"
    >>> _ = bed.write_text("# header\\nchr1\\t10\\t20\\tA\\nchr1\\t5\\t5\\n")
    >>> try:
    ...     read_bed(bed)
    ... except GenomflowError as err:
    ...     print(str(err).replace(str(bed), "t.bed"))
    t.bed line 3: start 5 is not before end 5
    """
    display = os.fspath(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise error(f"{display}: {what} not found") from None
    except (OSError, UnicodeDecodeError) as err:
        raise error(f"{display}: cannot read the {what} ({err})") from None
    records: list[BedRecord] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip() or line.startswith(BED_HEADERS):
            continue
        records.append(_bed_record(display, number, line, columns, contigs, error))
    if not records:
        raise error(f"{display}: the {what} has no intervals")
    return records


def _bed_record(
    display: str,
    number: int,
    line: str,
    columns: Sequence[str],
    contigs: Mapping[str, int] | None,
    error: type[GenomflowError],
) -> BedRecord:
    fields = line.split("\t")
    where = f"{display} line {number}"
    if len(fields) < len(columns):
        raise error(
            f"{where}: expected at least {len(columns)} tab-separated columns "
            f"({', '.join(columns)}), found {len(fields)}"
        )
    contig, start_text, end_text = fields[0], fields[1], fields[2]
    if not (start_text.isdigit() and end_text.isdigit()):
        raise error(
            f"{where}: start and end must be whole numbers, found {start_text!r} and {end_text!r}"
        )
    start, end = int(start_text), int(end_text)
    if start >= end:
        raise error(f"{where}: start {start} is not before end {end}")
    if contigs is not None:
        if contig not in contigs:
            known = ", ".join(list(contigs)[:10])
            raise error(
                f"{where}: contig {contig!r} is not in the reference "
                f"(contigs: {known}{', ...' if len(contigs) > 10 else ''})"
            )
        if end > contigs[contig]:
            raise error(
                f"{where}: {contig}:{start}-{end} ends past the end of {contig} "
                f"({contigs[contig]} bp)"
            )
    return BedRecord(contig, start, end, tuple(fields[3:]), number)
