"""Somatic small variants: a classifier over candidate allele counts, and the panel of normals.

Candidates come from ``bcftools mpileup`` over the tumour (and its matched normal), split to
one ALT per record by ``bcftools norm -m -any``, with per-sample ``AD``/``ADF``/``ADR``
(counted from bases and reads above the minimum base and mapping quality). :func:`classify`
then decides, record by record, in the manner of VarScan2's somatic mode:

* **paired** (tumour with matched normal): a one-sided Fisher's exact test of tumour versus
  normal allele counts (``INFO/SPV``); the normal may hold a little of the tumour (a blood
  normal of a leukaemia, or tumour cells in adjacent tissue): its alt reads are tolerated up
  to ``normal_contamination`` x tumour VAF (plus a sequencing error rate) before
  ``NormalSupport`` fires; a normal VAF of ``germline_normal_vaf`` or more is ``Germline``;
* **tumour-only**: a VAF that a binomial test cannot tell from a heterozygous germline 0.5, or
  is at least ``germline_hom_vaf``, is ``GermlineVAF``;
* **both**: minimum depth, alt reads and VAF; strand bias (Fisher's test of ref/alt by strand
  *and* a minor strand share of alt reads below ``strand_bias_min_fraction``); mean base
  quality (SNVs) and mapping quality of alt reads; a panel of normals; a population VCF.

Every candidate is written with its FILTERs (``PASS`` when none apply), FORMAT ``GT:AD:DP:AF``
per sample (``AF`` = alt / (ref + alt) of ``AD``), and the purity of the sheet in the header.

The panel of normals (:func:`build_pon`) is built from a joint pileup of the batch's normal
samples (of one panel): a site enters when at least ``pon_min_normals`` normals show the
allele with ``pon_min_alt_reads`` reads and ``pon_min_vaf``. Recurrent assay artefacts and
common germline variants are caught; a private germline variant of one normal is not.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam

from genomflow import __version__, somatic_eval
from genomflow.errors import GenomflowError

# scipy.stats (about 1 s to import) is imported inside the tests that use it: the workflow
# imports this module while it parses (settings_args), for every run and dry run.

# --- filters --------------------------------------------------------------------------------

LOW_DEPTH = "LowDepth"
LOW_ALT_READS = "LowAltReads"
LOW_VAF = "LowVAF"
STRAND_BIAS = "StrandBias"
LOW_BASE_QUALITY = "LowBaseQuality"
LOW_MAPPING_QUALITY = "LowMappingQuality"
PANEL_OF_NORMALS = "PanelOfNormals"
POPULATION_AF = "PopulationAF"
LOW_NORMAL_DEPTH = "LowNormalDepth"
NOT_SIGNIFICANT = "NotSignificant"
NORMAL_SUPPORT = "NormalSupport"
GERMLINE = "Germline"
GERMLINE_VAF = "GermlineVAF"

PAIRED, TUMOUR_ONLY = "paired", "tumour_only"


@dataclass(frozen=True)
class Thresholds:
    """Classifier and panel-of-normals settings (defaults = the config schema's)."""

    min_depth: int = 20
    min_alt_reads: int = 5
    min_vaf: float = 0.02
    min_normal_depth: int = 10
    somatic_pvalue: float = 0.01
    normal_contamination: float = 0.1
    normal_error_rate: float = 0.005
    normal_pvalue: float = 0.01
    germline_normal_vaf: float = 0.2
    germline_vaf_pvalue: float = 0.001
    germline_hom_vaf: float = 0.9
    strand_bias_pvalue: float = 0.001
    strand_bias_min_fraction: float = 0.1
    min_alt_base_quality: float = 25.0
    min_alt_mapping_quality: float = 40.0
    max_population_af: float = 0.001
    pon_min_normals: int = 2
    pon_min_alt_reads: int = 2
    pon_min_vaf: float = 0.01

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Thresholds:
        """Take the fields of this class from a mapping (other keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in settings.items() if key in names}
        return dataclasses.replace(cls(), **values)

    def filter_descriptions(self, mode: str) -> dict[str, str]:
        """FILTER id -> description with the thresholds, for the filters of ``mode``."""
        common = {
            LOW_DEPTH: f"Tumour depth (ref + alt reads) below {self.min_depth}",
            LOW_ALT_READS: f"Fewer than {self.min_alt_reads} alt reads in the tumour",
            LOW_VAF: f"Tumour VAF below {self.min_vaf}",
            STRAND_BIAS: (
                f"Strand bias: Fisher p < {self.strand_bias_pvalue} and fewer than "
                f"{self.strand_bias_min_fraction:.0%} of alt reads on one strand"
            ),
            LOW_BASE_QUALITY: (
                f"SNV whose alt bases have mean base quality below {self.min_alt_base_quality}"
            ),
            LOW_MAPPING_QUALITY: (
                f"Alt reads with mean mapping quality below {self.min_alt_mapping_quality}"
            ),
            PANEL_OF_NORMALS: (
                f"Seen in at least {self.pon_min_normals} normals of the panel of normals"
            ),
            POPULATION_AF: (
                f"Population allele frequency at least {self.max_population_af} (germline)"
            ),
        }
        if mode == PAIRED:
            common |= {
                LOW_NORMAL_DEPTH: f"Normal depth below {self.min_normal_depth}",
                NOT_SIGNIFICANT: (
                    "Fisher's exact test of tumour versus normal allele counts not "
                    f"significant (p >= {self.somatic_pvalue})"
                ),
                NORMAL_SUPPORT: (
                    "More alt reads in the normal than tumour-in-normal contamination of "
                    f"{self.normal_contamination} x tumour VAF explains "
                    f"(binomial p < {self.normal_pvalue})"
                ),
                GERMLINE: f"Normal VAF at least {self.germline_normal_vaf}: germline",
            }
        else:
            common[GERMLINE_VAF] = (
                "Tumour-only: VAF not distinguishable from a heterozygous germline 0.5 "
                f"(binomial p >= {self.germline_vaf_pvalue}) or at least {self.germline_hom_vaf}"
            )
        return common


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


@dataclass(frozen=True)
class Decision:
    """Filters that apply (none = PASS) and the statistics behind them."""

    filters: tuple[str, ...]
    strand_p: float
    somatic_p: float | None = None
    normal_p: float | None = None
    germline_p: float | None = None

    @property
    def passed(self) -> bool:
        return not self.filters


def somatic_pvalue(tumour: Counts, normal: Counts) -> float:
    """One-sided Fisher's exact test: the tumour has a higher alt fraction than the normal.

    >>> f"{somatic_pvalue(Counts(200, 200, 20, 20), Counts(100, 100, 0, 0)):.1e}"
    '1.7e-07'
    >>> round(somatic_pvalue(Counts(95, 95, 5, 5), Counts(95, 95, 5, 5)), 2)
    0.59
    """
    from scipy.stats import fisher_exact

    table = [[tumour.alt, tumour.ref], [normal.alt, normal.ref]]
    return float(fisher_exact(table, alternative="greater").pvalue)


def strand_bias_pvalue(counts: Counts) -> float:
    """Two-sided Fisher's exact test of REF versus ALT reads by strand."""
    from scipy.stats import fisher_exact

    table = [[counts.ref_fwd, counts.ref_rev], [counts.alt_fwd, counts.alt_rev]]
    return float(fisher_exact(table).pvalue)


def minor_strand_fraction(counts: Counts) -> float:
    """Share of alt reads on the strand with fewer of them (0.5 = balanced)."""
    return min(counts.alt_fwd, counts.alt_rev) / counts.alt if counts.alt else 0.0


def normal_excess_pvalue(
    normal: Counts, tumour_vaf: float, contamination: float, error: float
) -> float:
    """P(at least the normal's alt reads) if the normal only holds contamination and errors."""
    expected = min(1.0, contamination * tumour_vaf + error)
    if normal.alt == 0:
        return 1.0
    from scipy.stats import binom

    return float(binom.sf(normal.alt - 1, normal.total, expected))


def germline_vaf_pvalue(counts: Counts) -> float:
    """Two-sided binomial test of the VAF against a heterozygous 0.5."""
    if counts.total == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(counts.alt, counts.total, 0.5).pvalue)


