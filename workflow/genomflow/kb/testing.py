"""Test and benchmark helpers: a throwaway PostgreSQL server and synthetic sample reports.

:func:`start_postgres` runs ``initdb`` and ``pg_ctl`` of the installed PostgreSQL (as the
``postgres`` user when run as root, since PostgreSQL refuses to run as root) with its data
and socket under a temporary folder, listening on 127.0.0.1 only, on a free port, with
``trust`` authentication. :meth:`PostgresServer.stop` stops it by its process id.

:func:`write_synthetic_report` writes a schema-valid report with random calls (drawn from a
shared pool, so samples share variants) and small deliverable files with real checksums.
Its VRS ids are well-formed digests of the allele text, not computed from a sequence.
"""

from __future__ import annotations

import contextlib
import datetime
import glob
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ga4gh.core import sha512t24u

from genomflow.errors import GenomflowError
from genomflow.report.build import sha256_file, write_json
from genomflow.report.validate import schema_version

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


# --- synthetic reports ---------------------------------------------------------------------

#: The synthetic build: contig -> length (GRCh38's first chromosomes).
SYNTHETIC_CONTIGS: dict[str, int] = {
    "chr1": 248_956_422,
    "chr2": 242_193_529,
    "chr3": 198_295_559,
    "chrX": 156_040_895,
}
SYNTHETIC_BUILD = "synthetic-build"
_BASES = "ACGT"


def synthetic_contigs(build: str = SYNTHETIC_BUILD) -> list[dict[str, Any]]:
    """Contigs of a synthetic build: MD5 and refget derived from the build name."""
    contigs = []
    for name, length in SYNTHETIC_CONTIGS.items():
        seed = f"{build}/{name}".encode()
        contigs.append(
            {
                "name": name,
                "length": length,
                "md5": hashlib.md5(seed, usedforsecurity=False).hexdigest(),
                "refget": f"SQ.{sha512t24u(seed)}",
            }
        )
    return contigs


def variant_pool(size: int, seed: int = 1) -> list[tuple[str, int, str, str]]:
    """``size`` distinct SNVs and small indels on the synthetic contigs."""
    rng = random.Random(seed)
    pool: dict[tuple[str, int, str, str], None] = {}
    names = list(SYNTHETIC_CONTIGS)
    while len(pool) < size:
        chrom = rng.choice(names)
        pos = rng.randrange(1, SYNTHETIC_CONTIGS[chrom] - 10)
        ref = rng.choice(_BASES)
        kind = rng.random()
        if kind < 0.85:
            alt = rng.choice(_BASES.replace(ref, ""))
        elif kind < 0.93:
            alt = ref + "".join(rng.choice(_BASES) for _ in range(rng.randint(1, 5)))
        else:
            alt, ref = ref, ref + "".join(rng.choice(_BASES) for _ in range(rng.randint(1, 5)))
        pool[(chrom, pos, ref, alt)] = None
    return list(pool)


def fake_vrs_id(chrom: str, pos: int, ref: str, alt: str) -> str:
    digest: str = sha512t24u(f"{chrom}:{pos}:{ref}:{alt}".encode())
    return f"ga4gh:VA.{digest}"


def synthetic_variants(
    pool: Sequence[tuple[str, int, str, str]], count: int, seed: int, origin: str = "germline"
) -> list[dict[str, Any]]:
    """``count`` calls drawn without replacement from ``pool``, sorted by position."""
    rng = random.Random(seed)
    chosen = sorted(rng.sample(range(len(pool)), count))
    variants = []
    for index in chosen:
        chrom, pos, ref, alt = pool[index]
        hom = rng.random() < 0.35
        depth = rng.randint(8, 60)
        variants.append(
            {
                "chrom": chrom,
                "pos": pos,
                "ref": ref,
                "alt": alt,
                "vrs_id": fake_vrs_id(chrom, pos, ref, alt),
                "origin": origin,
                "genotype": ("1/1" if hom else "0/1") if origin == "germline" else None,
                "zygosity": ("hom" if hom else "het") if origin == "germline" else None,
                "vaf": round(rng.uniform(0.9, 1.0) if hom else rng.uniform(0.05, 0.7), 4),
                "depth": depth,
                "quality": round(rng.uniform(20, 900), 2),
                "consequence": None,
                "gene": None,
                "filters": ["PASS"] if rng.random() < 0.95 else ["LowQual"],
            }
        )
    return variants


@dataclass(frozen=True)
class SyntheticSample:
    """What a synthetic report is about."""

    sample: str
    patient: str
    centre: str = "demo-centre"
    type: str = "germline"
    assay: str = "wgs"
    panel: str | None = None
    collection_date: str | None = "2026-03-02"
    sex: str = "female"


def with_vrs_ids(
    variants: Sequence[dict[str, Any]], contigs: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """``variants`` with the true VRS ids of their plain substitutions on ``contigs`` (what
    the loader recomputes); other alleles keep theirs (a synthetic build has no sequence)."""
    from genomflow.report.vrs import is_plain_substitution, substitution_id

    refgets = {c["name"]: c["refget"] for c in contigs}
    return [
        {**v, "vrs_id": substitution_id(refgets[v["chrom"]], v["pos"], v["ref"], v["alt"])}
        if v["vrs_id"] is not None and is_plain_substitution(v["ref"], v["alt"])
        else dict(v)
        for v in variants
    ]


def write_synthetic_report(
    out_dir: Path,
    who: SyntheticSample,
    variants: Sequence[dict[str, Any]],
    *,
    build: str = SYNTHETIC_BUILD,
    ctdna: dict[str, Any] | None = None,
    batch: str = "synthetic batch",
) -> Path:
    """Write ``{sample}.report.json`` and a small BAM-named deliverable in ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    bam = out_dir / f"{who.sample}.bam"
    bam.write_bytes(hashlib.sha256(f"{who.sample}/{batch}".encode()).digest() * 64)
    report: dict[str, Any] = {
        "schema_version": schema_version(),
        "sample": {
            "id": who.sample,
            "patient": who.patient,
            "sex": who.sex,
            "type": who.type,
            "assay": who.assay,
            "panel": who.panel,
            "collection_date": who.collection_date,
        },
        "centre": {"id": who.centre, "name": f"Centre {who.centre}", "region": ""},
        "provenance": {
            "genomflow_version": "0.1.0",
            "batch": batch,
            "config_digest": hashlib.sha256(batch.encode()).hexdigest(),
            "run_date": datetime.datetime(2026, 11, 25, tzinfo=datetime.UTC)
            .isoformat()
            .replace("+00:00", "Z"),
            "reference": {"name": build, "contigs": synthetic_contigs(build)},
            "software": {"genomflow": "0.1.0"},
        },
        "qc": {
            "status": "pass",
            "status_source": None,
            "reasons": [],
            "metrics": {"mean_depth": 30.0, "reads_mapped_pct": 99.5},
        },
        "variants": with_vrs_ids(variants, synthetic_contigs(build)),
        "ctdna": ctdna,
        "files": [
            {
                "path": bam.name,
                "role": "alignments",
                "size": bam.stat().st_size,
                "sha256": sha256_file(bam),
            }
        ],
    }
    path = out_dir / f"{who.sample}.report.json"
    write_json(report, path)
    return path
