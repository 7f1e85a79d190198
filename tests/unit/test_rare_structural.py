"""Rare disease (#19 item 4): SVs and CNVs join the ranked candidate list.

Hand-made records: a trio's joint delly calls and the proband's SV deliverable (VCF text),
CNV deliverables with FORMAT/CN, and a GFF3 of three genes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from genomflow.rare import rank, structural
from genomflow.rare.rank import Family, Genes, Member, RankError, Variant
from genomflow.sv.genes import read_genes

SV = structural.StructuralVariant

TRIO = Family(
    "F",
    "KID",
    (
        Member("KID", "male", "yes", "DAD", "MUM"),
        Member("DAD", "male", "no"),
        Member("MUM", "female", "no"),
    ),
)
#: G1 chr1:1001-5000 (+), coding exons 1001-1500, 2001-2500, 4501-5000; G2 chr1:20001-30000;
#: GX on chrX.
GFF3 = """##gff-version 3
chr1\tt\tgene\t1001\t5000\t.\t+\t.\tID=gene:1;Name=G1
chr1\tt\tmRNA\t1001\t5000\t.\t+\t.\tID=tx:1;Parent=gene:1
chr1\tt\texon\t1001\t1500\t.\t+\t.\tParent=tx:1
chr1\tt\texon\t2001\t2500\t.\t+\t.\tParent=tx:1
chr1\tt\texon\t4501\t5000\t.\t+\t.\tParent=tx:1
chr1\tt\tCDS\t1001\t1500\t.\t+\t0\tParent=tx:1
chr1\tt\tCDS\t2001\t2500\t.\t+\t0\tParent=tx:1
chr1\tt\tCDS\t4501\t5000\t.\t+\t0\tParent=tx:1
chr1\tt\tgene\t20001\t30000\t.\t-\t.\tID=gene:2;Name=G2
chr1\tt\tmRNA\t20001\t30000\t.\t-\t.\tID=tx:2;Parent=gene:2
chr1\tt\texon\t20001\t21000\t.\t-\t.\tParent=tx:2
chr1\tt\texon\t29001\t30000\t.\t-\t.\tParent=tx:2
chr1\tt\tCDS\t20501\t21000\t.\t-\t0\tParent=tx:2
chr1\tt\tCDS\t29001\t29500\t.\t-\t0\tParent=tx:2
chrX\tt\tgene\t1001\t3000\t.\t+\t.\tID=gene:3;Name=GX
chrX\tt\tmRNA\t1001\t3000\t.\t+\t.\tID=tx:3;Parent=gene:3
chrX\tt\texon\t1001\t3000\t.\t+\t.\tParent=tx:3
chrX\tt\tCDS\t1101\t2900\t.\t+\t0\tParent=tx:3
"""
HEADER = """##fileformat=VCFv4.2
##contig=<ID=chr1,length=100000>
##contig=<ID=chrX,length=100000>
##FILTER=<ID=PASS,Description="All filters passed">
##FILTER=<ID=LowQual,Description="Low quality">
##ALT=<ID=DEL,Description="Deletion">
##ALT=<ID=DUP,Description="Duplication">
##ALT=<ID=INV,Description="Inversion">
##INFO=<ID=SVTYPE,Number=1,Type=String,Description="SV type">
##INFO=<ID=END,Number=1,Type=Integer,Description="End">
##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="Length">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
##FORMAT=<ID=CN,Number=1,Type=Integer,Description="Copy number">
"""
COLUMNS = "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT"
#: (id, chrom, pos, type, end, filter, KID DAD MUM genotypes)
CALLS = [
    # inherited (paternal) deletion of G1's exon 2: in trans with a maternal frameshift
    ("DEL00000001", "chr1", 1900, "DEL", 2700, "PASS", "0/1 0/1 0/0"),
    # de novo duplication with a breakpoint inside G2's coding span
    ("DUP00000002", "chr1", 25000, "DUP", 40000, "PASS", "0/1 0/0 0/0"),
    # inversion of the whole of G1 (gene intact), maternal
    ("INV00000003", "chr1", 500, "INV", 6000, "PASS", "0/1 0/0 0/1"),
    # hemizygous deletion of GX, carrier mother: X-linked
    ("DEL00000004", "chrX", 900, "DEL", 3100, "PASS", "1/1 0/0 0/1"),
    # intergenic deletion: not a candidate
    ("DEL00000005", "chr1", 60000, "DEL", 61000, "PASS", "0/1 0/0 0/0"),
    # filtered call in G2: not a candidate
    ("DEL00000006", "chr1", 20100, "DEL", 20300, "LowQual", "0/1 0/0 0/0"),
]


def _vcf(path: Path, samples: list[str], lines: list[str]) -> Path:
    text = HEADER + "\t".join([COLUMNS, *samples]) + "\n" + "".join(lines)
    plain = path.with_suffix("")
    plain.write_text(text)
    return plain


def _record(sv_id: str, chrom: str, pos: int, svtype: str, end: int, flt: str, gts: str) -> str:
    length = -(end - pos) if svtype == "DEL" else end - pos
    info = f"SVTYPE={svtype};END={end};SVLEN={length}"
    return (
        f"{chrom}\t{pos}\t{sv_id}\tN\t<{svtype}>\t.\t{flt}\t{info}\tGT\t"
        + gts.replace(" ", "\t")
        + "\n"
    )


@pytest.fixture
def calls(tmp_path: Path) -> dict[str, Path]:
    """The trio's joint calls, the proband's deliverable (non-reference calls only) and the
    gene models."""
    joint = _vcf(tmp_path / "joint.vcf.gz", ["KID", "DAD", "MUM"], [_record(*c) for c in CALLS])
    kid = [_record(*c[:-1], c[-1].split()[0]) for c in CALLS]
    deliverable = _vcf(tmp_path / "KID.sv.vcf.gz", ["KID"], kid)
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text(GFF3)
    return {"joint": joint, "proband": deliverable, "gff3": gff3}


def _svs(calls: dict[str, Path], genes: Genes | None = None) -> list[structural.StructuralVariant]:
    genes = genes or Genes()
    models = read_genes(calls["gff3"])
    return structural.read_sv(calls["proband"], calls["joint"], TRIO, models, genes)


def test_pass_svs_in_genes_with_the_family_genotypes(calls: dict[str, Path]) -> None:
    svs = _svs(calls)
    assert [v.key for v in svs] == [
        "chr1:1900-2700 <DEL> 800 bp",
        "chr1:25000-40000 <DUP> 15000 bp",
        "chr1:500-6000 <INV> 5500 bp",
        "chrX:900-3100 <DEL> 2200 bp",
    ]  # the intergenic and the filtered deletions are not candidates
    by_key = {v.svtype + v.chrom: v for v in svs}
    assert by_key["DELchr1"].gt_text == ("0/1", "0/1", "0/0")
    assert (by_key["DELchr1"].gene, by_key["DELchr1"].consequence) == ("G1", "exon_deletion")
    assert (by_key["DUPchr1"].gene, by_key["DUPchr1"].consequence) == ("G2", "cds_disrupting")
    assert (by_key["INVchr1"].gene, by_key["INVchr1"].consequence) == ("G1", "gene_inverted")
    assert by_key["DELchrX"].consequence == "whole_gene_deletion"


def test_models_and_criteria_of_the_svs(calls: dict[str, Path]) -> None:
    genes = Genes(matches={"G2": ("panel:p",)}, lof=frozenset({"G1", "GX"}))
    ranked = structural.rank_structural(_svs(calls, genes), TRIO, genes, parentage_confirmed=True)
    got = {v.svtype + v.chrom: c for c in ranked for v in c.variants if isinstance(v, SV)}
    # The de novo duplication: PS2 with confirmed parentage; not null, so no PVS1.
    assert (got["DUPchr1"].model, got["DUPchr1"].criteria) == (rank.DE_NOVO, ["PS2"])
    # The hemizygous deletion of a loss-of-function gene on X: XL, PVS1.
    assert (got["DELchrX"].model, got["DELchrX"].criteria) == (rank.XL, ["PVS1"])
    # Inherited from an unaffected parent: no single-variant model.
    assert got["DELchr1"].model == rank.NO_MODEL and got["DELchr1"].criteria == ["PVS1"]
    assert got["INVchr1"].model == rank.NO_MODEL and got["INVchr1"].criteria == []
    # A phenotype de novo SV outranks everything else here.
    best = structural.merge(ranked)[0]
    assert best is got["DUPchr1"] and best.rank == 1
    assert best.phenotype_match == "panel:p"


def test_homozygous_deletion_is_recessive(tmp_path: Path) -> None:
    joint = _vcf(tmp_path / "j.vcf.gz", ["KID", "DAD", "MUM"],
                 [_record("D1", "chr1", 900, "DEL", 5200, "PASS", "1/1 0/1 0/1")])  # fmt: skip
    kid = _vcf(
        tmp_path / "k.vcf.gz", ["KID"], [_record("D1", "chr1", 900, "DEL", 5200, "PASS", "1/1")]
    )
    gff3 = tmp_path / "g.gff3"
    gff3.write_text(GFF3)
    svs = structural.read_sv(kid, joint, TRIO, read_genes(gff3), Genes())
    assert svs[0].consequence == "whole_gene_deletion"
    assert rank.single_model(svs[0], TRIO, "chrX") == rank.AR_HOM


def test_compound_het_of_a_deletion_and_a_small_frameshift(calls: dict[str, Path]) -> None:
    genes = Genes(matches={"G1": ("HPO:HP:0001250",)}, lof=frozenset({"G1"}))
    svs = _svs(calls, genes)
    maternal = Variant(
        "chr1", 4600, "A", "AT", "G1", "frameshift_variant", "", (1, 0, 1), ("0/1", "0/0", "0/1")
    )
    paternal = Variant(
        "chr1", 4700, "C", "T", "G1", "missense_variant", "", (1, 1, 0), ("0/1", "0/1", "0/0")
    )
    pairs = structural.compound_with_small(
        svs, [maternal, paternal], TRIO, genes, population_checked=False, parentage_confirmed=False
    )
    # The paternal deletion pairs with the maternal frameshift (in trans), not with the
    # paternal missense (in cis).
    assert len(pairs) == 1
    pair = pairs[0]
    assert pair.model == rank.AR_COMPHET
    assert [v.key for v in pair.variants] == ["chr1:1900-2700 <DEL> 800 bp", "chr1:4600:A:AT"]
    # Each is null in a loss-of-function gene (PVS1) and in trans with the other (PM3).
    assert pair.criteria == ["PVS1;PM3", "PVS1;PM3"]
    # PVS1 + PM3 alone: likely pathogenic (PVS1 needs two moderate for pathogenic).
    assert pair.provisional_class == "likely_pathogenic + likely_pathogenic"
    small = rank.rank([maternal, paternal], TRIO, genes, population_checked=False,
                      parentage_confirmed=False)  # fmt: skip
    ranked = structural.merge(small, structural.rank_structural(svs, TRIO, genes,
                              parentage_confirmed=False), pairs)  # fmt: skip
    assert ranked[0] is pair
    table = rank.rows(ranked, TRIO, population_checked=False)
    structural.annotate_rows(ranked, table)
    top = table[0]
    assert top["kind"] == "SV + small"
    assert top["variant"] == "chr1:1900-2700 <DEL> 800 bp + chr1:4600:A:AT"
    assert top["inheritance"] == "AR_comphet"
    assert top["gt_DAD"] == "0/1 + 0/0"
    assert top["population_af"] == "NA + NA"
    assert top["acmg_criteria"] == "PVS1,PM3 + PVS1,PM3"
    # The maternal frameshift and the paternal missense are a small pair of their own.
    assert {r["kind"] for r in table} == {"small", "SV", "SV + small"}
    header = structural.columns_with_kind(rank.columns(TRIO))
    assert header[:4] == ("rank", "gene", "variant", "kind")


def test_batch_frequency_of_svs(calls: dict[str, Path], tmp_path: Path) -> None:
    # An unrelated sample has the same duplication (breakpoints 100 bp apart): not rare.
    other = _vcf(tmp_path / "U1.sv.vcf.gz", ["U1"],
                 [_record("X1", "chr1", 25100, "DUP", 40100, "PASS", "0/1")])  # fmt: skip
    empty = _vcf(tmp_path / "U2.sv.vcf.gz", ["U2"], [])
    svs = structural.add_batch_frequency(_svs(calls), structural.batch_calls([other, empty]))
    dup = next(v for v in svs if v.svtype == "DUP")
    deletion = next(v for v in svs if v.svtype == "DEL")
    assert structural.frequency_text(dup) == "batch 1/2"
    assert structural.frequency_text(deletion) == "batch 0/2"
    assert structural.sv_frequency_weight(dup) == 0.0
    assert structural.sv_frequency_weight(deletion) == 1.0
    # Without unrelated samples nothing is known.
    assert structural.sv_frequency_weight(_svs(calls)[0]) == 0.5


def test_cnv_genotypes_from_copy_number(calls: dict[str, Path], tmp_path: Path) -> None:
    def cnv(sample: str, lines: list[str]) -> Path:
        return _vcf(tmp_path / f"{sample}.cnv.vcf.gz", [sample], lines)

    def seg(pos: int, svtype: str, end: int, cn: int) -> str:
        length = -(end - pos) if svtype == "DEL" else end - pos
        return (f"chr1\t{pos}\t.\tN\t<{svtype}>\t.\tPASS\tSVTYPE={svtype};END={end};"
                f"SVLEN={length}\tCN\t{cn}\n")  # fmt: skip

    kid = cnv("KID", [seg(1900, "DEL", 2700, 1), seg(19000, "DEL", 31000, 0)])
    dad = cnv("DAD", [seg(19500, "DEL", 31500, 1)])
    mum = cnv("MUM", [seg(18800, "DEL", 30000, 1)])
    models = read_genes(calls["gff3"])
    cnvs = structural.read_cnv([kid, dad, mum], TRIO, models, Genes())
    whole = next(c for c in cnvs if c.gene == "G2")
    assert whole.kind == "CNV" and whole.consequence == "whole_gene_deletion"
    assert whole.gt_text == ("CN=0", "CN=1", "CN=1")
    assert rank.single_model(whole, TRIO, "chrX") == rank.AR_HOM
    # Without the mother's deliverable her genotype is unknown.
    partial = structural.read_cnv([kid, dad], TRIO, models, Genes())[0]
    assert partial.gt_text == ("CN=1", "CN=normal", "CN=.")
    # The CNV over G1's exon 2 repeats the delly deletion: only the SV is kept.
    merged = structural.without_repeats(_svs(calls), cnvs)
    assert [v.kind for v in merged].count("CNV") == 1


def test_the_proband_deliverable_must_match_the_joint_calls(
    calls: dict[str, Path], tmp_path: Path
) -> None:
    joint = _vcf(tmp_path / "j.vcf.gz", ["KID", "DAD", "MUM"], [])
    with pytest.raises(RankError, match=r"KID.sv.vcf: SV DEL00000001 is not in the joint calls"):
        structural.read_sv(calls["proband"], joint, TRIO, read_genes(calls["gff3"]), Genes())
    no_kid = _vcf(tmp_path / "w.vcf.gz", ["DAD", "MUM"], [])
    with pytest.raises(RankError, match=r"w.vcf: no sample KID \(the proband\) in the joint"):
        structural.read_sv(calls["proband"], no_kid, TRIO, read_genes(calls["gff3"]), Genes())
    # A member without SV calls (a panel parent) is uncalled.
    lines = [_record(*c[:-1], " ".join(c[-1].split()[:2])) for c in CALLS]
    duo = _vcf(tmp_path / "duo.vcf.gz", ["KID", "DAD"], lines)
    svs = structural.read_sv(calls["proband"], duo, TRIO, read_genes(calls["gff3"]), Genes())
    assert svs[0].gt_text == ("0/1", "0/1", "./.")


def test_warnings_of_the_sv_deliverable_are_read(tmp_path: Path) -> None:
    plain = tmp_path / "S.sv.vcf"
    plain.write_text(
        HEADER + "##sv_warning=too shallow for SV calling (mean depth 3.1 < 10)\n"
        + "\t".join([COLUMNS, "S"]) + "\n"
    )  # fmt: skip
    assert structural.sv_warnings(plain) == ["too shallow for SV calling (mean depth 3.1 < 10)"]


def test_batch_calls_are_found_by_position(tmp_path: Path) -> None:
    lines = [_record(f"D{i}", "chr1", 100 * i + 1, "DEL", 100 * i + 51, "PASS", "0/1")
             for i in range(1, 500)]  # fmt: skip
    lines.append(_record("D", "chr1", 60000, "DEL", 62000, "PASS", "0/1"))
    batch = structural.batch_calls([_vcf(tmp_path / "U.vcf.gz", ["U"], lines)])
    assert structural.carries(batch["U"], ("chr1", "DEL", 60100, 62100))
    assert structural.carries(batch["U"], ("chr1", "DEL", 30000, 30050))
    assert not structural.carries(batch["U"], ("chr1", "DEL", 30000, 30400))
    assert not structural.carries(batch["U"], ("chr1", "DUP", 60100, 62100))


def test_a_small_variant_inside_the_deletion_in_trans_looks_homozygous(
    calls: dict[str, Path],
) -> None:
    genes = Genes(lof=frozenset({"G1"}))
    svs = _svs(calls, genes)
    # Maternal stop in G1's exon 2, under the paternal deletion: the proband has only the
    # maternal allele there (1/1 called), the father none (0/0).
    under = Variant(
        "chr1", 2100, "C", "T", "G1", "stop_gained", "", (2, 0, 1), ("1/1", "0/0", "0/1")
    )
    pairs = structural.compound_with_small(
        svs, [under], TRIO, genes, population_checked=False, parentage_confirmed=False
    )
    assert [(p.model, p.variants[1].pos) for p in pairs] == [(rank.AR_COMPHET, 2100)]
    # The same 1/1 outside any deletion of the proband is not paired.
    outside = Variant(
        "chr1", 4700, "C", "T", "G1", "stop_gained", "", (2, 0, 1), ("1/1", "0/0", "0/1")
    )
    assert (
        structural.compound_with_small(
            svs, [outside], TRIO, genes, population_checked=False, parentage_confirmed=False
        )
        == []
    )


def test_two_svs_knocking_out_one_gene_in_trans(tmp_path: Path) -> None:
    records = [
        _record("D1", "chr1", 1900, "DEL", 2700, "PASS", "0/1 0/1 0/0"),  # paternal, G1 exon 2
        _record("I1", "chr1", 4000, "INV", 9000, "PASS", "0/1 0/0 0/1"),  # maternal, G1 CDS
        _record("I2", "chr1", 4200, "INV", 9000, "PASS", "0/1 0/0 0/1"),  # maternal too: cis
    ]
    joint = _vcf(tmp_path / "j.vcf.gz", ["KID", "DAD", "MUM"], records)
    kid = _vcf(tmp_path / "k.vcf.gz", ["KID"], [r.rsplit("\t", 3)[0] + "\t0/1\n" for r in records])
    gff3 = tmp_path / "g.gff3"
    gff3.write_text(GFF3)
    genes = Genes(lof=frozenset({"G1"}))
    svs = structural.read_sv(kid, joint, TRIO, read_genes(gff3), genes)
    pairs = structural.compound_with_small(
        svs, [], TRIO, genes, population_checked=False, parentage_confirmed=False
    )
    assert [(p.variants[0].key, p.variants[1].key, p.model) for p in pairs] == [
        ("chr1:1900-2700 <DEL> 800 bp", "chr1:4000-9000 <INV> 5000 bp", rank.AR_COMPHET),
        ("chr1:1900-2700 <DEL> 800 bp", "chr1:4200-9000 <INV> 4800 bp", rank.AR_COMPHET),
    ]  # the two maternal inversions are in cis: not a pair
    # The deletion of coding exons gets PVS1; the inversion is in trans with it (PM3) but
    # a disrupted reading frame is not decided from breakpoints (no PVS1).
    assert pairs[0].criteria == ["PVS1", "PM3"]
    assert structural.kind(pairs[0]) == "SV"


def test_multiqc_table_says_which_kind_each_row_is() -> None:
    from genomflow.rare.cli import multiqc_table

    row = {"rank": "1", "gene": "G2", "variant": "chr1:25000-40000 <DUP> 15000 bp",
           "kind": "SV", "inheritance": "de_novo", "phenotype_match": "none",
           "acmg_criteria": "PS2", "provisional_class": "uncertain_significance",
           "score": "55.00"}  # fmt: skip
    table = multiqc_table([{"family": "F", "proband": "KID", "candidates": [row]}])
    assert table["data"] == {
        "F #1": {
            "proband": "KID",
            "gene": "G2",
            "variant": "chr1:25000-40000 <DUP> 15000 bp",
            "kind": "SV",
            "inheritance": "de_novo",
            "phenotype": "none",
            "acmg": "PS2",
            "class": "uncertain_significance",
            "score": 55.0,
        }
    }
    assert "kind" in table["headers"]  # type: ignore[operator]


def test_gene_models_take_each_genes_first_transcript(tmp_path: Path) -> None:
    # read_genes reads the whole GFF3 in one pass (a human one has ~60,000 genes).
    gff3 = tmp_path / "two.gff3"
    gff3.write_text(
        "##gff-version 3\n"
        "c\tt\tgene\t101\t1000\t.\t-\t.\tID=g1\n"
        "c\tt\tmRNA\t101\t1000\t.\t-\t.\tID=t1;Parent=g1\n"
        "c\tt\tmRNA\t101\t900\t.\t-\t.\tID=t2;Parent=g1\n"
        "c\tt\texon\t501\t1000\t.\t-\t.\tParent=t1\n"
        "c\tt\texon\t101\t200\t.\t-\t.\tParent=t1\n"
        "c\tt\tCDS\t151\t200\t.\t-\t0\tParent=t1\n"
        "c\tt\texon\t101\t900\t.\t-\t.\tParent=t2\n"
        "c\tt\tgene\t2001\t3000\t.\t+\t.\tID=g2\n"  # no transcript: not a gene model
    )
    (gene,) = read_genes(gff3)
    assert (gene.name, gene.contig, gene.start, gene.end, gene.strand) == (
        "g1",
        "c",
        100,
        1000,
        "-",
    )
    assert gene.exons == ((100, 200), (500, 1000)) and gene.cds == ((150, 200),)
    assert gene.exon_numbers() == [(500, 1000, 1), (100, 200, 2)]


# --- the CLI on the generated trio (genomflow.rare.simulate) with hand-made SVs ----------------

TRIO_GFF3 = """##gff-version 3
chr9\tt\tgene\t1001\t5000\t.\t+\t.\tID=gene:S;Name=STXBP1
chr9\tt\tmRNA\t1001\t5000\t.\t+\t.\tID=tx:S;Parent=gene:S
chr9\tt\texon\t1001\t2000\t.\t+\t.\tParent=tx:S
chr9\tt\tCDS\t1101\t2000\t.\t+\t0\tParent=tx:S
chr9\tt\texon\t4001\t5000\t.\t+\t.\tParent=tx:S
chr9\tt\tCDS\t4001\t4900\t.\t+\t0\tParent=tx:S
chr1\tt\tgene\t1001\t5000\t.\t+\t.\tID=gene:O;Name=OR4F5
chr1\tt\tmRNA\t1001\t5000\t.\t+\t.\tID=tx:O;Parent=gene:O
chr1\tt\texon\t1001\t5000\t.\t+\t.\tParent=tx:O
chr1\tt\tCDS\t1101\t4900\t.\t+\t0\tParent=tx:O
"""


def test_rank_cli_puts_a_de_novo_deletion_of_a_phenotype_gene_first(tmp_path: Path) -> None:
    from genomflow.cli import main
    from genomflow.rare import simulate

    simulate.write_trio(tmp_path / "trio.vcf.gz", tmp_path / "pop.vcf.gz", n_variants=500)
    simulate.write_sheets(tmp_path / "samples.tsv", tmp_path / "units.tsv")
    header = HEADER.replace(
        "##contig=<ID=chrX", "##contig=<ID=chr9,length=100000>\n##contig=<ID=chrX"
    )
    calls = [
        ("DEL1", "chr9", 900, "DEL", 5100, "PASS", "0/1 0/0 0/0"),  # de novo, whole STXBP1
        ("DUP1", "chr1", 3000, "DUP", 9000, "PASS", "0/1 0/1 0/0"),  # paternal, OR4F5
    ]

    def vcf(name: str, samples: list[str], lines: list[str], extra: str = "") -> Path:
        path = tmp_path / name
        path.write_text(header + extra + "\t".join([COLUMNS, *samples]) + "\n" + "".join(lines))
        return path

    joint = vcf("FAM001.vcf", ["RD001", "RD002", "RD003"], [_record(*c) for c in calls])
    warning = "##sv_warning=mean depth 9.0 below sv.min_coverage 10\n"
    kid = vcf("RD001.sv.vcf", ["RD001"], [_record(*c[:-1], "0/1") for c in calls], warning)
    dad = vcf("RD002.sv.vcf", ["RD002"], [_record(*calls[1][:-1], "0/1")])
    unrelated = vcf("U1.sv.vcf", ["U1"], [_record("X", "chr1", 3050, "DUP", 9020, "PASS", "0/1")])
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text(TRIO_GFF3)
    out = tmp_path / "candidates.tsv"
    code = main([
        "rare", "rank", "--vcf", str(tmp_path / "trio.vcf.gz"), "--samples",
        str(tmp_path / "samples.tsv"), "--units", str(tmp_path / "units.tsv"), "--group",
        "FAM001", "--out", str(out), "--sv-vcf", str(kid), "--sv-vcf", str(dad),
        "--sv-joint", str(joint), "--batch-sv", str(unrelated), "--gff3", str(gff3),
    ])  # fmt: skip
    assert code == 0
    text = out.read_text()
    assert "# limit: SV calls of RD001.sv.vcf: mean depth 9.0 below sv.min_coverage 10" in text
    assert "frequency is the batch's (1 unrelated samples, absent = rare)" in text
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    rows = [dict(zip(lines[0].split("\t"), line.split("\t"), strict=True)) for line in lines[1:]]
    first = rows[0]
    assert (first["gene"], first["kind"], first["inheritance"]) == ("STXBP1", "SV", "de_novo")
    assert first["variant"] == "chr9:900-5100 <DEL> 4200 bp"
    assert first["consequence"] == "whole_gene_deletion"
    assert first["phenotype_match"] != "none"  # STXBP1 is a seizure gene (HPO)
    assert first["population_af"] == "batch 0/1" and "PM6" in first["acmg_criteria"]
    dup = next(r for r in rows if r["gene"] == "OR4F5")
    assert (dup["kind"], dup["population_af"], dup["phenotype_match"]) == (
        "SV",
        "batch 1/1",
        "none",
    )
    assert dup["gt_RD002"] == "0/1" and dup["gt_RD003"] == "0/0"


def test_a_deletion_shared_with_an_affected_father_segregates_dominantly(
    calls: dict[str, Path],
) -> None:
    family = Family("F", "KID", (
        Member("KID", "male", "yes", "DAD", "MUM"),
        Member("DAD", "male", "yes"),
        Member("MUM", "female", "no"),
    ))  # fmt: skip
    models = read_genes(calls["gff3"])
    svs = structural.read_sv(calls["proband"], calls["joint"], family, models, Genes())
    deletion = next(v for v in svs if v.key.startswith("chr1:1900-"))
    assert rank.single_model(deletion, family, "chrX") == rank.AD
    # The inversion the unaffected mother also carries does not segregate.
    inversion = next(v for v in svs if v.svtype == "INV")
    assert rank.single_model(inversion, family, "chrX") == rank.NO_MODEL