def classify(evidence: Evidence, thresholds: Thresholds) -> Decision:
    """The FILTERs of one candidate (see the module documentation), in a fixed order."""
    t, tumour, normal = thresholds, evidence.tumour, evidence.normal
    filters: list[str] = []
    if tumour.total < t.min_depth:
        filters.append(LOW_DEPTH)
    if tumour.alt < t.min_alt_reads:
        filters.append(LOW_ALT_READS)
    if tumour.vaf < t.min_vaf:
        filters.append(LOW_VAF)
    strand_p = strand_bias_pvalue(tumour)
    if (
        strand_p < t.strand_bias_pvalue
        and minor_strand_fraction(tumour) < t.strand_bias_min_fraction
    ):
        filters.append(STRAND_BIAS)
    bq, mq = evidence.mean_alt_base_quality, evidence.mean_alt_mapping_quality
    if evidence.is_snv and bq is not None and bq < t.min_alt_base_quality:
        filters.append(LOW_BASE_QUALITY)
    if mq is not None and mq < t.min_alt_mapping_quality:
        filters.append(LOW_MAPPING_QUALITY)
    if evidence.pon_normals >= t.pon_min_normals:
        filters.append(PANEL_OF_NORMALS)
    if evidence.population_af is not None and evidence.population_af >= t.max_population_af:
        filters.append(POPULATION_AF)
    somatic_p = normal_p = germline_p = None
    if normal is not None:
        if normal.total < t.min_normal_depth:
            filters.append(LOW_NORMAL_DEPTH)
        somatic_p = somatic_pvalue(tumour, normal)
        if somatic_p >= t.somatic_pvalue:
            filters.append(NOT_SIGNIFICANT)
        normal_p = normal_excess_pvalue(
            normal, tumour.vaf, t.normal_contamination, t.normal_error_rate
        )
        if normal_p < t.normal_pvalue:
            filters.append(NORMAL_SUPPORT)
        if normal.total and normal.vaf >= t.germline_normal_vaf:
            filters.append(GERMLINE)
    else:
        germline_p = germline_vaf_pvalue(tumour)
        if germline_p >= t.germline_vaf_pvalue or tumour.vaf >= t.germline_hom_vaf:
            filters.append(GERMLINE_VAF)
    return Decision(tuple(filters), strand_p, somatic_p, normal_p, germline_p)


