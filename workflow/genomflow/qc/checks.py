"""QC statuses and the result of one check of one sample."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


class Status(enum.Enum):
    """A check's verdict. ``NA``: not assessed (no data for it); it never decides a sample."""

    PASS = "PASS"
    WARN = "WARN"
    FAIL = "FAIL"
    NA = "NA"

    @property
    def rank(self) -> int:
        """Severity: NA < PASS < WARN < FAIL."""
        return _RANK[self]


_RANK = {Status.NA: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status; PASS when there is nothing assessed.

    >>> worst([Status.PASS, Status.WARN, Status.NA]).value
    'WARN'
    >>> worst([Status.NA]).value
    'PASS'
    """
    found = max(statuses, key=lambda status: status.rank, default=Status.PASS)
    return Status.PASS if found is Status.NA else found


@dataclass(frozen=True)
class Check:
    """One check of one sample: a metric against its thresholds, the sex check or identity.

    ``value`` is the measured value as written to the status table (a number or a word),
    ``threshold`` what it was compared with, and ``reason`` says why it is not PASS (empty
    for PASS).
    """

    sample: str
    check: str
    status: Status
    value: str
    threshold: str
    reason: str = ""

    @classmethod
    def from_row(cls, row: Mapping[str, str]) -> Check:
        """A check from a row of a table of checks (the identity checks, the QC status table):
        columns ``sample check status value threshold reason``. KeyError: a column missing;
        ValueError: not a status."""
        return cls(
            row["sample"],
            row["check"],
            Status(row["status"]),
            row["value"],
            row["threshold"],
            row["reason"],
        )
