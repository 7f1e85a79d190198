"""Helpers of the knowledge-database tests: synthetic batches, row counts, loader processes."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from genomflow.kb.cli import table_counts
from genomflow.kb.db import make_engine
from tests.conftest import tool_env
from tests.kb.synthetic import (
    SyntheticSample,
    synthetic_variants,
    variant_pool,
    write_synthetic_report,
)

POOL = variant_pool(20_000, seed=7)
#: A small demo-like batch: a trio at one centre, plus a tumour/plasma pair with ctDNA.
DEMO: tuple[SyntheticSample, ...] = (
    SyntheticSample("RD001", "PAT-0001", sex="male"),
    SyntheticSample("RD002", "PAT-0002", sex="male"),
    SyntheticSample("RD003", "PAT-0003"),
    SyntheticSample("T001", "PAT-0004", type="tumour", assay="panel", panel="solid-v1"),
    SyntheticSample(
        "P001",
        "PAT-0004",
        type="plasma",
        assay="panel",
        panel="solid-v1",
        collection_date="2026-04-01",
    ),
)
CTDNA = {
    "tumour_sample": "T001",
    "tumour_fraction": 0.012,
    "ci_low": 0.008,
    "ci_high": 0.017,
    "p_value": 1e-6,
    "detected": True,
    "status": "detected",
    "informative_molecules": 24000,
    "mutant_molecules": 290,
    "loci_used": 18,
    "loci_excluded": 2,
    "lod95": 0.001,
}


def demo_batch(out: Path, calls: int = 400, batch: str = "synthetic batch") -> list[Path]:
    """Reports of :data:`DEMO` (samples share variants from one pool)."""
    paths = []
    for index, who in enumerate(DEMO):
        origin = "somatic" if who.type in ("tumour", "plasma") else "germline"
        variants = synthetic_variants(POOL, calls, seed=index, origin=origin)
        ctdna = CTDNA if who.type == "plasma" else None
        paths.append(
            write_synthetic_report(out / who.sample, who, variants, ctdna=ctdna, batch=batch)
        )
    return paths


def counts(url: str) -> dict[str, int]:
    engine = make_engine(url)
    try:
        return table_counts(engine)
    finally:
        engine.dispose()


def loader_command(url: str, reports: Sequence[Path], *extra: str) -> list[str]:
    return [sys.executable, "-m", "genomflow", "load", "--db", url, *extra, *map(str, reports)]


def run_loader(
    url: str, reports: Sequence[Path], *extra: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        loader_command(url, reports, *extra),
        capture_output=True,
        text=True,
        env={**tool_env(), **(env or {})},
        timeout=300,
        check=False,
    )


def loader_env(**extra: str) -> dict[str, str]:
    return {**tool_env(), **extra, "PYTHONUNBUFFERED": "1", "PATH": os.environ.get("PATH", "")}