# --- reading candidates ---------------------------------------------------------------------

Key = tuple[str, int, str, str]


def _counts(record: pysam.VariantRecord, sample: str) -> Counts:
    call = record.samples[sample]
    adf, adr = call.get("ADF"), call.get("ADR")
    if adf is None or adr is None or None in adf[:2] or None in adr[:2]:
        # No strand counts: all reads on the forward strand (strand bias is then untestable).
        ad = (*(call.get("AD") or ()), 0, 0)
        return Counts(int(ad[0] or 0), 0, int(ad[1] or 0), 0, int(call.get("DP") or 0))
    return Counts(int(adf[0]), int(adr[0]), int(adf[1]), int(adr[1]), int(call.get("DP") or 0))


def _i16_means(record: pysam.VariantRecord) -> tuple[float | None, float | None]:
    """Mean base and mapping quality of the alt reads from the pileup's INFO/I16."""
    if "I16" not in record.info:
        return None, None
    i16 = record.info["I16"]
    alt_reads = float(i16[2]) + float(i16[3])
    if alt_reads <= 0:
        return None, None
    return float(i16[6]) / alt_reads, float(i16[10]) / alt_reads


class PanelOfNormals:
    """Sites of a panel-of-normals VCF (``INFO/PON_COUNT`` normals with the allele)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.sites: dict[Key, int] = {}
        self.normals: tuple[str, ...] = ()
        if path is None:
            return
        try:
            with pysam.VariantFile(str(path)) as vcf:
                for meta in vcf.header.records:
                    if meta.key == "pon_normals" and meta.value:
                        self.normals = tuple(meta.value.split(","))
                for record in vcf:
                    for alt in record.alts or ():
                        key = (str(record.chrom), int(record.pos), str(record.ref), str(alt))
                        self.sites[key] = int(record.info.get("PON_COUNT", 1))
        except (OSError, ValueError) as err:
            raise GenomflowError(f"{path}: cannot read the panel of normals: {err}") from err

    def count(self, key: Key) -> int:
        return self.sites.get(key, 0)


class Population:
    """Allele frequencies of a population VCF (``INFO/AF``), looked up by allele."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._vcf: pysam.VariantFile | None = None
        if path is not None:
            try:
                self._vcf = pysam.VariantFile(str(path))
            except (OSError, ValueError) as err:
                raise GenomflowError(f"{path}: cannot read the population VCF: {err}") from err
            self._contigs = set(self._vcf.header.contigs)

    def af(self, key: Key) -> float | None:
        """AF of the allele, or ``None`` when the population VCF does not have it."""
        if self._vcf is None:
            return None
        chrom, pos, ref, alt = key
        if chrom not in self._contigs:
            return None
        try:
            records = list(self._vcf.fetch(chrom, pos - 1, pos))
        except ValueError:
            return None
        for record in records:
            if record.pos != pos or record.ref != ref or not record.alts:
                continue
            for index, other in enumerate(record.alts):
                if other == alt:
                    values = record.info.get("AF")
                    if values is None:
                        return None
                    value = values[index] if isinstance(values, tuple) else values
                    return None if value is None else float(value)
        return None

    def close(self) -> None:
        if self._vcf is not None:
            self._vcf.close()


