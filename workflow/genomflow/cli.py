"""The ``genomflow`` command line.

Each feature module exposes ``add_cli(subparsers)``, which adds its sub-command and sets
``func`` on the parser to a callable taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from pathlib import Path

from genomflow import __version__
from genomflow.errors import GenomflowError, describe_os_error, write_traceback

#: Sub-commands and the modules that contribute them, in the order of ``--help``.
COMMANDS: dict[str, str] = {
    "simulate": "genomflow.simulate.cli",
    "sheets": "genomflow.sheets",
    "fastq": "genomflow.fastq",
    "evaluate": "genomflow.germline_evaluate",
    "germline": "genomflow.germline",
    "qc": "genomflow.qc.cli",
    "somatic": "genomflow.somatic.cli",
    "biomarkers": "genomflow.biomarkers.cli",
    "ctdna": "genomflow.ctdna.cli",
    "rare": "genomflow.rare.cli",
    "panels": "genomflow.panels",
    "coverage": "genomflow.coverage",
    "cnv": "genomflow.cnv.cli",
    "sv": "genomflow.sv.cli",
    "reference": "genomflow.reference",
    "scatter": "genomflow.scatter",
    "versions": "genomflow.versions",
    "plan": "genomflow.plan.cli",
    "report": "genomflow.report.cli",
    "load": "genomflow.kb.cli",
    "kb": "genomflow.kb.cli",
}
COMMAND_MODULES: tuple[str, ...] = tuple(dict.fromkeys(COMMANDS.values()))


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of every sub-command, or only of ``command`` (imports only its module:
    a rule job that runs one sub-command does not pay for loading all the others)."""
    parser = argparse.ArgumentParser(prog="genomflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"genomflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        importlib.import_module(name).add_cli(subparsers)
    return parser


def run(arguments: list[str]) -> int:
    """Parse ``arguments`` and run the sub-command; exceptions pass through.

    A command that fails leaves no output behind: every file named by its arguments that it
    created or replaced before failing is removed (:func:`discard_written`).
    """
    command = arguments[0] if arguments else None
    args = build_parser(command).parse_args(arguments)
    before = snapshot(path_arguments(args))
    try:
        return int(args.func(args))
    except BaseException:
        discard_written(before)
        raise


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; every way it can end is one of these (never a traceback):

    * 0: done; 2: bad input or usage, one line ``genomflow: error: FILE: PROBLEM``;
    * 1: a fault of genomflow itself, a short message and the file holding the traceback;
    * 130: interrupted.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        return run(arguments)
    except GenomflowError as err:
        return _fail(str(err))
    except OSError as err:  # a file named by the user: missing, unreadable, name too long
        return _fail(describe_os_error(err))
    except KeyboardInterrupt:
        print("genomflow: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        return _crash(err, arguments)


#: A file's identity and last change (None: it does not exist).
FileState = tuple[int, int, int] | None


def path_arguments(args: argparse.Namespace) -> list[Path]:
    """Every path among the parsed arguments (inputs and outputs alike)."""
    paths: list[Path] = []
    for value in vars(args).values():
        values = value if isinstance(value, list | tuple) else [value]
        paths += [item for item in values if isinstance(item, Path)]
    return paths


def _state(path: Path) -> FileState:
    try:
        info = path.stat()
    except OSError:
        return None
    return (info.st_dev, info.st_ino, info.st_mtime_ns)


def snapshot(paths: Sequence[Path]) -> dict[Path, FileState]:
    """The state of each path before a command runs."""
    return {path: _state(path) for path in paths}


def discard_written(before: dict[Path, FileState]) -> list[Path]:
    """Remove the regular files a failed command created or replaced; the removed paths.

    A command never writes its inputs, so a file whose identity or modification time
    changed is an output; files it did not touch (its inputs) and folders are left alone.
    """
    removed = []
    for path, state in before.items():
        now = _state(path)
        if now is not None and now != state and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _fail(message: str) -> int:
    print(f"genomflow: error: {message}", file=sys.stderr)
    return 2


def _crash(err: Exception, arguments: list[str]) -> int:
    where = write_traceback(err, arguments)
    logged = f"; the traceback is in {where}" if where else ""
    print(
        f"genomflow: internal error: {type(err).__name__}: {str(err)[:300]}{logged} "
        "(please report it with that file)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
