"""Somatic VCFs: candidates in, classified calls out, and the panel of normals.

Candidates come from ``bcftools mpileup`` over the tumour (and its matched normal), split to
one ALT per record by ``bcftools norm -m -any``, with per-sample ``AD``/``ADF``/``ADR``
(counted from bases and reads above the minimum base and mapping quality) and ``INFO/I16``
(sums of base quality, mapping quality and distance from the read end of the alt reads).

:func:`classify_vcf` reads them twice: the first pass assesses every candidate and learns the
somatic prior from those that only the model's evidence threshold could still filter
(:func:`genomflow.somatic.model.learn_prior`, over the callable bases of the calling regions),
the second writes every candidate with its FILTERs (``PASS`` when none apply), INFO
``TLOD``/``NLOD``/``GLOD``/``PSOM``, FORMAT ``GT:AD:DP:AF:SB`` per sample, and the purity and
prior in the header.

The panel of normals (:func:`build_pon`) is built from a joint pileup of the batch's normal
samples (of one panel): a site enters when at least ``pon_min_normals`` normals show the
allele with ``pon_min_alt_reads`` reads and ``pon_min_vaf``. Recurrent assay artefacts and
common germline variants are caught; a private germline variant of one normal is not.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam

from genomflow import __version__
from genomflow.errors import GenomflowError
from genomflow.somatic import model
from genomflow.somatic.classify import (
    Assessment,
    Counts,
    Decision,
    Evidence,
    assess,
    decide,
    phred,
)
from genomflow.somatic.settings import GERMLINE, PAIRED, TUMOUR_ONLY, Thresholds

Key = tuple[str, int, str, str]
#: Reference bases read after an indel's anchor to measure its repeat.
_REPEAT_WINDOW = 100


def _counts(record: pysam.VariantRecord, sample: str) -> Counts:
    call = record.samples[sample]
    adf, adr = call.get("ADF"), call.get("ADR")
    if adf is None or adr is None or None in adf[:2] or None in adr[:2]:
        # No strand counts: all reads on the forward strand (strand bias is then untestable).
        ad = (*(call.get("AD") or ()), 0, 0)
        return Counts(int(ad[0] or 0), 0, int(ad[1] or 0), 0, int(call.get("DP") or 0))
    return Counts(int(adf[0]), int(adr[0]), int(adf[1]), int(adr[1]), int(call.get("DP") or 0))


@dataclass(frozen=True)
class AltMeans:
    """Means over the alt reads of the pileup's ``INFO/I16`` (all samples together)."""

    base_quality: float | None = None
    mapping_quality: float | None = None
    read_position: float | None = None


def _i16_means(record: pysam.VariantRecord) -> AltMeans:
    """Mean base quality, mapping quality and distance from the read end of the alt reads."""
    if "I16" not in record.info:
        return AltMeans()
    i16 = record.info["I16"]
    alt_reads = float(i16[2]) + float(i16[3])
    if alt_reads <= 0:
        return AltMeans()
    return AltMeans(
        float(i16[6]) / alt_reads, float(i16[10]) / alt_reads, float(i16[14]) / alt_reads
    )


