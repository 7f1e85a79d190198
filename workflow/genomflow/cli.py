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
from genomflow.errors import GenomflowError

#: Modules that contribute a sub-command, in the order they are listed in ``--help``.
COMMAND_MODULES: tuple[str, ...] = (
    "genomflow.simulate.cli",
    "genomflow.sheets",
    "genomflow.evaluate",
    "genomflow.germline",
    "genomflow.qc.cli",
    "genomflow.somatic",
    "genomflow.ctdna.cli",
    "genomflow.panels",
    "genomflow.coverage",
    "genomflow.reference",
    "genomflow.scatter",
    "genomflow.versions",
    "genomflow.plan.cli",
    "genomflow.report.cli",
    "genomflow.kb.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="genomflow", description=__doc__)
    parser.add_argument("--version", action="version", version=f"genomflow {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_cli(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except GenomflowError as err:
        print(f"genomflow: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
