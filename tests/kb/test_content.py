"""The loader checks what each call says before anything is written (issue #14): a call with
REF equal to ALT, a NaN, a VRS id of another allele, a genotype the sample's ploidy cannot
have. Each report is refused with a message naming it and the call; the database is unchanged
(the bad report never becomes the latest version)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from genomflow.errors import GenomflowError
from genomflow.kb.content import VRS_CHECKS, checked_indices
from genomflow.kb.db import make_engine
from genomflow.kb.loader import load_reports
from genomflow.report.validate import read_report
from tests.kb.helpers import POOL, counts
from tests.kb.synthetic import SyntheticSample, synthetic_variants, write_synthetic_report

WHO = SyntheticSample("RD003", "PAT-0003", sex="female")
Variant = dict[str, Any]


def _snv(variants: list[Variant]) -> int:
    return next(i for i, v in enumerate(variants) if len(v["ref"]) == len(v["alt"]) == 1)


def _load(url: str, report: Path, reference: Path | None = None) -> list[str]:
    engine = make_engine(url)
    try:
        return [r.status for r in load_reports(engine, [report], reference=reference)]
    finally:
        engine.dispose()


def _ref_is_alt(v: Variant) -> None:
    v["alt"] = v["ref"]


def _other_allele_id(v: Variant) -> None:
    v["alt"] = {"A": "C", "C": "G", "G": "T", "T": "A"}[v["alt"]]
    if v["alt"] == v["ref"]:
        v["alt"] = {"A": "C", "C": "G", "G": "T", "T": "A"}[v["alt"]]


def _haploid_on_autosome(v: Variant) -> None:
    v["chrom"], v["genotype"], v["zygosity"] = "chr1", "1", "hemi"


def _three_alleles(v: Variant) -> None:
    v["genotype"] = "0/1/1"


def _female_chr_y(v: Variant) -> None:
    v["chrom"] = "chrY"


CASES: dict[str, tuple[Callable[[Variant], None], str]] = {
    "ref-equals-alt": (_ref_is_alt, "REF equals ALT, not a variant"),
    "vrs-id-of-another-allele": (_other_allele_id, "is not the allele's (recomputed: ga4gh:VA."),
    "haploid-on-autosome": (_haploid_on_autosome, "haploid genotype '1' on chr1"),
    "three-alleles": (_three_alleles, "genotype '0/1/1' has 3 alleles"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_wrong_call_is_refused_and_nothing_written(tmp_path: Path, case: str) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    variants = synthetic_variants(POOL, 40, seed=3)
    good = write_synthetic_report(tmp_path / "v1", WHO, variants)
    assert _load(url, good) == ["loaded"]
    before = counts(url)

    mutate, message = CASES[case]
    report = json.loads(good.read_text())
    mutate(report["variants"][_snv(report["variants"])])
    bad = tmp_path / "v1" / "RD003.v2.report.json"
    bad.write_text(json.dumps(report))
    with pytest.raises(GenomflowError) as err:
        _load(url, bad)
    assert str(err.value).startswith(f"{bad}: germline call ")
    assert message in str(err.value)
    assert counts(url) == before


def test_nan_vaf_is_refused_before_it_becomes_the_latest_version(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    good = write_synthetic_report(tmp_path / "v1", WHO, synthetic_variants(POOL, 20, seed=4))
    assert _load(url, good) == ["loaded"]
    before = counts(url)
    text = good.read_text()
    vaf = json.loads(text)["variants"][0]["vaf"]
    bad = tmp_path / "v1" / "RD003.nan.report.json"
    bad.write_text(text.replace(f'"vaf": {json.dumps(vaf)}', '"vaf": NaN', 1))
    assert "NaN" in bad.read_text()
    with pytest.raises(GenomflowError, match="NaN is not a number JSON allows"):
        _load(url, bad)
    infinite = tmp_path / "v1" / "RD003.inf.report.json"
    infinite.write_text(text.replace(f'"vaf": {json.dumps(vaf)}', '"vaf": 1e999', 1))
    with pytest.raises(GenomflowError, match="1e999 is not a number JSON allows"):
        read_report(infinite)
    assert counts(url) == before


def test_female_call_on_y_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kb.sqlite'}"
    variants = synthetic_variants(POOL, 10, seed=5)
    good = write_synthetic_report(tmp_path / "a", WHO, variants)
    report = json.loads(good.read_text())
    report["provenance"]["reference"]["contigs"].append(
        {**report["provenance"]["reference"]["contigs"][0], "name": "chrY"}
    )
    _female_chr_y(report["variants"][0])
    good.write_text(json.dumps(report))
    with pytest.raises(GenomflowError, match="a call on chrY in a female sample"):
        _load(url, good)


def test_vrs_ids_are_checked_on_a_sample_of_a_large_report() -> None:
    picked = checked_indices(45_000)
    assert len(picked) <= VRS_CHECKS
    assert picked[0] == 0 and picked[-1] > 44_990 - picked.step
