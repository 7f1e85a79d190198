"""Profiles must not take the retry growth away from the rules' resources.

A value in a profile's ``set-resources`` replaces the rule's attempt-scaled callable
(``scaled`` in common.smk): a constant there would give a job that ran out of memory or time
the same again on every retry. Each value is evaluated here as Snakemake evaluates it (the
``--set-resources RULE:NAME=VALUE`` the profile becomes), at attempt 1 and 2.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
import yaml
from snakemake.cli import parse_set_resources
from snakemake.resources import Resource

REPO = Path(__file__).resolve().parents[2]
PROFILES = sorted(p for p in (REPO / "profiles").glob("*/config.yaml"))


def _evaluate(name: str, resource: Resource, attempt: int) -> Any:
    raw = resource.raw
    if not isinstance(raw, str):  # a constant: the same at every attempt
        return raw
    return Resource.cli_evaluator(
        name, raw, wildcards={}, input=[], attempt=attempt, threads=1, async_run=asyncio.run
    )


def _set_resources(profile: Path) -> dict[str, Any]:
    settings = yaml.safe_load(profile.read_text()) or {}
    entries = [
        f"{rule}:{name}={value}"
        for rule, values in (settings.get("set-resources") or {}).items()
        for name, value in values.items()
    ]
    return parse_set_resources(entries)


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.parent.name)
def test_profile_resources_grow_on_retry(profile: Path) -> None:
    for rule, resources in _set_resources(profile).items():
        for name, resource in resources.items():
            if name not in ("mem_mb", "mem", "runtime"):
                continue
            first, second = (_evaluate(name, resource, attempt) for attempt in (1, 2))
            assert second > first, f"{profile}: {rule} {name} does not grow on a retry"


def test_slurm_profile_bwa_memory_and_runtime_on_retry() -> None:
    # bwa_mem's memory is the rule's own (12000 MB per attempt); its runtime the profile's.
    resources = _set_resources(REPO / "profiles" / "slurm" / "config.yaml")["bwa_mem"]
    assert "mem_mb" not in resources
    runtime = resources["runtime"]
    assert [_evaluate("runtime", runtime, a) for a in (1, 2, 3)] == [720, 1440, 2160]


def test_a_constant_would_be_caught() -> None:
    (resource,) = parse_set_resources(["bwa_mem:mem_mb=16000"])["bwa_mem"].values()
    assert _evaluate("mem_mb", resource, 1) == _evaluate("mem_mb", resource, 2)
