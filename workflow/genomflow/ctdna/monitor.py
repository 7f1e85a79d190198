"""One plasma sample, from the tumour's somatic VCF, the plasma BAM and the reference to its
ctDNA result (``{sample}.ctdna.json``).

Steps: read the PASS somatic variants of the tumour (the tracked loci; symbolic alleles are
left out with a reason); check that the BAM was aligned to this reference (``@SQ`` lengths
and, where the BAM has them, MD5s); leave out loci on contigs missing from the FASTA or the
BAM, loci whose REF disagrees with the FASTA (most of them disagreeing is an error: another
build); count molecules; leave out loci without informative molecules; take the background
rates (panel of normals, or the sample's own off-target rates); leave out noisy, germline and
outlier loci (:mod:`genomflow.ctdna.background`); fit and test (:mod:`genomflow.ctdna.model`).

The tumour allele fraction of a locus is ``f = min(1, VAF / purity)`` (floored at
:data:`MIN_TUMOUR_ALLELE_FRACTION`), with the VAF of the tumour sample in the VCF (FORMAT AF,
else AD, else INFO AF) and the purity from ``--purity``, else the VCF header
(``##tumour_purity``, as ``genomflow somatic classify`` writes it), else estimated as twice
the median SNV VAF (clonal heterozygous variants; capped at 1). A locus without a VAF gets
f = 0.5 (a clonal heterozygous variant).

Bad input is never a silent zero: unreadable files and a BAM of another reference are
errors naming the files; no somatic variant, or no locus left, is ``indeterminate`` with the
reason.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pysam
from jsonschema import Draft202012Validator

from genomflow import __version__, atomic
from genomflow.ctdna import background as bg
from genomflow.ctdna import model
from genomflow.ctdna.counts import (
    AlleleCounts,
    ClassRates,
    CountSettings,
    KindRates,
    Locus,
    close_reader,
    count_loci,
    locus_context,
)
from genomflow.errors import GenomflowError
from genomflow.schemas import load_schema

#: Tumour allele fraction assumed for a locus without a VAF (clonal heterozygous).
DEFAULT_TUMOUR_ALLELE_FRACTION = 0.5
#: Smallest f used: a subclonal variant far below this carries no usable signal.
MIN_TUMOUR_ALLELE_FRACTION = 0.01
#: Purity estimated from VAFs is kept within these bounds.
MIN_ESTIMATED_PURITY = 0.05
#: A VCF whose REF disagrees with the FASTA at this share of loci (or more) is of another build.
MAX_REF_MISMATCH_SHARE = 0.5
NO_VARIANTS = "no somatic variants in VCF"
#: Header keys naming the tumour sample and the purity in a somatic VCF.
TUMOUR_SAMPLE_HEADER = "tumor_sample"
PURITY_HEADER = "tumour_purity"
#: Significant digits of the numbers in the result.
DIGITS = 6
SCHEMA = "ctdna"


@dataclass(frozen=True)
class MonitorInputs:
    """The files and names of one monitoring run."""

    variants: Path
    bam: Path
    reference: Path
    sample: str
    background: Path | None = None
    purity: float | None = None
    normal_vcf: Path | None = None
    tumour_sample: str | None = None
    #: Report the BAM's reads under ``sample`` even if its read groups name another sample.
    force_sample: bool = False

    def files(self) -> list[Path]:
        """The input files given."""
        given = (self.variants, self.bam, self.reference, self.background, self.normal_vcf)
        return [path for path in given if path is not None]


@dataclass(frozen=True)
class MonitorSettings:
    counts: CountSettings = field(default_factory=CountSettings)
    background: bg.BackgroundSettings = field(default_factory=bg.BackgroundSettings)
    model: model.Settings = field(default_factory=model.Settings)


@dataclass(frozen=True)
class TumourVariants:
    """The tracked loci of a tumour VCF and what was left out."""

    loci: tuple[Locus, ...]
    excluded: tuple[bg.Exclusion, ...]
    tumour_sample: str | None
    purity: float | None
    records: int
    not_pass: int


# --- inputs ----------------------------------------------------------------------------------


def read_tumour_vcf(path: Path, tumour_sample: str | None = None) -> TumourVariants:
    """PASS (or unfiltered) variants of a somatic VCF, one locus per ALT allele."""
    if not path.is_file():
        raise GenomflowError(f"{path}: somatic VCF not found")
    try:
        with pysam.VariantFile(str(path)) as vcf:
            header = _header_values(vcf.header)
            samples = list(vcf.header.samples)
            sample = _tumour_sample(path, samples, tumour_sample, header.get(TUMOUR_SAMPLE_HEADER))
            purity = _header_purity(path, header.get(PURITY_HEADER))
            loci: dict[str, Locus] = {}
            excluded: list[bg.Exclusion] = []
            records = not_pass = 0
            for record in vcf:
                records += 1
                filters = list(record.filter.keys())
                if filters and filters != ["PASS"]:
                    not_pass += 1
                    continue
                for index, alt in enumerate(record.alts or (), start=1):
                    _add_allele(record, index, alt, sample, loci, excluded)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read the somatic VCF ({err})") from None
    return TumourVariants(tuple(loci.values()), tuple(excluded), sample, purity, records, not_pass)


def _header_values(header: pysam.VariantHeader) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in str(header).splitlines():
        if line.startswith("##") and "=" in line and not line.startswith("##INFO"):
            key, _, value = line[2:].partition("=")
            values.setdefault(key, value)
    return values


def _tumour_sample(
    path: Path, samples: Sequence[str], wanted: str | None, from_header: str | None
) -> str | None:
    if wanted is not None:
        if wanted not in samples:
            raise GenomflowError(
                f"{path}: no sample {wanted!r} in the VCF (samples: {', '.join(samples) or 'none'})"
            )
        return wanted
    if from_header and from_header in samples:
        return from_header
    return samples[0] if samples else None


def _header_purity(path: Path, text: str | None) -> float | None:
    if text is None or text in (".", ""):
        return None
    try:
        value = float(text)
    except ValueError:
        raise GenomflowError(f"{path}: ##{PURITY_HEADER}={text} is not a number") from None
    if not 0 < value <= 1:
        raise GenomflowError(f"{path}: ##{PURITY_HEADER}={text} is not in (0, 1]")
    return value


def _add_allele(
    record: pysam.VariantRecord,
    index: int,
    alt: str,
    sample: str | None,
    loci: dict[str, Locus],
    excluded: list[bg.Exclusion],
) -> None:
    ref = (record.ref or "").upper()
    key = f"{record.chrom}:{record.pos}:{ref}:{alt}"
    if alt.startswith("<") or alt == "*" or "[" in alt or "]" in alt or not alt.isalpha():
        excluded.append(bg.Exclusion(key, "symbolic or breakend allele: not tracked"))
        return
    alt = alt.upper()
    if set(ref + alt) - set("ACGT"):
        excluded.append(bg.Exclusion(key, "allele with bases other than A, C, G, T"))
        return
    key = f"{record.chrom}:{record.pos}:{ref}:{alt}"
    if key not in loci:
        loci[key] = Locus(record.chrom, record.pos, ref, alt, _vaf(record, index, sample))


def _vaf(record: pysam.VariantRecord, index: int, sample: str | None) -> float | None:
    """Tumour VAF of ALT number ``index``: FORMAT AF, else AD, else INFO AF."""
    if sample is not None:
        call = record.samples[sample]
        if "AF" in record.format:
            value = _nth(call.get("AF"), index - 1)
            if value is not None:
                return float(value)
        if "AD" in record.format:
            depths = call.get("AD")
            if isinstance(depths, tuple) and len(depths) > index and None not in depths:
                total = sum(depths)
                return depths[index] / total if total else None
    if "AF" in record.info:
        value = _nth(record.info["AF"], index - 1)
        if value is not None:
            return float(value)
    return None


def _nth(value: Any, index: int) -> Any:
    if isinstance(value, tuple):
        return value[index] if len(value) > index else None
    return value if index == 0 else None


def open_reference(path: Path) -> pysam.FastaFile:
    if not path.is_file():
        raise GenomflowError(f"{path}: reference FASTA not found")
    try:
        return pysam.FastaFile(str(path))
    except (OSError, ValueError) as err:
        raise GenomflowError(
            f"{path}: cannot read the reference FASTA ({err}); it needs a .fai index (and a "
            ".gzi when bgzipped), or write access to make one"
        ) from None


def open_alignments(path: Path, reference: Path) -> pysam.AlignmentFile:
    """An indexed BAM/CRAM, checked to be readable."""
    kind = "CRAM" if path.suffix == ".cram" else "BAM"
    if not path.is_file():
        raise GenomflowError(f"{path}: {kind} not found")
    try:
        bam = pysam.AlignmentFile(str(path), reference_filename=str(reference))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read the {kind} ({err})") from None
    if not bam.has_index():
        close_reader(bam)
        index = ".crai" if kind == "CRAM" else ".bai/.csi"
        raise GenomflowError(f"{path}: the {kind} has no index ({index}); run samtools index")
    return bam


def check_same_reference(
    bam: pysam.AlignmentFile,
    fasta: pysam.FastaFile,
    bam_path: Path,
    fasta_path: Path,
    contigs: Sequence[str],
) -> None:
    """The BAM's ``@SQ`` lines agree with the FASTA: lengths of every shared contig, MD5 of the
    ``contigs`` with tracked loci where the BAM records one (taken from the FASTA's ``.dict``
    when there is one, else computed), and at least one shared contig."""
    lengths = dict(zip(fasta.references, fasta.lengths, strict=True))
    sequences = bam.header.to_dict().get("SQ", [])
    known = dictionary_md5(fasta_path)
    shared = 0
    for line in sequences:
        name, length = line.get("SN"), line.get("LN")
        if name not in lengths:
            continue
        shared += 1
        if length != lengths[name]:
            raise GenomflowError(
                f"{bam_path} and {fasta_path} are of different references: contig {name} is "
                f"{length} bp in the BAM and {lengths[name]} bp in the FASTA"
            )
        md5 = line.get("M5")
        if md5 and name in contigs:
            actual = known.get(name) or hashlib.md5(fasta.fetch(name).upper().encode()).hexdigest()
            if actual != str(md5).lower():
                raise GenomflowError(
                    f"{bam_path} and {fasta_path} are of different references: contig {name} "
                    f"has MD5 {md5} in the BAM and {actual} in the FASTA"
                )
    if sequences and shared == 0:
        raise GenomflowError(
            f"{bam_path} and {fasta_path} are of different references: no contig name in common"
        )


def read_group_samples(bam: pysam.AlignmentFile) -> list[str]:
    """The ``SM`` of the BAM's read groups."""
    groups = bam.header.to_dict().get("RG", [])
    return sorted({str(group["SM"]) for group in groups if group.get("SM")})


