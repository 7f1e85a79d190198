"""Errors that carry a message meant for the user: file, row, column and problem.

The command line (:func:`genomflow.cli.main`) turns a :class:`GenomflowError` into one line
``genomflow: error: MESSAGE`` and exit status 2; :func:`describe_os_error` does the same for
a file-system error (a file that is missing, unreadable or named too long). Anything else is
a fault of genomflow: a short message, exit status 1, and the traceback in a file
(:func:`write_traceback`), never on the terminal.
"""

from __future__ import annotations

import datetime
import os
import tempfile
import traceback
from pathlib import Path

#: Folder of the traceback files of unexpected errors (default: the temporary folder).
CRASH_DIR_ENV = "GENOMFLOW_CRASH_DIR"


class GenomflowError(Exception):
    """An error caused by bad input; its message is shown to the user as is."""


def describe_os_error(err: OSError) -> str:
    """One line naming the file and the problem of a file-system error.

    >>> describe_os_error(FileNotFoundError(2, "No such file or directory", "x.tsv"))
    'x.tsv: No such file or directory'
    >>> describe_os_error(OSError(36, "File name too long", "a" * 300))[:12]
    'aaaaaaaaaaaa'
    >>> describe_os_error(PermissionError(13, "Permission denied", "in.bam", None, "out.bam"))
    'in.bam -> out.bam: Permission denied'
    """
    problem = err.strerror or str(err) or type(err).__name__
    names = [os.fsdecode(name) for name in (err.filename, err.filename2) if name is not None]
    if not names:
        return problem
    shown = [name if len(name) <= 200 else f"{name[:100]}...{name[-60:]}" for name in names]
    return f"{' -> '.join(shown)}: {problem}"


def crash_dir() -> Path:
    """Where tracebacks of unexpected errors go: ``$GENOMFLOW_CRASH_DIR`` or the temp folder."""
    return Path(os.environ.get(CRASH_DIR_ENV) or tempfile.gettempdir())


def write_traceback(err: BaseException, argv: list[str]) -> Path | None:
    """Write the command line and ``err``'s traceback to a new file; its path, or None
    when no file could be written."""
    stamp = datetime.datetime.now().strftime("%Y%m%dT%H%M%S")
    text = f"genomflow {' '.join(argv)}\n\n" + "".join(
        traceback.format_exception(type(err), err, err.__traceback__)
    )
    try:
        folder = crash_dir()
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(
            prefix=f"genomflow-crash-{stamp}-", suffix=".log", dir=folder
        )
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
    except OSError:
        return None
    return Path(name)
