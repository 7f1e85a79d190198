"""genomflow sv table: the batch's SV and copy-number calls per sample for MultiQC."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.cnv import calls
from genomflow.sv.deliver import deliver
from tests.conftest import REPO
from tests.unit.test_sv import group_calls


def test_counts_pass_calls_by_type_and_the_rest(tmp_path: Path) -> None:
    group = group_calls(tmp_path / "group.vcf")
    deliver(group, "A", tmp_path / "A.sv.vcf.gz")  # DEL and BND, PASS
    deliver(group, "B", tmp_path / "B.sv.vcf.gz", somatic=True, unfiltered=True)
    fasta = tmp_path / "genome.fa"
    shutil.copy(REPO / "resources/testgenome/genome.fa", fasta)
    segments = [
        calls.Segment("chr1", 96954, 104047, ("GFB2",), 1.0, 6, "amplification", 10),
        calls.Segment("chr2", 40000, 46000, ("GFD4",), -1.3, 0, "deletion", 8),
        calls.Segment("chr2", 50000, 56000, (), 0.0, 2, "neutral", 8),
    ]
    context = calls.VcfContext("A", "pooled", "pooled from N", 0.6, "tumour")
    calls.write_vcf(tmp_path / "A.cnv.vcf.gz", segments, fasta, context)
    out = tmp_path / "structural_calls_mqc.json"
    vcfs = [str(tmp_path / f) for f in ("A.sv.vcf.gz", "B.sv.vcf.gz", "A.cnv.vcf.gz")]
    assert main(["sv", "table", "--vcf", *vcfs, "--out", str(out)]) == 0
    section = json.loads(out.read_text())
    assert section["plot_type"] == "table"
    a, b = section["data"]["A"], section["data"]["B"]
    assert (a["sv_DEL"], a["sv_BND"], a["sv_DUP"], a["sv_filtered"]) == (1, 1, 0, 0)
    assert (a["cnv_DUP"], a["cnv_DEL"], a["cnv_filtered"]) == (1, 1, 0)
    # B's tumour-only calls are not PASS (Unfiltered, LowQual): none counted by type
    assert (b["sv_DEL"], b["sv_DUP"], b["sv_filtered"]) == (0, 0, 2)
    assert "cnv_DEL" not in b
    assert set(section["headers"]) >= set(a)


def test_a_file_that_is_not_a_deliverable_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "A.somatic.vcf.gz"
    assert main(["sv", "table", "--vcf", str(other), "--out", str(tmp_path / "x_mqc.json")]) == 2
    assert f"{other}: not a .sv.vcf.gz or .cnv.vcf.gz deliverable" in capsys.readouterr().err
    assert not (tmp_path / "x_mqc.json").exists()