def check_sample(bam: pysam.AlignmentFile, inputs: MonitorInputs) -> None:
    """The BAM's reads must be of ``--sample`` (its read groups' ``SM``), unless forced: a
    result stored under the wrong sample is worse than no result."""
    names = read_group_samples(bam)
    if not names or inputs.sample in names or inputs.force_sample:
        return
    raise GenomflowError(
        f"{inputs.bam}: its reads are of sample {', '.join(names)} (@RG SM), not of --sample "
        f"{inputs.sample}; check the file, or give --force-sample to report them as "
        f"{inputs.sample}"
    )


def check_out_is_not_an_input(out: Path, inputs: MonitorInputs) -> None:
    """Refuse to write the result over one of the inputs."""
    target = os.path.realpath(out)
    for path in inputs.files():
        if os.path.realpath(path) == target:
            raise GenomflowError(f"--out {out} is the input {path}: give another file name")


def dictionary_md5(fasta: Path) -> dict[str, str]:
    """Contig MD5s of the sequence dictionary next to a FASTA (``ref.dict`` or
    ``ref.fa.dict``, as Picard and ``samtools dict`` write it); empty without one."""
    base = fasta.name.removesuffix(".gz")
    for suffix in (".fa", ".fasta", ".fna"):
        base = base.removesuffix(suffix)
    for candidate in (fasta.with_name(base + ".dict"), fasta.with_name(fasta.name + ".dict")):
        if candidate.is_file():
            try:
                header = pysam.AlignmentHeader.from_text(candidate.read_text())
            except (OSError, ValueError):
                return {}
            return {
                str(sq["SN"]): str(sq["M5"]).lower()
                for sq in header.to_dict().get("SQ", [])
                if "M5" in sq
            }
    return {}


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tracked:
    """Loci that are counted, with their counts, contexts and rates (same order)."""

    loci: list[Locus]
    counts: list[AlleleCounts]
    classes: list[tuple[str, str]]
    #: The background rate of each molecule kind at each locus (:data:`ALL_KINDS`: one rate
    #: for every kind).
    rates: list[dict[str, bg.LocusRate]]


