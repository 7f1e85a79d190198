"""Panel BEDs: reading, checks against the reference (each fault names file and line)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.panels import (
    PanelError,
    available_panels,
    check_panel_name,
    read_panel,
    write_genome_regions,
)
from genomflow.reference import reference_contigs

REPO = Path(__file__).resolve().parents[2]
CONTIGS = {"chr1": 1000, "chr2": 500}


def bed(tmp_path: Path, text: str, name: str = "p1.bed") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_reads_targets_sorted_with_gene_and_exon(tmp_path: Path) -> None:
    path = bed(
        tmp_path,
        "# a comment\ntrack name=x\nchr2\t10\t20\tGB:exon1\nchr1\t100\t200\tGA:exon2\textra\n\n"
        "chr1\t10\t50\tGA:exon1\n",
    )
    panel = read_panel(path, CONTIGS)
    assert panel.name == "p1"
    assert [(t.contig, t.start, t.name, t.line) for t in panel.targets] == [
        ("chr1", 10, "GA:exon1", 6),
        ("chr1", 100, "GA:exon2", 4),
        ("chr2", 10, "GB:exon1", 3),
    ]
    assert panel.genes == ("GA", "GB") and panel.size == 150
    ranges = panel.ranges().df
    assert list(ranges["Exon"]) == ["exon1", "exon2", "exon1"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("chr1\t10\t20\n", "line 1: expected at least 4 tab-separated columns"),
        ("chr1\tten\t20\tG:e1\n", "line 1: start and end must be whole numbers"),
        ("chr1\t20\t20\tG:e1\n", "line 1: start 20 is not before end 20"),
        ("chr1\t10\t20\tGENE\n", "line 1: name 'GENE' is not GENE:EXON"),
        ("chr1\t10\t20\t:exon1\n", "is not GENE:EXON"),
        (
            "chr1\t10\t20\tG:e1\nchr9\t10\t20\tG:e2\n",
            "line 2: contig 'chr9' is not in the reference",
        ),
        ("chr1\t990\t1010\tG:e1\n", "line 1: chr1:990-1010 ends past the end of chr1 (1000 bp)"),
        ("chr1\t10\t50\tG:e1\nchr1\t40\t60\tG:e2\n", "line 2: G:e2 (chr1:40-60) overlaps G:e1"),
        ("# only a comment\n", "the panel BED has no intervals"),
    ],
)
def test_faults_name_the_file_and_line(tmp_path: Path, text: str, problem: str) -> None:
    path = bed(tmp_path, text)
    with pytest.raises(PanelError) as caught:
        read_panel(path, CONTIGS)
    assert str(caught.value).startswith(os.fspath(path))
    assert problem in str(caught.value)


def test_missing_panel_file(tmp_path: Path) -> None:
    with pytest.raises(PanelError, match="panel BED not found"):
        read_panel(tmp_path / "nope.bed")


def test_names_and_listing(tmp_path: Path) -> None:
    check_panel_name("gf-onco-v1.2_b")
    with pytest.raises(PanelError, match="not a valid panel name"):
        check_panel_name("../x")
    bed(tmp_path, "chr1\t1\t2\tG:e\n", "b.bed")
    bed(tmp_path, "chr1\t1\t2\tG:e\n", "a.bed")
    assert available_panels(tmp_path) == ["a", "b"]
    assert available_panels(tmp_path / "missing") == []


def test_reference_contigs_from_fai_or_fasta(tmp_path: Path) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">c1 desc\nACGT\nAC\n>c2\nAAA\n")
    assert reference_contigs(fasta) == {"c1": 6, "c2": 3}
    assert not Path(f"{fasta}.fai").exists()  # nothing written next to the reference
    Path(f"{fasta}.fai").write_text("c1\t6\t9\t4\t5\nc2\t3\t20\t3\t4\n")
    assert reference_contigs(fasta) == {"c1": 6, "c2": 3}
    with pytest.raises(GenomflowError, match="not found"):
        reference_contigs(tmp_path / "none.fa")


def test_shipped_panel_is_valid_on_the_test_genome() -> None:
    contigs = reference_contigs(REPO / "resources/testgenome/genome.fa")
    panel = read_panel(REPO / "resources/panels/gf-onco-v1.bed", contigs)
    assert panel.genes == ("GFC3", "GFB2", "GFA1", "GFE5", "GFD4")
    assert any(t.exon.startswith("intron") for t in panel.targets)


def test_cli_check_and_genome_regions(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fasta = tmp_path / "ref.fa"
    fasta.write_text(">chr1\n" + "A" * 1000 + "\n>chr2\n" + "C" * 500 + "\n")
    path = bed(tmp_path, "chr1\t10\t20\tG:e1\n")
    assert main(["panels", "check", "--bed", str(path), "--reference", str(fasta)]) == 0
    assert "1 targets, 10 bp, 1 genes (G)" in capsys.readouterr().out
    bad = bed(tmp_path, "chr3\t10\t20\tG:e1\n", "bad.bed")
    assert main(["panels", "check", "--bed", str(bad), "--reference", str(fasta)]) == 2
    assert f"{bad} line 1: contig 'chr3'" in capsys.readouterr().err
    out = tmp_path / "genome.bed"
    write_genome_regions(CONTIGS, out)
    assert out.read_text() == "chr1\t0\t1000\nchr2\t0\t500\n"
