"""The demo batch on a real single-node SLURM cluster, with the shipped SLURM profile.

The jobs must have gone through SLURM (slurmctld's own completion log, matched to the
executor's per-job logs) and the deliverables must be identical to the local run.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, demo_qc_config, tool_env, vcf_records
from tests.services.slurm import Cluster, running_cluster

pytestmark = pytest.mark.e2e

SAMPLES = ("RD001", "RD002", "RD003")
# Without an accounting database the executor must poll with squeue and send no account.
SLURM_TEST_ARGS = (
    "--slurm-no-account",
    "--slurm-status-command",
    "squeue",
    "--slurm-init-seconds-before-status-checks",
    "2",
    "--max-threads",
    "2",
    "--jobs",
    "6",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Cluster:
    with running_cluster(tmp_path_factory.mktemp("slurm")) as running:
        yield running  # type: ignore[misc]


@pytest.fixture(scope="module")
def slurm_run(cluster: Cluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("demo-slurm")
    # A small batch (the trio), as SLURM polling makes every job cost seconds.
    config = demo_qc_config(workdir, samples=SAMPLES)
    command = [
        "timeout", "-s", "INT", "-k", "30", "900",
        str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(workdir), "--configfile", str(config),
        "--profile", str(REPO / "profiles" / "slurm"), *SLURM_TEST_ARGS,
        # keep every job's SLURM log, to match the scheduler's records to rules
        "--slurm-keep-successful-logs", "--slurm-logdir", str(workdir / ".snakemake/slurm_logs"),
    ]  # fmt: skip
    env = {**tool_env(), "SLURM_CONF": str(cluster.conf)}
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, f"{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    return workdir


def executor_jobs(workdir: Path) -> dict[str, str]:
    """SLURM job id -> rule (or group), from the executor's per-job log files."""
    logs = workdir / ".snakemake" / "slurm_logs"
    return {path.stem: path.relative_to(logs).parts[0] for path in logs.rglob("*.log")}


def test_jobs_went_through_slurm(cluster: Cluster, slurm_run: Path) -> None:
    completed = {job["JobId"]: job for job in cluster.completed_jobs()}
    submitted = executor_jobs(slurm_run)
    assert submitted, "the executor wrote no SLURM job logs"
    assert set(submitted) <= set(completed), set(submitted) - set(completed)
    assert {completed[j]["JobState"] for j in submitted} == {"COMPLETED"}
    assert {completed[j]["NodeList"] for j in submitted} == {"localhost"}
    kinds = set(submitted.values())
    for rule in ("rule_bwa_mem", "rule_samtools_markdup", "rule_bcftools_call"):
        assert rule in kinds, sorted(kinds)
    # Small jobs travel in groups: fewer cluster jobs than rule jobs.
    assert any(kind.startswith("group_") for kind in kinds), sorted(kinds)


def _alignments(bam: Path) -> list[str]:
    done = subprocess.run(
        ["samtools", "view", str(bam)], capture_output=True, text=True, check=True
    )
    return done.stdout.splitlines()


@pytest.mark.parametrize("sample", SAMPLES)
def test_deliverables_identical_to_local_run(
    slurm_run: Path, demo_qc_run: Path, sample: str
) -> None:
    demo_run = demo_qc_run  # the same trio and config, run locally

    def path(run: Path, suffix: str) -> Path:
        return run / "results" / "samples" / sample / f"{sample}{suffix}"

    slurm_vcf = vcf_records(path(slurm_run, ".germline.vcf.gz"))
    assert slurm_vcf
    assert slurm_vcf == vcf_records(path(demo_run, ".germline.vcf.gz"))
    assert _alignments(path(slurm_run, ".bam")) == _alignments(path(demo_run, ".bam"))
