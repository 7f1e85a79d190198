"""End to end: somatic SVs of a WGS tumour against its matched normal (delly filter -f
somatic), with no germline SV reported as somatic.

The demo trio stands in for a tumour/normal pair: RD001 is declared a tumour of RD003's
patient with RD003 as its matched normal. RD001 carries the deletion (from its father) and
the de novo duplication, which RD003 lacks: both must come out somatic; the inversion RD001
shares with RD003 is germline and must not. (Coverage 30x/25x, purity 1.)
"""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_qc_config, edit_sheet, snakemake

pytestmark = pytest.mark.e2e

TRUTH = REPO / "resources" / "testgenome" / "truth" / "sv.vcf.gz"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("sv-somatic")
    config = demo_qc_config(workdir, samples=("RD001", "RD003"), batch="e2e somatic SV")

    def pair(row: dict[str, str]) -> None:
        row.update(family="", father="", mother="", patient="PAT-0003", hpo="")
        if row["sample"] == "RD001":
            row.update(type="tumour", matched_normal="RD003", purity="1.0", sex="female")
        else:
            row.update(type="normal")

    edit_sheet(workdir / "samples.tsv", pair)
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def test_tumour_svs_absent_from_the_normal_are_somatic_and_shared_ones_are_not(
    run: Path,
) -> None:
    with pysam.VariantFile(str(TRUTH)) as vcf:
        planted = [(r.chrom, r.pos, r.stop, r.info["SVTYPE"], r.samples["RD003"]["GT"])
                   for r in vcf]  # fmt: skip
    path = run / "results" / "samples" / "RD001" / "RD001.sv.vcf.gz"
    with pysam.VariantFile(str(path)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        called = [r for r in vcf if list(r.filter) == ["PASS"]]
    assert meta["sv_origin"].startswith("somatic")
    for contig, start, end, svtype, normal_gt in planted:
        hits = [
            r for r in called
            if r.chrom == contig and r.info["SVTYPE"] == svtype
            and abs(r.pos - start) <= 100 and abs(r.stop - end) <= 100
        ]  # fmt: skip
        in_normal = sum(a or 0 for a in normal_gt) > 0
        print(f"{svtype} {contig}:{start}-{end}: in normal {in_normal}, somatic calls {len(hits)}")
        assert bool(hits) != in_normal
    assert len(called) <= 2 + 2  # the two somatic SVs, at most two false calls
