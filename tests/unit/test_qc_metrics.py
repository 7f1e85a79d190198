"""QC metrics from small hand-made fastp, samtools and mosdepth outputs."""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.qc.metrics import (
    MetricSources,
    SampleMetrics,
    collect,
    fastp_q30_rate,
    fraction_at_depth,
    markdup_duplicate_rate,
    offtarget_sex_coverage,
    panel_metrics,
    read_extra_metrics,
    read_mosdepth_summary,
    samtools_stats_metrics,
    sex_coverage,
)

# A male: autosomes at 30x (chr1 100 bp at 28x, chr2 300 bp at ~30.67x), X and Y at 15x.
SUMMARY = """chrom\tlength\tbases\tmean\tmin\tmax
chr1\t100\t2800\t28.00\t0\t40
chr2\t300\t9200\t30.67\t0\t40
chrX\t200\t3000\t15.00\t0\t20
chrY\t100\t1500\t15.00\t0\t20
chrM\t16\t16000\t1000.00\t0\t2000
total\t716\t32500\t45.39\t0\t2000
"""
# Fraction of bases at >= depth; chr1 40% at 20x, chr2 80% at 20x.
DIST = """chr1\t21\t0.30
chr1\t20\t0.40
chr1\t0\t1.00
chr2\t20\t0.80
chr2\t0\t1.00
chrX\t20\t0.00
chrX\t0\t1.00
total\t20\t0.50
total\t0\t1.00
"""
SAMTOOLS_STATS = """# This file was produced by samtools stats
SN\traw total sequences:\t1000\t# excluding supplementary and secondary reads
SN\treads mapped:\t950
SN\treads duplicated:\t40\t# PCR or optical duplicate bit set
SN\terror rate:\t3.000000e-03\t# mismatches / bases mapped (cigar)
SN\tinsert size average:\t321.5
"""
MARKDUP = """COMMAND: samtools markdup -f x.txt - x.bam
READ: 1000
WRITTEN: 1000
EXCLUDED: 50
EXAMINED: 950
PAIRED: 940
SINGLE: 10
DUPLICATE PAIR: 36
DUPLICATE SINGLE: 2
DUPLICATE PAIR OPTICAL: 0
DUPLICATE SINGLE OPTICAL: 0
DUPLICATE NON PRIMARY: 0
DUPLICATE NON PRIMARY OPTICAL: 0
DUPLICATE PRIMARY TOTAL: 38
DUPLICATE TOTAL: 38
ESTIMATED_LIBRARY_SIZE: 12345
"""


def fastp_json(q30: int, total: int) -> str:
    return json.dumps(
        {
            "summary": {
                "before_filtering": {"total_reads": 10, "total_bases": total + 100},
                "after_filtering": {"q30_bases": q30, "total_bases": total, "total_reads": 9},
            }
        }
    )