# --- writing ---------------------------------------------------------------------------------

_INFO_LINES = (
    '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Passed every somatic filter">',
    '##INFO=<ID=SPV,Number=1,Type=Float,Description="Fisher p-value, tumour vs normal allele '
    'counts (one-sided)">',
    '##INFO=<ID=SBP,Number=1,Type=Float,Description="Fisher p-value of strand bias in the tumour">',
    '##INFO=<ID=NVP,Number=1,Type=Float,Description="Binomial p-value of the normal alt reads '
    'given tumour-in-normal contamination">',
    '##INFO=<ID=GVP,Number=1,Type=Float,Description="Tumour-only: binomial p-value of the VAF '
    'against a heterozygous germline 0.5">',
    '##INFO=<ID=MBQ,Number=1,Type=Float,Description="Mean base quality of alt bases (pileup)">',
    '##INFO=<ID=MMQ,Number=1,Type=Float,Description="Mean mapping quality of alt reads (pileup)">',
    '##INFO=<ID=POPAF,Number=1,Type=Float,Description="Allele frequency in the population VCF">',
    '##INFO=<ID=PON,Number=1,Type=Integer,Description="Normals of the panel of normals with '
    'this allele">',
)
_FORMAT_LINES = (
    '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype (0/1: the allele is present)">',
    '##FORMAT=<ID=AD,Number=R,Type=Integer,Description="Reads supporting REF and ALT">',
    '##FORMAT=<ID=DP,Number=1,Type=Integer,Description="Read depth (high-quality bases, pileup)">',
    '##FORMAT=<ID=AF,Number=A,Type=Float,Description="Allele fraction: alt / (ref + alt)">',
    '##FORMAT=<ID=SB,Number=4,Type=Integer,Description="Reads by strand: ref forward, ref '
    'reverse, alt forward, alt reverse">',
)


@dataclass(frozen=True)
class Run:
    """One classification: the samples, the mode and where the filters come from."""

    tumour: str
    normal: str | None = None
    purity: float | None = None
    pon: Path | None = None
    population: Path | None = None

    @property
    def mode(self) -> str:
        return PAIRED if self.normal else TUMOUR_ONLY