#: The key of a rate that applies to molecules of every kind (a panel of normals).
ALL_KINDS = "all"


def monitor(inputs: MonitorInputs, settings: MonitorSettings) -> dict[str, Any]:
    """The ctDNA result of one plasma sample (the dict written as JSON)."""
    reference = open_reference(inputs.reference)
    variants = read_tumour_vcf(inputs.variants, inputs.tumour_sample)
    bam = open_alignments(inputs.bam, inputs.reference)
    try:
        return _monitor(inputs, settings, reference, variants, bam)
    finally:
        close_reader(bam)
        close_reader(reference)


def _monitor(
    inputs: MonitorInputs,
    settings: MonitorSettings,
    reference: pysam.FastaFile,
    variants: TumourVariants,
    bam: pysam.AlignmentFile,
) -> dict[str, Any]:
    check_same_reference(
        bam, reference, inputs.bam, inputs.reference, sorted({x.chrom for x in variants.loci})
    )
    check_sample(bam, inputs)
    purity, purity_source = _purity(inputs.purity, variants)
    result = _skeleton(inputs, settings, variants, purity, purity_source)
    excluded = list(variants.excluded)
    if not variants.loci:
        detail = (
            f" ({variants.records} records, none PASS)" if variants.records else " (no records)"
        )
        return _indeterminate(result, NO_VARIANTS + detail, excluded)
    loci = _placeable(variants.loci, reference, bam, inputs, excluded)
    if not loci:
        return _indeterminate(
            result, f"none of the {len(variants.loci)} loci can be placed", excluded
        )
    try:
        counts, offtarget = count_loci(bam, reference, loci, settings.counts)
    except OSError as err:
        raise GenomflowError(f"{inputs.bam}: cannot read the alignments ({err})") from None
    covered = [(x, c) for x, c in zip(loci, counts, strict=True) if c.informative > 0]
    for locus, tally in zip(loci, counts, strict=True):
        if tally.informative == 0:
            excluded.append(bg.Exclusion(locus.key, _no_molecules(tally)))
    if not covered:
        return _indeterminate(
            result,
            f"no informative molecules at any of the {len(loci)} loci (loci outside the "
            "BAM's reads, or every read filtered?)",
            excluded,
        )
    tracked, background_info, noisy = _with_background(
        covered, reference, inputs, settings, offtarget
    )
    result["background"] = background_info
    tracked = _drop(tracked, noisy, excluded)
    tracked = _drop(tracked, _exclusions_before_fit(tracked, inputs, settings), excluded)
    if not tracked.loci:
        return _indeterminate(result, "every locus was excluded", excluded)
    evidence, keys = _evidence(tracked, purity)
    call, outliers = call_sample(evidence, keys, settings)
    tracked = _drop(tracked, outliers, excluded)
    result.update(_call_fields(call))
    result["loci_excluded"] = [{"locus": x.locus, "reason": x.reason} for x in excluded]
    result["loci"] = _locus_rows(tracked, purity)
    return result


