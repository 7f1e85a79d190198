"""Somatic evaluation: recall by planted VAF band, precision, explained false positives."""

from __future__ import annotations

from genomflow.somatic.evaluate import (
    ARTEFACT,
    GERMLINE,
    NOISE,
    Planted,
    band_of,
    evaluate,
)


def planted(pos: int, vaf: float, ref: str = "A", alt: str = "G") -> Planted:
    return Planted(("chr1", pos, ref, alt), vaf, "plain")


def test_bands() -> None:
    assert [band_of(v) for v in (0.01, 0.02, 0.049, 0.05, 0.15, 0.2, 1.0)] == [
        "<2%",
        "2-5%",
        "2-5%",
        "5-10%",
        "10-20%",
        ">=20%",
        ">=20%",
    ]


def test_recall_precision_and_false_positive_reasons() -> None:
    truth = {
        p.key: p
        for p in (planted(1, 0.03), planted(2, 0.06), planted(3, 0.3), planted(4, 0.12, "A", "AT"))
    }
    calls = {
        ("chr1", 2, "A", "G"): 0.05,
        ("chr1", 3, "A", "G"): 0.28,
        ("chr1", 4, "A", "AT"): 0.1,
        ("chr1", 9, "C", "T"): 0.5,
        ("chr1", 10, "C", "T"): 0.06,
        ("chr1", 11, "C", "T"): 0.04,
    }
    result = evaluate(
        truth, calls, "T1", germline={("chr1", 9, "C", "T")}, artefacts={("chr1", 10, "C", "T")}
    )
    assert result.recall() == 0.75
    assert result.recall(min_vaf=0.1) == 1.0
    assert result.recall(min_vaf=0.1, cls="indel") == 1.0
    assert result.recall(max_vaf=0.05) == 0.0
    assert result.precision == 0.5
    assert [fp.reason for fp in result.false_positives] == [GERMLINE, ARTEFACT, NOISE]
    rows = {row["band"]: row for row in result.rows()}
    assert (rows["2-5%"]["snv_tp"], rows["2-5%"]["snv_fn"], rows["2-5%"]["fp"]) == (0, 1, 1)
    assert rows["all"]["indel_tp"] == 1
    table = result.table()
    assert "precision 0.500 (3 TP, 3 FP: 1 germline, 1 artefact, 1 other)" in table
    assert result.to_dict()["false_negatives"] == ["chr1:1:A:G VAF=0.03 plain"]
