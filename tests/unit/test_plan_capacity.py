"""The capacity model: volumes file, interpolation, the split between centres, per-sample
costs (defaults and measured from a pipeline run) and the projection, worked by hand."""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from genomflow.errors import GenomflowError
from genomflow.plan import capacity
from genomflow.plan.capacity import (
    load_volumes,
    measure,
    project,
    rates,
    sample_cost,
    split,
    yearly_counts,
)

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "volumes.yaml"

# One panel category of exactly 1 Gb per sample (1 Mb at 500x, 2 x 150 bp, half on target),
# two centres, two milestones three years apart.
SMALL = """\
costs:
  cpu_core_hours_per_gb: 2.0
  alignment_format: bam
  bam_bytes_per_base: 0.5
  vcf_bytes_per_variant: 100
  report_bytes_per_sample: 1000
  db_rows_per_sample: 10
  min_measured_gb: 1.0
  min_measured_variants: 3
categories:
  panel:
    assay: panel
    target_size_bp: 1000000
    library_depths: [500]
    on_target_rate: 0.5
    duplication_rate: 0.0
    vcf_records_per_sample: 1000
    db_variants_per_sample: 90
centres:
  - {name: a, share: 0.75}
  - {name: b, share: 0.25}
years:
  2025: {panel: [100, 400]}
  2028: {panel: 700}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "volumes.yaml"
    path.write_text(text)
    return path


def test_shipped_volumes_hold_the_seed_plan() -> None:
    volumes = load_volumes(SHIPPED)
    assert len(volumes.centres) == 7
    assert volumes.years[2025] == {
        "solid_tumour_panel": (50_000, 50_000),
        "haematology_panel": (5_000, 5_000),
        "childhood_cancer_wgs": (350, 350),
        "rare_disease_wgs": (10_000, 15_000),
    }
    assert volumes.years[2030]["solid_tumour_panel"] == (75_000, 75_000)
    counts = yearly_counts(volumes, "high")
    assert sum(counts[2030].values()) == 75_000 + 7_000 + 400 + 15_000
    rows = project(volumes, rates(volumes, None), "low")
    national_2025 = sum(row.total_samples for row in rows if row.year == 2025)
    assert national_2025 == 50_000 + 5_000 + 350 + 10_000
    genome = sample_cost(volumes.categories["rare_disease_wgs"], volumes, rates(volumes, None))
    assert genome.gb_sequenced == pytest.approx(106.4, abs=0.1)  # 30x of 3.1 Gb, 8 % dups


def test_split_keeps_totals() -> None:
    assert split(10, [0.75, 0.25]) == [8, 2]  # 7.5 -> 8 (largest remainder, ties first)
    assert split(3, [1 / 3] * 3) == [1, 1, 1]
    for total in (0, 1, 7, 349, 15_001):
        assert sum(split(total, [0.22, 0.16, 0.15, 0.14, 0.12, 0.11, 0.10])) == total


def test_interpolation_and_scenarios(tmp_path: Path) -> None:
    volumes = load_volumes(write(tmp_path, SMALL))
    assert yearly_counts(volumes, "high") == {
        2025: {"panel": 400},
        2026: {"panel": 500},
        2027: {"panel": 600},
        2028: {"panel": 700},
    }
    assert yearly_counts(volumes, "low")[2026] == {"panel": 300}


def test_projection_worked_by_hand(tmp_path: Path) -> None:
    volumes = load_volumes(write(tmp_path, SMALL))
    costs = rates(volumes, None)
    per_sample = sample_cost(volumes.categories["panel"], volumes, costs)
    assert per_sample.gb_sequenced == pytest.approx(1.0)
    assert per_sample.core_hours == pytest.approx(2.0)
    # 1e9 bases x 0.5 + 1000 records x 100 + 1000 = 500,101,000 bytes
    assert per_sample.storage_bytes == pytest.approx(500_101_000)
    assert per_sample.db_rows == 100
    rows = project(volumes, costs, "high")
    first = {row.centre: row for row in rows if row.year == 2025}
    assert first["a"].samples == {"panel": 300} and first["b"].samples == {"panel": 100}
    assert first["a"].core_hours == pytest.approx(600.0)
    assert first["a"].storage_added_bytes == pytest.approx(300 * 500_101_000)
    second = {row.centre: row for row in rows if row.year == 2026}
    assert second["a"].samples == {"panel": 375}  # 500 x 0.75
    assert second["a"].storage_total_bytes == pytest.approx(675 * 500_101_000)
    assert second["a"].db_rows_total == 675 * 100


def test_report_table_and_plot(tmp_path: Path) -> None:
    volumes = load_volumes(write(tmp_path, SMALL))
    costs = rates(volumes, None)
    rows = project(volumes, costs)
    text = capacity.format_report(volumes, costs, rows)
    assert "default (no pipeline run given)" in text
    assert "  2025  national" in text
    table = tmp_path / "capacity.tsv"
    capacity.write_table(rows, table)
    lines = table.read_text().splitlines()
    assert lines[0].split("\t") == list(capacity.TABLE_COLUMNS)
    assert lines[1].split("\t")[:5] == ["2025", "a", "300", "300.0", "600"]
    assert len(lines) == 1 + 4 * 3  # 4 years x (2 centres + national)
    plot = tmp_path / "capacity.png"
    capacity.plot(rows, plot)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("  - {name: b, share: 0.25}\n", "  - {name: b, share: 0.5}\n", "add up to 1.25, not 1"),
        ("  2028: {panel: 700}\n", "  2028: {pannel: 700}\n", "'pannel' is not a category"),
        ("  2025: {panel: [100, 400]}\n", "  2025: {panel: [400, 100]}\n", "low > high"),
        ("  2025: {panel: [100, 400]}\n", "  twenty: {panel: 1}\n", "'twenty' does not match"),
        ("    target_size_bp: 1000000\n", "", "key 'categories.panel'"),
        ("  alignment_format: bam\n", "  alignment_format: sam\n", "'sam' is not one of"),
    ],
)
def test_volume_errors_name_the_key(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in SMALL
    path = write(tmp_path, SMALL.replace(old, new))
    with pytest.raises(GenomflowError) as caught:
        load_volumes(path)
    assert str(caught.value).startswith(f"{path} line")
    assert expected in str(caught.value)


# --- measured from a pipeline run ---------------------------------------------------------------

BENCHMARK_HEADER = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
)


def _pipeline_run(root: Path, *, bases: int, cpu: float, records: int) -> tuple[Path, Path]:
    """A tiny run: two samples, per-sample benchmarks, fastp JSON, BAM, VCF and report."""
    benchmarks, results = root / "benchmarks", root / "results"
    for sample in ("S1", "S2"):
        for rule, name in (
            ("align/bwa_mem", f"{sample}.L1.tsv"),
            ("qc/fastp_trim", f"{sample}.tsv"),
        ):
            path = benchmarks / rule / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"{BENCHMARK_HEADER}\n1.0\t0:00:01\t1\t1\t1\t1\t0\t0\t50\t{cpu / 2}\n")
        fastp = results / "qc" / "fastp_trim" / f"{sample}.L1.fastp.json"
        fastp.parent.mkdir(parents=True, exist_ok=True)
        fastp.write_text(json.dumps({"summary": {"before_filtering": {"total_bases": bases}}}))
        folder = results / "samples" / sample
        folder.mkdir(parents=True)
        (folder / f"{sample}.bam").write_bytes(b"\0" * 900)
        (folder / f"{sample}.bam.bai").write_bytes(b"\0" * 100)
        (folder / f"{sample}.report.json").write_text("x" * 2000)
        vcf_text = "##fileformat=VCFv4.2\n##contig=<ID=chr1,length=1000>\n"
        vcf_text += "#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n"
        vcf_text += "".join(f"chr1\t{i + 1}\t.\tA\tC\t50\tPASS\t.\n" for i in range(records))
        plain = folder / f"{sample}.germline.vcf"
        plain.write_text(vcf_text)
        pysam.tabix_compress(str(plain), str(plain) + ".gz")
        plain.unlink()
    (benchmarks / "reference").mkdir(parents=True)
    (benchmarks / "reference" / "bwa_index.tsv").write_text(
        f"{BENCHMARK_HEADER}\n9\t0\t1\t1\t1\t1\t0\t0\t0\t999\n"
    )
    return benchmarks, results


def test_measured_rates_from_a_pipeline_run(tmp_path: Path) -> None:
    volumes = load_volumes(write(tmp_path, SMALL))
    benchmarks, _ = _pipeline_run(tmp_path / "run", bases=1_000_000_000, cpu=1800, records=4)
    measured = measure(benchmarks, None, volumes.costs)  # results/ found next to benchmarks/
    assert measured is not None
    assert measured.samples == ("S1", "S2")
    assert measured.cpu_seconds == pytest.approx(3600)  # reference indexing is not counted
    measured_rates = rates(volumes, measured)
    # 3600 CPU s over 2 Gb: 0.5 core-hours per Gb
    assert measured_rates.core_hours_per_gb.value == pytest.approx(0.5)
    assert measured_rates.core_hours_per_gb.source.startswith("measured (2 samples")
    # (900 + 100) bytes per 1e9 bases
    assert measured_rates.alignment_bytes_per_base.value == pytest.approx(1e-6)
    assert measured_rates.vcf_bytes_per_variant.source == "measured (8 records)"
    assert measured_rates.report_bytes_per_sample.value == pytest.approx(2000)


def test_small_runs_fall_back_to_defaults(tmp_path: Path) -> None:
    volumes = load_volumes(write(tmp_path, SMALL.replace("cram_bytes", "x")))
    benchmarks, results = _pipeline_run(tmp_path / "run", bases=1000, cpu=2, records=1)
    measured_rates = rates(volumes, measure(benchmarks, results, volumes.costs))
    assert measured_rates.core_hours_per_gb.value == 2.0
    assert "measured run too small" in measured_rates.core_hours_per_gb.source
    assert measured_rates.vcf_bytes_per_variant.value == 100
    assert "measured 2 records < 3" in measured_rates.vcf_bytes_per_variant.source
    cram = load_volumes(
        write(tmp_path, SMALL.replace("alignment_format: bam", "alignment_format: cram"))
    )
    assert (
        "the run kept bam, planning cram"
        in rates(cram, measure(benchmarks, results, cram.costs)).alignment_bytes_per_base.source
    )


def test_measure_needs_a_results_folder(tmp_path: Path) -> None:
    (tmp_path / "benchmarks").mkdir()
    with pytest.raises(GenomflowError, match="no samples/ folder"):
        measure(tmp_path / "benchmarks", None, load_volumes(SHIPPED).costs)