@pytest.fixture
def sources(tmp_path: Path) -> MetricSources:
    files = {
        "summary.txt": SUMMARY,
        "dist.txt": DIST,
        "stats.txt": SAMTOOLS_STATS,
        "markdup.txt": MARKDUP,
        "u1.json": fastp_json(800, 1000),
        "u2.json": fastp_json(2800, 3000),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return MetricSources(
        samtools_stats=tmp_path / "stats.txt",
        markdup=tmp_path / "markdup.txt",
        mosdepth_summary=tmp_path / "summary.txt",
        mosdepth_dist=tmp_path / "dist.txt",
        fastp=(tmp_path / "u1.json", tmp_path / "u2.json"),
    )


def test_every_metric_from_its_source(sources: MetricSources) -> None:
    result = collect("S1", sources, "chrX", "chrY")
    metrics = result.metrics
    assert metrics["mean_coverage"] == pytest.approx(12000 / 400)  # autosomes only
    assert metrics["bases_20x"] == pytest.approx((100 * 0.40 + 300 * 0.80) / 400)
    assert metrics["duplicate_rate"] == pytest.approx(38 / 950)
    assert metrics["q30_rate"] == pytest.approx(3600 / 4000)  # bases of both units
    assert metrics["mapping_rate"] == pytest.approx(0.95)
    assert metrics["error_rate"] == pytest.approx(0.003)
    assert metrics["insert_size"] == pytest.approx(321.5)
    assert result.sex is not None
    assert result.sex.autosomal_depth == pytest.approx(30.0)
    assert result.sex.x_ratio == pytest.approx(0.5)
    assert result.sex.y_ratio == pytest.approx(0.5)


def test_metrics_round_trip_through_json(sources: MetricSources, tmp_path: Path) -> None:
    result = collect("S1", sources, "chrX", "chrY")
    path = tmp_path / "S1.json"
    path.write_text(result.to_json())
    assert SampleMetrics.from_json(path) == result


def test_numbered_autosomes_without_chr_prefix_and_no_y(tmp_path: Path) -> None:
    summary = tmp_path / "s.txt"
    summary.write_text(
        "chrom\tlength\tbases\tmean\tmin\tmax\n1\t100\t2000\t20\t0\t1\n"
        "X\t100\t2000\t20\t0\t1\nGL000192.1\t10\t5000\t500\t0\t1\n"
        "1_region\t50\t1000\t20\t0\t1\ntotal\t210\t9000\t42\t0\t1\n"
    )
    coverage = sex_coverage(read_mosdepth_summary(summary), "X", "Y", summary)
    assert coverage.autosomal_depth == pytest.approx(20.0)
    assert coverage.x_ratio == pytest.approx(1.0)
    assert coverage.y_ratio is None


def test_panel_metrics_from_panel_coverage_table(tmp_path: Path) -> None:
    path = tmp_path / "metrics.tsv"
    path.write_text(
        "sample\tpanel\ttarget_bases\tmean_target_depth\ton_target_fraction\tduplicate_rate"
        "\tfold_80\tpct_ge_100x\tpct_ge_500x\tbases_below_100x\tgaps\tgenes_with_gaps\n"
        "T1\tsolid\t2000\t612.5\t0.7312\t0.2\t1.4\t97.5\t60.1\t50\t2\t1\n"
    )
    assert panel_metrics(path) == {"target_bases_at_depth": 0.975, "on_target_rate": 0.7312}


def test_extra_metrics_are_checked(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text('{"consensus_depth": 2500.5, "family_size": null}')
    assert read_extra_metrics(good) == {"consensus_depth": 2500.5, "family_size": None}
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"consensus_dept": 3}')
    with pytest.raises(GenomflowError, match=r"unknown.json: unknown metric 'consensus_dept'"):
        read_extra_metrics(unknown)
    text = tmp_path / "text.json"
    text.write_text('{"family_size": "3"}')
    with pytest.raises(GenomflowError, match=r"text.json: metric 'family_size' is not a number"):
        read_extra_metrics(text)


@pytest.mark.parametrize(
    ("reader", "content", "message"),
    [
        (samtools_stats_metrics, "SN\treads mapped:\t5\n", "not samtools stats output"),
        (markdup_duplicate_rate, "READ: 5\n", "not samtools markdup stats"),
        (read_mosdepth_summary, "chrom\tlength\n1\t2\n", "not a mosdepth summary"),
        (lambda p: fastp_q30_rate([p]), '{"summary": {}}', "not a fastp JSON report"),
        (SampleMetrics.from_json, "[]", "not a genomflow QC metrics file"),
    ],
)
def test_bad_input_names_the_file(
    tmp_path: Path, reader: object, content: str, message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(GenomflowError) as err:
        reader(path)  # type: ignore[operator]
    assert str(err.value).startswith(f"{path}: {message}")


def test_command_line_writes_the_metrics_json(sources: MetricSources, tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    code = main(
        [
            "qc",
            "metrics",
            "--sample",
            "S1",
            "--samtools-stats",
            str(sources.samtools_stats),
            "--markdup",
            str(sources.markdup),
            "--mosdepth-summary",
            str(sources.mosdepth_summary),
            "--mosdepth-dist",
            str(sources.mosdepth_dist),
            "--fastp",
            *map(str, sources.fastp),
            "--extra",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    assert SampleMetrics.from_json(out).metrics["mean_coverage"] == pytest.approx(30.0)


def write_bam(path: Path, reads: list[tuple[str, int]], length: int = 100) -> None:
    """Mapped reads (contig, 0-based start) of ``length`` bases, MAPQ 60, sorted and indexed."""
    header = {
        "HD": {"VN": "1.6", "SO": "coordinate"},
        "SQ": [
            {"SN": "chr1", "LN": 20000},
            {"SN": "chrX", "LN": 10000},
            {"SN": "chrY", "LN": 10000},
        ],
    }
    order = {"chr1": 0, "chrX": 1, "chrY": 2}
    with pysam.AlignmentFile(str(path), "wb", header=header) as out:
        for number, (contig, start) in enumerate(sorted(reads, key=lambda r: (order[r[0]], r[1]))):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{number}"
            read.query_sequence = "A" * length
            read.query_qualities = pysam.qualitystring_to_array("I" * length)
            read.reference_id = order[contig]
            read.reference_start = start
            read.cigartuples = [(0, length)]
            read.mapping_quality = 60
            out.write(read)
    pysam.index(str(path))


def test_panel_sex_uses_reads_away_from_the_targets(tmp_path: Path) -> None:
    # A male panel sample: 2,000 reads piled on a chr1 target, off-target reads every 100 bp
    # on chr1 (depth 1) and every 200 bp on X and Y (depth 0.5).
    on_target = [("chr1", 5000 + i % 400) for i in range(2000)]
    off_target = [("chr1", p) for p in range(0, 20000, 100) if not 3900 < p < 6500]
    sex = [(c, p) for c in ("chrX", "chrY") for p in range(0, 10000, 200)]
    bam = tmp_path / "panel.bam"
    write_bam(bam, on_target + off_target + sex)
    coverage = offtarget_sex_coverage(bam, [("chr1", 5000, 5500)], "chrX", "chrY")
    # chr1 minus the target and 1 kb flanks: 20000 - 2500 bases at depth 1.
    assert coverage.autosomal_depth == pytest.approx(1.0, rel=0.05)
    assert coverage.x_ratio == pytest.approx(0.5, rel=0.05)
    assert coverage.y_ratio == pytest.approx(0.5, rel=0.05)


def test_mosdepth_summary_rows_and_a_bad_number_named(tmp_path: Path) -> None:
    summary = tmp_path / "s.mosdepth.summary.txt"
    summary.write_text(
        "chrom\tlength\tbases\tmean\tmin\tmax\n"
        "chr1\t1000\t30000\t30.00\t0\t60\nchr1_region\t500\t15000\t30.00\t0\t60\n"
        "chrX\t1000\t15000\t15.00\t0\t40\ntotal\t2000\t45000\t22.50\t0\t60\n"
    )
    rows = read_mosdepth_summary(summary)
    assert [(r.chrom, r.length, r.bases, r.mean) for r in rows] == [
        ("chr1", 1000.0, 30000.0, 30.0),
        ("chrX", 1000.0, 15000.0, 15.0),
    ]
    summary.write_text("chrom\tlength\tbases\tmean\nchr1\t1000\tn/a\t30\n")
    with pytest.raises(GenomflowError, match=r"s\.mosdepth\.summary\.txt: bases 'n/a' is not a"):
        read_mosdepth_summary(summary)
    summary.write_text("")
    with pytest.raises(GenomflowError, match="cannot read mosdepth summary"):
        read_mosdepth_summary(summary)
    summary.write_text("chrom\tlength\tbases\tmean\nchr1\t1000\t30000\t30\nchr2\t1000\n")
    with pytest.raises(GenomflowError, match=r"summary\.txt: .*line 3 has 2 fields for 4 col"):
        read_mosdepth_summary(summary)


def test_a_cut_mosdepth_dist_row_is_named(tmp_path: Path) -> None:
    summary = tmp_path / "s.mosdepth.summary.txt"
    summary.write_text("chrom\tlength\tbases\tmean\nchr1\t1000\t30000\t30\n")
    dist = tmp_path / "s.mosdepth.global.dist.txt"
    dist.write_text("chr1\t20\t0.75\nchr1\t10\t0.9\n")
    rows = read_mosdepth_summary(summary)
    assert fraction_at_depth(dist, rows, ["chr1"], 20) == pytest.approx(0.75)
    dist.write_text("chr1\t20\t0.75\nchr1\t10\n")
    with pytest.raises(GenomflowError, match=r"dist\.txt: .*dist \(line 2 has 2 fields for 3 col"):
        fraction_at_depth(dist, rows, ["chr1"], 20)
