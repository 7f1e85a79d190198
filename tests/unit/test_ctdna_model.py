"""The ctDNA likelihood, estimate, test, interval and LoD against hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import optimize, stats

from genomflow.ctdna import model
from genomflow.ctdna.model import Evidence, Settings, Status


def single(alt: int, depth: int, f: float, e: float) -> Evidence:
    return Evidence.of([alt], [depth], [f], [e])


def test_expected_alt_fraction_is_the_issue_formula() -> None:
    # T f (1 - e) + (1 - T f) e with T = 0.1, f = 0.5, e = 0.01: 0.05 * 0.99 + 0.95 * 0.01
    value = model.expected_alt_fraction(0.1, np.array([0.5]), np.array([0.01]))[0]
    assert value == pytest.approx(0.0495 + 0.0095)


def test_single_locus_without_background_estimates_alt_over_depth_over_f() -> None:
    assert model.maximum_likelihood(single(10, 1000, 0.5, 0.0)) == pytest.approx(0.02, rel=1e-4)


def test_single_locus_mle_solves_the_expected_fraction_exactly() -> None:
    # p_hat = a / n = 0.03 = e + T f (1 - 2e)  ->  T = (0.03 - 0.001) / (0.5 * 0.998)
    t_hat = model.maximum_likelihood(single(30, 1000, 0.5, 0.001))
    assert t_hat == pytest.approx(0.029 / 0.499, rel=1e-9)


def test_two_loci_with_equal_f_and_e_pool_their_counts() -> None:
    ev = Evidence.of([3, 7], [1000, 1000], [0.5, 0.5], [0.001, 0.001])
    assert model.maximum_likelihood(ev) == pytest.approx((0.005 - 0.001) / (0.5 * 0.998))


def test_two_loci_with_different_f_solve_the_quadratic_score() -> None:
    # e ~ 0: 20 / T = 0.5 * 995 / (1 - T / 2) + 985 / (1 - T)
    #   <=> 1000 T^2 - 1512.5 T + 20 = 0
    ev = Evidence.of([5, 15], [1000, 1000], [0.5, 1.0], [0.0, 0.0])
    root = (1512.5 - math.sqrt(1512.5**2 - 4 * 1000 * 20)) / 2000
    assert model.maximum_likelihood(ev) == pytest.approx(root, rel=1e-4)


def test_fewer_alt_molecules_than_background_give_zero_and_p_one() -> None:
    ev = single(0, 5000, 0.5, 1e-3)
    assert model.maximum_likelihood(ev) == 0.0
    call = model.fit_and_test(ev, Settings(min_loci=1, lod_simulations=0))
    assert call.lr_statistic == 0.0
    assert call.p_value == 1.0
    assert call.ci_low == 0.0
    assert call.status is Status.NOT_DETECTED


def test_all_alt_molecules_hit_the_upper_bound() -> None:
    assert model.maximum_likelihood(single(100, 100, 0.5, 1e-4)) == 1.0


def test_lr_statistic_matches_the_binomial_formula() -> None:
    a, n, f, e = 12, 2000, 0.5, 1e-3
    ev = single(a, n, f, e)
    p_hat = a / n
    hand = 2 * (a * math.log(p_hat / e) + (n - a) * math.log((1 - p_hat) / (1 - e)))
    assert model.lr_statistic(model.maximum_likelihood(ev), ev) == pytest.approx(hand, rel=1e-8)


def test_bounded_minimisation_agrees_with_the_score_root() -> None:
    ev = Evidence.of([2, 9, 0, 4], [3000, 2500, 3500, 2800], [0.5, 0.4, 0.5, 1.0], [3e-4] * 4)
    found = optimize.minimize_scalar(
        lambda t: -model.log_likelihood(t, ev),
        bounds=(0.0, 0.01),
        method="bounded",
        options={"xatol": 1e-12},
    )
    assert model.maximum_likelihood(ev) == pytest.approx(found.x, rel=1e-5)


def test_profile_interval_ends_are_1_92_below_the_maximum() -> None:
    ev = Evidence.of([8, 14, 3], [3000, 4000, 2000], [0.5, 0.5, 0.3], [2e-4, 5e-4, 1e-4])
    t_hat = model.maximum_likelihood(ev)
    low, high = model.profile_interval(t_hat, ev)
    top = model.log_likelihood(t_hat, ev)
    assert 0 < low < t_hat < high
    assert top - model.log_likelihood(low, ev) == pytest.approx(1.920729, abs=1e-5)
    assert top - model.log_likelihood(high, ev) == pytest.approx(1.920729, abs=1e-5)
    inside = (low + t_hat) / 2
    assert top - model.log_likelihood(inside, ev) < 1.92


def test_interval_starts_at_zero_when_zero_is_plausible() -> None:
    ev = single(1, 3000, 0.5, 3e-4)
    t_hat = model.maximum_likelihood(ev)
    low, high = model.profile_interval(t_hat, ev)
    assert low == 0.0 and high > t_hat
    assert model.log_likelihood(t_hat, ev) - model.log_likelihood(high, ev) == pytest.approx(
        model.LOG_LIKELIHOOD_DROP, abs=1e-5
    )


def test_vectorised_fit_agrees_with_the_scalar_one() -> None:
    rng = np.random.default_rng(3)
    ev = Evidence.of(np.zeros(20), rng.integers(500, 5000, 20), rng.uniform(0.1, 1, 20), 1e-4)
    alt = model.simulate_alt(ev, 2e-3, 50, rng)
    t_hat, lr = model.fit_many(alt, ev)
    for row in range(alt.shape[0]):
        one = Evidence(alt[row], ev.depth, ev.f, ev.e)
        expected = model.maximum_likelihood(one)
        assert t_hat[row] == pytest.approx(expected, rel=1e-7, abs=1e-12)
        assert lr[row] == pytest.approx(model.lr_statistic(expected, one), rel=1e-6, abs=1e-9)


def test_asymptotic_p_value_is_half_a_chi2_tail() -> None:
    p = model.asymptotic_p_values(np.array([0.0, 2.705543, 10.0]))
    assert p[0] == 1.0
    assert p[1] == pytest.approx(0.05, rel=1e-5)
    assert p[2] == pytest.approx(0.5 * stats.chi2.sf(10.0, 1))


def test_monte_carlo_p_value_counts_null_statistics_at_least_as_large() -> None:
    null = np.sort(np.array([0.0] * 90 + [0.5] * 5 + [1.0, 1.5, 2.0, 2.5, 3.0]))
    p, methods = model.p_values(np.array([1.5, 0.0, 0.2]), null)
    # 1.5: four null values >= 1.5 -> (1 + 4) / 101; 0: p = 1; 0.2: ten values >= 0.2
    assert p.tolist() == pytest.approx([5 / 101, 1.0, 11 / 101])
    assert methods[0] is model.PValueMethod.MONTE_CARLO


def test_far_beyond_the_null_the_asymptotic_p_value_is_used() -> None:
    p, methods = model.p_values(np.array([40.0]), np.zeros(100))
    assert methods[0] is model.PValueMethod.ASYMPTOTIC
    assert p[0] == pytest.approx(0.5 * stats.chi2.sf(40.0, 1))


def test_poisson_limit_is_three_molecules_over_weighted_depth() -> None:
    ev = Evidence.of([0, 0], [1000, 2000], [0.5, 0.25], [1e-4, 1e-4])
    assert model.poisson_limit(ev) == pytest.approx(-math.log(0.05) / 1000)


def test_without_background_the_lod_is_the_poisson_limit() -> None:
    ev = Evidence.of(np.zeros(10, dtype=int), [3000] * 10, [0.5] * 10, [1e-7] * 10)
    null = model.null_statistics(ev, 500, 1)
    lod = model.limit_of_detection(ev, null, 0.05, 400, 2)
    limit = model.poisson_limit(ev)
    assert lod is not None and limit is not None
    assert lod == pytest.approx(limit, rel=0.15)


def test_background_raises_the_lod_and_the_lod_is_detected_95_percent() -> None:
    ev = Evidence.of(np.zeros(20, dtype=int), [3000] * 20, [0.5] * 20, [5e-4] * 20)
    null = model.null_statistics(ev, 1000, 1)
    lod = model.limit_of_detection(ev, null, 0.05, 400, 2)
    limit = model.poisson_limit(ev)
    assert lod is not None and limit is not None and lod > 2 * limit
    power = model.detection_probability(ev, lod, null, 0.05, 2000, 9)
    assert power == pytest.approx(0.95, abs=0.025)


def test_null_samples_are_called_detected_at_about_alpha() -> None:
    rng = np.random.default_rng(5)
    depth = rng.integers(1000, 4000, 15)
    base = Evidence.of(np.zeros(15, dtype=int), depth, [0.5] * 15, rng.uniform(1e-4, 1e-3, 15))
    settings = Settings(null_simulations=400, lod_simulations=0)
    calls = [
        model.fit_and_test(Evidence(row, base.depth, base.f, base.e), settings).detected
        for row in model.simulate_alt(base, 0.0, 300, rng)
    ]
    assert np.mean(calls) <= 0.08


def test_status_rules() -> None:
    settings = Settings(min_informative=1000, min_loci=2)
    assert model.decide(0.001, 10, 1, settings) == (Status.DETECTED, None)
    assert model.decide(0.2, 5000, 10, settings) == (Status.NOT_DETECTED, None)
    status, reason = model.decide(0.2, 500, 10, settings)
    assert status is Status.INDETERMINATE
    assert reason == "too few informative molecules (500 < 1000) for a negative result"
    status, reason = model.decide(0.2, 5000, 1, settings)
    assert reason == "too few usable loci (1 < 2) for a negative result"


def test_detected_sample_has_consistent_fields() -> None:
    ev = Evidence.of([20, 25, 18], [3000, 3500, 2500], [0.5, 0.5, 0.5], [2e-4, 2e-4, 2e-4])
    call = model.fit_and_test(ev, Settings(lod_simulations=100))
    assert call.status is Status.DETECTED and call.detected
    assert call.ci_low < call.tumour_fraction < call.ci_high
    assert call.p_value < 1e-6
    assert call.informative_molecules == 9000
    assert call.mutant_molecules == 63
    assert call.lod95 is not None and call.lod95 < call.tumour_fraction


def test_evidence_rejects_impossible_counts() -> None:
    with pytest.raises(ValueError, match="between 0 and the depth"):
        Evidence.of([5], [4], [0.5], [1e-3])
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        Evidence.of([1], [4], [0.0], [1e-3])
    with pytest.raises(ValueError, match="same length"):
        Evidence.of([1, 2], [4], [0.5], [1e-3])
