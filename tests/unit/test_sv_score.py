"""genomflow.sv.score: calls against planted truth (breakpoints within 100 bp, or reciprocal
overlap >= 0.5 for events of 10 kb or more)."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomflow.errors import GenomflowError
from genomflow.sv.deliver import deliver
from genomflow.sv.score import Event, read_calls, read_truth, score
from tests.conftest import REPO
from tests.unit.test_sv import group_calls

TRUTH = REPO / "resources" / "testgenome" / "truth" / "sv.vcf.gz"


def test_recall_and_precision_count_events_and_calls() -> None:
    truth = [Event("c", 1000, 3200, "DEL"), Event("c", 8000, 9000, "DUP"),
             Event("c", 20_000, 40_000, "DEL")]  # fmt: skip
    calls = [
        Event("c", 1040, 3170, "DEL"),  # breakpoints within 100 bp
        Event("c", 7990, 9010, "DEL"),  # the right place, the wrong type
        Event("c", 24_000, 41_000, "DEL"),  # large: reciprocal overlap 0.8
        Event("c", 24_000, 41_000, "DEL"),  # a second record of it (as an inversion's two)
        Event("d", 1040, 3170, "DEL"),  # another contig
    ]
    result = score(calls, truth)
    assert result.found == (truth[0], truth[2]) and result.missed == (truth[1],)
    assert (len(result.true_calls), len(result.false_calls)) == (3, 2)
    assert result.recall == pytest.approx(2 / 3) and result.precision == pytest.approx(3 / 5)
    assert result.summary() == "recall 2/3, precision 3/5"
    # a small event needs its breakpoints: 50% overlap is not enough under 10 kb
    assert not score([Event("c", 2100, 4300, "DEL")], truth[:1]).found
    assert score([], []).recall is None and score([], []).precision is None


def test_truth_and_calls_are_read_from_vcfs(tmp_path: Path) -> None:
    assert [e.svtype for e in read_truth(TRUTH, "RD001")] == ["DEL", "INV", "DUP"]
    assert [e.svtype for e in read_truth(TRUTH, "RD002")] == ["DEL"]
    vcf = tmp_path / "A.sv.vcf.gz"
    deliver(group_calls(tmp_path / "group.vcf"), "A", vcf)
    assert read_calls(vcf) == [Event("chr1", 1000, 3200, "DEL"), Event("chr1", 20000, 20000,
                                                                      "BND")]  # fmt: skip
    with pytest.raises(GenomflowError, match="no sample 'Z'"):
        read_truth(TRUTH, "Z")
    with pytest.raises(GenomflowError, match="cannot read VCF"):
        read_calls(tmp_path / "missing.vcf.gz")
