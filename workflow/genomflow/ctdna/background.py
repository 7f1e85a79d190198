"""Background rates of the tracked loci, and the loci left out (each with its reason).

**Panel of normal plasmas** (``--background PON.tsv``): a tab-separated table, one row per
site and alt allele, either one row per normal or already summed over the normals::

    chrom  pos  ref  alt  alt_count  depth  [normal]

``pos`` is 1-based, ``ref``/``alt`` as in a VCF (one ALT per row), ``alt_count`` the molecules
showing the alt allele and ``depth`` the informative molecules (ref + alt) at the site in
that normal (or in all of them); ``normal`` names the normal plasma of the row (without it
rows of one site are still summed, but the per-normal check below is not possible). It is
counted the way ``genomflow ctdna monitor`` counts (consensus molecules, same filters) over
the panel's positions, not only the patient's loci: the context and class rates come from
all of them.

**Rates: empirical Bayes in three levels.** The rate of a substitution class (C>A ... T>G,
``indel``, ``mnv``) is the pooled rate of its PoN sites, ``(sum alt + 1/2) / (sum depth +
1)``. A trinucleotide context's rate is its pooled counts shrunk toward the class rate with a
beta prior of strength ``kappa`` (pseudo-molecules): ``(A + kappa r_class) / (N + kappa)``.
A locus's rate is its own PoN counts shrunk toward its context rate the same way. ``kappa``
of each level and class is the method-of-moments estimate of a beta-binomial, ``kappa = mean
m(1 - m) / var - 1`` where ``var`` is the spread of the observed rates around their prior
means beyond binomial noise (clipped to [:data:`KAPPA_MIN`, :data:`KAPPA_MAX`]; no spread ->
``KAPPA_MAX``, i.e. the prior). A locus absent from the PoN takes its context rate (or its
class rate). Without a PoN the rate of the locus's class measured in the sample's own
off-target bases is used (:mod:`genomflow.ctdna.counts`); indels and MNVs, which that does
not measure, get :data:`DEFAULT_INDEL_RATE` / :data:`DEFAULT_MNV_RATE`.

**Exclusions**, in this order, each with a reason:

* noisy in the PoN: a pooled alt fraction of at least ``noisy_rate``, or significantly above
  its context (one-sided binomial ``p < noisy_pvalue`` and at least ``noisy_fold`` times
  the context rate), or one normal at a VAF of at least ``normal_vaf`` with
  ``normal_min_alt`` molecules (germline, clonal haematopoiesis or an artefact);
* germline in the matched normal (``--normal-vcf``: the alt allele in its genotype, or a
  FORMAT AF of at least ``germline_normal_vaf``);
* germline-looking in the plasma itself: a VAF of at least ``germline_plasma_vaf`` while the
  other loci pooled stay below ``germline_others_vaf`` (a tumour this abundant in plasma
  would show at every locus);
* outliers: a two-sided binomial test of each locus against the fitted model, Benjamini-
  Hochberg over loci; while the smallest q-value is below ``outlier_q`` the most extreme
  locus is removed and T refitted (one at a time, so that one wild locus cannot make the
  others look low), at most ``max_outlier_fraction`` of the loci.
"""

from __future__ import annotations

import csv
import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pysam
from scipy import stats

from genomflow.ctdna import model
from genomflow.ctdna.counts import (
    INDEL_CLASS,
    MNV_CLASS,
    AlleleCounts,
    ClassRates,
    Locus,
    locus_context,
)
from genomflow.errors import GenomflowError

if TYPE_CHECKING:
    import pandas as pd

PON_COLUMNS: tuple[str, ...] = ("chrom", "pos", "ref", "alt", "alt_count", "depth")
PON_NORMAL = "normal"
KAPPA_MIN = 100.0
KAPPA_MAX = 1e7
#: Rates used without a PoN for what off-target bases cannot measure.
DEFAULT_INDEL_RATE = 1e-4
DEFAULT_MNV_RATE = 1e-6
#: Rate of a class without any data (no PoN sites and no off-target bases of the class).
DEFAULT_SNV_RATE = 1e-4
#: A default rate is taken to be as uncertain as a rate estimated from this many errors.
DEFAULT_SUPPORT_ERRORS = 10.0
#: Background sources, as written in the result.
PON_LOCUS, PON_CONTEXT, PON_CLASS = "pon_locus", "pon_context", "pon_class"
OFF_TARGET_CLASS, DEFAULT_RATE = "off_target_class", "default"


