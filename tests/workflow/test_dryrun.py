"""Planning: lint, dry runs of the demo and of small variant configs, job counts per rule."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import REPO, TESTGENOME, copy_sheets, snakemake, write_config


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a dry run, as rule -> count."""
    table = output.split("Job stats:", 1)[1]
    counts: dict[str, int] = {}
    for line in table.splitlines()[3:]:
        match = re.fullmatch(r"(\w+)\s+(\d+)", line.strip())
        if match is None:
            break
        counts[match.group(1)] = int(match.group(2))
    return counts


def dry_run(workdir: Path, config: dict[str, object]) -> dict[str, int]:
    done = snakemake(workdir, write_config(workdir, config), "--dry-run", "--cores", "2")
    return job_counts(done.stdout + done.stderr)


@pytest.fixture
def minimal_config(tmp_path: Path) -> dict[str, object]:
    samples, units = copy_sheets(tmp_path)
    return {
        "samples": str(samples),
        "units": str(units),
        "reference": {"fasta": str(TESTGENOME / "genome.fa")},
    }


def test_lint_is_clean() -> None:
    done = snakemake(REPO, REPO / "config" / "config.yaml", "--lint", check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_minimal_config_plans_the_whole_demo(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    counts = dry_run(tmp_path, minimal_config)
    # The demo sheet: a trio (one family) with 3 samples and 4 units (the proband has 2 lanes).
    per_unit = {"fastp_trim": 4, "bwa_mem": 4}
    per_sample = {
        "samtools_markdup": 3,
        "samtools_stats": 3,
        "mosdepth_wgs": 3,
        "bcftools_view_sample": 3,
        "bcftools_stats": 3,
    }
    per_group = {"germline_ploidy": 1, "bcftools_call": 1, "germline_filter": 1}
    once = {
        "reference_prepare": 1,
        "samtools_faidx": 1,
        "samtools_dict": 1,
        "bwa_index": 1,
        "genomflow_versions": 1,
        "multiqc_report": 1,
        "all": 1,
    }
    expected = {**per_unit, **per_sample, **per_group, **once}
    assert counts == {**expected, "total": sum(expected.values())}


def test_freebayes_replaces_bcftools_call(
    tmp_path: Path, minimal_config: dict[str, object]
) -> None:
    counts = dry_run(tmp_path, {**minimal_config, "germline": {"caller": "freebayes"}})
    assert counts["freebayes_call"] == 1
    assert "bcftools_call" not in counts


def test_singletons_are_called_alone(tmp_path: Path, minimal_config: dict[str, object]) -> None:
    samples = Path(str(minimal_config["samples"]))
    rows = [line.split("\t") for line in samples.read_text().splitlines()]
    family, father, mother = (rows[0].index(c) for c in ("family", "father", "mother"))
    for row in rows[1:]:
        row[family] = row[father] = row[mother] = ""
    samples.write_text("\n".join("\t".join(r) for r in rows) + "\n")
    counts = dry_run(tmp_path, minimal_config)
    assert counts["bcftools_call"] == 3
    assert counts["germline_ploidy"] == 3
    assert counts["bcftools_view_sample"] == 3
