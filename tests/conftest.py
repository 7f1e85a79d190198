"""Shared helpers: the repository root, running Snakemake in a scratch working directory."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"
TESTGENOME = REPO / "resources" / "testgenome"
BIN = Path(sys.executable).parent


def tool_env() -> dict[str, str]:
    """The environment for pipeline runs: the venv's commands (genomflow) come first."""
    env = dict(os.environ)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def write_config(workdir: Path, config: dict[str, object]) -> Path:
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def copy_sheets(workdir: Path) -> tuple[Path, Path]:
    """The demo sheets with FASTQ paths made absolute, in ``workdir``."""
    samples = workdir / "samples.tsv"
    shutil.copy(REPO / "config" / "samples.tsv", samples)
    units = workdir / "units.tsv"
    lines = (REPO / "config" / "units.tsv").read_text().splitlines()
    out = [lines[0]]
    for line in lines[1:]:
        fields = line.split("\t")
        fields[2:4] = [str(REPO / f) for f in fields[2:4]]
        out.append("\t".join(fields))
    units.write_text("\n".join(out) + "\n")
    return samples, units


def snakemake(
    workdir: Path, configfile: Path, *args: str, check: bool = True, timeout: int = 1800
) -> subprocess.CompletedProcess[str]:
    """Run the pipeline of this repository with ``workdir`` as its working directory."""
    command: Sequence[str] = (
        str(BIN / "snakemake"),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    )
    done = subprocess.run(
        command, capture_output=True, text=True, env=tool_env(), timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(
            f"snakemake failed ({done.returncode}):\n{done.stdout[-5000:]}\n{done.stderr[-8000:]}"
        )
    return done
