"""Sex from X and Y coverage, checked against the sex declared in the sample sheet.

X and Y depth are taken relative to the autosomal depth: a male has one X (ratio ≈ 0.5) and
a Y (≈ 0.5 where Y is mappable, less over a whole real chrY with its gaps), a female two X
(≈ 1) and no Y (≈ 0). The cut-offs are ``qc.sex`` in the config:

* X copies: 2 when the X ratio is ≥ ``x_two_copies_min``, 1 when ≤ ``x_one_copy_max``,
  otherwise undecided;
* Y: present when the Y ratio is ≥ ``y_present_min``, absent when ≤ ``y_absent_max``,
  otherwise undecided.

Two X and no Y is female, one X and a Y male; anything else (XXY, X0 as after loss of Y in a
tumour, undecided ratios) is ``ambiguous``. The check is FAIL when the inferred sex is the
other one than declared, WARN when it is ambiguous, the sheet says ``unknown`` or there is too
little autosomal coverage to tell, and PASS otherwise. Panel samples are measured on their
off-target reads (:func:`genomflow.qc.metrics.offtarget_sex_coverage`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from genomflow.qc.checks import Check, Status
from genomflow.qc.metrics import SexCoverage

SEX_CHECK = "sex"
FEMALE, MALE, AMBIGUOUS, UNKNOWN = "female", "male", "ambiguous", "unknown"


@dataclass(frozen=True)
class SexCutoffs:
    """The cut-offs of ``qc.sex`` (see the module documentation)."""

    x_two_copies_min: float = 0.8
    x_one_copy_max: float = 0.65
    y_present_min: float = 0.1
    y_absent_max: float = 0.05
    min_autosomal_depth: float = 0.1

    @classmethod
    def from_config(cls, sex_config: Mapping[str, Any]) -> SexCutoffs:
        return cls(**{key: float(value) for key, value in sex_config.items()})


@dataclass(frozen=True)
class SexCall:
    """The inferred sex and the karyotype-like description it is based on (``XY``, ``XX``...)."""

    sex: str
    karyotype: str


def infer_sex(coverage: SexCoverage, cutoffs: SexCutoffs) -> SexCall:
    """The sex that X and Y coverage show.

    >>> infer_sex(SexCoverage(30.0, 0.5, 0.49), SexCutoffs())
    SexCall(sex='male', karyotype='XY')
    >>> infer_sex(SexCoverage(30.0, 0.99, 0.0), SexCutoffs())
    SexCall(sex='female', karyotype='XX')
    >>> infer_sex(SexCoverage(30.0, 0.5, 0.01), SexCutoffs())
    SexCall(sex='ambiguous', karyotype='X0')
    """
    if coverage.autosomal_depth < cutoffs.min_autosomal_depth or coverage.x_ratio is None:
        return SexCall(UNKNOWN, "?")
    x = coverage.x_ratio
    y = 0.0 if coverage.y_ratio is None else coverage.y_ratio
    x_part = "XX" if x >= cutoffs.x_two_copies_min else "X" if x <= cutoffs.x_one_copy_max else "X?"
    y_part = "Y" if y >= cutoffs.y_present_min else "0" if y <= cutoffs.y_absent_max else "Y?"
    karyotype = f"{x_part}{y_part}" if x_part != "XX" or y_part != "0" else "XX"
    if karyotype == "XX":
        return SexCall(FEMALE, karyotype)
    if karyotype == "XY":
        return SexCall(MALE, karyotype)
    return SexCall(AMBIGUOUS, karyotype)


def _ratios(coverage: SexCoverage) -> str:
    def shown(value: float | None) -> str:
        return "NA" if value is None else f"{value:.2f}"

    return f"X/autosomes {shown(coverage.x_ratio)}, Y/autosomes {shown(coverage.y_ratio)}"


def _unknown_reason(coverage: SexCoverage, cutoffs: SexCutoffs) -> str:
    """Why the sex could not be inferred: what is missing, said as it is.

    >>> print(_unknown_reason(SexCoverage(30.02, None, None), SexCutoffs()))
    sex: the reference has no X chromosome, so coverage cannot show the sex (autosomal depth
    30.02x)
    >>> _unknown_reason(SexCoverage(0.01, 0.5, 0.5), SexCutoffs())
    'sex: autosomal depth 0.01x is too low to infer the sex'
    """
    if coverage.autosomal_depth < cutoffs.min_autosomal_depth:
        return f"sex: autosomal depth {coverage.autosomal_depth:.2f}x is too low to infer the sex"
    return (
        "sex: the reference has no X chromosome, so coverage cannot show the sex "
        f"(autosomal depth {coverage.autosomal_depth:.2f}x)"
    )


def check_sex(
    sample: str, declared: str, coverage: SexCoverage | None, cutoffs: SexCutoffs
) -> Check:
    """The sex check of ``sample``: FAIL names the declared and the inferred sex.

    >>> check = check_sex("S1", "female", SexCoverage(30.0, 0.5, 0.5), SexCutoffs())
    >>> check.status.value, check.reason
    ('FAIL', 'sex: declared female, coverage shows male (XY: X/autosomes 0.50, Y/autosomes 0.50)')
    """
    threshold = (
        f"XX if X ≥ {cutoffs.x_two_copies_min:g}, X if X ≤ {cutoffs.x_one_copy_max:g}, "
        f"Y if Y ≥ {cutoffs.y_present_min:g}, no Y if Y ≤ {cutoffs.y_absent_max:g}"
    )
    if coverage is None:
        return Check(sample, SEX_CHECK, Status.NA, "", threshold, "sex: no coverage data")
    call = infer_sex(coverage, cutoffs)
    value = f"{call.sex} ({call.karyotype}: {_ratios(coverage)})"
    if call.sex == UNKNOWN:
        return Check(
            sample, SEX_CHECK, Status.WARN, value, threshold, _unknown_reason(coverage, cutoffs)
        )
    shows = f"coverage shows {call.sex} ({call.karyotype}: {_ratios(coverage)})"
    if declared == UNKNOWN:
        return Check(
            sample, SEX_CHECK, Status.WARN, value, threshold, f"sex: not declared, {shows}"
        )
    if call.sex == AMBIGUOUS:
        return Check(
            sample, SEX_CHECK, Status.WARN, value, threshold, f"sex: declared {declared}, {shows}"
        )
    if call.sex != declared:
        return Check(
            sample, SEX_CHECK, Status.FAIL, value, threshold, f"sex: declared {declared}, {shows}"
        )
    return Check(sample, SEX_CHECK, Status.PASS, value, threshold)
