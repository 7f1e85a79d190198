"""The somatic classifier: FILTERs of one candidate from its evidence and the likelihood model.

Classification takes two steps, because the somatic prior is learned from all candidates of
the sample (:func:`genomflow.somatic.model.learn_prior`):

1. :func:`assess` computes everything that does not depend on the prior: the error rate, the
   tumour log-odds (``TLOD``) and its Bayes factor, the normal log-odds (``NLOD``, paired) or
   the germline fit (``GLOD``, tumour-only), and the filters they and the artefact checks
   decide;
2. :func:`decide` adds ``WeakEvidence`` when ``TLOD`` is below ``min_tumour_lod`` or the
   posterior probability of a somatic variant, given the prior, is below ``min_posterior``.

Filters (see :meth:`Thresholds.filter_descriptions`):

* minimum evidence, per assay: ``LowDepth``, ``LowAltReads``, ``LowVAF`` (a panel setting:
  whole genomes leave it to the model);
* the model: ``WeakEvidence``; paired: ``Germline`` (``NLOD < 0``), ``NormalLOD``
  (``0 <= NLOD`` below ``min_normal_lod`` plus the germline prior of a population allele),
  ``NormalSupport`` (the normal has more alt reads than contamination and errors explain);
  tumour-only: ``GermlineVAF`` (``GLOD`` below ``germline_fit_lod`` plus the germline prior,
  or a VAF of at least ``germline_hom_vaf``), ``PopulationAF``;
* artefacts: ``StrandBias``, ``LowBaseQuality`` (SNVs), ``LowMappingQuality``,
  ``ReadPosition``, ``PanelOfNormals``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from genomflow.somatic import model
from genomflow.somatic.settings import (
    GERMLINE,
    GERMLINE_VAF,
    LOW_ALT_READS,
    LOW_BASE_QUALITY,
    LOW_DEPTH,
    LOW_MAPPING_QUALITY,
    LOW_VAF,
    NORMAL_LOD,
    NORMAL_SUPPORT,
    PANEL_OF_NORMALS,
    POPULATION_AF,
    READ_POSITION,
    STRAND_BIAS,
    WEAK_EVIDENCE,
    Thresholds,
)

#: The order in which FILTERs are written.
FILTER_ORDER = (
    LOW_DEPTH,
    LOW_ALT_READS,
    LOW_VAF,
    WEAK_EVIDENCE,
    STRAND_BIAS,
    LOW_BASE_QUALITY,
    LOW_MAPPING_QUALITY,
    READ_POSITION,
    PANEL_OF_NORMALS,
    POPULATION_AF,
    NORMAL_LOD,
    NORMAL_SUPPORT,
    GERMLINE,
    GERMLINE_VAF,
)


@dataclass(frozen=True)
class Counts:
    """Reads supporting REF and ALT, by strand, in one sample; ``depth`` is the pileup DP."""

    ref_fwd: int
    ref_rev: int
    alt_fwd: int
    alt_rev: int
    depth: int = 0

    @property
    def ref(self) -> int:
        return self.ref_fwd + self.ref_rev

    @property
    def alt(self) -> int:
        return self.alt_fwd + self.alt_rev

    @property
    def total(self) -> int:
        """Reads counted for REF or ALT."""
        return self.ref + self.alt

    @property
    def vaf(self) -> float:
        """alt / (ref + alt); 0.0 with no reads.

        >>> Counts(40, 50, 4, 6).vaf
        0.1
        """
        return self.alt / self.total if self.total else 0.0


@dataclass(frozen=True)
class Evidence:
    """What the classifier knows about one candidate."""

    is_snv: bool
    tumour: Counts
    normal: Counts | None = None
    mean_alt_base_quality: float | None = None
    mean_alt_mapping_quality: float | None = None
    population_af: float | None = None
    pon_normals: int = 0
    #: Mean distance of the alt bases from the nearer read end (bcftools caps it at 25).
    mean_alt_read_position: float | None = None
    #: Indels: length in bases of the repeat (homopolymer or tandem repeat) they sit in.
    repeat_length: int = 0


@dataclass(frozen=True)
class Assessment:
    """Everything about a candidate that does not depend on the somatic prior."""

    filters: tuple[str, ...]
    error: float
    fraction: float
    tumour_lod: float
    marginal_lod: float
    strand_p: float | None = None
    normal_lod: float | None = None
    normal_p: float | None = None
    germline_lod: float | None = None
    germline_shift: float = 0.0

    @property
    def counts_for_prior(self) -> bool:
        """Whether this candidate informs the learned prior: nothing but the model's own
        evidence threshold (``WeakEvidence``) could still filter it."""
        return not self.filters


@dataclass(frozen=True)
class Decision:
    """Filters that apply (none = PASS) and the statistics behind them."""

    filters: tuple[str, ...]
    assessment: Assessment
    posterior: float

    @property
    def passed(self) -> bool:
        return not self.filters


def minor_strand_fraction(counts: Counts) -> float:
    """Share of alt reads on the strand with fewer of them (0.5 = balanced)."""
    return min(counts.alt_fwd, counts.alt_rev) / counts.alt if counts.alt else 0.0


def strand_bias_pvalue(counts: Counts) -> float:
    """Two-sided Fisher's exact test of REF versus ALT reads by strand."""
    from scipy.stats import fisher_exact

    table = [[counts.ref_fwd, counts.ref_rev], [counts.alt_fwd, counts.alt_rev]]
    return float(fisher_exact(table).pvalue)


