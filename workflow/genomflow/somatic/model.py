"""The somatic likelihood model: log-odds from allele counts, error rates and priors.

Each candidate allele is seen as ``ref`` and ``alt`` read counts per sample. A read shows the
allele with probability ``p(f) = e + f (1 - 2e)``: ``f`` is the allele fraction in the sample
and ``e`` the probability that sequencing turns one allele into the other (for an SNV, a
third of the base error rate given by the base quality; for an indel, the indel error rate
of its repeat context). The counts are binomial given ``p(f)``. In the manner of Mutect2
(Benjamin et al. 2019, bioRxiv 861054) and Strelka2 (Kim et al. 2018, Nat Methods 15:591):

* **tumour log-odds** ``TLOD = log10 max_f L(f) / L(0)``: the allele is present at some
  fraction against all its reads being errors; its Bayes-factor twin
  ``marginal_lod`` integrates ``f`` over a uniform prior instead of maximising, which is what
  a posterior probability needs (it pays for the free parameter);
* **normal log-odds** ``NLOD = log10 L_N(c f_T) / max(L_N(1/2), L_N(1))``: the normal holds
  at most tumour-in-normal contamination (a fraction ``c`` of the tumour's allele fraction)
  against the normal being a heterozygous or homozygous germline carrier;
* **germline fit** (tumour-only) ``log10 L(f̂) / max(L(1/2), L(1))``: how much better a free
  allele fraction fits than a germline genotype;
* a **germline prior** from a population allele frequency: a carrier probability
  ``1 - (1 - af)^2`` raises the evidence the normal (or the tumour VAF) must give;
* a **somatic prior** ``pi`` (somatic variants per callable base) learned from the sample's
  own candidates by expectation-maximisation, as Mutect2's FilterMutectCalls learns its
  prior: the posterior odds of a somatic variant are ``pi / (1 - pi) x 10^marginal_lod``.

All functions are pure and work on plain numbers; :mod:`genomflow.somatic.classify` turns
them into FILTERs.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy.special import betainc, betaln

LN10 = math.log(10.0)
#: Germline genotypes' allele fractions a germline carrier shows (heterozygous, homozygous).
GERMLINE_FRACTIONS = (0.5, 1.0)
#: Bounds of the learned somatic prior (per callable base): below, nothing would ever pass on
#: a quiet genome; above, a dense toy data set would let noise through.
PRIOR_BOUNDS = (1e-8, 1e-2)


def quality_error(quality: float) -> float:
    """Error probability of a Phred quality.

    >>> quality_error(30.0)
    0.001
    """
    return float(10.0 ** (-quality / 10.0))


def snv_error(mean_alt_quality: float | None, default_quality: float, max_quality: float) -> float:
    """Probability that a base reads as one particular other base: a third of the error rate
    of the alt bases' mean quality (``default_quality`` when unknown), capped at
    ``max_quality`` because base qualities are often over-confident.

    >>> f"{snv_error(40.0, 30.0, 37.0):.2e}"
    '6.65e-05'
    """
    quality = default_quality if mean_alt_quality is None else mean_alt_quality
    return quality_error(min(quality, max_quality)) / 3.0


def repeat_units(flank: str, unit: str) -> int:
    """How many copies of ``unit`` start ``flank`` (the reference right after an indel's
    anchor base).

    >>> repeat_units("TTTTTGA", "T"), repeat_units("CACACAG", "CA"), repeat_units("GA", "T")
    (5, 3, 0)
    """
    if not unit:
        return 0
    count = 0
    while flank.startswith(unit, count * len(unit)):
        count += 1
    return count


def indel_error(
    mean_alt_quality: float | None,
    repeat_length: int,
    *,
    default_quality: float,
    base_log10: float,
    slope: float,
    max_log10: float,
) -> float:
    """Probability that a read shows a given indel by error.

    The larger of the pileup's indel quality (bcftools' per-read indel score) and a context
    floor that grows with the length of the repeat (homopolymer or tandem repeat, in bases)
    the indel sits in: ``log10 e = base_log10 + slope * max(0, repeat_length - 4)`` up to
    ``max_log10``, the shape of Illumina slippage errors.

    >>> shape = {"default_quality": 40.0, "base_log10": -4.5, "slope": 0.25, "max_log10": -1.5}
    >>> f"{indel_error(45.0, 12, **shape):.1e}"
    '3.2e-03'
    """
    quality = default_quality if mean_alt_quality is None else mean_alt_quality
    context = min(max_log10, base_log10 + slope * max(0, repeat_length - 4))
    return max(quality_error(quality), float(10.0**context))


def alt_probability(fraction: float, error: float) -> float:
    """Probability that a read shows the allele when a fraction ``fraction`` carries it."""
    return error + fraction * (1.0 - 2.0 * error)


def log10_likelihood(ref: int, alt: int, fraction: float, error: float) -> float:
    """log10 of the binomial likelihood (without the binomial coefficient).

    >>> round(log10_likelihood(1, 1, 0.5, 0.0), 4)
    -0.6021
    """
    p = alt_probability(fraction, error)
    value = 0.0
    if alt:
        value += alt * math.log10(p) if p > 0 else -math.inf
    if ref:
        value += ref * math.log10(1.0 - p) if p < 1 else -math.inf
    return value


def fraction_estimate(ref: int, alt: int, error: float) -> float:
    """Maximum-likelihood allele fraction, in [0, 1].

    >>> fraction_estimate(90, 10, 0.0), fraction_estimate(100, 0, 0.01)
    (0.1, 0.0)
    """
    total = ref + alt
    if total == 0:
        return 0.0
    return min(1.0, max(0.0, (alt / total - error) / (1.0 - 2.0 * error)))


def tumour_lod(ref: int, alt: int, error: float) -> float:
    """``log10 max_f L(f) / L(0)``: present at some fraction against only errors (>= 0).

    >>> round(tumour_lod(33, 8, 1e-3 / 3), 1)
    19.0
    """
    best = fraction_estimate(ref, alt, error)
    return max(0.0, log10_likelihood(ref, alt, best, error) - log10_likelihood(ref, alt, 0, error))


def marginal_lod(ref: int, alt: int, error: float) -> float:
    """``log10 ∫ L(f) df / L(0)`` with ``f`` uniform on [0, 1] (a Bayes factor).

    With ``p = e + f (1 - 2e)`` the integral is a difference of regularised incomplete beta
    functions: ``B(alt + 1, ref + 1) (I_{1-e} - I_e) / (1 - 2e)``.

    >>> round(marginal_lod(0, 0, 0.01), 6)
    0.0
    >>> marginal_lod(30, 2, 1e-4) < tumour_lod(30, 2, 1e-4)
    True
    """
    a, b = alt + 1.0, ref + 1.0
    mass = float(betainc(a, b, 1.0 - error) - betainc(a, b, error))
    if mass <= 0.0:  # beyond double precision: fall back to the maximum and its width
        return tumour_lod(ref, alt, error) - 0.5 * math.log10(max(ref + alt, 1))
    log_integral = float(betaln(a, b)) + math.log(mass) - math.log(1.0 - 2.0 * error)
    log_null = alt * math.log(error) + ref * math.log1p(-error)
    return (log_integral - log_null) / LN10


def germline_log10_likelihood(ref: int, alt: int, error: float) -> float:
    """The best log10 likelihood among the germline genotypes (fractions 1/2 and 1)."""
    return max(log10_likelihood(ref, alt, f, error) for f in GERMLINE_FRACTIONS)


def normal_lod(
    ref: int, alt: int, tumour_fraction: float, contamination: float, error: float
) -> float:
    """``log10 L_N(c f_T) / max(L_N(1/2), L_N(1))``: the normal is not a germline carrier.

    Positive when the normal's reads favour "reference, up to tumour-in-normal contamination"
    over a germline genotype; about ``0.3`` per reference read when the normal shows no allele.

    >>> round(normal_lod(14, 0, 0.19, 0.1, 1e-3 / 3), 2)
    4.1
    """
    fraction = min(1.0, contamination * tumour_fraction)
    return log10_likelihood(ref, alt, fraction, error) - germline_log10_likelihood(ref, alt, error)


def germline_fit_lod(ref: int, alt: int, error: float) -> float:
    """``log10 L(f̂) / max(L(1/2), L(1))`` (>= 0): how badly a germline genotype fits.

    >>> round(germline_fit_lod(10, 10, 0.001), 6), round(germline_fit_lod(36, 4, 0.001), 1)
    (0.0, 6.4)
    """
    best = fraction_estimate(ref, alt, error)
    return max(
        0.0, log10_likelihood(ref, alt, best, error) - germline_log10_likelihood(ref, alt, error)
    )


def carrier_probability(allele_frequency: float) -> float:
    """Probability that a person carries an allele of population frequency ``af``.

    >>> round(carrier_probability(0.5), 2)
    0.75
    """
    af = min(1.0, max(0.0, allele_frequency))
    return 1.0 - (1.0 - af) ** 2


def germline_shift(allele_frequency: float | None, absent_af: float) -> float:
    """Extra log10 evidence against germline that a known population allele needs.

    ``log10`` of how much more likely a carrier is than for an allele absent from the
    population data (frequency ``absent_af``); 0 when the allele is not known or rarer.

    >>> germline_shift(None, 1e-5), round(germline_shift(0.01, 1e-5), 2)
    (0.0, 3.0)
    """
    if allele_frequency is None or allele_frequency <= absent_af:
        return 0.0
    return math.log10(carrier_probability(allele_frequency) / carrier_probability(absent_af))


def posterior_log10_odds(prior: float, lod: float) -> float:
    """log10 posterior odds of a somatic variant: prior odds times the Bayes factor.

    >>> posterior_log10_odds(1e-3, 5.0) > 0 > posterior_log10_odds(1e-6, 5.0)
    True
    """
    return math.log10(prior / (1.0 - prior)) + lod


def posterior_probability(prior: float, lod: float) -> float:
    """The posterior probability of a somatic variant (see :func:`posterior_log10_odds`)."""
    odds = posterior_log10_odds(prior, lod)
    if odds > 300:
        return 1.0
    return float(1.0 / (1.0 + 10.0 ** (-odds)))


def learn_prior(
    lods: Sequence[float] | np.ndarray,
    sites: int,
    *,
    bounds: tuple[float, float] = PRIOR_BOUNDS,
    iterations: int = 200,
) -> float:
    """The somatic prior (variants per callable base) that best explains the candidates.

    A two-component mixture: each of ``sites`` callable bases is somatic with probability
    ``pi``; a candidate with Bayes factor ``10^lod`` is somatic with posterior
    ``pi 10^lod / (pi 10^lod + 1 - pi)``, bases that are no candidate with posterior about 0.
    Expectation-maximisation: ``pi <- sum(posteriors) / sites`` until it settles, kept within
    ``bounds``.

    >>> round(learn_prior([20.0] * 50, 100_000), 6)
    0.0005
    >>> learn_prior([], 100_000) == PRIOR_BOUNDS[0]
    True
    """
    low, high = bounds
    values = np.asarray(lods, dtype=float)
    if sites <= 0 or values.size == 0:
        return low
    log_bayes = np.minimum(values, 300.0) * LN10
    prior = math.sqrt(low * high)
    for _ in range(iterations):
        log_odds = math.log(prior / (1.0 - prior)) + log_bayes
        posteriors = 1.0 / (1.0 + np.exp(-np.clip(log_odds, -700.0, 700.0)))
        updated = min(high, max(low, float(posteriors.sum()) / sites))
        if abs(math.log(updated / prior)) < 1e-6:
            return updated
        prior = updated
    return prior
