"""The exact error-rate calculation of the somatic model (genomflow.somatic.calibrate): its
shortcut checked against brute force, and the properties docs/somatic.md relies on."""

from __future__ import annotations

import dataclasses

import pytest
from scipy.stats import binom, poisson

from genomflow.somatic import calibrate
from genomflow.somatic.calibrate import Scenario, balanced, passes
from genomflow.somatic.settings import Thresholds

WGS = calibrate.with_evidence(Thresholds(), "wgs")
PANEL = Thresholds()


def brute_force_pass_probability(scenario: Scenario, thresholds: Thresholds, p: float) -> float:
    """Every depth and every alt count through the classifier (no threshold shortcut)."""
    normal = balanced(round(scenario.normal_depth), 0)
    total = 0.0
    for depth in range(1, int(scenario.tumour_depth * 3)):
        weight = poisson.pmf(depth, scenario.tumour_depth)
        for alt in range(0, depth + 1):
            if passes(depth - alt, alt, normal, scenario, thresholds):
                total += weight * binom.pmf(alt, depth, p)
    return float(total)


@pytest.mark.parametrize("prior", [1e-6, 1e-3])
def test_the_threshold_shortcut_equals_brute_force(prior: float) -> None:
    scenario = Scenario(20, 15, 37.0, 33.0, prior)
    for vaf in (0.05, 0.2):
        p = calibrate.model.alt_probability(vaf, calibrate.true_error(scenario))
        assert calibrate.recall(scenario, WGS, vaf) == pytest.approx(
            brute_force_pass_probability(scenario, WGS, p), rel=1e-6, abs=1e-9
        )
    errors = brute_force_pass_probability(scenario, WGS, calibrate.true_error(scenario))
    assert calibrate.false_positives_per_mb(scenario, WGS) == pytest.approx(3e6 * errors, rel=1e-6)


def test_a_quiet_genome_at_30x_makes_few_calls_from_errors() -> None:
    calibrated = Scenario(30, 25, 37.0, 37.0, 1e-6)
    over_confident = dataclasses.replace(calibrated, true_quality=31.0)
    assert calibrate.false_positives_per_mb(calibrated, WGS) < 0.01
    assert calibrate.false_positives_per_mb(over_confident, WGS) < 0.5
    assert calibrate.recall(calibrated, WGS, 0.2) > 0.9


def test_a_dense_tumour_at_30x_recovers_most_ten_percent_variants() -> None:
    assert calibrate.recall(Scenario(30, 25, 37.0, 37.0, 1e-3), WGS, 0.1) > 0.75


def test_the_panel_minimums_cost_recall_at_genome_depth_but_not_at_panel_depth() -> None:
    genome = Scenario(30, 25, 37.0, 37.0, 1e-3)
    assert calibrate.recall(genome, PANEL, 0.1) < 0.5 * calibrate.recall(genome, WGS, 0.1)
    panel = Scenario(1000, 500, 37.0, 37.0, 1e-3)
    assert calibrate.recall(panel, PANEL, 0.05) > 0.999
    assert calibrate.false_positives_per_mb(panel, PANEL) < 1e-4


def test_deeper_normals_leak_fewer_germline_variants() -> None:
    leaks = [
        calibrate.germline_leak_per_mb(Scenario(30, normal, 37.0, 37.0, 1e-6), WGS)
        for normal in (15, 25, 40)
    ]
    assert leaks == sorted(leaks, reverse=True)
    assert leaks[1] < 0.5 and leaks[2] < 0.05
