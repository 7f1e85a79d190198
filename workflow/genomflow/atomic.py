"""Outputs written atomically: into a temporary file next to the target, renamed over it
once complete, removed if writing fails. Readers, and reruns after a crash, never see half
a file.

>>> import tempfile
>>> out = Path(tempfile.mkdtemp()) / "table.tsv"
>>> write_tsv(out, ("sample", "depth"), [("S1", 31.5)])
>>> out.read_text()
'sample\\tdepth\\nS1\\t31.5\\n'
>>> with open_atomic(out) as handle:
...     _ = handle.write("half")
...     raise ValueError("stopped")
Traceback (most recent call last):
ValueError: stopped
>>> out.read_text(), sorted(p.name for p in out.parent.iterdir())
('sample\\tdepth\\nS1\\t31.5\\n', ['table.tsv'])
>>> write_text(out / "below-a-file.txt", "x")  # doctest: +ELLIPSIS
Traceback (most recent call last):
genomflow.errors.GenomflowError: .../table.tsv/below-a-file.txt: cannot write: File exists
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from genomflow.errors import GenomflowError


def _temporary(path: Path) -> Path:
    """A name next to ``path``, unique to this process (the file gets the umask's mode)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _open(temporary: Path, path: Path, binary: bool) -> IO[Any]:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if binary:
            return temporary.open("wb")
        return temporary.open("w", encoding="utf-8", newline="")
    except OSError as err:
        raise GenomflowError(f"{path}: cannot write: {err.strerror or err}") from None


@contextlib.contextmanager
def open_atomic(path: Path, binary: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on leaving the block it becomes ``path``, or is
    removed if the block raised. Text is UTF-8, with newlines written as given.

    A folder that cannot be written raises :class:`GenomflowError` naming ``path``.
    """
    temporary = _temporary(path)
    handle = _open(temporary, path, binary)
    try:
        with handle:
            yield handle
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with open_atomic(path) as handle:
        handle.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with open_atomic(path, binary=True) as handle:
        handle.write(data)


def write_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A tab-separated table with a header line, ``\\n`` line ends, written atomically."""
    with open_atomic(path) as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
