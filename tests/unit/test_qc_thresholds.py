"""QC thresholds: bounds per assay and sample type from the config, and evaluating a value."""

from __future__ import annotations

import pytest

from genomflow.config import resolve
from genomflow.errors import GenomflowError
from genomflow.qc.checks import Status, worst
from genomflow.qc.thresholds import (
    METRICS,
    Bounds,
    evaluate,
    parse_bounds,
    thresholds_for,
)

MINIMAL = {"reference": {"fasta": "ref.fa"}}


def qc_config(**qc: object) -> dict[str, object]:
    resolved: dict[str, object] = resolve({**MINIMAL, "qc": qc})["qc"]
    return resolved


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (10, Status.FAIL),
        (19.99, Status.FAIL),
        (20, Status.WARN),
        (29.9, Status.WARN),
        (30, Status.PASS),
    ],
)
def test_lower_bounds(value: float, status: Status) -> None:
    assert Bounds(fail_below=20, warn_below=30).status(value)[0] is status


@pytest.mark.parametrize(
    ("value", "status"),
    [(0.1, Status.PASS), (0.15, Status.PASS), (0.2, Status.WARN), (0.31, Status.FAIL)],
)
def test_upper_bounds(value: float, status: Status) -> None:
    assert Bounds(warn_above=0.15, fail_above=0.3).status(value)[0] is status


def test_a_range_warns_and_fails_on_both_sides() -> None:
    bounds = Bounds(fail_below=150, warn_below=250, warn_above=600, fail_above=1000)
    assert [bounds.status(v)[0] for v in (100, 200, 400, 700, 1200)] == [
        Status.FAIL,
        Status.WARN,
        Status.PASS,
        Status.WARN,
        Status.FAIL,
    ]
    assert bounds.describe(METRICS["insert_size"]) == (
        "fail < 150 bp, warn < 250 bp, warn > 600 bp, fail > 1000 bp"
    )


def test_no_bounds_always_pass() -> None:
    assert Bounds().status(-5)[0] is Status.PASS
    assert Bounds().describe(METRICS["q30_rate"]) == "none"


def test_evaluate_gives_value_threshold_and_reason() -> None:
    check = evaluate("S1", METRICS["duplicate_rate"], 0.32, Bounds(warn_above=0.15, fail_above=0.3))
    assert check.status is Status.FAIL
    assert check.value == "0.32"
    assert check.threshold == "warn > 15.0%, fail > 30.0%"
    assert check.reason == "duplicate_rate 32.0% is above the FAIL threshold 30.0%"
    passing = evaluate("S1", METRICS["duplicate_rate"], 0.01, Bounds(warn_above=0.15))
    assert (passing.status, passing.reason) == (Status.PASS, "")


def test_a_metric_with_no_value_is_not_assessed() -> None:
    check = evaluate("S1", METRICS["on_target_rate"], None, Bounds(fail_below=0.4))
    assert check.status is Status.NA
    assert worst([Status.PASS, check.status]) is Status.PASS


def test_schema_defaults_cover_every_assay_and_type() -> None:
    config = qc_config()
    for assay in ("wgs", "panel"):
        for sample_type in ("germline", "normal", "tumour", "plasma"):
            bounds = thresholds_for(config, assay, sample_type)
            assert {"q30_rate", "mapping_rate", "error_rate", "insert_size"} <= set(bounds)
    wgs = thresholds_for(config, "wgs", "germline")
    assert wgs["mean_coverage"] == Bounds(fail_below=20, warn_below=30)
    assert wgs["bases_20x"] == Bounds(fail_below=0.8, warn_below=0.9)
    assert thresholds_for(config, "wgs", "tumour")["mean_coverage"].fail_below == 50
    plasma = thresholds_for(config, "panel", "plasma")
    assert {"consensus_depth", "family_size", "target_bases_at_depth"} <= set(plasma)
    assert "duplicate_rate" not in plasma  # UMI families are duplicates by design
    assert "mean_coverage" not in thresholds_for(config, "panel", "tumour")


def test_a_metric_in_the_config_replaces_its_default_bounds() -> None:
    config = qc_config(thresholds={"wgs": {"germline": {"mean_coverage": {"fail_below": 10}}}})
    germline = thresholds_for(config, "wgs", "germline")
    assert germline["mean_coverage"] == Bounds(fail_below=10)
    assert germline["bases_20x"] == Bounds(fail_below=0.8, warn_below=0.9)  # others untouched
    assert thresholds_for(config, "wgs", "normal")["mean_coverage"].warn_below == 30


@pytest.mark.parametrize(
    ("qc", "expected"),
    [
        (
            {"thresholds": {"wgs": {"germline": {"mean_cov": {}}}}},
            "key 'qc.thresholds.wgs.germline': Additional properties are not allowed ('mean_cov'",
        ),
        (
            {"thresholds": {"wgs": {"germline": {"mean_coverage": {"fail_bellow": 3}}}}},
            "key 'qc.thresholds.wgs.germline.mean_coverage': Additional properties",
        ),
        (
            {"thresholds": {"panel": {"plasma": {"family_size": {"fail_below": "2"}}}}},
            "key 'qc.thresholds.panel.plasma.family_size.fail_below': '2' is not of type",
        ),
        ({"sex": {"y_present_min": -1}}, "key 'qc.sex.y_present_min': -1 is less than"),
        ({"identity": {"min_sites": 0}}, "key 'qc.identity.min_sites': 0 is less than"),
    ],
)
def test_bad_qc_config_names_the_key(qc: dict[str, object], expected: str) -> None:
    with pytest.raises(GenomflowError, match=r"^config: key ") as err:
        resolve({**MINIMAL, "qc": qc})
    assert expected in str(err.value)


def test_bounds_out_of_order_name_the_key() -> None:
    with pytest.raises(GenomflowError) as err:
        parse_bounds(
            {"fail_below": 30, "warn_below": 20}, "qc.thresholds.wgs.germline.mean_coverage"
        )
    assert str(err.value) == (
        "config key 'qc.thresholds.wgs.germline.mean_coverage': fail_below (30) must not be "
        "above warn_below (20)"
    )
    config = qc_config(
        thresholds={"wgs": {"tumour": {"duplicate_rate": {"warn_above": 0.5, "fail_above": 0.2}}}}
    )
    with pytest.raises(GenomflowError, match=r"wgs\.tumour\.duplicate_rate': warn_above"):
        thresholds_for(config, "wgs", "tumour")


def test_demo_config_lets_the_test_genome_trio_pass() -> None:
    import yaml

    with open("config/config.yaml") as handle:
        config = resolve(yaml.safe_load(handle))
    germline = thresholds_for(config["qc"], "wgs", "germline")
    assert germline["mean_coverage"].warn_below is not None
    assert germline["mean_coverage"].warn_below <= 24  # the parents are at ~25x
    assert config["reference"]["identity_sites"].endswith("common_snps.vcf.gz")
