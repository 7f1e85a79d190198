"""A finished project can be moved (issue #14): run the pipeline in a project folder (a copy
of the checkout with its sheets and results), move the whole folder elsewhere, and a dry run
there has nothing to do. Commands, inputs and parameters must not name where the project lies.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO, keep_samples, tool_env

pytestmark = pytest.mark.e2e

#: What a project folder holds of the checkout (the tests, benchmarks and venv stay behind).
CHECKOUT = ("Snakefile", "workflow", "config", "resources", "profiles", "environment.yml")
#: A germline WGS sample and a panel sample (panel BED from resources/panels, coverage).
SAMPLES = ("RD003", "CA003N")


def _project(root: Path) -> Path:
    root.mkdir(parents=True)
    for name in CHECKOUT:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, root / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, root / name)
    for sheet in ("samples", "units"):
        path = root / "config" / f"relocation-{sheet}.tsv"
        shutil.copy2(REPO / "config" / f"{sheet}.tsv", path)
        keep_samples(path, SAMPLES)
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    config.update(
        samples="config/relocation-samples.tsv",
        units="config/relocation-units.tsv",
        batch="relocation",
    )
    (root / "config" / "relocation.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return root


def _snakemake(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(BIN / "snakemake"),
            "--snakefile", "Snakefile",
            "--configfile", "config/relocation.yaml",
            "--profile", "profiles/test",
            *args,
        ],
        cwd=project,
        capture_output=True,
        text=True,
        env=tool_env(),
        timeout=1800,
        check=False,
    )  # fmt: skip


def test_moved_project_has_nothing_to_do(tmp_path: Path) -> None:
    project = _project(tmp_path / "site-a" / "genomflow")
    done = _snakemake(project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (project / "results/samples/RD003/RD003.germline.vcf.gz").is_file()
    assert (project / "results/samples/CA003N/CA003N.coverage.tsv").is_file()
    assert (project / "results/genomflow.sqlite").is_file()

    moved = tmp_path / "site-b" / "elsewhere" / "genomflow"
    moved.parent.mkdir(parents=True)
    shutil.move(project, moved)
    dry = _snakemake(moved, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-3000:]
    assert "Nothing to be done" in dry.stdout + dry.stderr, (dry.stdout + dry.stderr)[-4000:]
    assert str(tmp_path / "site-a") not in (moved / "results/versions.yml").read_text()
