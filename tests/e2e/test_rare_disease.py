"""Rare disease (#19) end to end on the test genome's trio: calling, csq, ClinVar, identity,
then the ranked candidates, the proband's report section and the MultiQC section.

The test genome's genes have synthetic names (GF*) that no HPO term selects, so the
phenotype genes come from the shipped panel resources/gene_panels/testgenome.tsv; the
phenotype-driven (HPO) ranking is tested on a generated trio in tests/unit/test_rare_rank.py.

SVs join the list (#19 item 4): the trio's planted SVs (#16: an inherited deletion, a de
novo duplication, an inversion; resources/testgenome/truth/sv.vcf.gz) all lie between the
test genome's genes, and candidates are SVs that overlap a gene. So the run's gene models are
the shipped GFF3 plus two synthetic genes written here (GFSV1 under the deletion, GFSV2 under
the duplication's left breakpoint), which the pipeline itself then uses to annotate the
calls (bcftools csq, the SV deliverable's GENES) and the ranking to judge the SVs.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO, demo_qc_config, snakemake, write_config

pytestmark = pytest.mark.e2e

TRIO = ("RD001", "RD002", "RD003")
CANDIDATES = "results/families/FAM001/FAM001.candidates.tsv"
#: Two synthetic genes (1-based GFF3, CDS lengths whole codons): GFSV1 (chr1:111801-115200)
#: loses the end of its exon 1 and its exon 2 to the planted deletion chr1:112300-114500;
#: GFSV2 (chr2:69501-71400) has the planted duplication chr2:70000-72500 start in its CDS.
SV_GENES = """\
chr1\tgenomflow\tgene\t111801\t115200\t.\t+\t.\tID=gene:GFSV01;Name=GFSV1;biotype=protein_coding
chr1\tgenomflow\tmRNA\t111801\t115200\t.\t+\t.\tID=transcript:GFSVT01;Parent=gene:GFSV01;biotype=protein_coding
chr1\tgenomflow\texon\t111801\t112400\t.\t+\t.\tParent=transcript:GFSVT01
chr1\tgenomflow\tCDS\t111901\t112400\t.\t+\t0\tID=CDS:GFSVP01;Parent=transcript:GFSVT01
chr1\tgenomflow\texon\t113501\t113700\t.\t+\t.\tParent=transcript:GFSVT01
chr1\tgenomflow\tCDS\t113501\t113700\t.\t+\t1\tID=CDS:GFSVP01;Parent=transcript:GFSVT01
chr1\tgenomflow\texon\t114801\t115200\t.\t+\t.\tParent=transcript:GFSVT01
chr1\tgenomflow\tCDS\t114801\t115012\t.\t+\t2\tID=CDS:GFSVP01;Parent=transcript:GFSVT01
###
chr2\tgenomflow\tgene\t69501\t71400\t.\t+\t.\tID=gene:GFSV02;Name=GFSV2;biotype=protein_coding
chr2\tgenomflow\tmRNA\t69501\t71400\t.\t+\t.\tID=transcript:GFSVT02;Parent=gene:GFSV02;biotype=protein_coding
chr2\tgenomflow\texon\t69501\t69900\t.\t+\t.\tParent=transcript:GFSVT02
chr2\tgenomflow\tCDS\t69551\t69900\t.\t+\t0\tID=CDS:GFSVP02;Parent=transcript:GFSVT02
chr2\tgenomflow\texon\t70501\t70800\t.\t+\t.\tParent=transcript:GFSVT02
chr2\tgenomflow\tCDS\t70501\t70800\t.\t+\t1\tID=CDS:GFSVP02;Parent=transcript:GFSVT02
chr2\tgenomflow\texon\t71201\t71400\t.\t+\t.\tParent=transcript:GFSVT02
chr2\tgenomflow\tCDS\t71201\t71351\t.\t+\t1\tID=CDS:GFSVP02;Parent=transcript:GFSVT02
###
"""


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
    gff3 = workdir / "genes.gff3"
    gff3.write_text((REPO / "resources/testgenome/genes.gff3").read_text() + SV_GENES)
    settings = yaml.safe_load(config.read_text())
    settings["reference"]["gff3"] = str(gff3)
    write_config(workdir, settings)
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


def test_the_planted_svs_join_the_list(rare_run: Path) -> None:
    text = (rare_run / CANDIDATES).read_text()
    assert "# limit: SVs/CNVs: no population SV data" in text
    rows = _rows(rare_run / CANDIDATES)
    svs = {r["gene"]: r for r in rows if r["kind"] == "SV"}
    # The de novo duplication (truth chr2:70000-72500): de novo, parentage confirmed (PS2).
    dup = svs["GFSV2"]
    assert dup["variant"].startswith("chr2:") and "<DUP>" in dup["variant"]
    start, end = (int(x) for x in dup["variant"].split(" ")[0].split(":")[1].split("-"))
    assert abs(start - 70000) <= 100 and abs(end - 72500) <= 100
    assert (dup["inheritance"], dup["consequence"]) == ("de_novo", "cds_disrupting")
    assert "PS2" in dup["acmg_criteria"].split(",")
    assert [dup[f"gt_{s}"] for s in TRIO][1:] == ["0/0", "0/0"]
    # The deletion inherited from the father (truth chr1:112300-114500), whose affected
    # status the demo sheet leaves unknown: a dominant model that no relative can confirm.
    deletion = svs["GFSV1"]
    assert "<DEL>" in deletion["variant"] and deletion["variant"].startswith("chr1:")
    assert (deletion["inheritance"], deletion["consequence"]) == (
        "AD_unsegregated",
        "exon_deletion",
    )
    assert deletion["gt_RD003"] == "0/0" and "1" in deletion["gt_RD002"]
    # The inversion (chr1:140000-142000) overlaps no gene: not a candidate.
    assert not any("<INV>" in r["variant"] for r in rows)
    # Without other families in the batch, the SVs' frequency is not known.
    assert dup["population_af"] == deletion["population_af"] == "NA"
    # The de novo duplication breaks GFSV2's coding span; the father passed on a missense of
    # GFSV2 (chr2:69828, the genome's background variation): a compound het by the rules.
    pair = next(r for r in rows if r["kind"] == "SV + small")
    assert pair["gene"] == "GFSV2" and pair["inheritance"] == "AR_comphet"
    assert pair["variant"].startswith(dup["variant"] + " + chr2:")
    assert {r["kind"] for r in rows} == {"small", "SV", "SV + small"}


def test_the_probands_report_and_multiqc_show_the_list(rare_run: Path) -> None:
    proband = json.loads((rare_run / "results/samples/RD001/RD001.report.json").read_text())
    father = json.loads((rare_run / "results/samples/RD002/RD002.report.json").read_text())
    section = proband["rare_disease"]
    assert section["proband"] == "RD001" and section["hpo"] == ["HP:0001250"]
    assert section["candidates"][0]["rank"] == "1"
    assert {c["kind"] for c in section["candidates"]} == {"small", "SV", "SV + small"}
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
    # The hgvs_c/hgvs_p columns are the report's fields of the same allele.
    assert (f"GFT000007:{stop['hgvs_c']}", stop["hgvs_p"]) == (dna, protein)
    proband = json.loads(
        (rare_run / f"results/samples/{TRIO[0]}/{TRIO[0]}.report.json").read_text()
    )
    chrom, pos, ref, alt = stop["variant"].split(":")
    reported = next(
        v
        for v in proband["variants"]
        if (v["chrom"], str(v["pos"]), v["ref"], v["alt"]) == (chrom, pos, ref, alt)
    )
    assert (reported["hgvs_c"], reported["hgvs_p"]) == (stop["hgvs_c"], stop["hgvs_p"])
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