def call_sample(
    evidence: model.Evidence, keys: Sequence[str], settings: MonitorSettings
) -> tuple[model.Call, dict[str, str]]:
    """Leave out the outlier loci, then fit and test: the call and the outliers' reasons."""
    outliers = bg.outliers(evidence, keys, settings.background)
    keep = np.array([key not in outliers for key in keys], dtype=bool)
    return model.fit_and_test(evidence.subset(keep), settings.model), outliers


def _purity(given: float | None, variants: TumourVariants) -> tuple[float | None, str]:
    if given is not None:
        if not 0 < given <= 1:
            raise GenomflowError(f"--purity {given}: must be in (0, 1]")
        return given, "argument"
    if variants.purity is not None:
        return variants.purity, "vcf_header"
    vafs = [x.tumour_vaf for x in variants.loci if x.tumour_vaf is not None and x.kind == "snv"]
    if vafs:
        return max(MIN_ESTIMATED_PURITY, min(1.0, 2 * statistics.median(vafs))), "estimated"
    return None, "unknown"


def tumour_allele_fraction(vaf: float | None, purity: float | None) -> float:
    """``min(1, VAF / purity)``, floored; 0.5 without a VAF.

    >>> tumour_allele_fraction(0.3, 0.6), tumour_allele_fraction(0.9, 0.6)
    (0.5, 1.0)
    """
    if vaf is None:
        return DEFAULT_TUMOUR_ALLELE_FRACTION
    fraction = vaf / purity if purity else vaf
    return float(min(1.0, max(MIN_TUMOUR_ALLELE_FRACTION, fraction)))


