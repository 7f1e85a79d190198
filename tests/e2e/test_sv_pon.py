"""End to end: a tumour-only WGS tumour's SVs filtered against the batch's SV panel of
normals (delly filter -f somatic with the WGS normals as controls, sv.pon_min_normals).

The demo trio stands in: RD001 is declared a tumour-only tumour, its parents RD002 and RD003
are WGS normals of other patients, and sv.pon_min_normals is 2. RD001 carries the deletion
of its father RD002, the inversion of its mother RD003 and a de novo duplication: only the
duplication, carried by no normal, may come out PASS. (Coverage 30x/25x, purity 1.)
"""

from __future__ import annotations

from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_qc_config, edit_sheet, snakemake

pytestmark = pytest.mark.e2e

TRUTH = REPO / "resources" / "testgenome" / "truth" / "sv.vcf.gz"
VCF = "results/samples/RD001/RD001.sv.vcf.gz"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("sv-pon")
    config = demo_qc_config(
        workdir,
        samples=("RD001", "RD002", "RD003"),
        batch="e2e SV panel of normals",
        sv={"pon_min_normals": 2},
    )

    def tumour_only(row: dict[str, str]) -> None:
        row.update(family="", father="", mother="", hpo="")
        if row["sample"] == "RD001":
            row.update(type="tumour", purity="1.0")
        else:
            row.update(type="normal")

    edit_sheet(workdir / "samples.tsv", tumour_only)
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"), VCF)
    return workdir


def test_only_the_sv_no_normal_carries_passes(run: Path) -> None:
    with pysam.VariantFile(str(TRUTH)) as vcf:
        planted = [
            (r.chrom, r.pos, r.stop, r.info["SVTYPE"],
             any(a for s in ("RD002", "RD003") for a in r.samples[s]["GT"]))
            for r in vcf
        ]  # fmt: skip
    with pysam.VariantFile(str(run / VCF)) as vcf:
        meta = {r.key: r.value for r in vcf.header.records if r.value}
        called = [r for r in vcf if list(r.filter) == ["PASS"]]
    assert meta["sv_panel_of_normals"].startswith("RD002,RD003 ")
    assert "sv_warning" not in meta
    for contig, start, end, svtype, in_normals in planted:
        hits = [
            r for r in called
            if r.chrom == contig and r.info["SVTYPE"] == svtype
            and abs(r.pos - start) <= 100 and abs(r.stop - end) <= 100
        ]  # fmt: skip
        print(f"{svtype} {contig}:{start}-{end}: in a normal {in_normals}, PASS {len(hits)}")
        assert bool(hits) != in_normals
    assert len(called) <= 1 + 2  # the de novo duplication, at most two false calls
