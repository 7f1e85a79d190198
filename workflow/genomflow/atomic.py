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
import shutil
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


def _staging(path: Path) -> Path:
    return path.with_name(f".{path.name}.{os.getpid()}.staging")


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _commit(staged: Path, target: Path) -> None:
    """Move a staged file over ``target``, or every file of a staged folder into ``target``
    (files of ``target`` that were not written are kept)."""
    if staged.is_dir():
        for source in sorted(p for p in staged.rglob("*") if not p.is_dir()):
            destination = target / source.relative_to(staged)
            destination.parent.mkdir(parents=True, exist_ok=True)
            source.replace(destination)
    elif staged.exists():
        staged.replace(target)


@contextlib.contextmanager
def all_or_nothing(*targets: Path) -> Iterator[tuple[Path, ...]]:
    """Stage several outputs (files or folders) and publish them only when all are written.

    Yields a staging path next to each target (not yet created: the block makes a file or a
    folder there). When the block ends normally every staged output is moved into place (a
    rename per file, on the same file system); when it raises, nothing is published and the
    staging is removed, so a failed command leaves no partial output.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> with all_or_nothing(root / "data", root / "one.txt") as (data, one):
    ...     data.mkdir()
    ...     _ = (data / "a.txt").write_text("a")
    ...     _ = one.write_text("1")
    >>> sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    ['data', 'data/a.txt', 'one.txt']
    >>> with all_or_nothing(root / "more") as (more,):
    ...     more.mkdir()
    ...     _ = (more / "half.txt").write_text("half")
    ...     raise ValueError("stopped")
    Traceback (most recent call last):
    ValueError: stopped
    >>> sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    ['data', 'data/a.txt', 'one.txt']
    """
    staged = tuple(_staging(target) for target in targets)
    for target, stage in zip(targets, staged, strict=True):
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove(stage)
    try:
        yield staged
        for target, stage in zip(targets, staged, strict=True):
            _commit(stage, target)
    finally:
        for stage in staged:
            _remove(stage)
