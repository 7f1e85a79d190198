"""A throwaway PostgreSQL server for tests and benchmarks.

:func:`start_postgres` runs ``initdb`` and ``pg_ctl`` of the installed PostgreSQL (as the
``postgres`` user when run as root, since PostgreSQL refuses to run as root) with its data
and socket under a temporary folder, listening on 127.0.0.1 only, on a free port, with
``trust`` authentication. :meth:`PostgresServer.stop` stops it by its process id.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from genomflow.errors import GenomflowError

PG_BIN_ENV = "GENOMFLOW_PG_BIN"
OS_USER = "postgres"
SUPERUSER = "postgres"
OWNER = "genomflow"


def postgres_bindir() -> Path | None:
    """Folder of initdb/pg_ctl: ``$GENOMFLOW_PG_BIN``, the newest Debian install, or PATH."""
    if os.environ.get(PG_BIN_ENV):
        return Path(os.environ[PG_BIN_ENV])
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major, reverse=True)
    if found:
        return Path(found[0]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _major(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """A running throwaway PostgreSQL cluster."""

    root: Path
    port: int
    pid: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", user: str = SUPERUSER) -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"

    def execute(self, *statements: str, database: str = "postgres") -> None:
        """Run statements as the superuser, each in autocommit."""
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"
        with psycopg.connect(dsn, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement.encode())

    def create_database(self, name: str, owner: str = OWNER) -> str:
        """A new empty database owned by ``owner``; returns the owner's URL."""
        self.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name, owner)

    def create_role(self, name: str) -> None:
        """A login role with no special rights (it is granted what it needs per database)."""
        self.execute(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER NOBYPASSRLS')

    def stop(self) -> None:
        """Fast shutdown by process id; wait for it, then remove the cluster's files."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGINT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _alive(self.pid):
            time.sleep(0.05)
        if _alive(self.pid):  # pragma: no cover - a stuck server
            os.kill(self.pid, signal.SIGKILL)
        shutil.rmtree(self.root, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie left by pg_ctl's daemonising counts as gone.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def _as_postgres_user(command: Sequence[str]) -> list[str]:
    if os.geteuid() != 0:
        return list(command)
    return ["runuser", "-u", OS_USER, "--", *command]


def start_postgres(durable: bool = False) -> PostgresServer:
    """Start a throwaway cluster; ``durable=False`` turns fsync off (tests only).

    Raises :class:`GenomflowError` when PostgreSQL is not installed or does not start.
    """
    bindir = postgres_bindir()
    if bindir is None:
        raise GenomflowError("PostgreSQL is not installed (no initdb; set $GENOMFLOW_PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="gfpg-", dir="/tmp"))
    root.chmod(0o755)
    if os.geteuid() == 0:
        shutil.chown(root, OS_USER, OS_USER)
    port = free_port()
    options = f"-h 127.0.0.1 -p {port} -k {root}"
    if not durable:
        options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    steps = (
        [
            str(bindir / "initdb"),
            "-D",
            str(root / "data"),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ],
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(root / "data"),
            "-l",
            str(root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
        ],
    )
    for step in steps:
        done = subprocess.run(_as_postgres_user(step), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            log = root / "server.log"
            tail = log.read_text()[-2000:] if log.is_file() else ""
            shutil.rmtree(root, ignore_errors=True)
            raise GenomflowError(
                f"PostgreSQL: {Path(step[0]).name} failed ({done.returncode}): "
                f"{done.stderr.strip()[-2000:]}\n{tail}"
            )
    pid = int((root / "data" / "postmaster.pid").read_text().split()[0])
    server = PostgresServer(root=root, port=port, pid=pid)
    server.execute(f'CREATE ROLE "{OWNER}" LOGIN')
    return server


@contextlib.contextmanager
def running_postgres(durable: bool = False) -> Iterator[PostgresServer]:
    server = start_postgres(durable)
    try:
        yield server
    finally:
        server.stop()
