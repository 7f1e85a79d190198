"""Record the version of every tool the pipeline runs, in one YAML file."""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import yaml

from genomflow import __version__, atomic
from genomflow.errors import GenomflowError


@dataclass(frozen=True)
class Tool:
    """How to ask a command-line tool its version."""

    name: str
    command: tuple[str, ...]
    pattern: str
    #: The Python distribution of a tool that is a Python script: when the script on PATH
    #: runs under this interpreter, its version is read from the distribution's metadata
    #: (``cnvkit.py version`` imports all of CNVkit: 2.5 CPU s for one line).
    distribution: str | None = None


TOOLS: tuple[Tool, ...] = (
    Tool("bwa", ("bwa",), r"Version:\s*(\S+)"),
    Tool("samtools", ("samtools", "--version"), r"^samtools (\S+)"),
    Tool("htslib", ("samtools", "--version"), r"Using htslib (\S+)"),
    Tool("bcftools", ("bcftools", "--version"), r"^bcftools (\S+)"),
    Tool("tabix", ("tabix", "--version"), r"^tabix \(htslib\) (\S+)"),
    Tool("fastp", ("fastp", "--version"), r"fastp (\S+)"),
    Tool("freebayes", ("freebayes", "--version"), r"version:\s*v?(\S+)"),
    Tool("mosdepth", ("mosdepth", "--version"), r"mosdepth (\S+)"),
    Tool("cnvkit", ("cnvkit.py", "version"), r"^(\d\S*)", distribution="cnvkit"),
    # -c keeps Debian's wrapper from creating ~/.snpEff (it then echoes its arguments first).
    Tool("snpeff", ("snpEff", "-version", "-c", os.devnull), r"^SnpEff\s+(\S+)"),
)

PYTHON_PACKAGES: tuple[str, ...] = (
    "snakemake",
    "multiqc",
    "pysam",
    "pandas",
    "numpy",
    "jsonschema",
)


def runs_under_this_python(command: str) -> bool:
    """True when ``command`` on PATH is a script whose ``#!`` names this interpreter."""
    found = shutil.which(command)
    if found is None:
        return False
    try:
        with open(found, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return False
    if not first.startswith(b"#!"):
        return False
    interpreter = first[2:].decode(errors="replace").split()
    return bool(interpreter) and os.path.realpath(interpreter[0]) == os.path.realpath(
        sys.executable
    )


def tool_version(tool: Tool) -> str:
    """The tool's version: from its version command's output (stdout and stderr both), or
    from its distribution's metadata when it is a script of this interpreter."""
    if tool.distribution and runs_under_this_python(tool.command[0]):
        try:
            return version(tool.distribution)
        except PackageNotFoundError:
            pass
    try:
        done = subprocess.run(
            tool.command, capture_output=True, text=True, errors="replace", check=False
        )
    except FileNotFoundError as err:
        raise GenomflowError(f"{tool.name}: command '{tool.command[0]}' not found") from err
    match = re.search(tool.pattern, done.stdout + done.stderr, re.MULTILINE)
    if match is None:
        raise GenomflowError(f"{tool.name}: no version in the output of {' '.join(tool.command)}")
    return match.group(1)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def collect() -> dict[str, dict[str, str]]:
    """Versions of genomflow, its tools and its main Python packages."""
    return {
        "genomflow": {"genomflow": __version__},
        "tools": {tool.name: tool_version(tool) for tool in TOOLS},
        "python": {name: package_version(name) for name in PYTHON_PACKAGES},
    }


def write(out: Path, versions: dict[str, dict[str, str]]) -> None:
    atomic.write_text(out, yaml.safe_dump(versions, sort_keys=False))


def multiqc_versions(versions: dict[str, dict[str, str]]) -> dict[str, str]:
    """Flat ``tool: version`` mapping in the shape of MultiQC's ``*_mqc_versions.yml``."""
    return {name: v for group in versions.values() for name, v in group.items()}


def _cmd_versions(args: argparse.Namespace) -> int:
    versions = collect()
    write(args.out, versions)
    if args.multiqc_out:
        atomic.write_text(
            args.multiqc_out, yaml.safe_dump(multiqc_versions(versions), sort_keys=False)
        )
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    parser = subparsers.add_parser("versions", help="record tool versions as YAML")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--multiqc-out", type=Path, help="also write MultiQC software versions")
    parser.set_defaults(func=_cmd_versions)
