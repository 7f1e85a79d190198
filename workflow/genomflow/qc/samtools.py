"""The summary numbers (``SN`` lines) of ``samtools stats``: read by the QC stage and by the
sample report, in a module of its own so that the report need not import the QC stage's
table libraries."""

from __future__ import annotations

import re
from pathlib import Path

from genomflow.errors import GenomflowError

_SN = re.compile(r"^SN\t([^:\t]+):\t([^\t\n]+)", re.MULTILINE)


def samtools_summary(path: Path, *keys: str) -> list[float]:
    """The numbers of ``keys`` in the summary (``SN``) lines of samtools stats output."""
    summary = dict(_SN.findall(path.read_text()))
    try:
        return [float(summary[key]) for key in keys]
    except (KeyError, ValueError) as err:
        raise GenomflowError(f"{path}: not samtools stats output (missing {err})") from None
