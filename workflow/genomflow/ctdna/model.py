"""The statistics of tumour-informed ctDNA detection in one plasma sample.

At tracked locus ``i`` the plasma shows ``a_i`` alt molecules among ``n_i`` informative ones
(ref + alt). A molecule comes from the tumour with probability ``T`` (the plasma tumour
fraction); a tumour molecule carries the alt allele with probability ``f_i`` (the tumour's
allele fraction corrected for purity); every molecule is read as the other allele with the
background rate ``e_i``. So the expected alt fraction is::

    p_i(T) = T f_i (1 - e_i) + (1 - T f_i) e_i  =  e_i + T c_i,   c_i = f_i (1 - 2 e_i)

and the log-likelihood ``L(T) = sum_i a_i log p_i + (n_i - a_i) log(1 - p_i)`` (binomial,
constants dropped). ``p_i`` is linear in ``T`` and the binomial log-likelihood is concave in
``p``, so ``L`` is concave on ``[0, 1]``: its score ``S(T) = L'(T)`` is decreasing, the
maximum is unique, and it sits at ``T = 0`` exactly when ``S(0) <= 0``. The maximum-likelihood
``T`` is therefore found by a bounded one-dimensional search, the bracketed root of the score
on ``[0, 1]`` (Brent), with the boundary at 0 decided first from the sign of ``S(0)``.

Detection is the likelihood-ratio test of ``T = 0``: ``LR = 2 (L(T_hat) - L(0))``. With the
null on the boundary of the parameter space, ``LR`` is asymptotically a 50:50 mixture of
chi2_0 and chi2_1 (Self & Liang 1987), so ``p = P(chi2_1 > LR) / 2``. The asymptotic needs
many expected background molecules; a ctDNA sample often has a handful in all, and then the
discreteness of the counts matters. So the p-value is Monte Carlo under the background model
(``a_i ~ Binomial(n_i, e_i)`` with the sample's own ``n_i`` and ``e_i``; ``p = (1 + k) / (1 + B)``
with ``k`` of ``B`` null statistics at least ``LR``) whenever it decides something, and the
asymptotic only where Monte Carlo cannot resolve it (asymptotic ``p`` below
:data:`ASYMPTOTIC_BELOW`, far past any detection threshold).

The 95% interval is the profile-likelihood one (with one parameter, the likelihood itself):
every ``T`` with ``L(T) >= L(T_hat) - chi2_1(0.95) / 2``. The limit of detection (LoD95) is the
smallest ``T`` whose detection probability, by the same test with the sample's own ``n_i``,
``f_i`` and ``e_i``, reaches 95% (simulated, with common random numbers across ``T``). The
Poisson limit ``-ln(0.05) / sum_i n_i f_i`` is the floor without background (95% of samples
show at least one mutant molecule when ~3 are expected).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy import optimize, stats

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Smallest background rate used: a rate of 0 would make one error molecule infinitely
#: surprising (the estimates of :mod:`genomflow.ctdna.background` are floored here too).
MIN_BACKGROUND = 1e-7
#: Largest background rate accepted (``1 - 2 e`` must stay positive; such loci are excluded
#: as noisy long before).
MAX_BACKGROUND = 0.25
#: Level of the profile-likelihood interval.
INTERVAL_LEVEL = 0.95
#: Drop of the log-likelihood that bounds the interval: chi2_1(0.95) / 2 = 1.92.
LOG_LIKELIHOOD_DROP = float(stats.chi2.ppf(INTERVAL_LEVEL, 1)) / 2
#: Probability of detection that defines the limit of detection.
LOD_POWER = 0.95
#: Expected mutant molecules for 95% detection without background: P(Poisson >= 1) = 0.95.
POISSON_MOLECULES_95 = -math.log(1 - LOD_POWER)
#: Significance level of the detection test.
DEFAULT_ALPHA = 0.05
#: Below this asymptotic p-value the Monte Carlo p-value (resolution 1 / (1 + B)) is replaced
#: by the asymptotic one.
ASYMPTOTIC_BELOW = 1e-3
#: Null simulations for the Monte Carlo p-value (and the detection rule of the LoD).
DEFAULT_NULL_SIMULATIONS = 2000
#: Simulated samples per tumour fraction when the LoD95 is searched.
DEFAULT_LOD_SIMULATIONS = 400
#: Relative tolerance when a simulated statistic is compared with the observed one (ties of
#: identical count vectors must count as ties whatever the rounding).
TIE_TOLERANCE = 1e-9
#: Convergence of the vectorised Newton search for many samples at once.
_NEWTON_TOLERANCE = 1e-12
_NEWTON_MAX_ITERATIONS = 200
#: Simulated counts (samples x loci) processed at once, to bound memory with many loci.
_BLOCK_CELLS = 1_000_000
#: Multiplicative step of the LoD search in T, and bisection steps between brackets.
_LOD_STEP = 1.3
_LOD_BISECTIONS = 5
#: The LoD search stops going down here.
_LOD_FLOOR = 1e-9


class Status(enum.StrEnum):
    """The call of one plasma sample."""

    DETECTED = "detected"
    NOT_DETECTED = "not_detected"
    INDETERMINATE = "indeterminate"


class PValueMethod(enum.StrEnum):
    """How a p-value was obtained."""

    MONTE_CARLO = "monte_carlo"
    ASYMPTOTIC = "asymptotic"
    NONE = "none"


@dataclass(frozen=True, eq=False)
class Evidence:
    """Per-locus data of one plasma sample, as equal-length arrays.

    ``alt``: alt molecules; ``depth``: informative molecules (ref + alt); ``f``: tumour allele
    fraction corrected for purity, in (0, 1]; ``e``: background rate of the alt allele;
    ``support``: the molecules behind each estimate of ``e`` (its uncertainty is taken as
    Beta(e N, (1 - e) N) in simulations; None or inf: known exactly); ``locus``: the locus of
    each row, when a locus has several rows (one per molecule kind, each with its own ``e``;
    None: one row per locus).
    """

    alt: IntArray
    depth: IntArray
    f: FloatArray
    e: FloatArray
    support: FloatArray | None = None
    locus: IntArray | None = None

    @classmethod
    def of(
        cls,
        alt: object,
        depth: object,
        f: object,
        e: object,
        support: object = None,
        locus: object = None,
    ) -> Evidence:
        """Check and convert array-likes (a single ``f`` or ``e`` applies to every locus);
        ``e`` is clipped into the model's range.

        >>> bool(Evidence.of([1], [100], [0.5], [0.0]).e[0] == MIN_BACKGROUND)
        True
        """
        alt_a = np.asarray(alt, dtype=np.int64).reshape(-1)
        depth_a = np.asarray(depth, dtype=np.int64).reshape(-1)
        f_a = np.asarray(f, dtype=np.float64).reshape(-1)
        e_a = np.asarray(e, dtype=np.float64).reshape(-1)
        if f_a.size == 1:
            f_a = np.full(alt_a.size, f_a[0])
        if e_a.size == 1:
            e_a = np.full(alt_a.size, e_a[0])
        if not (alt_a.size == depth_a.size == f_a.size == e_a.size):
            raise ValueError("alt, depth, f and e must have the same length")
        if np.any(alt_a < 0) or np.any(alt_a > depth_a):
            raise ValueError("alt counts must lie between 0 and the depth")
        if np.any(~np.isfinite(f_a)) or np.any(f_a <= 0) or np.any(f_a > 1):
            raise ValueError("tumour allele fractions f must lie in (0, 1]")
        if np.any(~np.isfinite(e_a)) or np.any(e_a < 0):
            raise ValueError("background rates e must be finite and non-negative")
        support_a = None
        if support is not None:
            support_a = np.asarray(support, dtype=np.float64).reshape(-1)
            if support_a.size != alt_a.size or np.any(support_a <= 0):
                raise ValueError("support must be positive, one per locus")
        locus_a = None
        if locus is not None:
            locus_a = np.asarray(locus, dtype=np.int64).reshape(-1)
            if locus_a.size != alt_a.size:
                raise ValueError("locus must give one locus per row")
        e_a = np.clip(e_a, MIN_BACKGROUND, MAX_BACKGROUND)
        return cls(alt_a, depth_a, f_a, e_a, support_a, locus_a)

    def subset(self, keep: NDArray[np.bool_]) -> Evidence:
        """The rows where ``keep`` is true."""
        support = None if self.support is None else self.support[keep]
        locus = None if self.locus is None else self.locus[keep]
        return Evidence(
            self.alt[keep], self.depth[keep], self.f[keep], self.e[keep], support, locus
        )

    @property
    def loci(self) -> int:
        """Rows (one per locus, or per locus and molecule kind)."""
        return int(self.alt.size)

    @property
    def distinct_loci(self) -> int:
        """Loci behind the rows."""
        return self.loci if self.locus is None else int(np.unique(self.locus).size)

    @property
    def slope(self) -> FloatArray:
        """``c_i = f_i (1 - 2 e_i)``: how fast the expected alt fraction grows with T."""
        result: FloatArray = self.f * (1 - 2 * self.e)
        return result

    @property
    def informative_molecules(self) -> int:
        return int(self.depth.sum())

    @property
    def mutant_molecules(self) -> int:
        return int(self.alt.sum())

    @property
    def expected_background_molecules(self) -> float:
        return float((self.depth * self.e).sum())


def expected_alt_fraction(t: float, f: FloatArray, e: FloatArray) -> FloatArray:
    """``T f (1 - e) + (1 - T f) e`` for every locus.

    >>> round(float(expected_alt_fraction(0.1, np.array([0.5]), np.array([0.01]))[0]), 12)
    0.059
    """
    result: FloatArray = t * f * (1 - e) + (1 - t * f) * e
    return result


def log_likelihood(t: float, ev: Evidence) -> float:
    """``sum_i a_i log p_i(T) + (n_i - a_i) log(1 - p_i(T))`` (binomial, without constants)."""
    p = expected_alt_fraction(t, ev.f, ev.e)
    return float(np.sum(ev.alt * np.log(p) + (ev.depth - ev.alt) * np.log1p(-p)))


def log_likelihood_ratio(t: float, ev: Evidence) -> float:
    """``L(T) - L(0)``, computed without cancellation for small T."""
    c = ev.slope
    gain = np.log1p(t * c / ev.e)
    loss = np.log1p(-t * c / (1 - ev.e))
    return float(np.sum(ev.alt * gain + (ev.depth - ev.alt) * loss))


def score(t: float, ev: Evidence) -> float:
    """``dL/dT``; decreasing in T (L is concave)."""
    c = ev.slope
    p = ev.e + t * c
    return float(np.sum(c * (ev.alt / p - (ev.depth - ev.alt) / (1 - p))))


def maximum_likelihood(ev: Evidence) -> float:
    """The maximum-likelihood T on [0, 1].

    0 when the score at 0 is not positive (no more alt molecules than the background
    explains), 1 when the score at 1 is still positive, otherwise the root of the score
    (Brent's bracketed search).

    >>> ev = Evidence.of([10], [1000], [0.5], [0.0])
    >>> round(maximum_likelihood(ev), 6)  # e = 0 (floored): alt / depth / f
    0.02
    """
    if ev.loci == 0 or score(0.0, ev) <= 0:
        return 0.0
    if score(1.0, ev) >= 0:
        return 1.0
    root = optimize.brentq(score, 0.0, 1.0, args=(ev,), xtol=1e-15, rtol=1e-12, maxiter=500)
    return float(root)


def lr_statistic(t_hat: float, ev: Evidence) -> float:
    """``2 (L(T_hat) - L(0))``, never negative."""
    return max(0.0, 2 * log_likelihood_ratio(t_hat, ev))


def profile_interval(t_hat: float, ev: Evidence) -> tuple[float, float]:
    """The profile-likelihood interval: T with ``L(T) >= L(T_hat) - 1.92``.

    The lower end is 0 when ``L(0)`` is within the drop (the interval then has one-sided
    coverage of 97.5% at T = 0); the upper end is 1 when ``L(1)`` is.
    """
    top = log_likelihood_ratio(t_hat, ev)

    def below(t: float) -> float:
        return top - log_likelihood_ratio(t, ev) - LOG_LIKELIHOOD_DROP

    low = 0.0
    if t_hat > 0 and below(0.0) > 0:
        low = float(optimize.brentq(below, 0.0, t_hat, xtol=1e-15, rtol=1e-10, maxiter=500))
    high = 1.0
    if t_hat < 1 and below(1.0) > 0:
        high = float(optimize.brentq(below, t_hat, 1.0, xtol=1e-15, rtol=1e-10, maxiter=500))
    return low, high


# --- many samples at once (simulation) ------------------------------------------------------


def fit_many(alt: NDArray[np.int64], ev: Evidence) -> tuple[FloatArray, FloatArray]:
    """Maximum-likelihood T and LR statistic of many count vectors (rows of ``alt``).

    ``alt`` has one row per simulated sample and one column per locus of ``ev`` (whose depth,
    f and e are used). A safeguarded Newton search on the score, vectorised over rows; it
    agrees with :func:`maximum_likelihood` to ~1e-9 relative.
    """
    counts = np.asarray(alt, dtype=np.float64)
    if counts.ndim != 2 or counts.shape[1] != ev.loci:
        raise ValueError("alt must have one column per locus")
    rows = counts.shape[0]
    t_hat = np.zeros(rows)
    lr = np.zeros(rows)
    if rows == 0 or ev.loci == 0:
        return t_hat, lr
    c, e = ev.slope, ev.e
    depth = ev.depth.astype(np.float64)
    score0 = (counts / e - (depth - counts) / (1 - e)) @ c
    active = np.flatnonzero(score0 > 0)
    if active.size == 0:
        return t_hat, lr
    a = counts[active]
    b = depth - a
    score1 = (a / (e + c) - b / (1 - e - c)) @ c
    at_one = score1 >= 0
    t_hat[active[at_one]] = 1.0
    inner = ~at_one
    t_hat[active[inner]] = _newton(a[inner], b[inner], c, e)
    t = t_hat[active][:, None]
    terms = a * np.log1p(t * c / e) + b * np.log1p(-t * c / (1 - e))
    lr[active] = np.maximum(0.0, 2 * terms.sum(axis=1))
    return t_hat, lr


def _newton(a: FloatArray, b: FloatArray, c: FloatArray, e: FloatArray) -> FloatArray:
    """Root of the score in (0, 1) for every row (score > 0 at 0 and < 0 at 1)."""
    rows = a.shape[0]
    low, high = np.zeros(rows), np.ones(rows)
    t = np.zeros(rows)
    todo = np.arange(rows)
    c2 = c**2
    aa, bb = a, b
    for _ in range(_NEWTON_MAX_ITERATIONS):
        if todo.size == 0:
            break
        s, ds = _score_and_slope(aa, bb, t[todo], c, c2, e)
        lo, hi, cur = low[todo], high[todo], t[todo]
        lo = np.where(s > 0, cur, lo)
        hi = np.where(s <= 0, cur, hi)
        step = np.where(ds < 0, s / ds, 0.0)
        new = cur - step
        outside = (new <= lo) | (new >= hi) | ~np.isfinite(new)
        new = np.where(outside, np.where(lo > 0, np.sqrt(lo * hi), hi / 16), new)
        low[todo], high[todo], t[todo] = lo, hi, new
        done = np.abs(new - cur) <= _NEWTON_TOLERANCE + 1e-10 * new
        if done.any():
            todo = todo[~done]
            aa, bb = a[todo], b[todo]
    return t


def _score_and_slope(
    a: FloatArray, b: FloatArray, t: FloatArray, c: FloatArray, c2: FloatArray, e: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """The score ``sum c (a / p - b / (1 - p))`` and its derivative
    ``-sum c^2 (a / p^2 + b / (1 - p)^2)`` of every row at its ``t`` (``p = e + t c``;
    ``c2 = c^2``), with few temporaries."""
    p = t[:, None] * c
    p += e
    q = 1 - p
    x = a / p
    y = b / q
    x -= y
    x *= c
    s = x.sum(axis=1)
    p *= p
    q *= q
    np.divide(a, p, out=x)
    np.divide(b, q, out=y)
    x += y
    x *= c2
    ds: FloatArray = -x.sum(axis=1)
    return s, ds


def simulate_alt(
    ev: Evidence,
    t: float,
    samples: int,
    rng: np.random.Generator,
    uncertain_background: bool = False,
) -> IntArray:
    """Alt molecules of ``samples`` simulated samples at tumour fraction ``t``.

    With ``uncertain_background`` each sample draws its background rates from
    Beta(e N, (1 - e) N), N the support of each estimate (the predictive distribution
    given the panel of normals or off-target counts the rates were estimated from).
    """
    e = simulate_background(ev, samples, rng, uncertain_background)
    return _draw_alt(ev, t, e, rng)


def simulate_background(
    ev: Evidence, samples: int, rng: np.random.Generator, uncertain_background: bool = True
) -> FloatArray:
    """The background rates of ``samples`` simulated samples (one row each): the estimates,
    or with ``uncertain_background`` draws within their uncertainty (see
    :func:`simulate_alt`, which draws these first and then the alt molecules)."""
    shape = (samples, ev.loci)
    e: FloatArray = np.broadcast_to(ev.e, shape)
    if uncertain_background and ev.support is not None:
        finite = np.isfinite(ev.support)
        if finite.any():
            strength = np.where(finite, ev.support, 1.0)
            drawn_e = rng.beta(ev.e * strength, (1 - ev.e) * strength, size=shape)
            e = np.where(finite, np.clip(drawn_e, MIN_BACKGROUND, MAX_BACKGROUND), e)
    return e


def _draw_alt(ev: Evidence, t: float, e: FloatArray, rng: np.random.Generator) -> IntArray:
    """Alt molecules of samples with background rates ``e`` (one row per sample) at ``t``."""
    p = e + t * ev.f * (1 - 2 * e)
    drawn: IntArray = rng.binomial(ev.depth, p, size=e.shape).astype(np.int64)
    return drawn


def null_statistics(ev: Evidence, samples: int, seed: int) -> FloatArray:
    """Sorted LR statistics of ``samples`` samples simulated under T = 0 (background rates
    drawn within their uncertainty; the fit uses the estimates, as for the observed data)."""
    rng = np.random.default_rng(seed)
    result: FloatArray = np.sort(_simulated_lr(ev, 0.0, samples, rng))
    return result


def _block_rows(ev: Evidence) -> int:
    """Simulated samples per block of at most ``_BLOCK_CELLS`` counts."""
    return max(1, _BLOCK_CELLS // max(1, ev.loci))


def _simulated_lr(
    ev: Evidence, t: float, samples: int, rng: np.random.Generator, start: _Start | None = None
) -> FloatArray:
    """LR statistics of simulated samples, in blocks of :func:`_block_rows` samples.

    ``start``: the background rates of the first block, drawn already (``rng`` then stands
    after them); the same numbers as drawing them here.
    """
    rows = _block_rows(ev)
    parts = []
    for first in range(0, samples, rows):
        block = min(rows, samples - first)
        if first == 0 and start is not None:
            e = start.background
        else:
            e = simulate_background(ev, block, rng)
        parts.append(fit_many(_draw_alt(ev, t, e, rng), ev)[1])
    result: FloatArray = np.concatenate(parts) if parts else np.zeros(0)
    return result


@dataclass(frozen=True, eq=False)
class _Start:
    """The background rates of the first block of samples drawn from ``seed``, and the
    generator state after them: they do not depend on T, so a LoD search that simulates
    many T with one seed draws them once."""

    background: FloatArray
    state: Mapping[str, Any]

    @classmethod
    def draw(cls, ev: Evidence, samples: int, seed: int) -> _Start:
        rng = np.random.default_rng(seed)
        background = simulate_background(ev, min(_block_rows(ev), samples), rng)
        return cls(background, rng.bit_generator.state)

    def generator(self) -> np.random.Generator:
        """A generator standing where :meth:`draw` left its own."""
        rng = np.random.default_rng()
        rng.bit_generator.state = self.state
        return rng


def asymptotic_p_values(lr: FloatArray) -> FloatArray:
    """``P(chi2_1 > LR) / 2`` (1 at LR = 0): the chi-bar-square law of a boundary null.

    >>> [round(float(x), 4) for x in asymptotic_p_values(np.array([0.0, 2.7055]))]
    [1.0, 0.05]
    """
    lr = np.asarray(lr, dtype=np.float64)
    result: FloatArray = np.where(lr > 0, 0.5 * stats.chi2.sf(lr, 1), 1.0)
    return result


def p_values(lr: FloatArray, null: FloatArray) -> tuple[FloatArray, list[PValueMethod]]:
    """P-values of LR statistics: Monte Carlo against ``null`` (sorted), asymptotic below
    :data:`ASYMPTOTIC_BELOW` (or when there is no null sample)."""
    lr = np.asarray(lr, dtype=np.float64)
    asymptotic = asymptotic_p_values(lr)
    if null.size == 0:
        return asymptotic, [PValueMethod.ASYMPTOTIC] * lr.size
    threshold = lr - TIE_TOLERANCE * np.maximum(1.0, lr)
    at_least = null.size - np.searchsorted(null, threshold, side="left")
    monte_carlo = (1 + at_least) / (1 + null.size)
    use_asymptotic = asymptotic < ASYMPTOTIC_BELOW
    chosen: FloatArray = np.where(use_asymptotic, asymptotic, monte_carlo)
    chosen = np.where(lr > 0, chosen, 1.0)
    methods = [
        PValueMethod.ASYMPTOTIC if flag else PValueMethod.MONTE_CARLO for flag in use_asymptotic
    ]
    return chosen, methods


def detection_probability(
    ev: Evidence,
    t: float,
    null: FloatArray,
    alpha: float,
    samples: int,
    seed: int,
    start: _Start | None = None,
) -> float:
    """Share of ``samples`` samples simulated at ``t`` that the test calls detected
    (``start``: :meth:`_Start.draw` of the same ``ev``, ``samples`` and ``seed``)."""
    if start is None:
        lr = _simulated_lr(ev, t, samples, np.random.default_rng(seed))
    else:
        lr = _simulated_lr(ev, t, samples, start.generator(), start)
    p, _ = p_values(lr, null)
    return float(np.mean(p < alpha))


def poisson_limit(ev: Evidence) -> float | None:
    """T at which ``-ln(0.05) ~= 3`` mutant molecules are expected (no background).

    >>> round(poisson_limit(Evidence.of([0, 0], [1000, 1000], [0.5, 1.0], [0, 0])), 6)
    0.001997
    """
    weight = float((ev.depth * ev.f).sum())
    return POISSON_MOLECULES_95 / weight if weight > 0 else None


def limit_of_detection(
    ev: Evidence, null: FloatArray, alpha: float, samples: int, seed: int
) -> float | None:
    """Smallest T detected with probability 95% (None when even T = 1 is not).

    Steps up (or down) from the Poisson limit by a factor :data:`_LOD_STEP` until the
    detection probability crosses 95%, then bisects the bracket in log T; the same random
    numbers are used at every T, so the estimated curve is smooth and nearly monotone.
    """
    start = poisson_limit(ev)
    if start is None or samples <= 0:
        return None
    drawn = _Start.draw(ev, samples, seed)

    def power(t: float) -> float:
        return detection_probability(ev, t, null, alpha, samples, seed, drawn)

    if power(start) >= LOD_POWER:
        high = start
        while True:
            low = high / _LOD_STEP
            if low < _LOD_FLOOR:
                return high
            if power(low) < LOD_POWER:
                break
            high = low
    else:
        low = start
        while True:
            high = min(1.0, low * _LOD_STEP)
            if power(high) >= LOD_POWER:
                break
            if high >= 1.0:
                return None
            low = high
    for _ in range(_LOD_BISECTIONS):
        middle = math.sqrt(low * high)
        if power(middle) >= LOD_POWER:
            high = middle
        else:
            low = middle
    return high


# --- the call --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Decision rules of a call."""

    alpha: float = DEFAULT_ALPHA
    #: Fewer informative molecules than this make a negative result indeterminate.
    min_informative: int = 1000
    #: Fewer usable loci than this make a negative result indeterminate.
    min_loci: int = 2
    null_simulations: int = DEFAULT_NULL_SIMULATIONS
    #: 0 skips the LoD95 (``lod95`` is then None).
    lod_simulations: int = DEFAULT_LOD_SIMULATIONS
    seed: int = 1


@dataclass(frozen=True)
class Call:
    """The statistics and the call of one plasma sample."""

    status: Status
    reason: str | None
    tumour_fraction: float
    ci_low: float
    ci_high: float
    lr_statistic: float
    p_value: float
    p_value_method: PValueMethod
    lod95: float | None
    poisson_limit: float | None
    informative_molecules: int
    mutant_molecules: int
    expected_background_molecules: float
    loci: int

    @property
    def detected(self) -> bool:
        return self.status is Status.DETECTED


def fit_and_test(ev: Evidence, settings: Settings) -> Call:
    """Estimate T, its interval, the LR test, the LoD95 and the status of one sample.

    Detected when ``p < alpha`` (whatever the depth: a significant excess is significant);
    otherwise not detected, unless the sample has fewer than ``min_informative`` informative
    molecules or ``min_loci`` loci, when a negative result means little: indeterminate.
    """
    if ev.loci == 0:
        raise ValueError("no loci to test")
    t_hat = maximum_likelihood(ev)
    lr = lr_statistic(t_hat, ev)
    low, high = profile_interval(t_hat, ev)
    null = null_statistics(ev, settings.null_simulations, settings.seed)
    p, methods = p_values(np.array([lr]), null)
    p_value = float(p[0])
    method = methods[0] if lr > 0 else PValueMethod.MONTE_CARLO
    lod = limit_of_detection(ev, null, settings.alpha, settings.lod_simulations, settings.seed + 1)
    status, reason = decide(p_value, ev.informative_molecules, ev.distinct_loci, settings)
    return Call(
        status=status,
        reason=reason,
        tumour_fraction=t_hat,
        ci_low=low,
        ci_high=high,
        lr_statistic=lr,
        p_value=p_value,
        p_value_method=method,
        lod95=lod,
        poisson_limit=poisson_limit(ev),
        informative_molecules=ev.informative_molecules,
        mutant_molecules=ev.mutant_molecules,
        expected_background_molecules=ev.expected_background_molecules,
        loci=ev.distinct_loci,
    )


def decide(
    p_value: float, informative: int, loci: int, settings: Settings
) -> tuple[Status, str | None]:
    """Status and, unless detected or not detected plainly, the reason.

    >>> decide(0.01, 10, 1, Settings())[0].value
    'detected'
    >>> decide(0.5, 10, 1, Settings())
    (<Status.INDETERMINATE: 'indeterminate'>, 'too few informative molecules (10 < 1000) and \
too few usable loci (1 < 2) for a negative result')
    """
    if p_value < settings.alpha:
        return Status.DETECTED, None
    short = []
    if informative < settings.min_informative:
        short.append(f"too few informative molecules ({informative} < {settings.min_informative})")
    if loci < settings.min_loci:
        short.append(f"too few usable loci ({loci} < {settings.min_loci})")
    if short:
        return Status.INDETERMINATE, " and ".join(short) + " for a negative result"
    return Status.NOT_DETECTED, None