def smallest_period(sequence: str) -> str:
    """The shortest unit whose repeats make ``sequence``.

    >>> smallest_period("TTT"), smallest_period("CACA"), smallest_period("GAT")
    ('T', 'CA', 'GAT')
    """
    for size in range(1, len(sequence) + 1):
        if len(sequence) % size == 0 and sequence[:size] * (len(sequence) // size) == sequence:
            return sequence[:size]
    return sequence


class Reference:
    """Reference context of indels (their repeat length); no FASTA: no context."""

    def __init__(self, path: Path | None) -> None:
        self._fasta: pysam.FastaFile | None = None
        if path is not None:
            try:
                self._fasta = pysam.FastaFile(str(path))
            except (OSError, ValueError) as err:
                raise GenomflowError(f"{path}: cannot read the reference: {err}") from err

    def repeat_length(self, key: Key) -> int:
        """Bases of the repeat of an indel's inserted or deleted sequence, after its anchor."""
        chrom, pos, ref, alt = key
        if self._fasta is None or len(ref) == len(alt):
            return 0
        changed = ref[1:] if len(ref) > len(alt) else alt[1:]
        unit = smallest_period(changed.upper())
        try:
            flank = self._fasta.fetch(chrom, pos, pos + _REPEAT_WINDOW).upper()
        except (KeyError, ValueError):
            return 0
        return model.repeat_units(flank, unit) * len(unit)

    def close(self) -> None:
        if self._fasta is not None:
            self._fasta.close()


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


def callable_bases(regions: Path) -> int:
    """Bases of a BED of calling regions (overlaps counted once)."""
    from genomflow.intervals import merge_spans

    spans: dict[str, list[tuple[int, int]]] = {}
    try:
        with open(regions) as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip() or line.startswith(("#", "track", "browser")):
                    continue
                fields = line.rstrip("\n").split("\t")
                try:
                    start, end = int(fields[1]), int(fields[2])
                except (IndexError, ValueError):
                    raise GenomflowError(
                        f"{regions} line {number}: not a BED line (chrom, start, end)"
                    ) from None
                spans.setdefault(fields[0], []).append((start, end))
    except OSError as err:
        raise GenomflowError(f"{regions}: cannot read the calling regions: {err}") from err
    return sum(end - start for chrom in spans.values() for start, end in merge_spans(chrom))


# --- writing ---------------------------------------------------------------------------------

_INFO_LINES = (
    '##INFO=<ID=SOMATIC,Number=0,Type=Flag,Description="Passed every somatic filter">',
    '##INFO=<ID=TLOD,Number=1,Type=Float,Description="Tumour log10 odds: the allele at its '
    'maximum-likelihood fraction against sequencing error">',
    '##INFO=<ID=PSOM,Number=1,Type=Float,Description="Posterior probability of a somatic '
    'variant (uniform allele-fraction prior, the somatic prior in the header)">',
    '##INFO=<ID=NLOD,Number=1,Type=Float,Description="Normal log10 odds: the normal holds at '
    'most tumour-in-normal contamination rather than a germline genotype">',
    '##INFO=<ID=GLOD,Number=1,Type=Float,Description="Tumour-only: log10 odds of a free allele '
    'fraction over a germline genotype (0.5 or 1)">',
    '##INFO=<ID=GSHIFT,Number=1,Type=Float,Description="Germline prior of the population allele '
    'frequency: extra log10 odds required of NLOD or GLOD">',
    '##INFO=<ID=ERR,Number=1,Type=Float,Description="Per-read error rate of the allele used '
    'by the model">',
    '##INFO=<ID=SBP,Number=1,Type=Float,Description="Fisher p-value of strand bias in the '
    'tumour (computed when the alt reads lean to one strand)">',
    '##INFO=<ID=NVP,Number=1,Type=Float,Description="Binomial p-value of the normal alt reads '
    'given tumour-in-normal contamination">',
    '##INFO=<ID=MBQ,Number=1,Type=Float,Description="Mean base quality of alt bases (pileup)">',
    '##INFO=<ID=MMQ,Number=1,Type=Float,Description="Mean mapping quality of alt reads (pileup)">',
    '##INFO=<ID=MRP,Number=1,Type=Float,Description="Mean distance of alt bases from the nearer '
    'read end (pileup, capped at 25)">',
    '##INFO=<ID=RPT,Number=1,Type=Integer,Description="Indels: length of the repeat they sit in">',
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
    reference: Path | None = None
    regions: Path | None = None

    @property
    def mode(self) -> str:
        return PAIRED if self.normal else TUMOUR_ONLY


@dataclass(frozen=True)
class Prior:
    """The somatic prior used: fixed in the settings or learned from the candidates."""

    value: float
    learned: bool
    sites: int = 0
    informative: int = 0

    def header_value(self) -> str:
        if not self.learned:
            return f"{self.value:.3g},fixed"
        return (
            f"{self.value:.3g},learned from {self.informative} candidates over "
            f"{self.sites} callable bases"
        )


def _output_header(
    source: pysam.VariantHeader, run: Run, thresholds: Thresholds, prior: Prior
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
    header.add_line(f"##genomflow_somatic_prior={prior.header_value()}")
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
    prior: Prior | None = None

    def text(self) -> str:
        parts = ", ".join(f"{name} {n}" for name, n in sorted(self.by_filter.items()))
        prior = f"; somatic prior {self.prior.header_value()}" if self.prior else ""
        return (
            f"{self.candidates} candidates, {self.passed} PASS; filtered: {parts or 'none'}{prior}"
        )


@dataclass(frozen=True)
class Candidate:
    """One pileup record with its evidence and assessment."""

    record: pysam.VariantRecord
    key: Key
    evidence: Evidence
    assessment: Assessment


class _Sources:
    """The files a classification reads besides the candidates (opened once)."""

    def __init__(self, run: Run) -> None:
        self.pon = PanelOfNormals(run.pon)
        self.population = Population(run.population)
        self.reference = Reference(run.reference)

    def close(self) -> None:
        self.population.close()
        self.reference.close()


def _open_candidates(candidates: Path, run: Run) -> pysam.VariantFile:
    try:
        reader = pysam.VariantFile(str(candidates))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{candidates}: cannot read the candidates: {err}") from err
    samples = list(reader.header.samples)
    for name in filter(None, (run.tumour, run.normal)):
        if name not in samples:
            reader.close()
            raise GenomflowError(
                f"{candidates}: no sample {name!r} (samples: {', '.join(samples) or 'none'})"
            )
    return reader


def _candidates(
    reader: pysam.VariantFile, run: Run, thresholds: Thresholds, sources: _Sources
) -> Iterator[Candidate]:
    for record in reader:
        if not record.alts or len(record.alts) != 1 or record.alts[0].startswith("<"):
            continue
        ref, alt = str(record.ref), str(record.alts[0])
        key: Key = (str(record.chrom), int(record.pos), ref, alt)
        means = _i16_means(record)
        is_snv = _is_snv(ref, alt)
        evidence = Evidence(
            is_snv=is_snv,
            tumour=_counts(record, run.tumour),
            normal=_counts(record, run.normal) if run.normal else None,
            mean_alt_base_quality=means.base_quality,
            mean_alt_mapping_quality=means.mapping_quality,
            population_af=sources.population.af(key),
            pon_normals=sources.pon.count(key),
            mean_alt_read_position=means.read_position,
            repeat_length=0 if is_snv else sources.reference.repeat_length(key),
        )
        yield Candidate(record, key, evidence, assess(evidence, thresholds))


def learn_somatic_prior(
    candidates: Path, run: Run, thresholds: Thresholds, sources: _Sources
) -> Prior:
    """The prior of the run: fixed by ``somatic_prior``, else learned (first pass)."""
    if thresholds.somatic_prior > 0:
        return Prior(thresholds.somatic_prior, learned=False)
    if run.regions is None:
        raise GenomflowError(
            "the somatic prior is learned over the calling regions: give --regions BED "
            "or a fixed prior with --set somatic_prior=P"
        )
    sites = callable_bases(run.regions)
    if sites <= 0:
        raise GenomflowError(f"{run.regions}: the calling regions hold no bases")
    lods = []
    with _open_candidates(candidates, run) as reader:
        for candidate in _candidates(reader, run, thresholds, sources):
            if candidate.assessment.counts_for_prior:
                lods.append(candidate.assessment.marginal_lod)
    return Prior(model.learn_prior(lods, sites), learned=True, sites=sites, informative=len(lods))


def classify_vcf(candidates: Path, run: Run, thresholds: Thresholds, out: Path) -> Summary:
    """Classify every candidate of ``candidates`` and write them (bgzipped, indexed) to ``out``
    (complete or not at all)."""
    _open_candidates(candidates, run).close()  # the samples are checked before anything else
    sources = _Sources(run)
    tmp = out.with_name(out.name + ".tmp.vcf.gz")
    try:
        prior = learn_somatic_prior(candidates, run, thresholds, sources)
        summary = Summary(prior=prior)
        with _open_candidates(candidates, run) as reader:
            header = _output_header(reader.header, run, thresholds, prior)
            with pysam.VariantFile(str(tmp), "wz", header=header) as writer:
                for candidate in _candidates(reader, run, thresholds, sources):
                    decision = decide(candidate.assessment, prior.value, thresholds)
                    writer.write(_classified_record(writer, candidate, decision, run))
                    summary.candidates += 1
                    summary.passed += decision.passed
                    for name in decision.filters:
                        summary.by_filter[name] = summary.by_filter.get(name, 0) + 1
        pysam.tabix_index(str(tmp), preset="vcf", force=True)
        Path(f"{tmp}.tbi").replace(f"{out}.tbi")
        tmp.replace(out)
    finally:
        sources.close()
        for leftover in (tmp, Path(f"{tmp}.tbi")):
            leftover.unlink(missing_ok=True)
    return summary


def _classified_record(
    writer: pysam.VariantFile, candidate: Candidate, decision: Decision, run: Run
) -> pysam.VariantRecord:
    record, evidence, assessment = candidate.record, candidate.evidence, decision.assessment
    _, _, ref, alt = candidate.key
    out: pysam.VariantRecord = writer.new_record(
        contig=record.chrom, start=record.start, stop=record.stop, alleles=(ref, alt)
    )
    for name in decision.filters or ("PASS",):
        out.filter.add(name)
    if decision.passed:
        out.info["SOMATIC"] = True
    out.qual = phred(1.0 - decision.posterior)
    info = {
        "TLOD": _round(assessment.tumour_lod),
        "PSOM": _round(decision.posterior),
        "NLOD": _round(assessment.normal_lod),
        "GLOD": _round(assessment.germline_lod),
        "GSHIFT": _round(assessment.germline_shift) if assessment.germline_shift else None,
        "ERR": _round(assessment.error, 3),
        "SBP": _round(assessment.strand_p),
        "NVP": _round(assessment.normal_p),
        "MBQ": _round(evidence.mean_alt_base_quality, 3),
        "MMQ": _round(evidence.mean_alt_mapping_quality, 3),
        "MRP": _round(evidence.mean_alt_read_position, 3),
        "POPAF": _round(evidence.population_af),
    }
    for name, value in info.items():
        if value is not None:
            out.info[name] = value
    if not evidence.is_snv:
        out.info["RPT"] = evidence.repeat_length
    if evidence.pon_normals:
        out.info["PON"] = evidence.pon_normals
    # GT says whether the sample carries the allele: the tumour does (it is a candidate); the
    # normal only when the allele is called germline in it.
    samples = (
        (run.tumour, evidence.tumour, True),
        (run.normal, evidence.normal, GERMLINE in decision.filters),
    )
    for sample, counts, carrier in samples:
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