def _placeable(
    loci: Sequence[Locus],
    reference: pysam.FastaFile,
    bam: pysam.AlignmentFile,
    inputs: MonitorInputs,
    excluded: list[bg.Exclusion],
) -> list[Locus]:
    fasta_lengths = dict(zip(reference.references, reference.lengths, strict=True))
    bam_contigs = set(bam.references)
    kept: list[Locus] = []
    mismatched: list[str] = []
    for locus in loci:
        if locus.chrom not in fasta_lengths:
            excluded.append(
                bg.Exclusion(locus.key, f"contig {locus.chrom} is not in the reference FASTA")
            )
        elif locus.chrom not in bam_contigs:
            excluded.append(
                bg.Exclusion(locus.key, f"contig {locus.chrom} is not in the BAM header")
            )
        elif locus.end > fasta_lengths[locus.chrom]:
            excluded.append(bg.Exclusion(locus.key, f"past the end of contig {locus.chrom}"))
        else:
            bases = reference.fetch(locus.chrom, locus.start, locus.end).upper()
            if bases != locus.ref:
                mismatched.append(locus.key)
                excluded.append(
                    bg.Exclusion(
                        locus.key, f"REF {locus.ref} does not match the reference ({bases})"
                    )
                )
            else:
                kept.append(locus)
    placed = len(kept) + len(mismatched)
    if mismatched and len(mismatched) >= MAX_REF_MISMATCH_SHARE * placed:
        raise GenomflowError(
            f"{inputs.variants} and {inputs.reference} disagree: REF differs from the reference at "
            f"{len(mismatched)} of {placed} loci (e.g. {mismatched[0]}): a VCF of another build?"
        )
    return kept


def _no_molecules(tally: AlleleCounts) -> str:
    seen = tally.other + tally.discordant + tally.low_quality
    if seen == 0:
        return "no informative molecules: no reads pass the filters here (outside the BAM's reads?)"
    return (
        f"no informative molecules: {tally.low_quality} low-quality, {tally.other} other-allele "
        f"and {tally.discordant} discordant"
    )


