"""Error rates of the somatic model, computed exactly over read counts (no simulation noise).

What the thresholds cost and buy, at any depth, is a sum over the possible read counts: the
tumour depth is Poisson around its mean, the alt reads binomial given the allele's true
fraction and the true error rate, and each (depth, alt reads) either passes the classifier or
not. This module does those sums with the classifier's own code
(:func:`genomflow.somatic.classify.classify`), so the figures are those of the shipped model:

* :func:`false_positives_per_mb`: calls made from sequencing errors alone, per megabase
  (three possible alt alleles a base), when the true error rate may differ from what the base
  qualities claim (miscalibration);
* :func:`recall`: the chance that a variant at a given VAF passes;
* :func:`germline_leak_per_mb`: heterozygous germline variants that a normal of a given depth
  fails to recognise (at a germline density of 1 per kb), the other way a somatic call is
  false.

For a paired tumour with balanced strands a call passes from some number of alt reads on
(:func:`min_passing_alt`): the tumour's evidence and posterior grow with the alt reads, and
nothing else in the decision falls with them. The sums use that threshold per depth.

``bench/somatic/calibrate`` prints them over depths 20x-2,000x; ``docs/somatic.md`` keeps the
tables that chose the defaults.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator
from dataclasses import dataclass

from scipy.stats import binom, poisson

from genomflow.somatic import model
from genomflow.somatic.classify import Counts, Evidence, classify
from genomflow.somatic.settings import Thresholds

#: Germline heterozygous variants per base assumed by :func:`germline_leak_per_mb`.
GERMLINE_DENSITY = 1e-3
#: Probability mass of the depth distribution left out of the sums.
_TAIL = 1e-7


@dataclass(frozen=True)
class Scenario:
    """Depths, qualities and the somatic prior of one calculation."""

    tumour_depth: float
    normal_depth: float
    #: The base quality the reads claim (what the model sees, before its cap).
    claimed_quality: float = 37.0
    #: The true error rate's quality (lower than claimed: over-confident qualities).
    true_quality: float = 37.0
    prior: float = 1e-6


def _depths(mean: float) -> Iterator[tuple[int, float]]:
    """Depths with their Poisson weights, covering all but a tiny tail."""
    low, high = poisson.ppf(_TAIL / 2, mean), poisson.ppf(1 - _TAIL / 2, mean)
    for depth in range(max(1, int(low)), int(high) + 1):
        yield depth, float(poisson.pmf(depth, mean))


def balanced(ref: int, alt: int) -> Counts:
    """Counts with both alleles' reads split evenly between the strands."""
    return Counts(ref - ref // 2, ref // 2, alt - alt // 2, alt // 2, ref + alt)


def passes(ref: int, alt: int, normal: Counts, scenario: Scenario, thresholds: Thresholds) -> bool:
    """Whether a paired SNV candidate with these tumour counts passes the classifier."""
    evidence = Evidence(True, balanced(ref, alt), normal, scenario.claimed_quality, 60.0)
    return classify(evidence, thresholds, scenario.prior).passed


@functools.cache
def min_passing_alt(depth: int, scenario: Scenario, thresholds: Thresholds) -> int | None:
    """The fewest alt reads of ``depth`` that pass against a clean normal (None: none do)."""
    normal_depth = round(scenario.normal_depth)
    normal = balanced(normal_depth, 0)
    for alt in range(max(1, thresholds.min_alt_reads), depth + 1):
        if passes(depth - alt, alt, normal, scenario, thresholds):
            return alt
    return None


def _pass_probability(scenario: Scenario, thresholds: Thresholds, p_alt: float) -> float:
    total = 0.0
    for depth, weight in _depths(scenario.tumour_depth):
        first = min_passing_alt(depth, scenario, thresholds)
        if first is not None:
            total += weight * float(binom.sf(first - 1, depth, p_alt))
    return total


def true_error(scenario: Scenario) -> float:
    """Probability that a base reads as one particular wrong base."""
    return model.quality_error(scenario.true_quality) / 3.0


def false_positives_per_mb(scenario: Scenario, thresholds: Thresholds) -> float:
    """Expected calls per megabase made from sequencing errors alone."""
    return 3e6 * _pass_probability(scenario, thresholds, true_error(scenario))


def recall(scenario: Scenario, thresholds: Thresholds, vaf: float) -> float:
    """Probability that a somatic SNV at ``vaf`` passes."""
    return _pass_probability(scenario, thresholds, model.alt_probability(vaf, true_error(scenario)))


def germline_leak_per_mb(scenario: Scenario, thresholds: Thresholds) -> float:
    """Heterozygous germline variants per megabase that pass as somatic: the tumour shows
    them at VAF 0.5 (at its mean depth), the normal (Poisson depth) at 0.5 too, and
    passing needs a normal with few enough alt reads."""
    half = max(1, round(scenario.tumour_depth / 2))
    tumour = balanced(half, half)
    leak = 0.0
    for depth, weight in _depths(scenario.normal_depth):
        most = -1  # the most normal alt reads that still pass (the normal's NLOD falls)
        for alt in range(0, depth + 1):
            normal = Counts(
                depth - alt - (depth - alt) // 2,
                (depth - alt) // 2,
                alt - alt // 2,
                alt // 2,
                depth,
            )
            evidence = Evidence(True, tumour, normal, scenario.claimed_quality, 60.0)
            if not classify(evidence, thresholds, scenario.prior).passed:
                break
            most = alt
        if most >= 0:
            leak += weight * float(binom.cdf(most, depth, 0.5))
    return 1e6 * GERMLINE_DENSITY * leak


def with_evidence(thresholds: Thresholds, assay: str) -> Thresholds:
    """The thresholds with an assay's default minimum evidence (``somatic.<assay>``)."""
    if assay == "wgs":
        return dataclasses.replace(thresholds, min_depth=0, min_alt_reads=2, min_vaf=0.0)
    return thresholds


def figure(value: float) -> str:
    """A figure for a table: 3 significant digits, or '<1e-4' for the negligible."""
    if value < 1e-4:
        return "<1e-4"
    return f"{value:.3g}"
