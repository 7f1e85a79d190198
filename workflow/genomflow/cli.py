"""The ``genomflow`` command line.

Each feature module exposes ``add_cli(subparsers)``, which adds its sub-command and sets
``func`` on the parser to a callable taking the parsed namespace and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from genomflow import __version__
from genomflow.errors import GenomflowError, describe_os_error, write_traceback

#: Sub-commands and the modules that contribute them, in the order of ``--help``.
COMMANDS: dict[str, str] = {
    "simulate": "genomflow.simulate.cli",
    "sheets": "genomflow.sheets",
    "fastq": "genomflow.fastq",
    "evaluate": "genomflow.evaluate",
    "germline": "genomflow.germline",
    "qc": "genomflow.qc.cli",
    "somatic": "genomflow.somatic.cli",
    "ctdna": "genomflow.ctdna.cli",
    "panels": "genomflow.panels",
    "coverage": "genomflow.coverage",
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


def main(argv: Sequence[str] | None = None) -> int:
    """Run one sub-command; every way it can end is one of these (never a traceback):

    * 0: done; 2: bad input or usage, one line ``genomflow: error: FILE: PROBLEM``;
    * 1: a fault of genomflow itself, a short message and the file holding the traceback;
    * 130: interrupted.
    """
    arguments = list(sys.argv[1:] if argv is None else argv)
    command = arguments[0] if arguments else None
    try:
        args = build_parser(command).parse_args(arguments)
        return int(args.func(args))
    except GenomflowError as err:
        return _fail(str(err))
    except OSError as err:  # a file named by the user: missing, unreadable, name too long
        return _fail(describe_os_error(err))
    except KeyboardInterrupt:
        print("genomflow: interrupted", file=sys.stderr)
        return 130
    except Exception as err:
        return _crash(err, arguments)


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
