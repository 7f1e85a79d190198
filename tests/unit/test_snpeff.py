"""genomflow.snpeff: the database inputs written from a GFF3, and the one ANN parser."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from genomflow import snpeff
from genomflow.report.variants import HGVS_FIELDS, hgvs_fields

REPO = Path(__file__).resolve().parents[2]
GFF3 = REPO / "resources/testgenome/genes.gff3"
FASTA = REPO / "resources/testgenome/genome.fa"


def test_prepare_writes_the_database_inputs(tmp_path: Path) -> None:
    chosen = snpeff.prepare(GFF3, FASTA, tmp_path)
    gff = (tmp_path / "genomflow/genes.gff").read_text()
    assert "transcript:" not in gff and "gene:" not in gff and "CDS:" not in gff
    assert "ID=GFT000002;Parent=GFG000002;Name=GFB2-201" in gff
    assert "Name=GFT000002-E1" not in gff  # exon names make snpEff invent genes
    assert gff.count("\n") == GFF3.read_text().count("\n")
    assert (tmp_path / "genomflow/sequences.fa").resolve() == FASTA.resolve()
    config = (tmp_path / "snpEff.config").read_text()
    assert config == "data.dir = ./\ngenomflow.genome : genomflow\n"  # relocatable
    assert not (tmp_path / "genomflow/sequences.fa").readlink().is_absolute()
    listed = (tmp_path / "transcripts.txt").read_text().split()
    assert sorted(listed) == [f"GFT00000{i}" for i in range(1, 8)]
    assert [t.transcript for t in chosen.by_gene.values()] == listed
    table = (tmp_path / "transcripts.tsv").read_text().splitlines()
    assert table[0] == "gene\ttranscript\tbasis\tcds_length"
    assert "GFB2\tGFT000002\tlongest CDS\t1332" in table


def test_a_gff3_without_cds_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    no_cds = tmp_path / "no_cds.gff3"
    no_cds.write_text("".join(line + "\n" for line in GFF3.read_text().splitlines()
                              if "\tCDS\t" not in line))  # fmt: skip
    out = tmp_path / "db"
    done = subprocess.run(
        [sys.executable, "-m", "genomflow", "reference", "snpeff", "--gff3", str(no_cds),
         "--fasta", str(FASTA), "--out-dir", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().endswith(
        f"{no_cds}: no transcript has a CDS (genes without one: GFC3, GFB2, GFA1, GFE5, GFD4, "
        "GFH6, GFK7); nothing to annotate HGVS on"
    )
    assert not (out / "transcripts.txt").exists() and not (out / "snpEff.config").exists()


ANN = (
    "A|splice_acceptor_variant&intron_variant|HIGH|G1|G1|transcript|T1|protein_coding|1/3|"
    "c.106-1G>A||||||,"
    "C|missense_variant|MODERATE|G1|G1|transcript|T1|protein_coding|2/4|c.128A>T|p.Glu43Val|"
    "164/911|128/831|43/276||,"
    "C|upstream_gene_variant|MODIFIER|G2|G2|transcript|T2|protein_coding||c.-2000A>G|||||2000|"
)


def test_ann_entries_by_allele_with_report_fields() -> None:
    entries = snpeff.parse_ann(ANN)
    assert [e.consequence for e in entries] == [
        "splice_acceptor_variant", "missense_variant", "upstream_gene_variant",
    ]  # fmt: skip
    splice = snpeff.first_for(ANN, "A")
    assert splice is not None
    assert (splice.intron, splice.exon, splice.hgvs_c, splice.protein) == (
        "1/3", None, "c.106-1G>A", "p.?",
    )  # fmt: skip
    missense = snpeff.first_for(tuple(ANN.split(",")), "C")
    assert missense is not None
    assert (missense.exon, missense.intron, missense.protein) == ("2/4", None, "p.(Glu43Val)")
    upstream = entries[2]
    assert (upstream.exon, upstream.intron, upstream.protein) == (None, None, None)
    assert snpeff.first_for(ANN, "T") is None
    assert upstream.on_transcript
    intergenic = snpeff.parse_ann(
        "T|intergenic_region|MODIFIER|G1-G2|G1-G2|intergenic_region|G1-G2|||n.5A>T||||||"
    )
    assert not intergenic[0].on_transcript
    assert hgvs_fields(intergenic[0]) == dict.fromkeys(HGVS_FIELDS) | {
        "consequence": "intergenic_region"
    }
    assert hgvs_fields(missense)["hgvs_p"] == "p.(Glu43Val)"
    assert snpeff.parse_ann(None) == [] and snpeff.parse_ann(".") == []


def test_snpeff_protein_and_dna_notation_become_current_hgvs() -> None:
    assert snpeff.predicted_protein("p.Trp48*") == "p.(Trp48Ter)"
    assert snpeff.predicted_protein("p.Ser3del") == "p.(Ser3del)"
    assert snpeff.predicted_protein("p.Pro190fs") == "p.(Pro190fs)"
    assert snpeff.predicted_protein("p.Met1?") == "p.(Met1?)"
    assert snpeff.predicted_protein("p.Leu5Leu") == "p.(Leu5=)"
    assert snpeff.current_hgvs_c("c.575delT") == "c.575del"
    assert snpeff.current_hgvs_c("c.247+1G>A") == "c.247+1G>A"


def test_versions_name_snpeff_without_touching_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", "from genomflow import versions as v; "
         "print(v.tool_version(next(t for t in v.TOOLS if t.name == 'snpeff')))"],
        capture_output=True, text=True, check=True,
        env={"HOME": str(home), "PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert done.stdout.strip().startswith("5.1"), done.stdout
    assert list(home.iterdir()) == []  # Debian's wrapper made no ~/.snpEff


def test_snpeff_reports_on_the_tagged_transcript_only(tmp_path: Path) -> None:
    """A second GFB2 transcript tagged Ensembl_canonical (an exact copy of GFT000002, so
    without the tag the smaller id would win) becomes the reporting transcript, and
    ``-onlyTr`` keeps snpEff to it: the variant gets one annotation, on GFT000092; the
    options keep the 3' shift and the three-letter amino acids (no -noShiftHgvs, no
    -hgvs1LetterAa)."""
    assert "-noShiftHgvs" not in snpeff.ANN_OPTIONS and "1LetterAa" not in snpeff.ANN_OPTIONS
    lines = GFF3.read_text().splitlines()
    copy = []
    for line in lines:
        fields = line.split("\t")
        if len(fields) == 9 and "transcript:GFT000002" in fields[8] and fields[2] != "gene":
            attributes = fields[8].replace("GFT000002", "GFT000092").replace("GFP000002", "GFP92")
            if fields[2] == "mRNA":
                attributes += ";tag=basic,Ensembl_canonical"
            copy.append("\t".join([*fields[:8], attributes]))
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text("\n".join([*lines, *copy]) + "\n")
    chosen = snpeff.prepare(gff3, FASTA, tmp_path / "db")
    assert (chosen.by_gene["GFB2"].transcript, chosen.by_gene["GFB2"].basis) == (
        "GFT000092", "Ensembl_canonical",
    )  # fmt: skip
    config = str(tmp_path / "db/snpEff.config")
    java = ["snpEff", "-Xmx1g"]
    build = [*java, "build", "-c", config, *snpeff.BUILD_OPTIONS.split(), snpeff.GENOME]
    subprocess.run(build, capture_output=True, check=True)
    vcf = tmp_path / "in.vcf"
    vcf.write_text(
        "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=150000>\n"
        "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        "chr1\t100602\t.\tCT\tC\t50\tPASS\t.\n"
    )
    ann = [*java, "ann", "-c", config, *snpeff.ANN_OPTIONS.split(), "-onlyTr",
           str(tmp_path / "db/transcripts.txt"), snpeff.GENOME, str(vcf)]  # fmt: skip
    out = subprocess.run(ann, capture_output=True, text=True, check=True).stdout
    [record] = [line for line in out.splitlines() if line.startswith("chr1\t")]
    entries = snpeff.parse_ann(record.split("\t")[7].removeprefix("ANN="))
    assert [(e.transcript, e.hgvs_c, e.protein) for e in entries] == [
        ("GFT000092", "c.575del", "p.(Phe192fs)")
    ]
