"""Germline small variants against a truth: SNV/indel recall, precision and genotype
concordance of a called VCF (``genomflow evaluate germline``; the somatic counterpart, recall
by VAF band, is :mod:`genomflow.somatic.evaluate`).

Both VCFs are reduced to one sample and normalised the same way with bcftools
(``view -s SAMPLE -c1 | norm -f REF -m -any``: keep sites where the sample carries a
non-reference allele, split multi-allelic records, left-align indels). Variants are then
matched by their normalised ``(chrom, pos, ref, alt)`` key. This is an exact-match
comparison, not a haplotype-aware one (as hap.py/vcfeval are): differently represented
complex variants that normalisation cannot reconcile count as one FP plus one FN.

Decisions:

* A record counts for the sample when its split genotype contains the alternate allele
  (``0/1``, ``1/0``, ``1/1``, ``1``, ``0|1``, ``./1`` ...). A ``1/2`` genotype becomes ``1/0``
  and ``0/1`` on the two split records, i.e. two heterozygous records.
* With ``pass_only``, a *call* counts only if its FILTER is ``PASS`` or missing (``.``).
  Truth records are used whatever their FILTER.
* Classes: ``snv`` (REF and ALT one base), ``indel`` (lengths differ) and ``other``
  (equal lengths longer than one base: MNPs, which ``norm -m -any`` does not decompose).
  ``other`` is reported separately and is not mixed into the SNV numbers.
* Star (``*``) and symbolic (``<DEL>``, ``<NON_REF>``, breakend) alleles are skipped.
* Zygosity: ``hom_alt`` when every allele of the genotype is the alternate allele (so a
  haploid ``1`` equals ``1/1``), ``het`` otherwise; phasing is ignored. Genotype
  concordance is measured over true positives only.
* Recall, precision, F1 and genotype concordance are ``None`` (JSON ``null``) when their
  denominator is 0: undefined rather than a flattering 1.0. F1 is 0.0 when both recall
  and precision are 0.
* ``regions`` (BED, 0-based half-open) keeps variants whose normalised POS lies in an
  interval; it is applied after normalisation to both sets, so a variant left-aligned
  into or out of a region is judged by its normalised position.
"""

from __future__ import annotations

import argparse
import bisect
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import pysam

from genomflow.errors import GenomflowError
from genomflow.intervals import merge_spans, read_bed

BCFTOOLS = "bcftools"


class VariantClass(StrEnum):
    SNV = "snv"
    INDEL = "indel"
    OTHER = "other"


class Zygosity(StrEnum):
    HET = "het"
    HOM_ALT = "hom_alt"


@dataclass(frozen=True, order=True)
class VariantKey:
    """A normalised biallelic variant."""

    chrom: str
    pos: int
    ref: str
    alt: str

    def __str__(self) -> str:
        return f"{self.chrom}:{self.pos}:{self.ref}:{self.alt}"

    @property
    def variant_class(self) -> VariantClass:
        return classify(self.ref, self.alt)


