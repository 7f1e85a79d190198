"""Small tab-separated tables: tool summaries (mosdepth, CNVkit) and the pipeline's own tables.

They have a few rows each, so they are read with the csv module: pandas would cost more to
import than to read them, on commands that start once per sample.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from genomflow.errors import GenomflowError


def read_table(
    path: Path, what: str, fieldnames: Sequence[str] | None = None
) -> tuple[list[str], list[dict[str, str]]]:
    """The columns and rows of a tab-separated table (blank lines skipped); ``fieldnames``
    for a table without a header line. A row with fewer fields than columns has None for the
    missing ones, one with more has the rest under the key None (:func:`ragged`)."""
    try:
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle, fieldnames=fieldnames, delimiter="\t")
            rows = list(reader)
            return list(reader.fieldnames or []), rows
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GenomflowError(f"{path}: cannot read {what} ({err})") from None


def ragged(row: dict[str, str]) -> bool:
    """Whether a row of :func:`read_table` has more or fewer fields than the table's columns."""
    return None in row or None in row.values()
