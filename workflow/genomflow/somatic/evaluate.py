"""Compare somatic calls with a planted truth: recall by VAF band, precision, false positives.

The truth is a VCF with one sample column per tumour (``GT`` 0/1 where planted, ``FORMAT/VAF``
the planted allele fraction, ``INFO/CONTEXT`` where it was planted), as written by
``genomflow simulate cancer``. Calls are the ``PASS`` records of a somatic VCF. Both are
normalised (left-aligned, one ALT per record), so variants match on CHROM, POS, REF, ALT.

Recall is counted by the *planted* VAF band; a false positive is put in the band of its
*called* VAF and explained when possible: a germline variant of the patient (from a germline
truth VCF that has the tumour as a sample), a planted artefact, or noise.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pysam

from genomflow.atomic import write_text
from genomflow.errors import GenomflowError

Key = tuple[str, int, str, str]

#: VAF bands: (low, high, label); a VAF belongs to the band with low <= VAF < high.
BANDS: tuple[tuple[float, float, str], ...] = (
    (0.0, 0.02, "<2%"),
    (0.02, 0.05, "2-5%"),
    (0.05, 0.10, "5-10%"),
    (0.10, 0.20, "10-20%"),
    (0.20, 1.01, ">=20%"),
)
SNV, INDEL = "snv", "indel"
GERMLINE, ARTEFACT, NOISE = "germline", "artefact", "noise"


def band_of(vaf: float) -> str:
    """The label of the band holding ``vaf``.

    >>> band_of(0.05), band_of(0.4)
    ('5-10%', '>=20%')
    """
    for low, high, label in BANDS:
        if low <= vaf < high:
            return label
    return BANDS[-1][2]


def variant_class(key: Key) -> str:
    return SNV if len(key[2]) == 1 and len(key[3]) == 1 else INDEL


@dataclass(frozen=True)
class Planted:
    key: Key
    vaf: float
    context: str


@dataclass(frozen=True)
class FalsePositive:
    key: Key
    vaf: float
    reason: str


@dataclass
class SomaticEvaluation:
    """Outcome of :func:`evaluate` for one tumour."""

    tumour: str
    true_positives: list[Planted] = field(default_factory=list)
    false_negatives: list[Planted] = field(default_factory=list)
    false_positives: list[FalsePositive] = field(default_factory=list)

    def recall(
        self, min_vaf: float = 0.0, max_vaf: float = 1.01, cls: str | None = None
    ) -> float | None:
        """Recall over planted variants with ``min_vaf <= VAF < max_vaf`` (of a class)."""

        def chosen(items: Sequence[Planted]) -> int:
            return sum(
                1
                for p in items
                if min_vaf <= p.vaf < max_vaf and (cls is None or variant_class(p.key) == cls)
            )

        tp, fn = chosen(self.true_positives), chosen(self.false_negatives)
        return tp / (tp + fn) if tp + fn else None

    @property
    def precision(self) -> float | None:
        tp, fp = len(self.true_positives), len(self.false_positives)
        return tp / (tp + fp) if tp + fp else None

    def false_positives_by(self, reason: str) -> list[FalsePositive]:
        return [fp for fp in self.false_positives if fp.reason == reason]

    def rows(self) -> list[dict[str, Any]]:
        """One row per VAF band and one for all: TP/FN per class, recall, FP."""
        rows = []
        for low, high, label in (*BANDS, (0.0, 1.01, "all")):
            row: dict[str, Any] = {"band": label}
            for cls in (SNV, INDEL):
                tp = sum(
                    1
                    for p in self.true_positives
                    if low <= p.vaf < high and variant_class(p.key) == cls
                )
                fn = sum(
                    1
                    for p in self.false_negatives
                    if low <= p.vaf < high and variant_class(p.key) == cls
                )
                row[f"{cls}_tp"], row[f"{cls}_fn"] = tp, fn
                row[f"{cls}_recall"] = tp / (tp + fn) if tp + fn else None
            row["fp"] = sum(1 for fp in self.false_positives if low <= fp.vaf < high)
            rows.append(row)
        return rows

    def table(self) -> str:
        """A fixed-width table by VAF band, then precision and the false positives."""
        header = (
            "VAF band",
            "SNV TP/planted",
            "SNV recall",
            "indel TP/planted",
            "indel recall",
            "FP",
        )
        lines: list[tuple[str, ...]] = [header]
        for row in self.rows():
            lines.append(
                (
                    row["band"],
                    f"{row['snv_tp']}/{row['snv_tp'] + row['snv_fn']}",
                    _fmt(row["snv_recall"]),
                    f"{row['indel_tp']}/{row['indel_tp'] + row['indel_fn']}",
                    _fmt(row["indel_recall"]),
                    str(row["fp"]),
                )
            )
        widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
        text = [
            "  ".join(
                cell.ljust(w) if i == 0 else cell.rjust(w)
                for i, (cell, w) in enumerate(zip(line, widths, strict=True))
            )
            for line in lines
        ]
        reasons = {r: len(self.false_positives_by(r)) for r in (GERMLINE, ARTEFACT, NOISE)}
        text.append(
            f"precision {_fmt(self.precision)} ({len(self.true_positives)} TP, "
            f"{len(self.false_positives)} FP: {reasons[GERMLINE]} germline, "
            f"{reasons[ARTEFACT]} artefact, {reasons[NOISE]} other)"
        )
        return "\n".join(text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "tumour": self.tumour,
            "precision": self.precision,
            "recall": self.recall(),
            "bands": self.rows(),
            "false_negatives": [
                _describe(p.key) + f" VAF={p.vaf} {p.context}" for p in self.false_negatives
            ],
            "false_positives": [
                _describe(f.key) + f" AF={f.vaf} {f.reason}" for f in self.false_positives
            ],
        }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _describe(key: Key) -> str:
    return f"{key[0]}:{key[1]}:{key[2]}:{key[3]}"


def _records(path: Path) -> Iterator[pysam.VariantRecord]:
    try:
        with pysam.VariantFile(str(path)) as vcf:
            yield from vcf
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF: {err}") from err


def _keys(record: pysam.VariantRecord) -> Iterator[tuple[int, Key]]:
    for index, alt in enumerate(record.alts or (), start=1):
        yield index, (str(record.chrom), int(record.pos), str(record.ref), str(alt))


def read_truth(path: Path, tumour: str) -> dict[Key, Planted]:
    """Planted variants of ``tumour`` (its GT carries the allele)."""
    planted: dict[Key, Planted] = {}
    for record in _records(path):
        if tumour not in record.samples:
            raise GenomflowError(f"{path}: no sample {tumour!r}")
        call = record.samples[tumour]
        for index, key in _keys(record):
            if index in (call.get("GT") or ()):
                vaf = call.get("VAF")
                context = record.info.get("CONTEXT", "")
                planted[key] = Planted(key, float(vaf) if vaf is not None else 0.0, str(context))
    return planted


def read_calls(path: Path, tumour: str) -> dict[Key, float]:
    """PASS calls of a somatic VCF and the tumour's AF."""
    calls: dict[Key, float] = {}
    for record in _records(path):
        if list(record.filter.keys()) not in (["PASS"], []):
            continue
        af = record.samples[tumour].get("AF") if tumour in record.samples else None
        for index, key in _keys(record):
            value = af[index - 1] if isinstance(af, tuple) else af
            calls[key] = float(value) if value is not None else 0.0
    return calls