def normal_excess_pvalue(
    normal: Counts, tumour_vaf: float, contamination: float, error: float
) -> float:
    """P(at least the normal's alt reads) if the normal only holds contamination and errors."""
    expected = min(1.0, contamination * tumour_vaf + error)
    if normal.alt == 0:
        return 1.0
    from scipy.stats import binom

    return float(binom.sf(normal.alt - 1, normal.total, expected))


def allele_error(evidence: Evidence, t: Thresholds) -> float:
    """The per-read error rate of this allele (see :mod:`genomflow.somatic.model`)."""
    if evidence.is_snv:
        return model.snv_error(
            evidence.mean_alt_base_quality, t.default_base_quality, t.max_base_quality
        )
    return model.indel_error(
        evidence.mean_alt_base_quality,
        evidence.repeat_length,
        default_quality=t.default_base_quality,
        base_log10=t.indel_error_log10,
        slope=t.indel_error_slope,
        max_log10=t.indel_error_max_log10,
    )


def _evidence_filters(tumour: Counts, t: Thresholds) -> list[str]:
    filters = []
    if tumour.total < t.min_depth:
        filters.append(LOW_DEPTH)
    if tumour.alt < t.min_alt_reads:
        filters.append(LOW_ALT_READS)
    if tumour.vaf < t.min_vaf:
        filters.append(LOW_VAF)
    return filters


def _artefact_filters(evidence: Evidence, t: Thresholds) -> tuple[list[str], float | None]:
    """Artefact filters and the strand-bias p-value (only computed when it can matter)."""
    filters = []
    strand_p = None
    if minor_strand_fraction(evidence.tumour) < t.strand_bias_min_fraction:
        strand_p = strand_bias_pvalue(evidence.tumour)
        if strand_p < t.strand_bias_pvalue:
            filters.append(STRAND_BIAS)
    bq, mq = evidence.mean_alt_base_quality, evidence.mean_alt_mapping_quality
    if evidence.is_snv and bq is not None and bq < t.min_alt_base_quality:
        filters.append(LOW_BASE_QUALITY)
    if mq is not None and mq < t.min_alt_mapping_quality:
        filters.append(LOW_MAPPING_QUALITY)
    position = evidence.mean_alt_read_position
    if position is not None and position < t.min_alt_read_position:
        filters.append(READ_POSITION)
    if evidence.pon_normals >= t.pon_min_normals:
        filters.append(PANEL_OF_NORMALS)
    return filters, strand_p


def assess(evidence: Evidence, t: Thresholds) -> Assessment:
    """The prior-independent part of the classification (see the module documentation)."""
    tumour, normal = evidence.tumour, evidence.normal
    error = allele_error(evidence, t)
    fraction = model.fraction_estimate(tumour.ref, tumour.alt, error)
    filters = _evidence_filters(tumour, t)
    artefacts, strand_p = _artefact_filters(evidence, t)
    filters += artefacts
    shift = model.germline_shift(evidence.population_af, t.population_af_absent)
    normal_lod = normal_p = germline_lod = None
    if normal is not None:
        normal_lod = model.normal_lod(
            normal.ref, normal.alt, fraction, t.normal_contamination, error
        )
        if normal_lod < 0:
            filters.append(GERMLINE)
        elif normal_lod < t.min_normal_lod + shift:
            filters.append(NORMAL_LOD)
        normal_p = normal_excess_pvalue(
            normal, tumour.vaf, t.normal_contamination, t.normal_error_rate
        )
        if normal_p < t.normal_pvalue:
            filters.append(NORMAL_SUPPORT)
    else:
        population_af = evidence.population_af
        if population_af is not None and population_af >= t.max_population_af:
            filters.append(POPULATION_AF)
        germline_lod = model.germline_fit_lod(tumour.ref, tumour.alt, error)
        if germline_lod < t.germline_fit_lod + shift or tumour.vaf >= t.germline_hom_vaf:
            filters.append(GERMLINE_VAF)
    return Assessment(
        filters=tuple(filters),
        error=error,
        fraction=fraction,
        tumour_lod=model.tumour_lod(tumour.ref, tumour.alt, error),
        marginal_lod=model.marginal_lod(tumour.ref, tumour.alt, error),
        strand_p=strand_p,
        normal_lod=normal_lod,
        normal_p=normal_p,
        germline_lod=germline_lod,
        germline_shift=shift,
    )


def decide(assessment: Assessment, prior: float, t: Thresholds) -> Decision:
    """The final FILTERs given the somatic prior (adds ``WeakEvidence``)."""
    posterior = model.posterior_probability(prior, assessment.marginal_lod)
    filters = set(assessment.filters)
    if assessment.tumour_lod < t.min_tumour_lod or posterior < t.min_posterior:
        filters.add(WEAK_EVIDENCE)
    ordered = tuple(name for name in FILTER_ORDER if name in filters)
    return Decision(ordered, assessment, posterior)


def classify(evidence: Evidence, t: Thresholds, prior: float) -> Decision:
    """:func:`assess` then :func:`decide` with a known prior (one candidate on its own)."""
    return decide(assess(evidence, t), prior, t)


def phred(probability: float, cap: float = 999.0) -> float:
    """Phred-scaled ``probability`` of an error, capped.

    >>> phred(0.001)
    30.0
    """
    if probability <= 0:
        return cap
    return min(cap, round(-10.0 * math.log10(probability), 2))