def _output_header(
    source: pysam.VariantHeader, run: Run, thresholds: Thresholds
) -> pysam.VariantHeader:
    header = pysam.VariantHeader()
    for contig in source.contigs.values():
        header.contigs.add(contig.name, length=contig.length)
    header.add_line(f"##genomflow_version={__version__}")
    header.add_line(f"##genomflow_somatic_mode={run.mode}")
    header.add_line(f"##tumor_sample={run.tumour}")
    if run.normal:
        header.add_line(f"##normal_sample={run.normal}")
    header.add_line(f"##tumour_purity={'.' if run.purity is None else f'{run.purity:g}'}")
    if run.pon is not None:
        header.add_line(f"##panel_of_normals={os.path.basename(run.pon)}")
    if run.population is not None:
        header.add_line(f"##population_vcf={os.path.basename(run.population)}")
    settings = ",".join(
        f"{f.name}={getattr(thresholds, f.name)}" for f in dataclasses.fields(thresholds)
    )
    header.add_line(f"##genomflow_somatic_thresholds={settings}")
    for name, description in thresholds.filter_descriptions(run.mode).items():
        header.filters.add(name, None, None, description)
    for line in (*_INFO_LINES, *_FORMAT_LINES):
        header.add_line(line)
    header.add_sample(run.tumour)
    if run.normal:
        header.add_sample(run.normal)
    return header


def _round(value: float | None, digits: int = 4) -> float | None:
    if value is None:
        return None
    return float(f"{value:.{digits}g}")


def _is_snv(ref: str, alt: str) -> bool:
    return len(ref) == 1 and len(alt) == 1


def _sample_fields(counts: Counts, carrier: bool) -> dict[str, Any]:
    return {
        "GT": (0, 1) if carrier else (0, 0),
        "AD": (counts.ref, counts.alt),
        "DP": counts.depth or counts.total,
        "AF": round(counts.vaf, 4),
        "SB": (counts.ref_fwd, counts.ref_rev, counts.alt_fwd, counts.alt_rev),
    }


@dataclass
class Summary:
    """Counts written by :func:`classify_vcf`."""

    candidates: int = 0
    passed: int = 0
    by_filter: dict[str, int] = dataclasses.field(default_factory=dict)

    def text(self) -> str:
        parts = ", ".join(f"{name} {n}" for name, n in sorted(self.by_filter.items()))
        return f"{self.candidates} candidates, {self.passed} PASS; filtered: {parts or 'none'}"


def classify_vcf(candidates: Path, run: Run, thresholds: Thresholds, out: Path) -> Summary:
    """Classify every candidate of ``candidates`` and write them (bgzipped, indexed) to ``out``."""
    pon = PanelOfNormals(run.pon)
    population = Population(run.population)
    summary = Summary()
    tmp = out.with_name(out.name + ".tmp.vcf.gz")
    try:
        reader = pysam.VariantFile(str(candidates))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{candidates}: cannot read the candidates: {err}") from err
    with reader:
        samples = list(reader.header.samples)
        for name in filter(None, (run.tumour, run.normal)):
            if name not in samples:
                raise GenomflowError(
                    f"{candidates}: no sample {name!r} (samples: {', '.join(samples) or 'none'})"
                )
        header = _output_header(reader.header, run, thresholds)
        with pysam.VariantFile(str(tmp), "wz", header=header) as writer:
            for record in reader:
                if not record.alts or len(record.alts) != 1 or record.alts[0].startswith("<"):
                    continue
                written = _classified_record(writer, record, run, thresholds, pon, population)
                summary.candidates += 1
                filters = [str(f) for f in written.filter]
                if filters == ["PASS"]:
                    summary.passed += 1
                for filter_name in filters:
                    if filter_name != "PASS":
                        summary.by_filter[filter_name] = summary.by_filter.get(filter_name, 0) + 1
                writer.write(written)
    population.close()
    pysam.tabix_index(str(tmp), preset="vcf", force=True)
    Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    tmp.replace(out)
    return summary


