"""Panel coverage from mosdepth outputs: per target/exon/gene, gaps, on-target metrics."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pysam
import pytest

from genomflow.cli import main
from genomflow.coverage import count_reads, fold_80, panel_coverage

PANEL = (
    "chr1\t100\t200\tGA:exon1\n"
    "chr1\t300\t350\tGA:exon2\n"
    "chr1\t360\t400\tGA:exon2\n"
    "chr2\t500\t600\tGB:exon1\n"
)


def write_gz(path: Path, text: str) -> None:
    with gzip.open(path, "wt") as handle:
        handle.write(text)


@pytest.fixture
def inputs(tmp_path: Path) -> dict[str, Path]:
    panel = tmp_path / "panel.bed"
    panel.write_text(PANEL)
    prefix = tmp_path / "S1"
    write_gz(
        Path(f"{prefix}.regions.bed.gz"),
        "chr1\t100\t200\tGA:exon1\t600.00\nchr1\t300\t350\tGA:exon2\t300.00\n"
        "chr1\t360\t400\tGA:exon2\t100.00\nchr2\t500\t600\tGB:exon1\t80.50\n",
    )
    write_gz(
        Path(f"{prefix}.thresholds.bed.gz"),
        "#chrom\tstart\tend\tregion\t100X\t500X\n"
        "chr1\t100\t200\tGA:exon1\t100\t90\nchr1\t300\t350\tGA:exon2\t50\t0\n"
        "chr1\t360\t400\tGA:exon2\t30\t0\nchr2\t500\t600\tGB:exon1\t20\t0\n",
    )
    # Depth below 100 at chr1:390-420 (10 target bases) and chr2:480-580 (80 target bases).
    write_gz(
        Path(f"{prefix}.quantized.bed.gz"),
        "chr1\t0\t90\t0:100\nchr1\t90\t390\t100:inf\nchr1\t390\t420\t0:100\n"
        "chr1\t420\t1000\t100:inf\nchr2\t0\t580\t0:100\nchr2\t580\t1000\t100:inf\n",
    )
    Path(f"{prefix}.mosdepth.region.dist.txt").write_text(
        "chr1\t600\t0.30\ntotal\t600\t0.25\ntotal\t400\t0.5\ntotal\t300\t0.79\n"
        "total\t250\t0.81\ntotal\t100\t0.9\ntotal\t0\t1.00\n"
    )
    return {"panel": panel, "prefix": prefix, "bam": write_bam(tmp_path / "S1.bam")}


def write_bam(path: Path) -> Path:
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [{"SN": "chr1", "LN": 1000}, {"SN": "chr2", "LN": 1000}],
    }
    reads = [
        # (contig, start, flag, mapq)
        (0, 120, 0, 60),  # on target
        (0, 150, 0x400, 60),  # duplicate, on target
        (0, 210, 0, 60),  # overlaps GA:exon1 by its end? 210..260: no, off target
        (0, 280, 0, 60),  # reaches 300: on target
        (0, 320, 0, 10),  # low MAPQ, on target
        (0, 330, 0x100, 60),  # secondary
        (1, 550, 0, 60),  # on target
        (1, 800, 0, 60),  # off target
    ]
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for index, (contig, start, flag, mapq) in enumerate(reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{index}"
            read.query_sequence = "A" * 50
            read.query_qualities = pysam.qualitystring_to_array("I" * 50)
            read.flag = flag
            read.reference_id = contig
            read.reference_start = start
            read.mapping_quality = mapq
            read.cigarstring = "50M"
            out.write(read)
    pysam.index(str(path))
    return path


def run(inputs: dict[str, Path], tmp_path: Path) -> dict[str, object]:
    return panel_coverage(
        sample="S1",
        panel_bed=inputs["panel"],
        prefix=str(inputs["prefix"]),
        bam=inputs["bam"],
        depths=(100, 500),
        min_depth=100,
        min_mapping_quality=20,
        coverage_out=tmp_path / "S1.coverage.tsv",
        gaps_out=tmp_path / "S1.gaps.bed",
        metrics_out=tmp_path / "S1.metrics.tsv",
        multiqc_out=tmp_path / "S1_mqc.json",
        qc_out=tmp_path / "S1.qc.json",
    )


def test_coverage_table_per_panel_gene_exon_target(inputs: dict[str, Path], tmp_path: Path) -> None:
    run(inputs, tmp_path)
    table = pd.read_csv(tmp_path / "S1.coverage.tsv", sep="\t", keep_default_na=False)
    assert list(table.columns) == [
        "level", "gene", "exon", "target", "chrom", "start", "end", "bases",
        "mean_depth", "pct_ge_100x", "pct_ge_500x", "bases_below_100x",
    ]  # fmt: skip
    assert list(table["level"]) == [
        "panel",
        "gene",
        "exon",
        "exon",
        "target",
        "target",
        "target",
        "gene",
        "exon",
        "target",
    ]
    rows = {(r.level, r.gene, r.exon, r.target): r for r in table.itertuples(index=False)}
    gene = rows[("gene", "GA", "", "")]
    # (100 * 600 + 50 * 300 + 40 * 100) / 190
    assert gene.mean_depth == pytest.approx(415.79, abs=0.01)
    assert gene.bases == 190 and gene.pct_ge_100x == pytest.approx(94.74, abs=0.01)
    assert gene.bases_below_100x == 10
    exon2 = rows[("exon", "GA", "exon2", "")]
    assert (exon2.start, exon2.end, exon2.bases) == (300, 400, 90)
    assert exon2.mean_depth == pytest.approx((50 * 300 + 40 * 100) / 90, abs=0.01)
    panel = rows[("panel", "", "", "")]
    assert panel.chrom == "chr1,chr2" and panel.bases == 290 and panel.bases_below_100x == 90


def test_gaps_are_target_bases_below_min_depth_named_by_gene_and_exon(
    inputs: dict[str, Path], tmp_path: Path
) -> None:
    run(inputs, tmp_path)
    assert (tmp_path / "S1.gaps.bed").read_text() == (
        "chr1\t390\t400\tGA:exon2\nchr2\t500\t580\tGB:exon1\n"
    )


def test_metrics_reads_and_multiqc(inputs: dict[str, Path], tmp_path: Path) -> None:
    values = run(inputs, tmp_path)
    # usable reads: r0, r2, r3, r6, r7 (not the duplicate, low MAPQ or secondary); on target:
    # r0, r3, r6. Duplicates among primary mapped: 1 of 7.
    assert values["on_target_fraction"] == 0.6
    assert values["duplicate_rate"] == round(1 / 7, 4)
    assert values["fold_80"] == round(values["mean_target_depth"] / 250, 3)  # type: ignore[operator]
    assert values["gaps"] == 2 and values["genes_with_gaps"] == 2
    metrics = pd.read_csv(tmp_path / "S1.metrics.tsv", sep="\t")
    assert metrics.loc[0, "sample"] == "S1" and metrics.loc[0, "bases_below_100x"] == 90
    assert json.loads((tmp_path / "S1.qc.json").read_text()) == {
        "target_bases_at_depth": round(1 - 90 / 290, 4),
        "on_target_rate": 0.6,
    }
    content = json.loads((tmp_path / "S1_mqc.json").read_text())
    assert content["plot_type"] == "generalstats"
    assert content["data"]["S1"]["on_target_fraction"] == 0.6


def test_counts_and_fold80_directly(inputs: dict[str, Path], tmp_path: Path) -> None:
    counts = count_reads(inputs["bam"], inputs["panel"], 20)
    assert (counts.mapped, counts.duplicates, counts.usable, counts.on_target) == (7, 1, 5, 3)
    dist = tmp_path / "zero.dist.txt"
    dist.write_text("total\t0\t1.00\n")
    assert fold_80(dist, 10.0) is None


def test_mosdepth_run_on_another_panel_is_an_error(
    inputs: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.bed"
    other.write_text("chr1\t100\t200\tGA:exon1\nchr1\t700\t800\tGZ:exon9\n")
    argv = [
        "coverage", "panel", "--sample", "S1", "--panel", str(other),
        "--mosdepth-prefix", str(inputs["prefix"]), "--bam", str(inputs["bam"]),
        "--depths", "100", "500", "--min-depth", "100", "--min-mapping-quality", "20",
        "--coverage-out", str(tmp_path / "c.tsv"), "--gaps-out", str(tmp_path / "g.bed"),
        "--metrics-out", str(tmp_path / "m.tsv"),
    ]  # fmt: skip
    assert main(argv) == 2
    assert "mosdepth has no numbers for target GZ:exon9" in capsys.readouterr().err
