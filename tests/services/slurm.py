"""A real single-node SLURM cluster on localhost, for tests: munged, slurmctld, slurmd.

Everything lives under one scratch folder (config, state, logs, munge key and socket); the
daemons run in the foreground as child processes and are stopped by their process ids.
Completed jobs are recorded by slurmctld itself in a job-completion log (jobcomp/filetxt),
the scheduler's own record of what ran. No accounting database: the executor is told to
poll with squeue and to send no account.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ETC_SLURM_CONF = Path("/etc/slurm/slurm.conf")


def _free_port() -> int:
    """A TCP port on localhost that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Cluster:
    """A running test cluster."""

    root: Path
    conf: Path
    jobcomp: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {**os.environ, "SLURM_CONF": str(self.conf)}

    def completed_jobs(self) -> list[dict[str, str]]:
        """Jobs in slurmctld's completion log, as key=value records."""
        if not self.jobcomp.exists():
            return []
        jobs = []
        for line in self.jobcomp.read_text().splitlines():
            record = dict(part.split("=", 1) for part in line.split() if "=" in part)
            jobs.append(record)
        return jobs


def _conf_text(root: Path, munge: Path, cpus: int, memory_mb: int) -> str:
    return f"""\
ClusterName=genomflowtest
SlurmctldHost=localhost
SlurmctldPort={_free_port()}
SlurmdPort={_free_port()}
AuthType=auth/munge
AuthInfo=socket={munge}/munge.socket.2
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/log/slurmctld.log
SlurmdLogFile={root}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SlurmdParameters=config_overrides
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc={root}/log/jobcomp.log
MinJobAge=300
InactiveLimit=0
KillWait=5
Waittime=0
SlurmctldTimeout=30
SlurmdTimeout=30
NodeName=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=main Nodes=localhost Default=YES MaxTime=INFINITE State=UP
"""


def _start_munge(munge: Path) -> subprocess.Popen[bytes]:
    """munged as the munge user; its folder must be reachable by that user (mode 755)."""
    munge.chmod(0o755)
    key = munge / "munge.key"
    subprocess.run(["mungekey", "--create", "--keyfile", str(key)], check=True)
    shutil.chown(munge, "munge", "munge")
    shutil.chown(key, "munge", "munge")
    key.chmod(0o400)
    command = [
        "runuser", "-u", "munge", "--", "munged", "--foreground",
        f"--key-file={key}", f"--socket={munge}/munge.socket.2",
        f"--pid-file={munge}/munged.pid", f"--log-file={munge}/munged.log",
        f"--seed-file={munge}/munged.seed",
    ]  # fmt: skip
    return subprocess.Popen(command, start_new_session=True)


def _wait_for(predicate: object, what: str, timeout: float, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.5)
    detail = log.read_text()[-3000:] if log is not None and log.exists() else ""
    raise RuntimeError(f"SLURM test cluster: {what} not ready after {timeout} s\n{detail}")


def _node_idle(env: dict[str, str]) -> bool:
    done = subprocess.run(
        ["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, env=env, check=False
    )
    return done.returncode == 0 and done.stdout.strip() in {"idle", "mixed", "allocated"}


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)


@contextmanager
def running_cluster(root: Path, cpus: int = 8, memory_mb: int = 20000) -> Iterator[Cluster]:
    """Start munged, slurmctld and slurmd under ``root``; stop them (by pid) on exit.

    The node declares ``cpus`` and ``memory_mb`` whatever the machine has
    (``config_overrides``), so that a group job's summed request fits on it.

    ``/etc/slurm/slurm.conf`` must point to the test config, because the SLURM executor's job
    step drops every ``SLURM_*`` variable (SLURM_CONF included) before its inner ``srun``; a
    symlink is made there and removed again, and an existing real file is never replaced.
    """
    for sub in ("state", "spool", "log"):
        (root / sub).mkdir(parents=True)
    conf = root / "slurm.conf"
    # Test folders are often mode 700 (pytest's are): munge gets a folder of its own in /tmp.
    munge = Path(tempfile.mkdtemp(prefix="genomflow-munge-"))
    conf.write_text(_conf_text(root, munge, cpus, memory_mb))
    if ETC_SLURM_CONF.exists() and not ETC_SLURM_CONF.is_symlink():
        raise RuntimeError(f"{ETC_SLURM_CONF} is a real SLURM config; refusing to replace it")
    ETC_SLURM_CONF.parent.mkdir(parents=True, exist_ok=True)
    ETC_SLURM_CONF.unlink(missing_ok=True)
    ETC_SLURM_CONF.symlink_to(conf)
    cluster = Cluster(root=root, conf=conf, jobcomp=root / "log" / "jobcomp.log")
    env = cluster.env()
    try:
        cluster.processes.append(_start_munge(munge))
        socket = munge / "munge.socket.2"
        _wait_for(socket.exists, "munged", 20, munge / "munged.log")
        for command in (
            ["slurmctld", "-D", "-i", "-f", str(conf)],
            ["slurmd", "-D", "-N", "localhost", "-f", str(conf)],
        ):
            cluster.processes.append(
                subprocess.Popen(
                    command,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    start_new_session=True,
                )
            )
        _wait_for(lambda: _node_idle(env), "node localhost", 60, root / "log" / "slurmctld.log")
        yield cluster
    finally:
        # Jobs outlive slurmd: cancel whatever is left before stopping the daemons.
        subprocess.run(["scancel", "--full", "--partition", "main"], env=env, check=False)
        time.sleep(1)
        for process in reversed(cluster.processes):
            _stop(process)
        if ETC_SLURM_CONF.is_symlink() and ETC_SLURM_CONF.resolve() == conf.resolve():
            ETC_SLURM_CONF.unlink()
        shutil.rmtree(munge, ignore_errors=True)
