"""Small tab-separated tables: tool summaries (mosdepth, CNVkit) and the pipeline's own tables.

They have a few rows each, so they are read with the csv module: pandas would cost more to
import than to read them, on commands that start once per sample. They are UTF-8, as
:func:`genomflow.atomic.write_tsv` writes them, whatever the locale.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path

from genomflow.errors import GenomflowError


def read_table(
    path: Path,
    what: str,
    fieldnames: Sequence[str] | None = None,
    *,
    rectangular: bool = False,
) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of a tab-separated table (blank lines skipped); ``fieldnames``
    for a table without a header line. A row with fewer fields than columns has None for the
    missing ones, one with more has the rest under the key None (:func:`ragged`); with
    ``rectangular`` such a row is an error naming its line.
    """
    columns, numbered = read_numbered_table(path, what, fieldnames, rectangular=rectangular)
    return columns, [row for _, row in numbered]


def read_numbered_table(
    path: Path,
    what: str,
    fieldnames: Sequence[str] | None = None,
    *,
    rectangular: bool = False,
) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """:func:`read_table`, each row with its line in the file (blank lines counted), for
    messages and records that point a person at the line to mend."""
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, fieldnames=fieldnames, delimiter="\t")
            rows = []
            for row in reader:
                if rectangular and ragged(row):
                    fields = _fields(row)
                    raise GenomflowError(
                        f"{path}: cannot read {what} (line {reader.line_num} has {fields} "
                        f"field{'' if fields == 1 else 's'} for {len(reader.fieldnames or ())} "
                        "columns)"
                    )
                rows.append((reader.line_num, row))
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GenomflowError(f"{path}: cannot read {what} ({err})") from None


def ragged(row: dict[str, str]) -> bool:
    """Whether a row of :func:`read_table` has more or fewer fields than the table's columns."""
    return None in row or None in row.values()


def _fields(row: Mapping[str, object]) -> int:
    """The number of fields of a row of :func:`read_table`, ragged or not (the fields past the
    columns are a list under the key None)."""
    return sum(len(v) if isinstance(v, list) else v is not None for v in row.values())
