"""``genomflow plan runs`` and ``genomflow plan capacity`` end to end on the shipped files."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.plan.output import LANE_COLUMNS, PLAN_COLUMNS, RUN_COLUMNS

REPO = Path(__file__).resolve().parents[2]
INSTRUMENTS = REPO / "config" / "instruments.example.yaml"
PENDING = REPO / "config" / "pending.example.tsv"
VOLUMES = REPO / "config" / "volumes.yaml"


def read_tsv(path: Path) -> list[dict[str, str]]:
    with path.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_plan_runs_on_the_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan" / "PLAN.tsv"
    argv = ["plan", "runs", "--samples", str(PENDING), "--instruments", str(INSTRUMENTS)]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "planned 36 of 36 samples on 3 runs" in printed
    assert "cost: 13,400.00 EUR" in printed
    assert "solver: optimal" in printed

    plan = read_tsv(out)
    assert list(plan[0]) == list(PLAN_COLUMNS)
    assert len(plan) == 36
    for row in plan:
        if row["deadline"]:
            assert row["delivery_date"] <= row["deadline"]
        assert int(row["allotted_read_pairs"]) >= int(row["required_read_pairs"])
    lanes = read_tsv(tmp_path / "plan" / "PLAN.lanes.tsv")
    assert list(lanes[0]) == list(LANE_COLUMNS)
    assert all(int(lane["slack_read_pairs"]) >= 0 for lane in lanes)
    runs = read_tsv(tmp_path / "plan" / "PLAN.runs.tsv")
    assert list(runs[0]) == list(RUN_COLUMNS)
    assert sum(float(run["cost"]) for run in runs) == pytest.approx(13_400)
    sheets = sorted((tmp_path / "plan" / "PLAN.samplesheets").iterdir())
    assert [sheet.name for sheet in sheets] == [f"{run['run_id']}.samplesheet.csv" for run in runs]
    text = sheets[0].read_text()
    assert text.startswith("[Header]\nFileFormatVersion,2\n")
    data = text.split("[BCLConvert_Data]\n")[1].splitlines()
    assert data[0] == "Lane,Sample_ID,Index_ID,Sample_Project,Required_Read_Pairs,Pool_Fraction"
    on_first_run = [row["sample"] for row in plan if row["run_id"] == runs[0]["run_id"]]
    assert sorted(line.split(",")[1] for line in data[1:]) == sorted(on_first_run)
    assert not list((tmp_path / "plan").glob(".*"))  # no temporary files left


def test_plan_runs_replaces_old_sheets(tmp_path: Path) -> None:
    sheets = tmp_path / "sheets"
    sheets.mkdir()
    (sheets / "old_run.samplesheet.csv").write_text("stale\n")
    argv = ["plan", "runs", "--samples", str(PENDING), "--instruments", str(INSTRUMENTS)]
    assert main([*argv, "--out", str(tmp_path / "p.tsv"), "--sheets-dir", str(sheets)]) == 0
    names = [path.name for path in sheets.iterdir()]
    assert "old_run.samplesheet.csv" not in names and len(names) == 3


def test_plan_runs_infeasible_exits_2_with_reasons(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pending = tmp_path / "pending.tsv"
    lines = PENDING.read_text().splitlines()
    lines.append("LATE\tpanel\tsolid_tumour_v3\tnorth\turgent\t\t2025-03-03\t\t")
    pending.write_text("\n".join(lines) + "\n")
    out = tmp_path / "PLAN.tsv"
    argv = ["plan", "runs", "--samples", str(pending), "--instruments", str(INSTRUMENTS)]
    assert main([*argv, "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert f"genomflow: error: {pending}: 1 of 37 samples cannot be placed" in error
    assert "LATE (line 39): no run delivers by its deadline 2025-03-03" in error
    assert not out.exists()
    assert main([*argv, "--out", str(out), "--allow-unplaced"]) == 0
    unplaced = read_tsv(tmp_path / "PLAN.unplaced.tsv")
    assert [row["sample"] for row in unplaced] == ["LATE"]


def test_plan_runs_bad_input_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    instruments = tmp_path / "instruments.yaml"
    shutil.copy(INSTRUMENTS, instruments)
    instruments.write_text(instruments.read_text().replace("run_days: 2}", "run_days: -2}", 1))
    argv = ["plan", "runs", "--samples", str(PENDING), "--instruments", str(instruments)]
    assert main([*argv, "--out", str(tmp_path / "p.tsv")]) == 2
    error = capsys.readouterr().err
    assert "key 'flowcell_types.NovaSeqX-25B.run_days': -2 is less than the minimum" in error


def test_plan_capacity_prints_table_and_writes_plot(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plot, table = tmp_path / "capacity.png", tmp_path / "capacity.tsv"
    argv = ["plan", "capacity", "--volumes", str(VOLUMES), "--plot", str(plot)]
    assert main([*argv, "--table", str(table), "--scenario", "low"]) == 0
    printed = capsys.readouterr().out
    assert "projection (scenario: low" in printed
    assert "  2030  national           97,400" in printed
    assert "  2025  national           65,350" in printed
    assert plot.read_bytes()[:4] == b"\x89PNG"
    rows = read_tsv(table)
    assert {row["centre"] for row in rows} >= {"capital", "south-west", "national"}


@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf"])
def test_nan_and_infinite_volumes_are_one_line(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue #14 (re-probe): `.nan` passed the schema and crashed the capacity plan."""
    volumes = tmp_path / "volumes.yaml"
    text = VOLUMES.read_text()
    assert "  cpu_core_hours_per_gb: 2.5 " in text
    volumes.write_text(
        text.replace("  cpu_core_hours_per_gb: 2.5 ", f"  cpu_core_hours_per_gb: {value} ")
    )
    assert main(["plan", "capacity", "--volumes", str(volumes)]) == 2
    err = capsys.readouterr().err
    assert "key 'costs.cpu_core_hours_per_gb'" in err and "is not a finite number" in err
