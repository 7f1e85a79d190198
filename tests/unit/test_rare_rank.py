"""Rare disease (#19): ACMG rules, inheritance models, family checks, the generated trio."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from genomflow.cli import main
from genomflow.rare import acmg, hpo, rank, simulate
from genomflow.rare.cli import build_genes, read_panel
from genomflow.rare.rank import Family, Genes, Member, RankError, Variant

# --- ACMG criteria, one hand-worked case per rule ---------------------------------------------


def evidence(**changes: object) -> acmg.Evidence:
    base: dict[str, object] = {
        "null_variant": False,
        "lof_mechanism": False,
        "population_checked": True,
        "population_af": 0.001,  # present, rare: neither PM2 nor BS1/BA1
        "de_novo": False,
        "parentage_confirmed": False,
        "in_trans_with_pathogenic": False,
    }
    base.update(changes)
    return acmg.Evidence(**base)  # type: ignore[arg-type]


def test_nothing_decided_for_a_rare_inherited_missense() -> None:
    assert acmg.criteria(evidence()) == []
    assert acmg.classify([]) == acmg.UNCERTAIN


def test_pvs1_needs_a_null_variant_in_a_loss_of_function_gene() -> None:
    # A frameshift in a recessive (loss-of-function) gene: PVS1.
    assert acmg.criteria(evidence(null_variant=True, lof_mechanism=True)) == ["PVS1"]
    # The same frameshift in a gene not known to act by loss of function: no PVS1.
    assert acmg.criteria(evidence(null_variant=True)) == []
    # A missense in a loss-of-function gene: no PVS1.
    assert acmg.criteria(evidence(lof_mechanism=True)) == []


def test_pm2_only_when_population_data_say_absent() -> None:
    assert acmg.criteria(evidence(population_af=None)) == ["PM2"]
    assert acmg.criteria(evidence(population_af=0.0)) == ["PM2"]
    # No population data configured: absence is not evidence.
    assert acmg.criteria(evidence(population_af=None, population_checked=False)) == []


def test_ps2_with_confirmed_parentage_pm6_without() -> None:
    assert acmg.criteria(evidence(de_novo=True, parentage_confirmed=True)) == ["PS2"]
    assert acmg.criteria(evidence(de_novo=True)) == ["PM6"]
    # Parentage confirmed but the variant is inherited: neither.
    assert acmg.criteria(evidence(parentage_confirmed=True)) == []


def test_pm3_in_trans_with_a_pathogenic_variant() -> None:
    assert acmg.criteria(evidence(in_trans_with_pathogenic=True)) == ["PM3"]


def test_ba1_above_5_percent_bs1_above_the_disorder_threshold() -> None:
    assert acmg.criteria(evidence(population_af=0.12)) == ["BA1"]
    assert acmg.criteria(evidence(population_af=0.05)) == ["BS1"]  # not above 5 %
    assert acmg.criteria(evidence(population_af=0.02)) == ["BS1"]
    assert acmg.criteria(evidence(population_af=0.01)) == []  # not above 1 %
    assert acmg.criteria(evidence(population_af=0.002), bs1_af=0.001) == ["BS1"]


@pytest.mark.parametrize(
    ("met", "expected"),
    [
        # de novo missense, confirmed parents, absent from gnomAD: PS2 + PM2 -> LP
        (["PS2", "PM2"], acmg.LIKELY_PATHOGENIC),
        # assumed de novo, absent: PM6 + PM2 -> two moderate only -> VUS
        (["PM2", "PM6"], acmg.UNCERTAIN),
        # frameshift in trans with a pathogenic allele, absent: PVS1 + 2 PM -> P
        (["PVS1", "PM2", "PM3"], acmg.PATHOGENIC),
        # frameshift, absent: PVS1 + PM2 -> LP
        (["PVS1", "PM2"], acmg.LIKELY_PATHOGENIC),
        (["PVS1", "PS2"], acmg.PATHOGENIC),
        (["PM2", "PM3", "PM6"], acmg.LIKELY_PATHOGENIC),
        (["BA1"], acmg.BENIGN),
        (["BS1"], acmg.UNCERTAIN),
        # conflicting: a null variant in a LoF gene that is common
        (["PVS1", "PM3", "BA1"], acmg.UNCERTAIN),
    ],
)
def test_classification(met: list[str], expected: str) -> None:
    assert acmg.classify(met) == expected


# --- inheritance models -------------------------------------------------------------------------

TRIO = Family(
    "F",
    "KID",
    (
        Member("KID", "male", "yes", "DAD", "MUM"),
        Member("DAD", "male", "no"),
        Member("MUM", "female", "no"),
    ),
)


def variant(gts: str, *, chrom: str = "chr1", pos: int = 100, gene: str = "G1",
            consequence: str = "missense_variant", af: float | None = None) -> Variant:  # fmt: skip
    texts = tuple(gts.split())
    return Variant(chrom, pos, "A", "C", gene, consequence, "", tuple(
        rank.parse_genotype(t) for t in texts), texts, population_af=af)  # fmt: skip


@pytest.mark.parametrize(
    ("gts", "chrom", "model"),
    [
        ("0/1 0/0 0/0", "chr1", rank.DE_NOVO),
        ("1/1 0/1 0/1", "chr1", rank.AR_HOM),
        ("1/1 1/1 0/1", "chr1", rank.NO_MODEL),  # unaffected father homozygous
        ("0/1 0/1 0/0", "chr1", rank.NO_MODEL),  # inherited from an unaffected parent
        ("1 0 0/1", "chrX", rank.XL),  # hemizygous son of a carrier mother
        ("1 1 0/1", "chrX", rank.NO_MODEL),  # the unaffected father has it
        ("0/1 ./. 0/0", "chr1", rank.NO_MODEL),
    ],
)
def test_single_variant_models(gts: str, chrom: str, model: str) -> None:
    assert rank.single_model(variant(gts, chrom=chrom), TRIO, "chrX") == model


def test_dominant_segregation_with_an_affected_parent() -> None:
    family = Family("F", "KID", (
        Member("KID", "female", "yes", "DAD", "MUM"),
        Member("DAD", "male", "yes"),
        Member("MUM", "female", "no"),
    ))  # fmt: skip
    assert rank.single_model(variant("0/1 0/1 0/0"), family, "chrX") == rank.AD
    # The affected father lacks it: does not segregate.
    assert rank.single_model(variant("0/1 0/0 0/1"), family, "chrX") == rank.NO_MODEL


def test_compound_het_in_trans_and_in_cis() -> None:
    paternal = variant("0/1 0/1 0/0", pos=100)
    maternal = variant("0/1 0/0 0/1", pos=200)
    paternal2 = variant("0/1 0/1 0/0", pos=300)
    pairs = rank.compound_pairs([paternal, maternal, paternal2], TRIO)
    assert [(a.pos, b.pos, m) for a, b, m in pairs] == [
        (100, 200, rank.AR_COMPHET),
        (200, 300, rank.AR_COMPHET),
    ]  # 100 + 300 are both from the father: in cis, not a pair
    # Common or synonymous variants are not paired.
    common = variant("0/1 0/0 0/1", pos=400, af=0.2)
    silent = variant("0/1 0/0 0/1", pos=500, consequence="synonymous_variant")
    assert rank.compound_pairs([paternal, common, silent], TRIO) == []


def test_singleton_works_with_what_can_be_known() -> None:
    single = rank.family_from_members("S1", [Member("S1", "female", "yes")])
    assert (
        "de novo status and the phase of compound heterozygotes cannot be decided"
        in (single.limits[0])
    )
    assert rank.single_model(variant("0/1"), single, "chrX") == rank.AD_UNSEGREGATED
    pairs = rank.compound_pairs([variant("0/1", pos=1), variant("0/1", pos=2)], single)
    assert [m for _, _, m in pairs] == [rank.AR_COMPHET_UNPHASED]


def test_family_with_no_affected_member_is_an_error() -> None:
    with pytest.raises(RankError, match="family F: no affected member"):
        rank.family_from_members("F", [Member("A", "male", "unknown"), Member("B", "male", "no")])


def test_proband_without_parents_in_the_sheet_is_a_stated_limit() -> None:
    family = rank.family_from_members(
        "F", [Member("KID", "male", "yes", "DAD", None), Member("DAD", "male", "no")]
    )
    assert family.proband == "KID"
    assert family.limits[0].startswith("proband KID has no mother in the sheet")


# --- genes ---------------------------------------------------------------------------------------


def test_phenotype_genes_include_descendant_annotations() -> None:
    onto, notes = hpo.ontology(), hpo.gene_annotations()
    genes = hpo.phenotype_genes(["HP:0001250"], onto, notes)  # Seizure
    assert "SCN1A" in genes and "ALDH7A1" in genes
    assert "PCSK9" not in genes


def test_panel_file(tmp_path: Path) -> None:
    panel = tmp_path / "epilepsy.tsv"
    panel.write_text("# demo\ngene\tinheritance\tmechanism\nGFA1\tAD,AR\tLoF\nGFB2\t\t\n")
    assert read_panel(panel) == {
        "GFA1": (frozenset({"AD", "AR"}), True),
        "GFB2": (frozenset(), False),
    }
    genes = build_genes([], [panel])
    assert genes.matches["GFA1"] == ("panel:epilepsy",)
    assert "GFA1" in genes.lof and "GFB2" not in genes.lof
    panel.write_text("gene\tinheritance\nGFA1\tdominant\n")
    with pytest.raises(RankError, match=r"epilepsy.tsv line 2, column 'inheritance': 'dominant'"):
        read_panel(panel)


# --- the generated trio: causal findings on top ------------------------------------------------


@pytest.fixture(scope="module")
def trio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("trio")
    simulate.write_trio(folder / "trio.vcf.gz", folder / "pop.vcf.gz", n_variants=5000)
    simulate.write_sheets(folder / "samples.tsv", folder / "units.tsv")
    return folder


def _ranked(folder: Path, *extra: str) -> list[dict[str, str]]:
    out = folder / "candidates.tsv"
    code = main([
        "rare", "rank", "--vcf", str(folder / "trio.vcf.gz"), "--samples",
        str(folder / "samples.tsv"), "--units", str(folder / "units.tsv"), "--group", "FAM001",
        "--out", str(out), *extra,
    ])  # fmt: skip
    assert code == 0
    lines = [line for line in out.read_text().splitlines() if not line.startswith("#")]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def test_causal_findings_rank_on_top_of_the_decoys(trio: Path) -> None:
    rows = _ranked(trio, "--population-vcf", str(trio / "pop.vcf.gz"))
    planted = {f"{p.chrom}:{p.pos}:{p.ref}:{p.alt}": p for p in simulate.PLANTED}
    top = {row["variant"]: row for row in rows[:3]}
    de_novo = top["chr2:165990000:C:T"]
    assert (de_novo["gene"], de_novo["inheritance"]) == ("SCN1A", "de_novo")
    assert de_novo["acmg_criteria"] == "PM2,PM6"  # parentage not confirmed here
    pair = top["chr5:126540000:AG:A + chr5:126560000:G:C"]
    assert (pair["gene"], pair["inheritance"]) == ("ALDH7A1", "AR_comphet")
    # Frameshift in a recessive gene, absent: PVS1 + PM2; the missense in trans with it: PM3.
    assert pair["acmg_criteria"] == "PVS1,PM2 + PM2,PM3"
    assert pair["gt_RD002"] == "0/1 + 0/0" and pair["gt_RD003"] == "0/0 + 0/1"
    decoys = {key for key, p in planted.items() if not p.causal}
    decoy_ranks = [int(row["rank"]) for row in rows if row["variant"] in decoys]
    assert len(decoy_ranks) == 3
    assert max(int(de_novo["rank"]), int(pair["rank"])) < min(decoy_ranks)
    common = next(row for row in rows if row["gene"] == "KCNQ2" and row["variant"] in decoys)
    assert common["acmg_criteria"] == "BA1" and common["provisional_class"] == "benign"
    unrelated = next(row for row in rows if row["gene"] == "PCSK9")
    assert unrelated["phenotype_match"] == "none"  # ranked lower, still listed


def test_without_population_data_the_limit_is_stated(trio: Path) -> None:
    rows = _ranked(trio)
    text = (trio / "candidates.tsv").read_text()
    assert "# limit: no population data configured: PM2, BA1 and BS1 not decided" in text
    assert rows[0]["population_af"] == "NA"


# --- the proband's report -----------------------------------------------------------------------


def test_ranked_list_goes_into_the_probands_report_only(trio: Path, tmp_path: Path) -> None:
    import json

    from genomflow.report.build import rare_disease_section
    from genomflow.report.validate import ReportError, validate_report
    from genomflow.sheets import Sample
    from tests.kb.synthetic import (
        SyntheticSample,
        synthetic_variants,
        variant_pool,
        write_synthetic_report,
    )

    ranked = tmp_path / "FAM001.candidates.json"
    _ranked(trio, "--json-out", str(ranked), "--json-top", "5")
    proband = Sample("RD001", "PAT-0001", "male", "germline", "wgs", family="FAM001")
    father = Sample("RD002", "PAT-0002", "male", "germline", "wgs", family="FAM001")
    section = rare_disease_section(proband, [ranked])
    assert section is not None and len(section["candidates"]) == 5
    assert section["candidates"][0]["rank"] == "1"
    assert rare_disease_section(father, [ranked]) is None
    path = write_synthetic_report(
        tmp_path,
        SyntheticSample("RD001", "PAT-0001"),
        synthetic_variants(variant_pool(5), 3, seed=1),
    )
    report = json.loads(path.read_text())
    report["rare_disease"] = section
    validate_report(report, "r.json")
    del report["rare_disease"]["candidates"][0]["score"]
    with pytest.raises(ReportError, match="'score' is a required property"):
        validate_report(report, "r.json")


def test_multiqc_table_of_the_top_candidates(trio: Path, tmp_path: Path) -> None:
    import json

    ranked = tmp_path / "FAM001.candidates.json"
    _ranked(trio, "--json-out", str(ranked))
    out = tmp_path / "rare_mqc.json"
    assert main(["rare", "table", "--candidates", str(ranked), "--out", str(out)]) == 0
    table = json.loads(out.read_text())
    assert table["plot_type"] == "table"
    assert list(table["data"]) == [f"FAM001 #{n}" for n in range(1, 6)]
    assert table["data"]["FAM001 #1"]["proband"] == "RD001"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (
            lambda text: text.replace("HP:0001263", "HP:9999999"),
            "samples.tsv line 2, column 'hpo': HP:9999999 is not a term of the HPO",
        ),
        (
            lambda text: text.replace("HP:0001250;HP:0001263\tyes", "\tno"),
            "samples.tsv line 2, column 'affected': family FAM001 has phenotype data but no "
            "affected member",
        ),
    ],
)
def test_bad_sheets_stop_the_ranking_with_one_line(
    trio: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: Any, message: str
) -> None:
    samples = tmp_path / "samples.tsv"
    samples.write_text(edit((trio / "samples.tsv").read_text()))
    code = main([
        "rare", "rank", "--vcf", str(trio / "trio.vcf.gz"), "--samples", str(samples),
        "--units", str(trio / "units.tsv"), "--group", "FAM001", "--out", str(tmp_path / "c.tsv"),
    ])  # fmt: skip
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "c.tsv").exists()


def test_parentage_confirmed_by_the_identity_check_gives_ps2(tmp_path: Path) -> None:
    from genomflow.rare.cli import parentage_confirmed

    pairs = tmp_path / "pairs.tsv"
    columns = "sample_a sample_b expected observed status sites kinship discordance ibs0 reason"
    header = columns.replace(" ", "\t") + "\n"
    row = "KID\t{p}\tfirst_degree\tfirst_degree\t{s}\t208\t0.24\t0.48\t0.0000\t\n"
    pairs.write_text(header + row.format(p="DAD", s="PASS") + row.format(p="MUM", s="PASS"))
    assert parentage_confirmed(pairs, TRIO)
    pairs.write_text(header + row.format(p="DAD", s="PASS") + row.format(p="MUM", s="FAIL"))
    assert not parentage_confirmed(pairs, TRIO)
    assert not parentage_confirmed(None, TRIO)
    de_novo = variant("0/1 0/0 0/0", af=None)
    ranked = rank.rank([de_novo], TRIO, Genes(), population_checked=True, parentage_confirmed=True)
    assert ranked[0].criteria == ["PS2", "PM2"]
    assert ranked[0].provisional_class == acmg.LIKELY_PATHOGENIC


def test_pm3_from_a_clinvar_pathogenic_variant_in_trans() -> None:
    import dataclasses

    paternal = dataclasses.replace(variant("0/1 0/1 0/0", pos=100), clinvar="Pathogenic")
    maternal = variant("0/1 0/0 0/1", pos=200)
    ranked = rank.rank(
        [paternal, maternal], TRIO, Genes(), population_checked=False, parentage_confirmed=False
    )
    pair = next(c for c in ranked if len(c.variants) == 2)
    assert pair.model == rank.AR_COMPHET
    # The maternal missense is in trans with a ClinVar-pathogenic allele: PM3; the paternal
    # one is in trans with a missense of no known significance: nothing.
    assert pair.criteria == ["", "PM3"]


def test_candidate_rows_carry_hgvs_c_and_p_beside_the_annotations_text() -> None:
    """candidates.tsv (and the report's rows) have ``hgvs_c``/``hgvs_p`` columns, named as the
    report's variant fields: "." until the annotation gives them, one per variant of a pair."""
    annotated = variant("0/1 0/1 0/0", pos=100)
    annotated = Variant(**{**annotated.__dict__, "hgvs_c": "c.145C>T", "hgvs_p": "p.(Arg49Ter)"})
    plain = variant("0/1 0/0 0/1", pos=200)
    pair = rank.Candidate((annotated, plain), rank.AR_COMPHET, "none", ["PM2", ""], "VUS", 1.0)
    single = rank.Candidate((plain,), rank.DE_NOVO, "none", [], "VUS", 0.5)
    [first, second] = rank.rows([pair, single], TRIO, population_checked=False)
    assert list(first) == list(rank.columns(TRIO))
    assert rank.columns(TRIO)[3:7] == ("hgvs", "hgvs_c", "hgvs_p", "consequence")
    assert (first["hgvs_c"], first["hgvs_p"]) == ("c.145C>T + .", "p.(Arg49Ter) + .")
    assert (second["hgvs_c"], second["hgvs_p"]) == (".", ".")
