"""Structural variants and copy-number segments in the knowledge database: loading and
``genomflow kb region`` with the small-count suppression of ``kb variant``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from genomflow.errors import GenomflowError
from genomflow.kb.db import make_engine
from genomflow.kb.loader import load_reports
from genomflow.kb.queries import format_region, parse_region, region_report
from genomflow.report.build import write_json
from tests.kb.synthetic import SyntheticSample, write_synthetic_report


def amplification(chrom: str) -> dict[str, Any]:
    return {
        "id": f"{chrom}:1000-5000:DUP", "source": "cnv", "chrom": chrom, "start": 1000,
        "end": 5000, "svtype": "DUP", "length": 4001, "genes": ["GFB2"], "genotype": None,
        "copy_number": 7, "log2": 1.2, "call": "amplification", "coding": False,
        "filters": ["PASS"],
    }  # fmt: skip


def deletion(chrom: str) -> dict[str, Any]:
    return {
        "id": f"{chrom}:2000-2600:DEL", "source": "sv", "chrom": chrom, "start": 2000,
        "end": 2600, "svtype": "DEL", "length": -600, "genes": [], "genotype": "0/1",
        "copy_number": None, "log2": None, "call": None, "coding": False, "filters": ["PASS"],
    }  # fmt: skip


def reports(tmp_path: Path) -> tuple[list[Path], str]:
    paths = []
    chrom = ""
    for index in range(6):
        who = SyntheticSample(f"S{index}", f"PAT-{index:04d}", type="tumour", assay="panel",
                              panel="gf-onco-v1")  # fmt: skip
        path = write_synthetic_report(tmp_path / who.sample, who, [])
        report = json.loads(path.read_text())
        chrom = report["provenance"]["reference"]["contigs"][0]["name"]
        report["structural_variants"] = [amplification(chrom)]
        if index == 0:
            report["structural_variants"].append(deletion(chrom))
        write_json(report, path)
        paths.append(path)
    return paths, chrom


def test_region_lists_overlapping_events_with_small_counts_suppressed(
    db_url: str, tmp_path: Path
) -> None:
    paths, chrom = reports(tmp_path)
    engine = make_engine(db_url)
    try:
        assert [r.status for r in load_reports(engine, paths)] == ["loaded"] * 6
        events = region_report(engine, f"{chrom}:2500-3000")
        assert [(e.source, e.svtype, e.call, e.carriers) for e in events] == [
            ("cnv", "DUP", "amplification", 6),
            ("sv", "DEL", "", None),
        ]
        text = format_region(f"{chrom}:2500-3000", events, sample_level=False)
        assert "<5" in text and "amplification" in text
        exact = region_report(engine, f"{chrom}:2500-3000", sample_level=True)
        assert [(e.svtype, e.carriers) for e in exact] == [("DUP", 6), ("DEL", 1)]
        assert exact[1].samples[0]["sample"] == "S0" and exact[1].samples[0]["genotype"] == "0/1"
        assert region_report(engine, f"{chrom}:5001-9000") == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("spec", ["chr1", "chr1:10", "chr1:20-10", "chr1:0-5"])
def test_a_bad_region_is_refused_with_the_form_expected(spec: str) -> None:
    with pytest.raises(GenomflowError, match=r"region|START"):
        parse_region(spec)
