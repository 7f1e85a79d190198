"""Rare disease (#19) end to end on the test genome's trio: calling, csq, ClinVar, identity,
then the ranked candidates, the proband's report section and the MultiQC section.

The test genome's genes have synthetic names (GF*) that no HPO term selects, so the
phenotype genes come from the shipped panel resources/gene_panels/testgenome.tsv; the
phenotype-driven (HPO) ranking is tested on a generated trio in tests/unit/test_rare_rank.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import REPO, demo_qc_config, snakemake

pytestmark = pytest.mark.e2e

TRIO = ("RD001", "RD002", "RD003")
CANDIDATES = "results/families/FAM001/FAM001.candidates.tsv"


@pytest.fixture(scope="module")
def rare_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("rare")
    config = demo_qc_config(
        workdir,
        samples=TRIO,
        rare_disease={
            "panels": {"FAM001": ["testgenome"]},
            "panels_dir": str(REPO / "resources" / "gene_panels"),
        },
    )
    sheet = (workdir / "samples.tsv").read_text().splitlines()
    # The demo sheet gives the proband RD001 an HPO term (HP:0001250, seizure).
    hpo = sheet[0].split("\t").index("hpo")
    assert [row.split("\t")[hpo] for row in sheet[1:]] == ["HP:0001250", "", ""]
    snakemake(
        workdir,
        config,
        "--profile",
        str(REPO / "profiles" / "test"),
        "--",
        CANDIDATES,
        "results/samples/RD001/RD001.report.json",
        "results/samples/RD002/RD002.report.json",
        "results/qc/multiqc_report.html",
    )
    return workdir


def _rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def test_candidates_of_the_trio(rare_run: Path) -> None:
    text = (rare_run / CANDIDATES).read_text()
    # The identity check confirmed both parents: no limit about parentage.
    assert "parentage not confirmed" not in text
    assert "# limit: no population data configured" in text
    rows = _rows(rare_run / CANDIDATES)
    assert [r["rank"] for r in rows] == [str(n) for n in range(1, len(rows) + 1)]
    top = {(r["gene"], r["inheritance"]) for r in rows[:2]}
    # The planted ClinVar-pathogenic hemizygous stop in GFK7 and the compound het in GFD4.
    assert top == {("GFK7", "XL"), ("GFD4", "AR_comphet")}
    pair = next(r for r in rows if r["inheritance"] == "AR_comphet" and r["gene"] == "GFD4")
    assert " + " in pair["variant"] and "PM3" in pair["acmg_criteria"]
    assert {"gt_RD001", "gt_RD002", "gt_RD003"} <= set(rows[0])
    assert (rare_run / "logs/rare/genomflow_rare_rank_family/FAM001.log").is_file()
    assert (rare_run / "benchmarks/rare/genomflow_rare_rank_family/FAM001.tsv").is_file()


def test_the_probands_report_and_multiqc_show_the_list(rare_run: Path) -> None:
    proband = json.loads((rare_run / "results/samples/RD001/RD001.report.json").read_text())
    father = json.loads((rare_run / "results/samples/RD002/RD002.report.json").read_text())
    section = proband["rare_disease"]
    assert section["proband"] == "RD001" and section["hpo"] == ["HP:0001250"]
    assert section["candidates"][0]["rank"] == "1"
    assert "rare_disease" not in father
    html = (rare_run / "results/qc/multiqc_report.html").read_text()
    assert "Rare disease candidates" in html


def test_candidates_and_report_carry_hgvs_on_the_reporting_transcript(rare_run: Path) -> None:
    """Issue 17: the ranked list's hgvs is snpEff's on the reporting transcript, and every
    c./p. string of the trio's reports parses with the biocommons HGVS parser."""
    from hgvs.parser import Parser

    rows = _rows(rare_run / CANDIDATES)
    stop = next(r for r in rows if r["gene"] == "GFK7" and r["inheritance"] == "XL")
    assert stop["consequence"] == "stop_gained"
    dna, protein = stop["hgvs"].split(";")
    assert dna.startswith("GFT000007:c.") and protein.startswith("p.(") and "Ter" in protein
    parser = Parser()
    parsed = 0
    for sample in TRIO[:2]:
        report = json.loads(
            (rare_run / f"results/samples/{sample}/{sample}.report.json").read_text()
        )
        for variant in report["variants"]:
            for key in ("hgvs_c", "hgvs_p"):
                if variant[key] is not None:
                    parser.parse_hgvs_variant(f"{variant['transcript']}:{variant[key]}")
                    parsed += 1
    assert parsed > 0