def read_carried(path: Path, sample: str | None = None) -> set[Key]:
    """Alleles of a VCF, or those a ``sample`` carries."""
    keys: set[Key] = set()
    for record in _records(path):
        gt = record.samples[sample].get("GT") if sample and sample in record.samples else None
        for index, key in _keys(record):
            if sample is None or (gt is not None and index in gt):
                keys.add(key)
    return keys


def evaluate(
    truth: Mapping[Key, Planted],
    calls: Mapping[Key, float],
    tumour: str,
    germline: set[Key] | None = None,
    artefacts: set[Key] | None = None,
) -> SomaticEvaluation:
    """Match calls to planted variants; explain the false positives."""
    result = SomaticEvaluation(tumour)
    for key, planted in sorted(truth.items()):
        (result.true_positives if key in calls else result.false_negatives).append(planted)
    for key, vaf in sorted(calls.items()):
        if key in truth:
            continue
        if germline and key in germline:
            reason = GERMLINE
        elif artefacts and key in artefacts:
            reason = ARTEFACT
        else:
            reason = NOISE
        result.false_positives.append(FalsePositive(key, vaf, reason))
    return result


def evaluate_files(
    truth: Path,
    calls: Path,
    tumour: str,
    germline: Path | None = None,
    artefacts: Path | None = None,
) -> SomaticEvaluation:
    """:func:`evaluate` on files (the germline truth read for ``tumour``'s genotypes)."""
    return evaluate(
        read_truth(truth, tumour),
        read_calls(calls, tumour),
        tumour,
        read_carried(germline, tumour) if germline else None,
        read_carried(artefacts) if artefacts else None,
    )


def _cmd_evaluate(args: argparse.Namespace) -> int:
    result = evaluate_files(args.truth, args.calls, args.tumour, args.germline, args.artefacts)
    print(f"{args.tumour}\n{result.table()}")
    if args.json:
        write_text(args.json, json.dumps(result.to_dict(), indent=2) + "\n")
    return 0


def add_cli(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Add ``evaluate`` under ``genomflow somatic``."""
    cmd = sub.add_parser("evaluate", help="recall by VAF band and precision against a truth")
    cmd.add_argument("--truth", type=Path, required=True, help="somatic truth VCF")
    cmd.add_argument("--calls", type=Path, required=True, help="somatic VCF (PASS = called)")
    cmd.add_argument("--tumour", required=True)
    cmd.add_argument("--germline", type=Path, default=None, help="germline truth VCF")
    cmd.add_argument("--artefacts", type=Path, default=None, help="artefact sites VCF")
    cmd.add_argument("--json", type=Path, default=None, help="also write the result as JSON")
    cmd.set_defaults(func=_cmd_evaluate)
