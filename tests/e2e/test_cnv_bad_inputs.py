"""End to end: copy number with too few normals for a reference and a tumour without purity.

CA001T (its purity removed from the sheet) and its matched normal CA001N, with
cnv.reference_min_normals 3: the panel gets a flat reference, and CA001T's copy numbers
cannot be corrected for purity. Both are said in the deliverables and the logs; nothing is
silently missing.
"""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_qc_config, edit_sheet, snakemake

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("cnv-bad")
    config = demo_qc_config(
        workdir, samples=("CA001T", "CA001N"), batch="e2e CNV bad inputs",
        cnv={"antitarget_avg_size": 5000, "reference_min_normals": 3},
    )  # fmt: skip

    def without_purity(row: dict[str, str]) -> None:
        if row["sample"] == "CA001T":
            row["purity"] = ""

    edit_sheet(workdir / "samples.tsv", without_purity)
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def test_too_few_normals_give_a_flat_reference_that_every_deliverable_names(run: Path) -> None:
    summary = json.loads((run / "results/cnv/cnvkit_reference/gf-onco-v1.json").read_text())
    assert summary["kind"] == "flat" and summary["normals"] == []
    assert "at least 3 needed" in summary["note"]
    for sample in ("CA001T", "CA001N"):
        vcf = run / "results" / "samples" / sample / f"{sample}.cnv.vcf.gz"
        with pysam.VariantFile(str(vcf)) as reader:
            meta = {r.key: r.value for r in reader.header.records if r.value}
        assert meta["cnv_reference"] == "flat"
        log = (run / "logs" / "cnv" / "genomflow_cnv" / f"{sample}.log").read_text()
        assert f"WARNING: {sample}: flat reference" in log
        assert (run / "results" / "samples" / sample / f"{sample}.cnv.tsv").is_file()


def test_a_tumour_without_purity_is_flagged_not_corrected(run: Path) -> None:
    vcf = run / "results" / "samples" / "CA001T" / "CA001T.cnv.vcf.gz"
    with pysam.VariantFile(str(vcf)) as reader:
        meta = {r.key: r.value for r in reader.header.records if r.value}
    assert meta["tumour_purity"].startswith("unknown")
    log = (run / "logs" / "cnv" / "genomflow_cnv" / "CA001T.log").read_text()
    assert "WARNING: CA001T: tumour without purity" in log
