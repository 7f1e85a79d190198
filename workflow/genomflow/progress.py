"""Progress bars for long commands (``load``, ``plan runs``, ``ctdna pon``, ``simulate``).

A bar is drawn on stderr only when stderr is a terminal: in Snakemake logs, pipes and CI the
commands stay quiet (``GENOMFLOW_PROGRESS=0`` turns the bars off on a terminal too).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sized
from typing import Any, TypeVar

from tqdm import tqdm

T = TypeVar("T")


def on_terminal() -> bool:
    """Whether bars are drawn: stderr is a terminal and ``GENOMFLOW_PROGRESS`` is not ``0``."""
    return sys.stderr.isatty() and os.environ.get("GENOMFLOW_PROGRESS", "1") != "0"


def bar(desc: str, total: int | None = None, unit: str = "it") -> Any:
    """A bar to ``update(n)`` by hand (thread-safe), used as a context manager."""
    return tqdm(
        desc=desc, total=total, unit=unit, disable=not on_terminal(), leave=False, file=sys.stderr
    )


def progress(
    items: Iterable[T], desc: str, total: int | None = None, unit: str = "it"
) -> Iterator[T]:
    """``items``, counted on a bar while they are consumed.

    >>> list(progress([1, 2, 3], "counting"))  # not a terminal here: no bar
    [1, 2, 3]
    """
    if total is None and isinstance(items, Sized):
        total = len(items)
    with bar(desc, total, unit) as counter:
        for item in items:
            yield item
            counter.update(1)