@dataclass(frozen=True)
class GenotypeMismatch:
    """A true positive whose called zygosity differs from the truth."""

    key: VariantKey
    truth: Zygosity
    call: Zygosity

    def __str__(self) -> str:
        return f"{self.key} truth={self.truth} call={self.call}"


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class ClassMetrics:
    """Counts and rates for one variant class."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    gt_concordant: int = 0
    false_negatives: tuple[VariantKey, ...] = ()
    false_positives: tuple[VariantKey, ...] = ()
    genotype_mismatches: tuple[GenotypeMismatch, ...] = ()

    @property
    def gt_discordant(self) -> int:
        return self.tp - self.gt_concordant

    @property
    def recall(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def precision(self) -> float | None:
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f1(self) -> float | None:
        recall, precision = self.recall, self.precision
        if recall is None or precision is None:
            return None
        if recall + precision == 0:
            return 0.0
        return 2 * recall * precision / (recall + precision)

    @property
    def genotype_concordance(self) -> float | None:
        return _ratio(self.gt_concordant, self.tp)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "recall": self.recall,
            "precision": self.precision,
            "f1": self.f1,
            "genotype_concordance": self.genotype_concordance,
            "gt_concordant": self.gt_concordant,
            "gt_discordant": self.gt_discordant,
            "false_negatives": [str(k) for k in self.false_negatives],
            "false_positives": [str(k) for k in self.false_positives],
            "genotype_mismatches": [
                {"variant": str(m.key), "truth": str(m.truth), "call": str(m.call)}
                for m in self.genotype_mismatches
            ],
        }


@dataclass(frozen=True)
class Evaluation:
    """Result of :func:`compare`."""

    truth_sample: str
    call_sample: str
    pass_only: bool
    snv: ClassMetrics
    indel: ClassMetrics
    other: ClassMetrics = field(default_factory=ClassMetrics)

    def by_class(self) -> dict[VariantClass, ClassMetrics]:
        return {
            VariantClass.SNV: self.snv,
            VariantClass.INDEL: self.indel,
            VariantClass.OTHER: self.other,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "truth_sample": self.truth_sample,
            "call_sample": self.call_sample,
            "pass_only": self.pass_only,
            **{str(cls): metrics.to_dict() for cls, metrics in self.by_class().items()},
        }

    def table(self) -> str:
        """A small fixed-width text table, one row per class."""
        header = ("class", "TP", "FP", "FN", "recall", "precision", "F1", "GT_concordance")
        rows: list[tuple[str, ...]] = [header]
        for cls, m in self.by_class().items():
            rates = (m.recall, m.precision, m.f1, m.genotype_concordance)
            rows.append((str(cls), str(m.tp), str(m.fp), str(m.fn), *map(_fmt_rate, rates)))
        widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
        return "\n".join(
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(row, widths, strict=True))
            )
            for row in rows
        )


def _fmt_rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def classify(ref: str, alt: str) -> VariantClass:
    if len(ref) != len(alt):
        return VariantClass.INDEL
    return VariantClass.SNV if len(ref) == 1 else VariantClass.OTHER


def zygosity(genotype: Sequence[int | None]) -> Zygosity | None:
    """Zygosity of a split (biallelic) genotype, ``None`` when it lacks the alt allele."""
    if 1 not in genotype:
        return None
    return Zygosity.HOM_ALT if all(allele == 1 for allele in genotype) else Zygosity.HET


# --------------------------------------------------------------------------- normalisation


def _run_checked(cmd: list[str], label: Path, **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
    try:
        result = subprocess.run(cmd, capture_output=True, check=False, **kwargs)
    except FileNotFoundError as err:
        raise GenomflowError(f"{label}: cannot run {cmd[0]!r}: {err}") from err
    if result.returncode != 0:
        raise GenomflowError(_bcftools_failure(label, cmd, result.stderr))
    return result


def _bcftools_failure(label: Path, cmd: list[str], stderr: bytes) -> str:
    text = stderr.decode(errors="replace").strip() or "(no message)"
    return f"{label}: {' '.join(cmd[:2])} failed: {text}"


def normalise(vcf: Path, reference: Path, out: Path, sample: str | None = None) -> Path:
    """Write ``vcf`` split and left-aligned against ``reference`` to ``out`` (bgzipped+.tbi).

    With ``sample``, only that sample is kept and only sites where it carries a
    non-reference allele (``bcftools view -s SAMPLE -c1``).
    """
    for path in (vcf, reference):
        if not path.is_file():
            raise GenomflowError(f"{path}: no such file")
    view = [BCFTOOLS, "view", "--no-version", "-Ou"]
    if sample is not None:
        view += ["-s", sample, "-c1"]
    view.append(str(vcf))
    norm = [BCFTOOLS, "norm", "--no-version", "-f", str(reference), "-m", "-any"]
    norm += ["-Oz", "-o", str(out), "-"]
    _pipe(view, norm, vcf)
    _run_checked([BCFTOOLS, "index", "-t", "-f", str(out)], out)
    return out


def _pipe(first: list[str], second: list[str], label: Path) -> None:
    """Run ``first | second``; raise naming ``label`` if either fails."""
    with tempfile.TemporaryFile() as first_err:
        try:
            proc = subprocess.Popen(first, stdout=subprocess.PIPE, stderr=first_err)
        except FileNotFoundError as err:
            raise GenomflowError(f"{label}: cannot run {first[0]!r}: {err}") from err
        stdout: IO[bytes] | None = proc.stdout
        try:
            second_result = subprocess.run(second, stdin=stdout, capture_output=True, check=False)
        finally:
            if stdout is not None:
                stdout.close()
            proc.wait()
        if proc.returncode != 0:
            first_err.seek(0)
            raise GenomflowError(_bcftools_failure(label, first, first_err.read()))
    if second_result.returncode != 0:
        raise GenomflowError(_bcftools_failure(label, second, second_result.stderr))


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class Regions:
    """Merged BED intervals per chromosome, 0-based half-open."""

    starts: Mapping[str, tuple[int, ...]]
    ends: Mapping[str, tuple[int, ...]]

    def contains(self, chrom: str, pos: int) -> bool:
        """Whether 1-based ``pos`` lies in an interval."""
        starts = self.starts.get(chrom)
        if not starts:
            return False
        i = bisect.bisect_right(starts, pos - 1) - 1
        return i >= 0 and pos - 1 < self.ends[chrom][i]


def read_regions(path: Path) -> Regions:
    """The intervals of a BED (:func:`genomflow.intervals.read_bed`), merged per contig."""
    intervals: dict[str, list[tuple[int, int]]] = {}
    for record in read_bed(path, what="regions BED"):
        intervals.setdefault(record.contig, []).append((record.start, record.end))
    merged = {chrom: merge_spans(spans) for chrom, spans in intervals.items()}
    return Regions(
        starts={c: tuple(s for s, _ in spans) for c, spans in merged.items()},
        ends={c: tuple(e for _, e in spans) for c, spans in merged.items()},
    )


def _is_pass(record: pysam.VariantRecord) -> bool:
    keys = list(record.filter.keys())
    return not keys or keys == ["PASS"]


def _records(path: Path) -> Iterator[pysam.VariantRecord]:
    try:
        with pysam.VariantFile(str(path)) as vcf:
            yield from vcf
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF: {err}") from err


def read_variants(
    path: Path, *, pass_only: bool, regions: Regions | None = None
) -> dict[VariantKey, Zygosity]:
    """Variants carried by the single sample of a normalised VCF, with their zygosity."""
    variants: dict[VariantKey, Zygosity] = {}
    for record in _records(path):
        alts = record.alts
        if not alts or len(alts) != 1 or alts[0] == "*" or alts[0].startswith("<"):
            continue
        if "[" in alts[0] or "]" in alts[0] or (pass_only and not _is_pass(record)):
            continue
        zyg = zygosity(tuple(record.samples[0]["GT"] or ()))
        if zyg is None:
            continue
        key = VariantKey(str(record.chrom), int(record.pos), str(record.ref), str(alts[0]))
        if regions is not None and not regions.contains(key.chrom, key.pos):
            continue
        variants.setdefault(key, zyg)
    return variants


def vcf_samples(path: Path) -> list[str]:
    try:
        with pysam.VariantFile(str(path)) as vcf:
            return [str(s) for s in vcf.header.samples]
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF header: {err}") from err


def _resolve_sample(path: Path, sample: str | None) -> str:
    samples = vcf_samples(path)
    if sample is None:
        if len(samples) != 1:
            raise GenomflowError(
                f"{path}: has {len(samples)} samples ({', '.join(samples) or 'none'}); "
                "name the one to evaluate"
            )
        return samples[0]
    if sample not in samples:
        raise GenomflowError(
            f"{path}: no sample {sample!r} (samples: {', '.join(samples) or 'none'})"
        )
    return sample


# --------------------------------------------------------------------------- comparison


def score(
    truth: Mapping[VariantKey, Zygosity], calls: Mapping[VariantKey, Zygosity]
) -> dict[VariantClass, ClassMetrics]:
    """Metrics per class for two sets of normalised variants."""
    return {
        cls: _score_class(
            {k: z for k, z in truth.items() if k.variant_class is cls},
            {k: z for k, z in calls.items() if k.variant_class is cls},
        )
        for cls in VariantClass
    }


def _score_class(
    truth: Mapping[VariantKey, Zygosity], calls: Mapping[VariantKey, Zygosity]
) -> ClassMetrics:
    shared = truth.keys() & calls.keys()
    mismatches = tuple(
        GenotypeMismatch(key, truth[key], calls[key])
        for key in sorted(shared)
        if truth[key] != calls[key]
    )
    return ClassMetrics(
        tp=len(shared),
        fp=len(calls.keys() - shared),
        fn=len(truth.keys() - shared),
        gt_concordant=len(shared) - len(mismatches),
        false_negatives=tuple(sorted(truth.keys() - shared)),
        false_positives=tuple(sorted(calls.keys() - shared)),
        genotype_mismatches=mismatches,
    )


def compare(
    truth: Path,
    calls: Path,
    reference: Path,
    *,
    truth_sample: str,
    call_sample: str | None = None,
    regions: Path | None = None,
    pass_only: bool = True,
) -> Evaluation:
    """Compare ``call_sample`` of ``calls`` with ``truth_sample`` of ``truth``.

    ``call_sample`` may be omitted when ``calls`` has exactly one sample.
    """
    truth_sample = _resolve_sample(truth, truth_sample)
    call_sample = _resolve_sample(calls, call_sample)
    bed = read_regions(regions) if regions is not None else None
    with tempfile.TemporaryDirectory(prefix="genomflow-evaluate-") as tmp:
        norm_truth = normalise(truth, reference, Path(tmp) / "truth.vcf.gz", truth_sample)
        norm_calls = normalise(calls, reference, Path(tmp) / "calls.vcf.gz", call_sample)
        truth_variants = read_variants(norm_truth, pass_only=False, regions=bed)
        call_variants = read_variants(norm_calls, pass_only=pass_only, regions=bed)
    metrics = score(truth_variants, call_variants)
    return Evaluation(
        truth_sample=truth_sample,
        call_sample=call_sample,
        pass_only=pass_only,
        snv=metrics[VariantClass.SNV],
        indel=metrics[VariantClass.INDEL],
        other=metrics[VariantClass.OTHER],
    )


# --------------------------------------------------------------------------- CLI


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser("evaluate", help="compare calls with a truth set")
    modes = parser.add_subparsers(dest="evaluate_mode", required=True)
    germline = modes.add_parser(
        "germline",
        help="SNV/indel recall, precision and genotype concordance of one sample",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    germline.add_argument("--truth", type=Path, required=True, metavar="VCF")
    germline.add_argument("--truth-sample", required=True, metavar="S")
    germline.add_argument("--calls", type=Path, required=True, metavar="VCF")
    germline.add_argument("--call-sample", metavar="S", help="default: the only sample of --calls")
    germline.add_argument("--reference", type=Path, required=True, metavar="FA")
    germline.add_argument("--regions", type=Path, metavar="BED")
    germline.add_argument(
        "--all-filters", action="store_true", help="count calls whatever their FILTER"
    )
    germline.add_argument("--out", type=Path, metavar="JSON", help="write metrics as JSON")
    germline.set_defaults(func=run_germline)


def run_germline(args: argparse.Namespace) -> int:
    evaluation = compare(
        args.truth,
        args.calls,
        args.reference,
        truth_sample=args.truth_sample,
        call_sample=args.call_sample,
        regions=args.regions,
        pass_only=not args.all_filters,
    )
    print(evaluation.table(), file=sys.stdout)
    if args.out is not None:
        out: Path = args.out
        try:
            out.write_text(json.dumps(evaluation.to_dict(), indent=2) + "\n")
        except OSError as err:
            raise GenomflowError(f"{out}: cannot write: {err.strerror}") from err
    return 0