def _with_background(
    covered: Sequence[tuple[Locus, AlleleCounts]],
    reference: pysam.FastaFile,
    inputs: MonitorInputs,
    settings: MonitorSettings,
    offtarget: KindRates,
) -> tuple[_Tracked, dict[str, Any], dict[str, str]]:
    """Rates of the loci, a summary of the background, and the loci noisy in the PoN."""
    loci = [x for x, _ in covered]
    counts = [c for _, c in covered]
    classes = [locus_context(reference, x) for x in loci]
    info: dict[str, Any]
    if inputs.background is not None:
        sites = bg.read_pon(inputs.background)
        contexts = bg.site_contexts(sites, reference, inputs.background, inputs.reference)
        pon = bg.fit_pon(sites, contexts, settings.background)
        rates = [{ALL_KINDS: pon.locus_rate(x, *c)} for x, c in zip(loci, classes, strict=True)]
        info = {
            "source": "panel_of_normals",
            "file": os.path.basename(inputs.background),
            "sites": len(sites),
            "class_rates": {k: _sig(v) for k, v in sorted(pon.class_rates.items())},
            "kappa_context": {k: _sig(v) for k, v in sorted(pon.kappa_context.items())},
            "kappa_locus": {k: _sig(v) for k, v in sorted(pon.kappa_locus.items())},
        }
        noisy = {x.key: pon.noisy[x.key] for x in loci if x.key in pon.noisy}
        return _Tracked(loci, counts, classes, rates), info, noisy
    pooled = ClassRates()
    for measured in offtarget.values():
        pooled = pooled.merged(measured)
    rates = [_kind_rates(c[0], offtarget, pooled) for c in classes]
    info = {
        "source": "off_target",
        "class_rates": {
            k: _sig(v) for k in sorted(pooled.bases) if (v := pooled.rate(k)) is not None
        },
        "kind_class_rates": {
            kind: {k: _sig(v) for k in sorted(r.bases) if (v := r.rate(k)) is not None}
            for kind, r in sorted(offtarget.items())
        },
        "kind_molecules": {
            kind: int(sum(r.bases.values()) // 3) for kind, r in sorted(offtarget.items())
        },
        "bases": int(sum(pooled.bases.values()) // 3),
        "variant_positions_skipped": max(
            (r.variant_positions for r in offtarget.values()), default=0
        ),
    }
    return _Tracked(loci, counts, classes, rates), info, {}


def _kind_rates(klass: str, offtarget: KindRates, pooled: ClassRates) -> dict[str, bg.LocusRate]:
    """A locus's off-target rate for each molecule kind measured, and for any other kind
    the rate of all kinds pooled."""
    rates = {kind: bg.offtarget_rate(klass, measured) for kind, measured in offtarget.items()}
    rates[ALL_KINDS] = bg.offtarget_rate(klass, pooled)
    return rates


def _exclusions_before_fit(
    tracked: _Tracked, inputs: MonitorInputs, settings: MonitorSettings
) -> dict[str, str]:
    found: dict[str, str] = {}
    if inputs.normal_vcf is not None:
        found.update(bg.germline_in_normal(tracked.loci, inputs.normal_vcf, settings.background))
    keys = [x.key for x in tracked.loci]
    for key, reason in bg.germline_in_plasma(keys, tracked.counts, settings.background).items():
        found.setdefault(key, reason)
    return found


def _drop(tracked: _Tracked, reasons: dict[str, str], excluded: list[bg.Exclusion]) -> _Tracked:
    keep = [i for i, x in enumerate(tracked.loci) if x.key not in reasons]
    for locus in tracked.loci:
        if locus.key in reasons:
            excluded.append(bg.Exclusion(locus.key, reasons[locus.key]))
    return _Tracked(
        [tracked.loci[i] for i in keep],
        [tracked.counts[i] for i in keep],
        [tracked.classes[i] for i in keep],
        [tracked.rates[i] for i in keep],
    )


@dataclass(frozen=True)
class _Row:
    """One row of the evidence: the molecules of one kind at one locus, or of all kinds
    where one rate applies to every kind."""

    locus: int
    kind: str
    ref: int
    alt: int
    rate: bg.LocusRate


def _rows(tracked: _Tracked) -> list[_Row]:
    rows = []
    for i, (tally, rates) in enumerate(zip(tracked.counts, tracked.rates, strict=True)):
        if set(rates) == {ALL_KINDS}:
            rows.append(_Row(i, ALL_KINDS, tally.ref, tally.alt, rates[ALL_KINDS]))
            continue
        for kind, (ref, alt) in tally.by_kind().items():
            rows.append(_Row(i, kind, ref, alt, rates.get(kind, rates[ALL_KINDS])))
    return rows


def _evidence(tracked: _Tracked, purity: float | None) -> tuple[model.Evidence, list[str]]:
    """One row per locus and molecule kind, each with the background rate of its kind, and
    the key of each row's locus."""
    rows = _rows(tracked)
    f = [tumour_allele_fraction(x.tumour_vaf, purity) for x in tracked.loci]
    evidence = model.Evidence.of(
        [r.alt for r in rows],
        [r.ref + r.alt for r in rows],
        [f[r.locus] for r in rows],
        [r.rate.rate for r in rows],
        [r.rate.support for r in rows],
        [r.locus for r in rows],
    )
    return evidence, [tracked.loci[r.locus].key for r in rows]


# --- the result ------------------------------------------------------------------------------


def _sig(value: float | None, digits: int = DIGITS) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.{digits}g}")


def _skeleton(
    inputs: MonitorInputs,
    settings: MonitorSettings,
    variants: TumourVariants,
    purity: float | None,
    purity_source: str,
) -> dict[str, Any]:
    return {
        "sample": inputs.sample,
        "tumour_sample": variants.tumour_sample,
        "status": model.Status.INDETERMINATE.value,
        "detected": False,
        "reason": None,
        "tumour_fraction": None,
        "tumour_fraction_ppm": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "p_value_method": model.PValueMethod.NONE.value,
        "lr_statistic": None,
        "lod95": None,
        "poisson_limit": None,
        "informative_molecules": 0,
        "mutant_molecules": 0,
        "expected_background_molecules": 0.0,
        "loci_used": 0,
        "loci_excluded": [],
        "vcf_records": variants.records,
        "vcf_records_not_pass": variants.not_pass,
        "purity": purity,
        "purity_source": purity_source,
        "background": None,
        "inputs": {
            "variants": os.path.basename(inputs.variants),
            "bam": os.path.basename(inputs.bam),
            "reference": os.path.basename(inputs.reference),
            "background": os.path.basename(inputs.background) if inputs.background else None,
            "normal_vcf": os.path.basename(inputs.normal_vcf) if inputs.normal_vcf else None,
        },
        "settings": {
            "min_base_quality": settings.counts.min_base_quality,
            "min_mapping_quality": settings.counts.min_mapping_quality,
            "min_informative": settings.model.min_informative,
            "min_loci": settings.model.min_loci,
            "alpha": settings.model.alpha,
            "null_simulations": settings.model.null_simulations,
            "lod_simulations": settings.model.lod_simulations,
            "seed": settings.model.seed,
        },
        "loci": [],
        "genomflow_version": __version__,
    }


def _indeterminate(
    result: dict[str, Any], reason: str, excluded: Sequence[bg.Exclusion]
) -> dict[str, Any]:
    result["reason"] = reason
    result["loci_excluded"] = [{"locus": x.locus, "reason": x.reason} for x in excluded]
    return result


def _call_fields(call: model.Call) -> dict[str, Any]:
    return {
        "status": call.status.value,
        "detected": call.detected,
        "reason": call.reason,
        "tumour_fraction": _sig(call.tumour_fraction),
        "tumour_fraction_ppm": _sig(call.tumour_fraction * 1e6),
        "ci_low": _sig(call.ci_low),
        "ci_high": _sig(call.ci_high),
        "p_value": _sig(max(call.p_value, np.finfo(float).tiny)),
        "p_value_method": call.p_value_method.value,
        "lr_statistic": _sig(call.lr_statistic),
        "lod95": _sig(call.lod95),
        "poisson_limit": _sig(call.poisson_limit),
        "informative_molecules": call.informative_molecules,
        "mutant_molecules": call.mutant_molecules,
        "expected_background_molecules": _sig(call.expected_background_molecules),
        "loci_used": call.loci,
    }


def _locus_rows(tracked: _Tracked, purity: float | None) -> list[dict[str, Any]]:
    """One row per locus; its background is the rate of its molecules' kinds, weighted by
    their molecules (the rate of each kind under ``kinds``)."""
    rows = []
    by_locus: dict[int, list[_Row]] = {}
    for row in _rows(tracked):
        by_locus.setdefault(row.locus, []).append(row)
    for i, locus in enumerate(tracked.loci):
        tally = tracked.counts[i]
        kind_rows = by_locus.get(i, [])
        molecules = sum(r.ref + r.alt for r in kind_rows)
        rate = sum((r.ref + r.alt) * r.rate.rate for r in kind_rows) / molecules
        rows.append(
            {
                "locus": locus.key,
                "class": tracked.classes[i][0],
                "context": tracked.classes[i][1],
                "tumour_vaf": _sig(locus.tumour_vaf),
                "f": _sig(tumour_allele_fraction(locus.tumour_vaf, purity)),
                "ref": tally.ref,
                "alt": tally.alt,
                "other": tally.other,
                "discordant": tally.discordant,
                "low_quality": tally.low_quality,
                "background": _sig(max(rate, model.MIN_BACKGROUND)),
                "background_source": kind_rows[0].rate.source if kind_rows else None,
                "kinds": {
                    r.kind: {"ref": r.ref, "alt": r.alt, "background": _sig(r.rate.rate)}
                    for r in kind_rows
                },
            }
        )
    return rows


def validate_result(result: dict[str, Any], source: str) -> None:
    """Check a result against ``workflow/schemas/ctdna.schema.yaml``."""
    errors = sorted(
        Draft202012Validator(load_schema(SCHEMA)).iter_errors(result), key=lambda e: list(e.path)
    )
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "(top)"
        raise GenomflowError(f"{source}: invalid ctDNA result at {where}: {errors[0].message}")


def write_result(path: Path, result: dict[str, Any]) -> None:
    """Validate and write a result atomically."""
    validate_result(result, str(path))
    atomic.write_text(path, json.dumps(result, indent=1, allow_nan=False) + "\n")
