"""Shared helpers: the repository root, running Snakemake in a scratch working directory."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import pysam
import pytest
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


def demo_config(workdir: Path, **overrides: object) -> Path:
    """A config for the demo batch in ``workdir`` (absolute paths), with ``overrides``."""
    samples, units = copy_sheets(workdir)
    config: dict[str, object] = {
        "samples": str(samples),
        "units": str(units),
        "batch": "e2e test batch",
        "reference": {"fasta": str(TESTGENOME / "genome.fa")},
    }
    return write_config(workdir, {**config, **overrides})


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo batch run once, locally with the test profile; tests only read it."""
    workdir = tmp_path_factory.mktemp("demo-local")
    snakemake(workdir, demo_config(workdir), "--profile", str(REPO / "profiles" / "test"))
    return workdir


def _repo_paths(value: object) -> object:
    """``value`` with every string that names a file of the repository made absolute."""
    if isinstance(value, dict):
        return {key: _repo_paths(item) for key, item in value.items()}
    if isinstance(value, str) and value and (REPO / value).exists():
        return str(REPO / value)
    return value


def keep_samples(sheet: Path, samples: Sequence[str]) -> None:
    """Keep only the header and the rows of ``samples`` in a samples or units sheet."""
    lines = sheet.read_text().splitlines()
    rows = [line for line in lines[1:] if line.split("\t", 1)[0] in samples]
    sheet.write_text("\n".join([lines[0], *rows]) + "\n")


def edit_sheet(sheet: Path, edit: Callable[[dict[str, str]], None]) -> None:
    """Rewrite a samples or units sheet with ``edit`` applied to each row (a dict by column)."""
    with sheet.open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    for row in rows:
        edit(row)
    with sheet.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)


def demo_qc_config(
    workdir: Path, samples: Sequence[str] | None = None, **overrides: object
) -> Path:
    """``config/config.yaml`` (identity sites, demo QC thresholds) for a run in ``workdir``,
    with the demo sheets (only ``samples``, if given)."""
    config = _repo_paths(yaml.safe_load((REPO / "config" / "config.yaml").read_text()))
    assert isinstance(config, dict)
    samples_tsv, units_tsv = copy_sheets(workdir)
    if samples is not None:
        keep_samples(samples_tsv, samples)
        keep_samples(units_tsv, samples)
    config.update(samples=str(samples_tsv), units=str(units_tsv), batch="e2e QC batch")
    return write_config(workdir, {**config, **overrides})


@pytest.fixture(scope="session")
def demo_qc_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo trio with the demo config (identity sites, demo QC thresholds), run once;
    Snakemake's stdout is in ``snakemake.out``."""
    workdir = tmp_path_factory.mktemp("demo-qc")
    config = demo_qc_config(workdir, samples=("RD001", "RD002", "RD003"))
    done = snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    (workdir / "snakemake.out").write_text(done.stdout)
    return workdir


def vcf_records(vcf: Path) -> list[str]:
    """Every record of a VCF as text, for comparing two runs' deliverables."""
    with pysam.VariantFile(str(vcf)) as reader:
        return [str(record) for record in reader]


def somatic_pair_run(
    workdir: Path,
    reference: Path,
    rows: Sequence[dict[str, str]],
    tumours: Sequence[str],
    **overrides: object,
) -> Path:
    """Run the pipeline up to the somatic VCFs of ``tumours``.

    ``rows`` are sample-sheet rows (``sample``, ``patient``, ``type``, ``matched_normal``,
    ``purity``, ``fq1``, ``fq2``), all female WGS samples with one unit each.
    """
    columns = ("sample", "patient", "sex", "type", "assay", "panel", "matched_normal", "purity")
    samples = ["\t".join(columns)]
    units = ["sample\tunit\tfq1\tfq2"]
    for row in rows:
        cells = {"sex": "female", "assay": "wgs", "panel": "", **row}
        samples.append("\t".join(cells.get(column, "") for column in columns))
        units.append(f"{row['sample']}\tL001\t{row['fq1']}\t{row['fq2']}")
    (workdir / "samples.tsv").write_text("\n".join(samples) + "\n")
    (workdir / "units.tsv").write_text("\n".join(units) + "\n")
    config = {
        "samples": str(workdir / "samples.tsv"),
        "units": str(workdir / "units.tsv"),
        "reference": {"fasta": str(reference)},
        **overrides,
    }
    targets = [f"results/samples/{t}/{t}.somatic.vcf.gz" for t in tumours]
    profile = str(REPO / "profiles" / "test")
    snakemake(workdir, write_config(workdir, config), "--profile", profile, *targets)
    return workdir
