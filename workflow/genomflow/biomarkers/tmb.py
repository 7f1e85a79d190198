"""Tumour mutational burden: somatic coding variants per megabase of callable coding territory.

The counting rules follow the Friends of Cancer Research TMB Harmonization Project (Merino et
al. 2020, J Immunother Cancer 8:e000147; Vega et al. 2021, Ann Oncol 32:1626), which aligns a
panel's TMB with whole-exome TMB and asks every assay to state what it counts:

* **territory**: the coding bases (CDS of the reference's GFF3) inside the panel's targets, or
  the genome's CDS for a whole genome, that the tumour covers at the minimum depth
  (``tmb.min_depth``); intronic and UTR targets do not count;
* **variants**: PASS somatic SNVs and indels (MNVs count as one) whose reference span overlaps
  that territory, at a tumour VAF of at least ``tmb.min_vaf`` (5%);
* **germline excluded**: only somatic PASS calls count (the classifier filters germline calls
  with the matched normal, or with the population VCF and panel of normals when tumour-only),
  and a call whose population allele frequency (``INFO/POPAF``) is at least
  ``tmb.max_population_af`` is dropped too;
* **hotspots excluded**: alleles in the optional ``tmb.hotspots_vcf`` (known cancer drivers
  such as COSMIC hotspots) do not count: they are selected for, not a measure of burden;
* **synonymous**: not counted by default (``tmb.include_synonymous: false``), as whole-exome
  TMB (the harmonisation's reference) counts non-synonymous variants; a panel may count them
  to lower its sampling noise, and the result states which.

The 95% interval is the exact (Garwood) Poisson interval of the count, divided by the
territory: ``[chi2(a/2; 2k)/2, chi2(1-a/2; 2k+2)/2] / Mb``.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pysam
from scipy.stats import chi2

from genomflow.biomarkers import territory as terr
from genomflow.errors import GenomflowError
from genomflow.report.variants import annotation, has_annotation

#: Consequences that do not change the protein (Sequence Ontology terms, as snpEff writes).
SILENT = frozenset({"synonymous_variant", "stop_retained_variant", "start_retained_variant"})
ASSESSED = "assessed"
NOT_ASSESSABLE = "not_assessable"
METHOD = (
    "somatic PASS SNVs and indels, VAF >= min_vaf, in CDS inside the targets at min_depth; "
    "germline (population AF) and hotspots excluded; Garwood exact 95% Poisson interval"
)


def garwood(count: int, level: float = 0.95) -> tuple[float, float]:
    """Exact two-sided Poisson interval of a count (Garwood 1936).

    >>> [round(x, 4) for x in garwood(0)]
    [0.0, 3.6889]
    >>> [round(x, 3) for x in garwood(10)]
    [4.795, 18.39]
    """
    if count < 0:
        raise ValueError("count must be >= 0")
    alpha = 1.0 - level
    low = 0.0 if count == 0 else float(chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


@dataclass(frozen=True)
class TmbSettings:
    """The counting rules (config section ``tmb``)."""

    min_depth: int = 50
    min_vaf: float = 0.05
    min_mapping_quality: int = 20
    include_synonymous: bool = False
    max_population_af: float = 0.001


@dataclass
class TmbResult:
    sample: str
    status: str
    tmb: float | None
    ci_low: float | None
    ci_high: float | None
    mutations: int
    callable_bp: int
    coding_target_bp: int
    settings: TmbSettings
    reason: str | None = None
    counted: list[str] = field(default_factory=list)
    excluded: dict[str, int] = field(default_factory=dict)
    method: str = METHOD

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["settings"] = asdict(self.settings)
        return data


def variant_kind(ref: str, alt: str) -> str | None:
    """snv, mnv, indel, or None for symbolic and spanning-deletion alleles.

    >>> variant_kind("A", "G"), variant_kind("AC", "GT"), variant_kind("AC", "A")
    ('snv', 'mnv', 'indel')
    >>> variant_kind("A", "<DEL>"), variant_kind("A", "*")
    (None, None)
    """
    if alt.startswith("<") or alt == "*" or not alt.isalpha():
        return None
    if len(ref) == len(alt):
        return "snv" if len(ref) == 1 else "mnv"
    return "indel"


def is_silent(csq: str | None) -> bool:
    """Whether an annotated consequence (``&``-joined SO terms) leaves the protein unchanged.

    >>> is_silent("synonymous_variant"), is_silent("missense_variant&splice_region_variant")
    (True, False)
    >>> is_silent(None)
    False
    """
    if not csq:
        return False
    return all(term in SILENT for term in csq.split("&"))


def _hotspots(path: Path | None) -> set[tuple[str, int, str, str]]:
    if path is None:
        return set()
    try:
        with pysam.VariantFile(os.fspath(path)) as vcf:
            return {(r.chrom, r.pos, str(r.ref), alt) for r in vcf for alt in (r.alts or ())}
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read the hotspots VCF ({err})") from None


def _tumour_vaf(call: Any) -> float | None:
    value = call.get("AF")
    if value is not None:
        first = value[0] if isinstance(value, tuple) else value
        if first is not None:
            return float(first)
    ad = call.get("AD")
    if ad and None not in ad and len(ad) > 1 and sum(ad):
        return float(ad[1]) / float(sum(ad))
    return None


def count_variants(
    vcf_path: Path,
    sample: str,
    spans: Mapping[str, list[tuple[int, int]]],
    settings: TmbSettings,
    hotspots: set[tuple[str, int, str, str]] | None = None,
) -> tuple[list[str], dict[str, int]]:
    """The variants that count (``CHROM:POS:REF:ALT``) and the others by reason."""
    counted: list[str] = []
    excluded: Counter[str] = Counter()
    hotspots = hotspots or set()
    try:
        reader = pysam.VariantFile(os.fspath(vcf_path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{vcf_path}: cannot read the somatic VCF ({err})") from None
    with reader:
        names = list(reader.header.samples)
        if sample in names:
            column = sample
        elif names:
            column = names[0]
        else:
            raise GenomflowError(f"{vcf_path}: no sample column (expected {sample!r})")
        annotated = has_annotation(reader.header)
        for record in reader:
            filters = [str(name) for name in record.filter]
            for alt in record.alts or ():
                found = annotation(record, alt) if annotated else None
                csq = "&".join(found.terms) if found else None
                key = f"{record.chrom}:{record.pos}:{record.ref}:{alt}"
                reason = _exclusion(record, alt, column, filters, csq, spans, settings, hotspots)
                if reason:
                    excluded[reason] += 1
                else:
                    counted.append(key)
    return counted, dict(sorted(excluded.items()))


def _exclusion(
    record: Any,
    alt: str,
    column: str,
    filters: list[str],
    csq: str | None,
    spans: Mapping[str, list[tuple[int, int]]],
    settings: TmbSettings,
    hotspots: set[tuple[str, int, str, str]],
) -> str | None:
    """Why a somatic allele does not count, or None when it counts."""
    if filters and filters != ["PASS"]:
        return "not_pass"
    if variant_kind(record.ref, alt) is None:
        return "not_snv_or_indel"
    start = record.pos - 1
    if not terr.overlaps(spans, record.chrom, start, start + len(record.ref)):
        return "outside_callable_coding"
    vaf = _tumour_vaf(record.samples[column])
    if vaf is None or vaf < settings.min_vaf:
        return "low_vaf"
    popaf = record.info.get("POPAF") if "POPAF" in record.header.info else None
    if popaf is not None and float(popaf) >= settings.max_population_af:
        return "germline_population_af"
    if (record.chrom, record.pos, record.ref, alt) in hotspots:
        return "hotspot"
    if not settings.include_synonymous and is_silent(csq):
        return "synonymous"
    return None


def tumour_mutational_burden(
    *,
    sample: str,
    vcf: Path,
    bam: Path,
    gff3: Path,
    targets: Path | None,
    settings: TmbSettings,
    reference: Path | None = None,
    hotspots: Path | None = None,
) -> TmbResult:
    """TMB of one tumour (see the module doc); ``targets`` None means a whole genome."""
    cds = terr.read_cds(gff3)
    if targets is not None:
        from genomflow.intervals import read_bed

        records = read_bed(targets, what="panel BED")
        coding = terr.intersect(terr.spans_of((r.contig, r.start, r.end) for r in records), cds)
    else:
        coding = cds
    coding_bp = terr.size(coding)

    def empty(reason: str, callable_bp: int = 0) -> TmbResult:
        return TmbResult(
            sample=sample,
            status=NOT_ASSESSABLE,
            tmb=None,
            ci_low=None,
            ci_high=None,
            mutations=0,
            callable_bp=callable_bp,
            coding_target_bp=coding_bp,
            settings=settings,
            reason=reason,
        )

    if not cds:
        return empty(f"{gff3}: no CDS features, so no coding territory (transcripts without CDS)")
    if coding_bp == 0:
        return empty(f"{targets}: no target overlaps a CDS of {gff3}")
    callable_spans = terr.callable_spans(
        bam, coding, settings.min_depth, settings.min_mapping_quality, reference
    )
    callable_bp = terr.size(callable_spans)
    if callable_bp == 0:
        return empty(f"{bam}: no coding base at depth >= {settings.min_depth}")
    counted, excluded = count_variants(vcf, sample, callable_spans, settings, _hotspots(hotspots))
    megabases = callable_bp / 1e6
    low, high = garwood(len(counted))
    return TmbResult(
        sample=sample,
        status=ASSESSED,
        tmb=round(len(counted) / megabases, 3),
        ci_low=round(low / megabases, 3),
        ci_high=round(high / megabases, 3),
        mutations=len(counted),
        callable_bp=callable_bp,
        coding_target_bp=coding_bp,
        settings=settings,
        counted=counted,
        excluded=excluded,
    )