def _classified_record(
    writer: pysam.VariantFile,
    record: pysam.VariantRecord,
    run: Run,
    thresholds: Thresholds,
    pon: PanelOfNormals,
    population: Population,
) -> pysam.VariantRecord:
    ref, alt = str(record.ref), str((record.alts or ("",))[0])
    key: Key = (str(record.chrom), int(record.pos), ref, alt)
    tumour = _counts(record, run.tumour)
    normal = _counts(record, run.normal) if run.normal else None
    bq, mq = _i16_means(record)
    evidence = Evidence(
        is_snv=_is_snv(ref, alt),
        tumour=tumour,
        normal=normal,
        mean_alt_base_quality=bq,
        mean_alt_mapping_quality=mq,
        population_af=population.af(key),
        pon_normals=pon.count(key),
    )
    decision = classify(evidence, thresholds)
    out: pysam.VariantRecord = writer.new_record(
        contig=record.chrom, start=record.start, stop=record.stop, alleles=(ref, alt)
    )
    for name in decision.filters or ("PASS",):
        out.filter.add(name)
    if decision.passed:
        out.info["SOMATIC"] = True
    info = {
        "SPV": _round(decision.somatic_p),
        "SBP": _round(decision.strand_p),
        "NVP": _round(decision.normal_p),
        "GVP": _round(decision.germline_p),
        "MBQ": _round(bq, 3),
        "MMQ": _round(mq, 3),
        "POPAF": _round(evidence.population_af),
    }
    for name, value in info.items():
        if value is not None:
            out.info[name] = value
    if evidence.pon_normals:
        out.info["PON"] = evidence.pon_normals
    if decision.somatic_p is not None:
        out.qual = min(999.0, round(-10 * math.log10(max(decision.somatic_p, 1e-300)), 2))
    # GT says whether the sample carries the allele: the tumour does (it is a candidate); the
    # normal only when the allele is called germline in it.
    carriers = ((run.tumour, tumour, True), (run.normal, normal, GERMLINE in decision.filters))
    for sample, counts, carrier in carriers:
        if sample is None or counts is None:
            continue
        for name, value in _sample_fields(counts, carrier).items():
            out.samples[sample][name] = value
    return out


# --- panel of normals ------------------------------------------------------------------------


def pon_sites(
    record: pysam.VariantRecord, normals: Sequence[str], thresholds: Thresholds
) -> tuple[int, float]:
    """(normals with the allele, their highest VAF) for one pileup record."""
    count, best = 0, 0.0
    for sample in normals:
        counts = _counts(record, sample)
        if counts.alt >= thresholds.pon_min_alt_reads and counts.vaf >= thresholds.pon_min_vaf:
            count += 1
            best = max(best, counts.vaf)
    return count, best


def build_pon(pileup: Path, thresholds: Thresholds, out: Path) -> int:
    """Write the panel of normals (sites VCF, bgzipped, indexed) from a normals' pileup."""
    try:
        reader = pysam.VariantFile(str(pileup))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{pileup}: cannot read the normals' pileup: {err}") from err
    tmp = out.with_name(out.name + ".tmp.vcf.gz")
    kept = 0
    with reader:
        normals = list(reader.header.samples)
        header = pysam.VariantHeader()
        for contig in reader.header.contigs.values():
            header.contigs.add(contig.name, length=contig.length)
        header.add_line(f"##genomflow_version={__version__}")
        header.add_line(f"##pon_normals={','.join(normals)}")
        header.add_line(
            f"##pon_settings=min_normals={thresholds.pon_min_normals},"
            f"min_alt_reads={thresholds.pon_min_alt_reads},min_vaf={thresholds.pon_min_vaf}"
        )
        header.add_line(
            '##INFO=<ID=PON_COUNT,Number=1,Type=Integer,Description="Normals with the allele">'
        )
        header.add_line(
            '##INFO=<ID=PON_MAX_VAF,Number=1,Type=Float,Description="Highest VAF among them">'
        )
        with pysam.VariantFile(str(tmp), "wz", header=header) as writer:
            for record in reader:
                if not record.alts or len(record.alts) != 1 or record.alts[0].startswith("<"):
                    continue
                count, best = pon_sites(record, normals, thresholds)
                if count < thresholds.pon_min_normals:
                    continue
                site = writer.new_record(
                    contig=record.chrom,
                    start=record.start,
                    stop=record.stop,
                    alleles=(record.ref, record.alts[0]),
                )
                site.info["PON_COUNT"] = count
                site.info["PON_MAX_VAF"] = round(best, 4)
                writer.write(site)
                kept += 1
    pysam.tabix_index(str(tmp), preset="vcf", force=True)
    Path(f"{tmp}.tbi").replace(f"{out}.tbi")
    tmp.replace(out)
    return kept