@dataclass(frozen=True)
class BackgroundSettings:
    """Thresholds of the exclusions (defaults documented in ``docs/ctdna.md``)."""

    noisy_rate: float = 0.005
    noisy_pvalue: float = 1e-3
    noisy_fold: float = 3.0
    normal_vaf: float = 0.02
    normal_min_alt: int = 3
    germline_normal_vaf: float = 0.2
    germline_plasma_vaf: float = 0.3
    germline_others_vaf: float = 0.1
    germline_min_depth: int = 10
    outlier_q: float = 0.01
    max_outlier_fraction: float = 0.2


@dataclass(frozen=True)
class PonSite:
    """One site and alt allele of the panel of normals, summed over its normals."""

    chrom: str
    pos: int
    ref: str
    alt: str
    alt_count: int
    depth: int
    normals: int
    #: Largest alt fraction and its alt molecules in one normal (None without per-normal rows).
    top_normal: str | None = None
    top_normal_vaf: float | None = None
    top_normal_alt: int = 0

    @property
    def key(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    @property
    def rate(self) -> float:
        return self.alt_count / self.depth if self.depth else 0.0


@dataclass(frozen=True)
class Exclusion:
    """A locus left out, and why."""

    locus: str
    reason: str


@dataclass(frozen=True)
class LocusRate:
    """The background rate of a locus, where it came from, and the molecules behind it
    (its uncertainty: Beta(rate N, (1 - rate) N))."""

    rate: float
    source: str
    support: float = math.inf


# --- the panel of normals --------------------------------------------------------------------


def read_pon(path: Path) -> dict[str, PonSite]:
    """Read a PoN table; sites keyed ``chrom:pos:ref:alt``, rows of one site summed."""
    import pandas as pd  # only a panel of normals needs it (``monitor`` starts faster)

    display = os.fspath(path)
    try:
        table = pd.read_csv(
            path, sep="\t", dtype=str, keep_default_na=False, comment="#", quoting=csv.QUOTE_NONE
        )
    except FileNotFoundError:
        raise GenomflowError(f"{display}: panel of normals not found") from None
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise GenomflowError(f"{display}: cannot read the panel of normals ({err})") from None
    except pd.errors.EmptyDataError:
        raise GenomflowError(f"{display}: the panel of normals is empty") from None
    missing = [c for c in PON_COLUMNS if c not in table.columns]
    if missing:
        raise GenomflowError(
            f"{display}: missing column(s) {', '.join(missing)} (a panel of normals has "
            f"{', '.join(PON_COLUMNS)} and optionally {PON_NORMAL})"
        )
    if table.empty:
        raise GenomflowError(f"{display}: the panel of normals has no rows")
    numbers = {}
    for column in ("pos", "alt_count", "depth"):
        values = pd.to_numeric(table[column], errors="coerce")
        bad = values.isna() | (values < 0) | (values != values.round())
        if column == "pos":
            bad |= values < 1
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise GenomflowError(
                f"{display} line {_line(table, row)}, column {column!r}: "
                f"{table[column].iloc[row]!r} is not a "
                + ("position (1-based)" if column == "pos" else "count (integer >= 0)")
            )
        numbers[column] = values.astype(np.int64).to_numpy()
    over = numbers["alt_count"] > numbers["depth"]
    if over.any():
        row = int(np.flatnonzero(over)[0])
        raise GenomflowError(
            f"{display} line {_line(table, row)}, column 'alt_count': more alt molecules "
            "than the depth"
        )
    for column in ("chrom", "ref", "alt"):
        empty = table[column].str.strip() == ""
        if empty.any():
            raise GenomflowError(
                f"{display} line {_line(table, int(np.flatnonzero(empty.to_numpy())[0]))}, "
                f"column {column!r}: empty"
            )
    return _summed_sites(table, numbers)


def _line(table: pd.DataFrame, row: int) -> int:
    return row + 2  # header is line 1 (comment lines before it are not counted)


def _summed_sites(table: pd.DataFrame, numbers: Mapping[str, np.ndarray]) -> dict[str, PonSite]:
    has_normal = PON_NORMAL in table.columns
    sums: dict[str, list[int]] = {}
    top: dict[str, tuple[float, int, str]] = {}
    first: dict[str, tuple[str, int, str, str]] = {}
    chroms, refs, alts = (table[c].to_numpy() for c in ("chrom", "ref", "alt"))
    normals = table[PON_NORMAL].to_numpy() if has_normal else None
    for row in range(len(table)):
        ref, alt = str(refs[row]).upper(), str(alts[row]).upper()
        pos = int(numbers["pos"][row])
        key = f"{chroms[row]}:{pos}:{ref}:{alt}"
        first.setdefault(key, (str(chroms[row]), pos, ref, alt))
        alt_count, depth = int(numbers["alt_count"][row]), int(numbers["depth"][row])
        total = sums.setdefault(key, [0, 0, 0])
        total[0] += alt_count
        total[1] += depth
        total[2] += 1
        if normals is not None and depth > 0:
            vaf = alt_count / depth
            if key not in top or (vaf, alt_count) > top[key][:2]:
                top[key] = (vaf, alt_count, str(normals[row]))
    sites = {}
    for key, (alt_count, depth, rows) in sums.items():
        chrom, pos, ref, alt = first[key]
        best = top.get(key)
        sites[key] = PonSite(
            chrom=chrom,
            pos=pos,
            ref=ref,
            alt=alt,
            alt_count=alt_count,
            depth=depth,
            normals=rows,
            top_normal=best[2] if best else None,
            top_normal_vaf=best[0] if best else None,
            top_normal_alt=best[1] if best else 0,
        )
    return sites


def moment_kappa(
    alt: np.ndarray, depth: np.ndarray, prior: np.ndarray, low: float = KAPPA_MIN
) -> float:
    """Beta-binomial prior strength by the method of moments.

    The rates ``alt / depth`` spread around their prior means ``prior`` by binomial noise
    ``m (1 - m) / depth`` plus the variance of the true rates, ``m (1 - m) / (kappa + 1)``
    for a beta prior of mean ``m``. Clipped to ``[low, KAPPA_MAX]``.

    >>> moment_kappa(np.array([10, 10]), np.array([1000, 1000]), np.array([0.01, 0.01]))
    10000000.0
    """
    keep = depth > 0
    if keep.sum() < 2:
        return KAPPA_MAX
    a, n, m = alt[keep].astype(float), depth[keep].astype(float), prior[keep].astype(float)
    excess = float(np.mean((a / n - m) ** 2 - m * (1 - m) / n))
    if excess <= 0:
        return KAPPA_MAX
    kappa = float(np.mean(m * (1 - m))) / excess - 1
    return float(min(KAPPA_MAX, max(low, kappa)))


def _pooled(alt: int, depth: int) -> float:
    return (alt + 0.5) / (depth + 1)


@dataclass(frozen=True)
class PonModel:
    """Class, context and locus rates fitted on a panel of normals."""

    sites: dict[str, PonSite]
    site_context: dict[str, tuple[str, str]]
    class_rates: dict[str, float]
    context_rates: dict[tuple[str, str], float]
    kappa_context: dict[str, float]
    kappa_locus: dict[str, float]
    #: Molecules of the (clean) PoN sites of each class and context.
    class_depth: dict[str, int] = field(default_factory=dict)
    context_depth: dict[tuple[str, str], int] = field(default_factory=dict)
    noisy: dict[str, str] = field(default_factory=dict)

    def context_rate(self, klass: str, context: str) -> LocusRate:
        """The rate of a context (or of its class, or the default) with its support."""
        if (klass, context) in self.context_rates:
            support = self.context_depth[(klass, context)] + self.kappa_context[klass]
            return LocusRate(self.context_rates[(klass, context)], PON_CONTEXT, support)
        if klass in self.class_rates:
            return LocusRate(self.class_rates[klass], PON_CLASS, self.class_depth[klass] + 1)
        return default_rate(klass)

    def locus_rate(self, locus: Locus, klass: str, context: str) -> LocusRate:
        prior = self.context_rate(klass, context)
        site = self.sites.get(locus.key)
        if site is None or site.depth == 0:
            return prior
        kappa = self.kappa_locus.get(klass, KAPPA_MAX)
        rate = (site.alt_count + kappa * prior.rate) / (site.depth + kappa)
        return LocusRate(rate, PON_LOCUS, site.depth + kappa)


def default_rate(klass: str) -> LocusRate:
    """The default rate of a class, as uncertain as ten observed errors."""
    rate = _default_rate(klass)
    return LocusRate(rate, DEFAULT_RATE, DEFAULT_SUPPORT_ERRORS / rate)


def _default_rate(klass: str) -> float:
    if klass == INDEL_CLASS:
        return DEFAULT_INDEL_RATE
    if klass == MNV_CLASS:
        return DEFAULT_MNV_RATE
    return DEFAULT_SNV_RATE


def site_contexts(
    sites: Mapping[str, PonSite], reference: pysam.FastaFile, source: Path, fasta: Path
) -> dict[str, tuple[str, str]]:
    """(class, context) of every PoN site, checking its REF against the reference ``fasta``."""
    contigs = set(reference.references)
    result = {}
    for key, site in sites.items():
        if site.chrom not in contigs:
            raise GenomflowError(
                f"{source}: contig {site.chrom!r} of site {key} is not in the reference "
                f"{fasta} (a panel of normals of another reference?)"
            )
        locus = Locus(site.chrom, site.pos, site.ref, site.alt)
        bases = reference.fetch(site.chrom, locus.start, locus.end).upper()
        if bases != site.ref:
            raise GenomflowError(
                f"{source}: REF {site.ref} of site {key} does not match the reference {fasta} "
                f"({bases or 'past the contig end'}): a panel of normals of another reference?"
            )
        result[key] = locus_context(reference, locus)
    return result


def fit_pon(
    sites: Mapping[str, PonSite],
    contexts: Mapping[str, tuple[str, str]],
    settings: BackgroundSettings,
) -> PonModel:
    """Class, context and locus-level rates (see the module docstring), and the noisy sites.

    Sites noisy by their own counts are left out of the fit; sites then found well above
    their context are flagged and the rates fitted once more without them.
    """
    noisy = {key: reason for key, site in sites.items() if (reason := _noisy_raw(site, settings))}
    first = _fit_rates(sites, contexts, [key for key in sites if key not in noisy])
    for key in sites:
        if key not in noisy:
            reason = _noisy_against_context(sites[key], first, contexts[key], settings)
            if reason:
                noisy[key] = reason
    final = _fit_rates(sites, contexts, [key for key in sites if key not in noisy])
    return dataclasses.replace(final, noisy=noisy)


def _fit_rates(
    sites: Mapping[str, PonSite], contexts: Mapping[str, tuple[str, str]], clean: Sequence[str]
) -> PonModel:
    class_counts: dict[str, tuple[int, int]] = {}
    context_counts: dict[tuple[str, str], tuple[int, int]] = {}
    for key in clean:
        site, label = sites[key], contexts[key]
        a, n = class_counts.get(label[0], (0, 0))
        class_counts[label[0]] = (a + site.alt_count, n + site.depth)
        a, n = context_counts.get(label, (0, 0))
        context_counts[label] = (a + site.alt_count, n + site.depth)
    class_rates = {k: _pooled(a, n) for k, (a, n) in class_counts.items()}
    kappa_context: dict[str, float] = {}
    context_rates: dict[tuple[str, str], float] = {}
    for klass, rate in class_rates.items():
        groups = [label for label in context_counts if label[0] == klass]
        alt = np.array([context_counts[g][0] for g in groups])
        depth = np.array([context_counts[g][1] for g in groups])
        kappa = moment_kappa(alt, depth, np.full(len(groups), rate))
        kappa_context[klass] = kappa
        for group in groups:
            a, n = context_counts[group]
            context_rates[group] = (a + kappa * rate) / (n + kappa)
    kappa_locus: dict[str, float] = {}
    for klass in class_rates:
        keys = [k for k in clean if contexts[k][0] == klass]
        alt = np.array([sites[k].alt_count for k in keys])
        depth = np.array([sites[k].depth for k in keys])
        prior = np.array([context_rates[contexts[k]] for k in keys])
        kappa_locus[klass] = moment_kappa(alt, depth, prior)
    return PonModel(
        sites=dict(sites),
        site_context=dict(contexts),
        class_rates=class_rates,
        context_rates=context_rates,
        kappa_context=kappa_context,
        kappa_locus=kappa_locus,
        class_depth={k: n for k, (_, n) in class_counts.items()},
        context_depth={k: n for k, (_, n) in context_counts.items()},
    )


def _noisy_raw(site: PonSite, settings: BackgroundSettings) -> str | None:
    if site.depth > 0 and site.rate >= settings.noisy_rate and site.alt_count >= 2:
        return (
            f"noisy in the panel of normals: alt fraction {site.rate:.3%} "
            f"({site.alt_count} of {site.depth} molecules) >= {settings.noisy_rate:.3%}"
        )
    if (
        site.top_normal_vaf is not None
        and site.top_normal_vaf >= settings.normal_vaf
        and site.top_normal_alt >= settings.normal_min_alt
    ):
        return (
            f"present in normal plasma {site.top_normal} (VAF {site.top_normal_vaf:.2%}, "
            f"{site.top_normal_alt} molecules): germline, clonal haematopoiesis or artefact"
        )
    return None


def _noisy_against_context(
    site: PonSite, pon: PonModel, context: tuple[str, str], settings: BackgroundSettings
) -> str | None:
    prior = pon.context_rate(*context).rate
    if site.depth == 0 or site.rate < settings.noisy_fold * prior:
        return None
    p = float(stats.binom.sf(site.alt_count - 1, site.depth, prior))
    if p >= settings.noisy_pvalue:
        return None
    return (
        f"noisy in the panel of normals: {site.alt_count} alt of {site.depth} molecules, "
        f"{site.rate / prior:.1f}x the rate of its context {context[1]} {context[0]} "
        f"(binomial p={p:.2g})"
    )


# --- rates of the loci without a PoN ---------------------------------------------------------


def offtarget_rate(klass: str, rates: ClassRates) -> LocusRate:
    """The sample's own class rate (indels and MNVs: the defaults)."""
    if klass in (INDEL_CLASS, MNV_CLASS):
        return default_rate(klass)
    rate = rates.rate(klass)
    if rate is None:
        return default_rate(klass)
    return LocusRate(rate, OFF_TARGET_CLASS, rates.bases.get(klass, 0) + 1)


# --- exclusions ------------------------------------------------------------------------------


def germline_in_normal(
    loci: Sequence[Locus], normal_vcf: Path, settings: BackgroundSettings
) -> dict[str, str]:
    """Loci whose alt allele the matched normal carries, with the reason."""
    wanted = {(locus.chrom, locus.pos, locus.ref, locus.alt): locus.key for locus in loci}
    found: dict[str, str] = {}
    try:
        with pysam.VariantFile(str(normal_vcf)) as vcf:
            samples = list(vcf.header.samples)
            contigs = set(vcf.header.contigs)
            for locus in loci:
                if contigs and locus.chrom not in contigs:
                    continue
                for record in _records_at(vcf, locus):
                    for index, alt in enumerate(record.alts or (), start=1):
                        key = wanted.get(
                            (record.chrom, record.pos, (record.ref or "").upper(), alt.upper())
                        )
                        if key and _carries(record, samples, index, settings):
                            found[key] = (
                                f"germline in the matched normal ({os.path.basename(normal_vcf)})"
                            )
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{normal_vcf}: cannot read the normal VCF ({err})") from None
    return found


def _records_at(vcf: pysam.VariantFile, locus: Locus) -> list[pysam.VariantRecord]:
    try:
        return list(vcf.fetch(locus.chrom, locus.start, locus.end))
    except ValueError:
        # Not indexed: scan (normal VCFs of panels are small).
        return [r for r in vcf.fetch() if r.chrom == locus.chrom and r.pos == locus.pos]


def _carries(
    record: pysam.VariantRecord, samples: Sequence[str], index: int, settings: BackgroundSettings
) -> bool:
    if not samples:
        return True  # a sites-only VCF of the normal's germline calls
    call = record.samples[samples[0]]
    genotype = call.get("GT") if "GT" in record.format else None
    if genotype and any(allele == index for allele in genotype if allele is not None):
        return True
    if "AF" in record.format:
        value = call.get("AF")
        fractions = value if isinstance(value, tuple) else (value,)
        if len(fractions) >= index and fractions[index - 1] is not None:
            return float(fractions[index - 1]) >= settings.germline_normal_vaf
    return False


def germline_in_plasma(
    keys: Sequence[str], counts: Sequence[AlleleCounts], settings: BackgroundSettings
) -> dict[str, str]:
    """Loci at a germline-like VAF in the plasma while the others are low."""
    alt = np.array([c.alt for c in counts], dtype=float)
    depth = np.array([c.informative for c in counts], dtype=float)
    found = {}
    for i, key in enumerate(keys):
        if (
            depth[i] < settings.germline_min_depth
            or alt[i] < settings.germline_plasma_vaf * depth[i]
        ):
            continue
        others_depth = depth.sum() - depth[i]
        others = (alt.sum() - alt[i]) / others_depth if others_depth > 0 else 0.0
        if others < settings.germline_others_vaf:
            found[key] = (
                f"germline-like in the plasma: VAF {alt[i] / depth[i]:.1%} "
                f"({int(alt[i])} of {int(depth[i])} molecules) while the other loci pooled "
                f"show {others:.2%}"
            )
    return found


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg q-values.

    >>> [round(float(q), 3) for q in benjamini_hochberg(np.array([0.01, 0.04, 0.03]))]
    [0.03, 0.04, 0.04]
    """
    p = np.asarray(p, dtype=float)
    if p.size == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * p.size / np.arange(1, p.size + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty_like(p)
    q[order] = np.minimum(ranked, 1.0)
    return q


def binomial_two_sided(alt: np.ndarray, depth: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Two-sided binomial p-values by doubling the smaller tail (capped at 1)."""
    lower = stats.binom.cdf(alt, depth, p)
    upper = stats.binom.sf(alt - 1, depth, p)
    result: np.ndarray = np.minimum(1.0, 2 * np.minimum(lower, upper))
    return result


def outliers(
    ev: model.Evidence, keys: Sequence[str], settings: BackgroundSettings
) -> dict[str, str]:
    """Loci that do not fit the model, removed one at a time (most extreme first).

    ``keys`` names the locus of each row; a locus with several rows (molecule kinds) is
    removed with all of them when one of its rows does not fit.
    """
    found: dict[str, str] = {}
    keep = np.ones(ev.loci, dtype=bool)
    row_keys = np.array(keys, dtype=object)
    budget = math.floor(settings.max_outlier_fraction * len(set(keys)))
    while len(found) < budget and len(set(row_keys[keep].tolist())) > 2:
        index = np.flatnonzero(keep)
        sub = ev.subset(keep)
        t_hat = model.maximum_likelihood(sub)
        expected = model.expected_alt_fraction(t_hat, sub.f, sub.e)
        p = binomial_two_sided(sub.alt, sub.depth, expected)
        q = benjamini_hochberg(p)
        worst = int(np.argmin(p))
        if q[worst] >= settings.outlier_q:
            break
        i = int(index[worst])
        found[keys[i]] = (
            f"outlier: {int(ev.alt[i])} alt of {int(ev.depth[i])} molecules where "
            f"{ev.depth[i] * expected[worst]:.1f} are expected at the fitted tumour fraction "
            f"{t_hat:.3g} (binomial p={p[worst]:.2g}, BH q={q[worst]:.2g})"
        )
        keep &= row_keys != keys[i]
    return found
