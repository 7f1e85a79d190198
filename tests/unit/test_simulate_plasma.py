"""The plasma test data: UMI reads of serial timepoints, tumour molecules, determinism."""

from __future__ import annotations

import csv
import dataclasses
import functools
import gzip
from pathlib import Path

from genomflow.simulate.cancer import CancerData, build_cancer, make_cancer_spec
from genomflow.simulate.plasma import (
    TIMEPOINTS_TSV,
    UMI_QUALITY,
    Timepoint,
    fastq_paths,
    make_plasma_spec,
    simulate_timepoint,
)

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "resources" / "testplasma"


@functools.cache
def data() -> CancerData:
    return build_cancer(make_cancer_spec())


def _records(path: Path) -> list[list[bytes]]:
    lines = gzip.decompress(path.read_bytes()).splitlines()
    return [lines[i : i + 4] for i in range(0, len(lines), 4)]


def test_committed_timepoints_are_what_the_generator_writes(tmp_path: Path) -> None:
    spec = make_plasma_spec()
    with (COMMITTED / TIMEPOINTS_TSV).open() as handle:
        rows = {row["sample"]: row for row in csv.DictReader(handle, delimiter="\t")}
    assert list(rows) == [p.sample for p in spec.timepoints]
    point = spec.timepoints[2]  # one timepoint keeps the test quick
    r1, r2 = tmp_path / "r1.fastq.gz", tmp_path / "r2.fastq.gz"
    counts = simulate_timepoint(data(), spec, point, r1, r2)
    assert {k: str(v) for k, v in counts.items()} == {
        k: rows[point.sample][k] for k in ("molecules", "tumour_molecules", "read_pairs")
    }
    committed = [COMMITTED / name for name in fastq_paths(spec, point)]
    assert _records(r1) == _records(committed[0])
    assert _records(r2) == _records(committed[1])


def test_reads_start_with_a_umi_and_families_share_it(tmp_path: Path) -> None:
    spec = dataclasses.replace(
        make_plasma_spec(), molecule_depth=4.0, mean_family_size=4.0, off_target_fraction=0.0
    )
    point = Timepoint("X1", "2026-01-01", 0.0)
    r1, r2 = tmp_path / "r1.fastq.gz", tmp_path / "r2.fastq.gz"
    counts = simulate_timepoint(data(), spec, point, r1, r2)
    reads1, reads2 = _records(r1), _records(r2)
    assert len(reads1) == len(reads2) == counts["read_pairs"]
    assert counts["read_pairs"] > 2 * counts["molecules"]  # families of ~4 copies
    umi_pairs = set()
    for first, second in zip(reads1, reads2, strict=True):
        assert len(first[1]) == len(second[1]) == spec.read_model.read_length
        assert first[3][: spec.umi_length] == bytes([UMI_QUALITY]) * spec.umi_length
        # A duplex molecule is read from both strands: (a, b) on top and (b, a) below.
        umi_pairs.add(frozenset((first[1][:8], second[1][:8])))
    # Copies of one molecule share their UMI pair, whatever their strand.
    assert len(umi_pairs) <= counts["molecules"] < counts["read_pairs"]
    assert counts["tumour_molecules"] == 0


def test_tumour_fraction_sets_the_share_of_tumour_molecules(tmp_path: Path) -> None:
    spec = dataclasses.replace(make_plasma_spec(), molecule_depth=10.0)
    half = simulate_timepoint(
        data(), spec, Timepoint("X2", "2026-01-01", 0.5), tmp_path / "a1", tmp_path / "a2"
    )
    share = half["tumour_molecules"] / half["molecules"]
    assert 0.45 < share < 0.55
