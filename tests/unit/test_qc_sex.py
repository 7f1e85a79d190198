"""Sex inferred from X and Y coverage and checked against the declared sex."""

from __future__ import annotations

import pytest

from genomflow.config import resolve
from genomflow.qc.checks import Status
from genomflow.qc.metrics import SexCoverage
from genomflow.qc.sex import SexCutoffs, check_sex, infer_sex

CUTOFFS = SexCutoffs.from_config(resolve({"reference": {"fasta": "r.fa"}})["qc"]["sex"])


def test_cutoffs_come_from_the_schema_defaults() -> None:
    assert SexCutoffs() == CUTOFFS


@pytest.mark.parametrize(
    ("x", "y", "sex", "karyotype"),
    [
        (0.50, 0.50, "male", "XY"),
        (0.48, 0.22, "male", "XY"),  # a real chrY: gaps lower its mean
        (1.00, 0.00, "female", "XX"),
        (0.97, None, "female", "XX"),  # no Y reads at all: mosdepth leaves chrY out
        (0.95, 0.03, "female", "XX"),  # a few mismapped reads on Y
        (0.50, 0.00, "ambiguous", "X0"),  # loss of Y (tumours) or Turner
        (1.00, 0.50, "ambiguous", "XXY"),  # Klinefelter
        (0.72, 0.00, "ambiguous", "X?0"),  # mosaic or contaminated
        (0.50, 0.07, "ambiguous", "XY?"),
    ],
)
def test_infer_sex(x: float, y: float | None, sex: str, karyotype: str) -> None:
    call = infer_sex(SexCoverage(30.0, x, y), CUTOFFS)
    assert (call.sex, call.karyotype) == (sex, karyotype)


def test_matching_sex_passes() -> None:
    check = check_sex("S1", "male", SexCoverage(30.0, 0.5, 0.5), CUTOFFS)
    assert check.status is Status.PASS
    assert check.value == "male (XY: X/autosomes 0.50, Y/autosomes 0.50)"
    assert check.reason == ""


def test_wrong_declared_sex_fails_naming_both() -> None:
    check = check_sex("RD003", "male", SexCoverage(25.0, 1.0, None), CUTOFFS)
    assert check.status is Status.FAIL
    assert check.reason == (
        "sex: declared male, coverage shows female (XX: X/autosomes 1.00, Y/autosomes NA)"
    )


@pytest.mark.parametrize(
    ("declared", "coverage", "reason"),
    [
        ("unknown", SexCoverage(30.0, 1.0, 0.0), "sex: not declared, coverage shows female"),
        ("male", SexCoverage(30.0, 0.5, 0.0), "sex: declared male, coverage shows ambiguous (X0"),
        ("female", SexCoverage(0.05, 1.0, 0.0), "sex: autosomal depth 0.05x is too low"),
    ],
)
def test_undecided_sex_warns(declared: str, coverage: SexCoverage, reason: str) -> None:
    check = check_sex("S1", declared, coverage, CUTOFFS)
    assert check.status is Status.WARN
    assert check.reason.startswith(reason)


def test_no_coverage_is_not_assessed() -> None:
    assert check_sex("S1", "male", None, CUTOFFS).status is Status.NA


def test_reference_without_x_says_what_is_missing() -> None:
    """Issue #14: a 30x sample on a one-chromosome reference was said to have too low a
    depth; the reason must name the missing X chromosome."""
    from genomflow.qc.metrics import SexCoverage
    from genomflow.qc.sex import SexCutoffs, check_sex

    check = check_sex("S1", "female", SexCoverage(30.02, None, None), SexCutoffs())
    assert check.reason == (
        "sex: the reference has no X chromosome, so coverage cannot show the sex "
        "(autosomal depth 30.02x)"
    )
    assert "too low" not in check.reason
