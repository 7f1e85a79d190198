"""The reporting transcript of a gene: MANE_Select, else Ensembl_canonical, else the longest
CDS; a gene without any CDS is stated."""

from __future__ import annotations

from pathlib import Path

from genomflow.transcripts import LONGEST_CDS, reporting_transcripts

REPO = Path(__file__).resolve().parents[2]

GFF3 = """##gff-version 3
c1\tt\tgene\t1\t1000\t.\t+\t.\tID=gene:G1;Name=GA
c1\tt\tmRNA\t1\t1000\t.\t+\t.\tID=transcript:T1;Parent=gene:G1;tag=basic
c1\tt\tCDS\t101\t400\t.\t+\t0\tParent=transcript:T1
c1\tt\tmRNA\t1\t1000\t.\t+\t.\tID=transcript:T2;Parent=gene:G1;tag=basic,MANE_Select
c1\tt\tCDS\t101\t200\t.\t+\t0\tParent=transcript:T2
c1\tt\tmRNA\t1\t1000\t.\t+\t.\tID=transcript:T3;Parent=gene:G1;tag=Ensembl_canonical
c1\tt\tCDS\t101\t300\t.\t+\t0\tParent=transcript:T3
c1\tt\tgene\t2001\t3000\t.\t-\t.\tID=gene:G2;Name=GB
c1\tt\tmRNA\t2001\t3000\t.\t-\t.\tID=transcript:T4;Parent=gene:G2
c1\tt\tCDS\t2101\t2400\t.\t-\t0\tParent=transcript:T4
c1\tt\tCDS\t2501\t2600\t.\t-\t0\tParent=transcript:T4
c1\tt\tmRNA\t2001\t3000\t.\t-\t.\tID=transcript:T5;Parent=gene:G2
c1\tt\tCDS\t2101\t2450\t.\t-\t0\tParent=transcript:T5
c1\tt\tgene\t4001\t5000\t.\t+\t.\tID=gene:G3;Name=GC
c1\tt\tmRNA\t4001\t5000\t.\t+\t.\tID=transcript:T6;Parent=gene:G3
c1\tt\texon\t4001\t5000\t.\t+\t.\tParent=transcript:T6
"""


def test_tags_then_longest_cds_and_genes_without_cds(tmp_path: Path) -> None:
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text(GFF3)
    result = reporting_transcripts(gff3)
    chosen = {g: (r.transcript, r.basis, r.cds_length) for g, r in result.by_gene.items()}
    assert chosen == {
        "GA": ("T2", "MANE_Select", 100),  # MANE beats canonical and the longest CDS
        "GB": ("T4", LONGEST_CDS, 400),  # two CDS segments: 300 + 100 > 350
    }
    assert result.without_cds == ["GC"]


def test_the_test_genome_has_one_coding_transcript_per_gene() -> None:
    result = reporting_transcripts(REPO / "resources/testgenome/genes.gff3")
    assert len(result.by_gene) == 7 and not result.without_cds
    assert result.by_gene["GFC3"].transcript == "GFT000003"
    assert result.by_gene["GFC3"].cds_length % 3 == 0
