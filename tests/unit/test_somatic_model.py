"""The somatic likelihood model, checked against independent computations (scipy's binomial
distribution, numerical integration, brute-force maximisation) and hand-worked cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.stats import binom

from genomflow.somatic import model


def binomial_lod(ref: int, alt: int, f1: float, f0: float, error: float) -> float:
    """log10 of a binomial likelihood ratio, from scipy (the coefficient cancels)."""
    n = ref + alt
    p1 = model.alt_probability(f1, error)
    p0 = model.alt_probability(f0, error)
    return float((binom.logpmf(alt, n, p1) - binom.logpmf(alt, n, p0)) / math.log(10))


@pytest.mark.parametrize(
    ("ref", "alt", "error"), [(33, 8, 1e-3 / 3), (30, 2, 1e-4), (990, 10, 1e-3)]
)
def test_tumour_lod_is_the_binomial_likelihood_ratio_at_the_best_fraction(
    ref: int, alt: int, error: float
) -> None:
    best = model.fraction_estimate(ref, alt, error)
    assert model.tumour_lod(ref, alt, error) == pytest.approx(
        binomial_lod(ref, alt, best, 0, error)
    )
    # No other fraction does better.
    grid = np.linspace(0.0005, 0.9995, 2000)
    assert max(binomial_lod(ref, alt, f, 0, error) for f in grid) <= (
        model.tumour_lod(ref, alt, error) + 1e-9
    )


@pytest.mark.parametrize(
    ("ref", "alt", "error"), [(33, 8, 1e-3 / 3), (28, 2, 6.65e-5), (5, 0, 1e-3), (400, 12, 1e-4)]
)
def test_marginal_lod_is_the_integral_over_a_uniform_fraction(
    ref: int, alt: int, error: float
) -> None:
    null = binom.pmf(alt, ref + alt, error)

    def density(f: float) -> float:
        return float(binom.pmf(alt, ref + alt, model.alt_probability(f, error)))

    fraction = alt / (ref + alt)
    # The likelihood is sharply peaked near the observed fraction: help quad find it.
    points = [max(0.0, fraction - 0.05), fraction, min(1.0, fraction + 0.05)]
    integral, _ = integrate.quad(density, 0.0, 1.0, points=points, limit=200)
    expected = math.log10(integral / null)
    assert model.marginal_lod(ref, alt, error) == pytest.approx(expected, abs=1e-6)


def test_the_case_of_the_issue_has_strong_tumour_and_normal_evidence() -> None:
    # Tumour 33 ref / 8 alt, normal 14 ref / 0 alt, Q30 bases: Fisher's test could not call it.
    error = model.snv_error(30.0, 30.0, 37.0)
    assert model.tumour_lod(33, 8, error) > 15
    nlod = model.normal_lod(14, 0, 8 / 41, 0.1, error)
    # 14 reference reads against a heterozygote: about 14 x log10(2), less the contamination.
    assert 3.5 < nlod < 14 * math.log10(2)


def test_normal_lod_compares_contamination_with_the_best_germline_genotype() -> None:
    error = 1e-4
    for ref, alt in ((14, 0), (20, 1), (10, 10), (0, 12)):
        contamination = binomial_lod(ref, alt, 0.1 * 0.3, 0.5, error)
        hom = binomial_lod(ref, alt, 0.1 * 0.3, 1.0, error)
        assert model.normal_lod(ref, alt, 0.3, 0.1, error) == pytest.approx(min(contamination, hom))
    assert model.normal_lod(10, 10, 0.3, 0.1, error) < 0  # a heterozygous normal
    assert model.normal_lod(0, 12, 0.3, 0.1, error) < 0  # a homozygous one


def test_germline_fit_is_zero_for_germline_fractions_and_grows_away_from_them() -> None:
    error = 1e-3
    assert model.germline_fit_lod(100, 100, error) == 0.0
    assert model.germline_fit_lod(0, 50, error) == 0.0
    assert model.germline_fit_lod(80, 20, error) == pytest.approx(
        binomial_lod(80, 20, model.fraction_estimate(80, 20, error), 0.5, error)
    )
    assert model.germline_fit_lod(160, 40, error) > 2 * model.germline_fit_lod(80, 20, error) - 1e-9


def test_snv_error_is_a_third_of_the_capped_base_error() -> None:
    assert model.snv_error(40.0, 30.0, 37.0) == pytest.approx(10**-3.7 / 3)
    assert model.snv_error(20.0, 30.0, 37.0) == pytest.approx(10**-2 / 3)
    assert model.snv_error(None, 30.0, 37.0) == pytest.approx(10**-3 / 3)


def test_indel_error_grows_with_the_repeat_and_never_falls_below_the_pileup_quality() -> None:
    shape = {"default_quality": 40.0, "base_log10": -4.5, "slope": 0.25, "max_log10": -1.5}
    by_length = [model.indel_error(60.0, length, **shape) for length in (0, 4, 8, 12, 16, 40)]
    assert by_length[0] == by_length[1] == pytest.approx(10**-4.5)
    assert by_length[2] == pytest.approx(10**-3.5)
    assert by_length == sorted(by_length)
    assert by_length[-1] == pytest.approx(10**-1.5)  # capped
    assert model.indel_error(20.0, 0, **shape) == pytest.approx(0.01)  # bcftools' own score


def test_repeat_units() -> None:
    assert model.repeat_units("AAAAAAC", "A") == 6
    assert model.repeat_units("CAGCAGCAGT", "CAG") == 3
    assert model.repeat_units("CAGCA", "CA") == 1
    assert model.repeat_units("", "A") == 0


def test_germline_shift_is_the_log_ratio_of_carrier_probabilities() -> None:
    assert model.germline_shift(0.1, 1e-5) == pytest.approx(
        math.log10(0.19 / (1 - (1 - 1e-5) ** 2))
    )
    assert model.germline_shift(1e-6, 1e-5) == 0.0
    assert model.germline_shift(None, 1e-5) == 0.0


def test_posterior_probability_is_bayes_rule() -> None:
    prior, lod = 1e-3, 4.0
    bayes = 10**lod
    assert model.posterior_probability(prior, lod) == pytest.approx(
        prior * bayes / (prior * bayes + 1 - prior)
    )
    assert model.posterior_probability(1e-6, 400.0) == 1.0


def mixture_log_likelihood(prior: float, lods: np.ndarray, sites: int) -> float:
    """log likelihood of the two-component mixture (non-candidate bases: Bayes factor 0)."""
    bayes = 10.0**lods
    candidates = np.log(prior * bayes + 1 - prior).sum()
    return float(candidates + (sites - lods.size) * math.log(1 - prior))


def test_learned_prior_maximises_the_mixture_likelihood() -> None:
    rng = np.random.default_rng(7)
    sites = 300_000
    lods = np.concatenate([rng.uniform(6, 30, 250), rng.uniform(-3, 1, 2000)])
    learned = model.learn_prior(lods, sites)
    grid = np.exp(np.linspace(math.log(1e-6), math.log(5e-3), 4000))
    best = grid[int(np.argmax([mixture_log_likelihood(p, lods, sites) for p in grid]))]
    assert learned == pytest.approx(best, rel=0.01)
    assert learned == pytest.approx(250 / sites, rel=0.05)


def test_learned_prior_stays_within_its_bounds() -> None:
    assert model.learn_prior([50.0] * 10_000, 10_000) == model.PRIOR_BOUNDS[1]
    assert model.learn_prior([0.5] * 10, 3_000_000_000) == model.PRIOR_BOUNDS[0]