# --- command line ---------------------------------------------------------------------------


def parse_settings(pairs: Sequence[str]) -> Thresholds:
    """``--set NAME=VALUE`` options as :class:`Thresholds` (names and types checked).

    >>> parse_settings(["min_vaf=0.05", "min_alt_reads=3"]).min_alt_reads
    3
    """
    types = {
        f.name: (int if f.type in ("int", int) else float) for f in dataclasses.fields(Thresholds)
    }
    values: dict[str, Any] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in types:
            raise GenomflowError(f"--set {pair}: unknown setting {name!r}")
        try:
            values[name] = types[name](text)
        except ValueError:
            raise GenomflowError(f"--set {pair}: not a number") from None
    return Thresholds.from_settings(values)


def settings_args(settings: Mapping[str, Any]) -> str:
    """The ``--set`` options for the thresholds found in a config section (for rules).

    >>> settings_args({"min_vaf": 0.05, "population_vcf": ""})
    '--set min_vaf=0.05'
    """
    names = {f.name for f in dataclasses.fields(Thresholds)}
    return " ".join(f"--set {k}={v}" for k, v in settings.items() if k in names)


def _cmd_classify(args: argparse.Namespace) -> int:
    run = Run(
        tumour=args.tumour,
        normal=args.normal,
        purity=args.purity,
        pon=args.pon,
        population=args.population,
    )
    summary = classify_vcf(args.candidates, run, parse_settings(args.set), args.out)
    print(f"{args.out}: {run.mode}, {summary.text()}")
    return 0


def _cmd_pon(args: argparse.Namespace) -> int:
    kept = build_pon(args.pileup, parse_settings(args.set), args.out)
    print(f"{args.out}: {kept} sites")
    return 0


def add_cli(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``genomflow somatic classify`` and ``genomflow somatic pon``."""
    parser = subparsers.add_parser("somatic", help="somatic small-variant classification")
    sub = parser.add_subparsers(dest="somatic_command", required=True)
    classify_cmd = sub.add_parser("classify", help="classify pileup candidates of a tumour")
    classify_cmd.add_argument("--candidates", type=Path, required=True, help="BCF/VCF")
    classify_cmd.add_argument("--tumour", required=True, help="tumour sample name")
    classify_cmd.add_argument("--normal", default=None, help="matched normal sample name")
    classify_cmd.add_argument("--purity", type=float, default=None)
    classify_cmd.add_argument("--pon", type=Path, default=None, help="panel-of-normals VCF")
    classify_cmd.add_argument("--population", type=Path, default=None, help="VCF with INFO/AF")
    classify_cmd.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    classify_cmd.add_argument("--out", type=Path, required=True, help="output .vcf.gz")
    classify_cmd.set_defaults(func=_cmd_classify)
    pon = sub.add_parser("pon", help="build a panel of normals from the normals' pileup")
    pon.add_argument("--pileup", type=Path, required=True)
    pon.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    pon.add_argument("--out", type=Path, required=True, help="output .vcf.gz")
    pon.set_defaults(func=_cmd_pon)
    somatic_eval.add_cli(sub)
