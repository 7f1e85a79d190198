"""The national capacity model: CPU, storage and database rows per year and centre.

Inputs: ``volumes.yaml`` (``volumes.schema.yaml``): sample categories (assay, target size,
depth of each library, variants per sample), the centres with their shares, and the national
number of samples per category in milestone years (a number or a range ``[low, high]``;
years in between are interpolated linearly).

Per-sample costs come from a pipeline run where one is given (:func:`measure`), else from
the documented defaults of the ``costs`` section; every figure says which:

* CPU core-hours = Gb sequenced x core-hours per Gb. Measured as the CPU seconds of the
  per-sample jobs in ``benchmarks/`` (Snakemake's ``cpu_time`` column) over the bases the
  run sequenced (fastp's ``before_filtering.total_bases``), once the run sequenced at least
  ``min_measured_gb`` (a tiny test run is all start-up time).
* Storage = Gb sequenced x bytes of BAM or CRAM per base + VCF records x bytes of VCF per
  record + bytes of reports per sample, measured from ``results/samples/<sample>/``.
* Database rows = ``db_variants_per_sample`` + ``db_rows_per_sample``.

Gb sequenced per library comes from :func:`genomflow.plan.model.required_read_pairs`, the
formula the run planner uses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.plan.files import YamlDocument, load_yaml
from genomflow.plan.model import WGS, required_read_pairs

VOLUMES_SCHEMA = "volumes"
SCENARIOS: tuple[str, ...] = ("low", "high")
DEFAULT_SCENARIO = "high"

#: Read model of a category that does not give its own (same as the planner's defaults).
DEFAULT_RATES: Mapping[str, tuple[float, float]] = {
    "wgs": (0.95, 0.08),
    "panel": (0.6, 0.3),
}
BYTES_PER_TB = 1e12
BASES_PER_GB = 1e9
SECONDS_PER_HOUR = 3600.0
SHARE_TOLERANCE = 1e-6

ALIGNMENT_SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "bam": (".bam", ".bam.bai", ".bam.csi"),
    "cram": (".cram", ".cram.crai"),
}
VCF_SUFFIXES: tuple[str, ...] = (".vcf.gz",)
VCF_INDEX_SUFFIXES: tuple[str, ...] = (".vcf.gz.tbi", ".vcf.gz.csi")
REPORT_SUFFIX = ".report.json"
FASTP_DIR = Path("qc") / "fastp_trim"
SAMPLES_DIR = "samples"
CPU_TIME = "cpu_time"

TABLE_COLUMNS: tuple[str, ...] = (
    "year",
    "centre",
    "samples",
    "gb_sequenced",
    "core_hours",
    "storage_added_tb",
    "storage_total_tb",
    "db_rows_added",
    "db_rows_total",
)


# --- the volumes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Category:
    """A sample category and what one sample of it needs."""

    name: str
    label: str
    assay: str
    library_depths: tuple[float, ...]
    vcf_records_per_sample: int
    db_variants_per_sample: int
    on_target_rate: float
    duplication_rate: float
    target_size_bp: int | None = None

    def gb_sequenced(self, read_length: int, genome_size_bp: int) -> float:
        """Gb sequenced for one sample: all its libraries, 2 x read_length per read pair.

        >>> c = Category("x", "x", "panel", (500.0,), 0, 0, 0.5, 0.0, target_size_bp=1_000_000)
        >>> round(c.gb_sequenced(150, 3_100_000_000), 6)
        1.0
        """
        target = genome_size_bp if self.assay == WGS else int(self.target_size_bp or 0)
        pairs = sum(
            required_read_pairs(
                target, depth, read_length, self.on_target_rate, self.duplication_rate
            )
            for depth in self.library_depths
        )
        return pairs * 2 * read_length / BASES_PER_GB


@dataclass(frozen=True)
class Centre:
    """A centre with its share of every category (``shares`` overrides ``share``)."""

    name: str
    share: float
    shares: Mapping[str, float] = field(default_factory=dict)

    def share_of(self, category: str) -> float:
        return self.shares.get(category, self.share)


@dataclass(frozen=True)
class Costs:
    """Default per-sample costs and the smallest measurements trusted."""

    cpu_core_hours_per_gb: float = 2.5
    alignment_format: str = "cram"
    bam_bytes_per_base: float = 0.7
    cram_bytes_per_base: float = 0.35
    vcf_bytes_per_variant: float = 50.0
    report_bytes_per_sample: float = 2e6
    db_rows_per_sample: int = 50
    min_measured_gb: float = 1.0
    min_measured_variants: int = 1000

    @property
    def alignment_bytes_per_base(self) -> float:
        return (
            self.bam_bytes_per_base if self.alignment_format == "bam" else self.cram_bytes_per_base
        )


@dataclass(frozen=True)
class Volumes:
    """Everything in ``volumes.yaml``: national counts are ``(low, high)`` per category."""

    categories: Mapping[str, Category]
    centres: tuple[Centre, ...]
    years: Mapping[int, Mapping[str, tuple[int, int]]]
    costs: Costs = Costs()
    read_length: int = 150
    genome_size_bp: int = 3_100_000_000


def _category(name: str, entry: Mapping[str, Any]) -> Category:
    on_target, duplication = DEFAULT_RATES[entry["assay"]]
    return Category(
        name=name,
        label=entry.get("label", name),
        assay=entry["assay"],
        library_depths=tuple(float(depth) for depth in entry["library_depths"]),
        vcf_records_per_sample=entry["vcf_records_per_sample"],
        db_variants_per_sample=entry["db_variants_per_sample"],
        on_target_rate=entry.get("on_target_rate", on_target),
        duplication_rate=entry.get("duplication_rate", duplication),
        target_size_bp=entry.get("target_size_bp"),
    )


def _counts(
    document: YamlDocument, categories: Mapping[str, Category]
) -> dict[int, dict[str, tuple[int, int]]]:
    years: dict[int, dict[str, tuple[int, int]]] = {}
    for year, entry in document.data["years"].items():
        counts: dict[str, tuple[int, int]] = {}
        for name, value in entry.items():
            key: list[str | int] = ["years", year, name]
            if name not in categories:
                raise document.fault(
                    key, f"{name!r} is not a category (categories are: {', '.join(categories)})"
                )
            low, high = (value, value) if isinstance(value, int) else (value[0], value[1])
            if low > high:
                raise document.fault(key, f"range [{low}, {high}] has low > high")
            counts[name] = (low, high)
        years[int(year)] = counts
    return years


def _centres(document: YamlDocument, categories: Mapping[str, Category]) -> tuple[Centre, ...]:
    centres: list[Centre] = []
    for index, entry in enumerate(document.data["centres"]):
        for name in entry["shares"]:
            if name not in categories:
                raise document.fault(
                    ["centres", index, "shares", name], f"{name!r} is not a category"
                )
        if any(centre.name == entry["name"] for centre in centres):
            raise document.fault(["centres", index, "name"], f"duplicate centre {entry['name']!r}")
        centres.append(Centre(entry["name"], entry["share"], dict(entry["shares"])))
    for name in categories:
        total = sum(centre.share_of(name) for centre in centres)
        if abs(total - 1) > SHARE_TOLERANCE:
            raise document.fault(
                ["centres"], f"the shares of category {name!r} add up to {total:g}, not 1"
            )
    return tuple(centres)


def load_volumes(path: Path) -> Volumes:
    """Load and check a volumes YAML file."""
    document = load_yaml(Path(path), VOLUMES_SCHEMA)
    data = document.data
    categories = {name: _category(name, entry) for name, entry in data["categories"].items()}
    costs = Costs(**data["costs"])
    return Volumes(
        categories=categories,
        centres=_centres(document, categories),
        years=_counts(document, categories),
        costs=costs,
        read_length=data["read_model"]["read_length"],
        genome_size_bp=data["read_model"]["genome_size_bp"],
    )


# --- volumes per year and centre --------------------------------------------------------------


def yearly_counts(volumes: Volumes, scenario: str = DEFAULT_SCENARIO) -> dict[int, dict[str, int]]:
    """National samples per category for every year from the first to the last milestone.

    A category missing from a milestone counts 0 there; years between milestones are
    interpolated linearly and rounded to whole samples.
    """
    pick = SCENARIOS.index(scenario)
    milestones = sorted(volumes.years)
    result: dict[int, dict[str, int]] = {}
    for year in range(milestones[0], milestones[-1] + 1):
        before = max(m for m in milestones if m <= year)
        after = min(m for m in milestones if m >= year)
        weight = 0.0 if after == before else (year - before) / (after - before)
        counts: dict[str, int] = {}
        for name in volumes.categories:
            start = volumes.years[before].get(name, (0, 0))[pick]
            end = volumes.years[after].get(name, (0, 0))[pick]
            counts[name] = math.floor(start + (end - start) * weight + 0.5)
        result[year] = counts
    return result


def split(total: int, shares: Sequence[float]) -> list[int]:
    """``total`` split by ``shares`` into whole numbers that add up to ``total``.

    Largest remainder: everyone gets the floor of their share, the rest go to the largest
    fractions (ties to the earlier centre).

    >>> split(10, [0.5, 0.25, 0.25])
    [5, 3, 2]
    >>> split(350, [0.3, 0.2, 0.2, 0.15, 0.15, 0.0, 0.0])
    [105, 70, 70, 53, 52, 0, 0]
    """
    exact = [total * share for share in shares]
    counts = [math.floor(value) for value in exact]
    order = sorted(range(len(shares)), key=lambda i: (-(exact[i] - counts[i]), i))
    for i in order[: total - sum(counts)]:
        counts[i] += 1
    return counts


# --- per-sample costs -------------------------------------------------------------------------


@dataclass(frozen=True)
class Measured:
    """What a pipeline run shows: totals over its samples."""

    samples: tuple[str, ...]
    gb_sequenced: float = 0.0
    cpu_seconds: float = 0.0
    cpu_samples: int = 0
    alignment_format: str | None = None
    alignment_bytes: int = 0
    alignment_gb: float = 0.0
    vcf_bytes: int = 0
    vcf_records: int = 0
    report_bytes: int = 0
    report_samples: int = 0


@dataclass(frozen=True)
class Rate:
    """A per-unit cost and where it comes from (``measured ...`` or ``default ...``)."""

    value: float
    source: str


@dataclass(frozen=True)
class Rates:
    """The per-unit costs the projection uses."""

    core_hours_per_gb: Rate
    alignment_bytes_per_base: Rate
    vcf_bytes_per_variant: Rate
    report_bytes_per_sample: Rate
    db_rows_per_sample: Rate


def _fastp_bases(results: Path, sample: str) -> int | None:
    files = sorted((results / FASTP_DIR).glob(f"{sample}.*fastp.json"))
    if not files:
        return None
    total = 0
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            total += int(data["summary"]["before_filtering"]["total_bases"])
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise GenomflowError(f"{path}: not a fastp JSON report ({err})") from None
    return total


def _cpu_seconds(benchmarks: Path, samples: Sequence[str]) -> dict[str, float]:
    """CPU seconds of the per-sample jobs (files named ``<sample>.tsv`` or ``<sample>.*.tsv``)."""
    wanted = set(samples)
    seconds: dict[str, float] = dict.fromkeys(samples, 0.0)
    for path in sorted(benchmarks.rglob("*.tsv")):
        sample = path.name.split(".")[0]
        if sample not in wanted:
            continue
        try:
            table = pd.read_csv(path, sep="\t")
        except (OSError, ValueError) as err:
            raise GenomflowError(f"{path}: not a Snakemake benchmark file ({err})") from None
        if CPU_TIME not in table.columns:
            raise GenomflowError(f"{path}: no column {CPU_TIME!r} (not a Snakemake benchmark)")
        values = pd.to_numeric(table[CPU_TIME], errors="coerce").dropna()
        # Repeated benchmarks (`repeat(...)`) measure the same job several times: use the mean.
        seconds[sample] += float(values.clip(lower=0).mean()) if len(values) else 0.0
    return seconds


def _count_records(path: Path) -> int:
    import pysam  # imported here: only a measured run needs it

    pysam.set_verbosity(0)  # header warnings of htslib are not the user's business here
    try:
        with pysam.VariantFile(str(path)) as variants:
            return sum(1 for _ in variants)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read the VCF ({err})") from None


def measure(benchmarks: Path | None, results: Path | None, costs: Costs) -> Measured | None:
    """Totals over the samples of a pipeline run, or ``None`` when no run is given."""
    if benchmarks is None and results is None:
        return None
    if results is None and benchmarks is not None:
        results = benchmarks.parent / "results"
    assert results is not None
    sample_root = results / SAMPLES_DIR
    if not sample_root.is_dir():
        raise GenomflowError(f"{results}: no {SAMPLES_DIR}/ folder of deliverables (--results)")
    if benchmarks is not None and not benchmarks.is_dir():
        raise GenomflowError(f"{benchmarks}: not a folder (--benchmarks)")
    samples = tuple(sorted(path.name for path in sample_root.iterdir() if path.is_dir()))
    if not samples:
        raise GenomflowError(f"{sample_root}: no sample folders")
    bases = {sample: _fastp_bases(results, sample) for sample in samples}
    cpu = _cpu_seconds(benchmarks, samples) if benchmarks is not None else {}
    with_bases = [s for s in samples if bases[s]]
    cpu_samples = [s for s in with_bases if cpu.get(s, 0.0) > 0]
    alignment_format: str | None = None
    alignment_bytes = 0
    alignment_gb = 0.0
    vcf_bytes = vcf_records = report_bytes = report_samples = 0
    for sample in samples:
        folder = sample_root / sample
        files = [path for path in folder.iterdir() if path.is_file()]
        aligned = False
        for fmt, suffixes in ALIGNMENT_SUFFIXES.items():
            found = [path for path in files if path.name in {sample + s for s in suffixes}]
            if found and any(path.name == sample + suffixes[0] for path in found):
                alignment_format = alignment_format or fmt
                if fmt == alignment_format and bases[sample]:
                    alignment_bytes += sum(path.stat().st_size for path in found)
                    aligned = True
        if aligned:
            alignment_gb += (bases[sample] or 0) / BASES_PER_GB
        vcfs = [path for path in files if path.name.endswith(VCF_SUFFIXES)]
        for path in vcfs:
            vcf_bytes += path.stat().st_size
            vcf_records += _count_records(path)
        vcf_bytes += sum(p.stat().st_size for p in files if p.name.endswith(VCF_INDEX_SUFFIXES))
        known = {sample + s for suffixes in ALIGNMENT_SUFFIXES.values() for s in suffixes}
        if any(path.name == sample + REPORT_SUFFIX for path in files):
            report_samples += 1
            report_bytes += sum(
                path.stat().st_size
                for path in files
                if path.name not in known
                and not path.name.endswith(VCF_SUFFIXES + VCF_INDEX_SUFFIXES)
            )
    return Measured(
        samples=samples,
        gb_sequenced=sum(bases[s] or 0 for s in cpu_samples) / BASES_PER_GB,
        cpu_seconds=sum(cpu[s] for s in cpu_samples),
        cpu_samples=len(cpu_samples),
        alignment_format=alignment_format,
        alignment_bytes=alignment_bytes,
        alignment_gb=alignment_gb,
        vcf_bytes=vcf_bytes,
        vcf_records=vcf_records,
        report_bytes=report_bytes,
        report_samples=report_samples,
    )


def rates(volumes: Volumes, measured: Measured | None) -> Rates:
    """Per-unit costs: measured where the run measured them well enough, else defaults."""
    costs = volumes.costs
    none = "default (no pipeline run given)"
    cpu = Rate(costs.cpu_core_hours_per_gb, none)
    alignment = Rate(costs.alignment_bytes_per_base, none)
    vcf = Rate(costs.vcf_bytes_per_variant, none)
    report = Rate(costs.report_bytes_per_sample, none)
    if measured is not None:
        n = len(measured.samples)
        if measured.cpu_samples and measured.gb_sequenced >= costs.min_measured_gb:
            cpu = Rate(
                measured.cpu_seconds / SECONDS_PER_HOUR / measured.gb_sequenced,
                f"measured ({measured.cpu_samples} samples, {measured.gb_sequenced:.3g} Gb)",
            )
        else:
            cpu = Rate(
                costs.cpu_core_hours_per_gb,
                f"default (measured run too small: {measured.gb_sequenced:.3g} Gb < "
                f"{costs.min_measured_gb:g} Gb)",
            )
        if measured.alignment_gb > 0 and measured.alignment_format == costs.alignment_format:
            alignment = Rate(
                measured.alignment_bytes / (measured.alignment_gb * BASES_PER_GB),
                f"measured ({measured.alignment_format}, {n} samples)",
            )
        elif measured.alignment_format is not None:
            alignment = Rate(
                costs.alignment_bytes_per_base,
                f"default (the run kept {measured.alignment_format}, planning "
                f"{costs.alignment_format})",
            )
        if measured.vcf_records >= max(costs.min_measured_variants, 1):
            vcf = Rate(
                measured.vcf_bytes / measured.vcf_records,
                f"measured ({measured.vcf_records:,} records)",
            )
        else:
            vcf = Rate(
                costs.vcf_bytes_per_variant,
                f"default (measured {measured.vcf_records:,} records < "
                f"{costs.min_measured_variants:,})",
            )
        if measured.report_samples:
            report = Rate(
                measured.report_bytes / measured.report_samples,
                f"measured ({measured.report_samples} samples)",
            )
        else:
            report = Rate(costs.report_bytes_per_sample, "default (the run has no reports)")
    return Rates(
        core_hours_per_gb=cpu,
        alignment_bytes_per_base=alignment,
        vcf_bytes_per_variant=vcf,
        report_bytes_per_sample=report,
        db_rows_per_sample=Rate(float(costs.db_rows_per_sample), "default"),
    )


@dataclass(frozen=True)
class SampleCost:
    """What one sample of a category costs."""

    gb_sequenced: float
    core_hours: float
    storage_bytes: float
    db_rows: int


def sample_cost(category: Category, volumes: Volumes, rates: Rates) -> SampleCost:
    """Per-sample costs of ``category`` under ``rates``."""
    gb = category.gb_sequenced(volumes.read_length, volumes.genome_size_bp)
    storage = (
        gb * BASES_PER_GB * rates.alignment_bytes_per_base.value
        + category.vcf_records_per_sample * rates.vcf_bytes_per_variant.value
        + rates.report_bytes_per_sample.value
    )
    return SampleCost(
        gb_sequenced=gb,
        core_hours=gb * rates.core_hours_per_gb.value,
        storage_bytes=storage,
        db_rows=category.db_variants_per_sample + int(rates.db_rows_per_sample.value),
    )


# --- the projection ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    """Needs of one centre in one year (``*_total``: accumulated since the first year)."""

    year: int
    centre: str
    samples: Mapping[str, int]
    gb_sequenced: float
    core_hours: float
    storage_added_bytes: float
    storage_total_bytes: float
    db_rows_added: int
    db_rows_total: int

    @property
    def total_samples(self) -> int:
        return sum(self.samples.values())


def project(volumes: Volumes, rates: Rates, scenario: str = DEFAULT_SCENARIO) -> list[Row]:
    """One :class:`Row` per year and centre, in year then centre order."""
    costs = {name: sample_cost(c, volumes, rates) for name, c in volumes.categories.items()}
    storage_total: dict[str, float] = {centre.name: 0.0 for centre in volumes.centres}
    rows_total: dict[str, int] = {centre.name: 0 for centre in volumes.centres}
    rows: list[Row] = []
    for year, national in yearly_counts(volumes, scenario).items():
        per_centre: dict[str, dict[str, int]] = {c.name: {} for c in volumes.centres}
        for name, total in national.items():
            shares = [centre.share_of(name) for centre in volumes.centres]
            for centre, count in zip(volumes.centres, split(total, shares), strict=True):
                per_centre[centre.name][name] = count
        for centre in volumes.centres:
            counts = per_centre[centre.name]
            storage = sum(counts[n] * costs[n].storage_bytes for n in counts)
            db_rows = sum(counts[n] * costs[n].db_rows for n in counts)
            storage_total[centre.name] += storage
            rows_total[centre.name] += db_rows
            rows.append(
                Row(
                    year=year,
                    centre=centre.name,
                    samples=counts,
                    gb_sequenced=sum(counts[n] * costs[n].gb_sequenced for n in counts),
                    core_hours=sum(counts[n] * costs[n].core_hours for n in counts),
                    storage_added_bytes=storage,
                    storage_total_bytes=storage_total[centre.name],
                    db_rows_added=db_rows,
                    db_rows_total=rows_total[centre.name],
                )
            )
    return rows


def _table_rows(rows: Sequence[Row]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for year in sorted({row.year for row in rows}):
        of_year = [row for row in rows if row.year == year]
        for row in [*of_year, _national(of_year)]:
            out.append(
                (
                    row.year,
                    row.centre,
                    row.total_samples,
                    round(row.gb_sequenced, 1),
                    round(row.core_hours),
                    round(row.storage_added_bytes / BYTES_PER_TB, 2),
                    round(row.storage_total_bytes / BYTES_PER_TB, 2),
                    row.db_rows_added,
                    row.db_rows_total,
                )
            )
    return out


def _national(rows: Sequence[Row]) -> Row:
    samples: dict[str, int] = {}
    for row in rows:
        for name, count in row.samples.items():
            samples[name] = samples.get(name, 0) + count
    return Row(
        year=rows[0].year,
        centre="national",
        samples=samples,
        gb_sequenced=sum(row.gb_sequenced for row in rows),
        core_hours=sum(row.core_hours for row in rows),
        storage_added_bytes=sum(row.storage_added_bytes for row in rows),
        storage_total_bytes=sum(row.storage_total_bytes for row in rows),
        db_rows_added=sum(row.db_rows_added for row in rows),
        db_rows_total=sum(row.db_rows_total for row in rows),
    )


def write_table(rows: Sequence[Row], path: Path) -> None:
    """The projection as TSV: one row per year and centre plus a ``national`` row per year."""
    lines = ["\t".join(TABLE_COLUMNS)]
    lines.extend("\t".join(str(cell) for cell in row) for row in _table_rows(rows))
    atomic.write_text(Path(path), "\n".join(lines) + "\n")


def format_report(
    volumes: Volumes, rates: Rates, rows: Sequence[Row], scenario: str = DEFAULT_SCENARIO
) -> str:
    """The per-sample costs with their sources, then the table per year and centre."""
    lines = ["per-unit costs:"]
    lines.append(
        f"  CPU                {rates.core_hours_per_gb.value:10.4g} core-h/Gb   "
        f"{rates.core_hours_per_gb.source}"
    )
    lines.append(
        f"  {volumes.costs.alignment_format.upper():<18} "
        f"{rates.alignment_bytes_per_base.value:10.4g} bytes/base  "
        f"{rates.alignment_bytes_per_base.source}"
    )
    lines.append(
        f"  VCF                {rates.vcf_bytes_per_variant.value:10.4g} bytes/rec   "
        f"{rates.vcf_bytes_per_variant.source}"
    )
    lines.append(
        f"  reports            {rates.report_bytes_per_sample.value:10.4g} bytes/smp   "
        f"{rates.report_bytes_per_sample.source}"
    )
    lines.append(
        f"  DB rows            {rates.db_rows_per_sample.value:10.4g} rows/smp    "
        f"{rates.db_rows_per_sample.source} (+ variants)"
    )
    lines.append("per sample:")
    lines.append(f"  {'category':<28}{'Gb seq':>9}{'core-h':>10}{'storage GB':>12}{'DB rows':>12}")
    for category in volumes.categories.values():
        cost = sample_cost(category, volumes, rates)
        lines.append(
            f"  {category.label:<28}{cost.gb_sequenced:9.1f}{cost.core_hours:10.1f}"
            f"{cost.storage_bytes / 1e9:12.2f}{cost.db_rows:12,}"
        )
    lines.append(f"projection (scenario: {scenario}; storage and DB rows accumulate):")
    header = (
        f"  {'year':<6}{'centre':<16}{'samples':>9}{'core-h':>13}{'TB added':>10}"
        f"{'TB total':>10}{'DB rows added':>16}{'DB rows total':>16}"
    )
    lines.append(header)
    for cells in _table_rows(rows):
        year, centre, samples, _, hours, added, total, db_added, db_total = cells
        lines.append(
            f"  {year!s:<6}{centre!s:<16}{samples:>9,}{hours:>13,}{added:>10,.1f}"
            f"{total:>10,.1f}{db_added:>16,}{db_total:>16,}"
        )
    return "\n".join(lines)


def plot(rows: Sequence[Row], path: Path, scenario: str = DEFAULT_SCENARIO) -> None:
    """Four panels (core-hours, storage added, storage total, DB rows), stacked by centre."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    years = sorted({row.year for row in rows})
    centres = list(dict.fromkeys(row.centre for row in rows))
    panels: tuple[tuple[str, Callable[[Row], float]], ...] = (
        ("CPU core-hours per year (thousands)", lambda r: r.core_hours / 1e3),
        ("storage added per year (TB)", lambda r: r.storage_added_bytes / BYTES_PER_TB),
        ("storage held (TB)", lambda r: r.storage_total_bytes / BYTES_PER_TB),
        ("knowledge-database rows held (billions)", lambda r: r.db_rows_total / 1e9),
    )
    figure, axes = plt.subplots(2, 2, figsize=(12, 8), constrained_layout=True)
    index = {(row.year, row.centre): row for row in rows}
    for axis, (title, value) in zip(axes.flat, panels, strict=True):
        bottom = [0.0] * len(years)
        for centre in centres:
            heights = [value(index[year, centre]) for year in years]
            axis.bar(years, heights, bottom=bottom, label=centre)
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
        axis.set_title(title)
        axis.set_xticks(years)
    axes.flat[0].legend(fontsize="small", ncol=2)
    figure.suptitle(f"genomflow capacity projection (scenario: {scenario})")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    atomic.write_bytes(Path(path), buffer.getvalue())
