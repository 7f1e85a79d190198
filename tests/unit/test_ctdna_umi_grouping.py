"""Error-tolerant UMI families (umi_tools' directional method) on hand-made BAMs: a UMI with a
sequencing error joins the family it came from, asserted on the consensus reads."""

from __future__ import annotations

import json
from pathlib import Path

import pysam
import pytest

from genomflow.cli import main
from genomflow.ctdna import umi
from genomflow.ctdna.simulate import ReadSpec, write_bam, write_reference
from tests.unit.test_ctdna_umi import template

CONTIGS = {"chr1": 2000}


@pytest.fixture
def genome(tmp_path: Path) -> tuple[Path, str]:
    fasta = tmp_path / "ref.fa"
    return fasta, write_reference(fasta, CONTIGS, seed=7)["chr1"]


def copies(
    umi_text: str,
    n: int,
    sequence: str,
    left: int,
    top: bool = True,
    error_at: int | None = None,
) -> list[ReadSpec]:
    """``n`` read pairs of one molecule at ``left`` / ``left + 60`` with the UMI ``umi_text``
    (``AAAA`` or, duplex, ``AAAA_TTTT``: read 1's UMI then read 2's); ``top``: read 1 on the
    left; ``error_at``: a base error in the left read of the first copy."""
    name = f"{umi_text.replace('_', '')}.{left}.{int(top)}"
    return [
        read
        for i in range(n)
        for read in template(
            f"{name}.{i}:{umi_text}",
            sequence,
            left,
            left + 60,
            top=top,
            error_at=error_at if i == 0 else None,
        )
    ]


def consensus(
    work: Path, fasta: Path, reads: list[ReadSpec], edit_distance: int = 1
) -> tuple[umi.ConsensusMetrics, dict[str, pysam.AlignedSegment]]:
    """Metrics, and the read 1 of each consensus molecule by its UMI (RX)."""
    work.mkdir(exist_ok=True)
    raw = write_bam(work / "raw.bam", CONTIGS, reads)
    out = work / "consensus.bam"
    settings = umi.ConsensusSettings(umi_edit_distance=edit_distance)
    metrics = umi.call_consensus(raw, out, settings, reference=fasta)
    with pysam.AlignmentFile(str(out)) as bam:
        read1 = [r for r in bam.fetch() if r.is_read1]
    by_umi = {str(r.get_tag("RX")): r for r in read1}
    assert len(by_umi) == len(read1) == metrics.molecules
    return metrics, by_umi


def test_group_umis_directional_rule() -> None:
    # one substitution, count_a >= 2 * count_b - 1: joins; 4 vs 3 at one substitution: apart
    assert umi.group_umis({"ACGT": 10, "ACGA": 2, "TTTT": 4, "TTTA": 3}, 1) == [
        ["ACGT", "ACGA"],
        ["TTTT"],
        ["TTTA"],
    ]
    assert umi.group_umis({"AAAA": 3, "AAAT": 2}, 1) == [["AAAA", "AAAT"]]  # 3 >= 2 * 2 - 1
    # two substitutions need a threshold of 2; UMIs of different lengths never group
    assert umi.group_umis({"AAAA": 9, "AATT": 1}, 1) == [["AAAA"], ["AATT"]]
    assert umi.group_umis({"AAAA": 9, "AATT": 1}, 2) == [["AAAA", "AATT"]]
    assert umi.group_umis({"AAAA": 9, "AAA": 1}, 1) == [["AAA"], ["AAAA"]]
    # an N is compared as a letter: against a base it is a difference, against an N it is not
    assert umi.group_umis({"AANA": 5, "ANNA": 1, "NNCC": 1}, 1) == [["AANA", "ANNA"], ["NNCC"]]
    # chains: a UMI taken by a child joins the parent's group
    assert umi.group_umis({"AAAA": 20, "AAAT": 5, "AATT": 1}, 1) == [["AAAA", "AAAT", "AATT"]]
    with pytest.raises(ValueError, match="at least 0"):
        umi.group_umis({"AAAA": 1}, -1)


def test_umi_errors_join_the_big_family(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = copies("AAAACCCC", 5, sequence, 100)
    reads += copies("AAAACCCT", 1, sequence, 100, error_at=110)  # UMI and base errors
    reads += copies("AAGACCCC", 1, sequence, 100)
    reads += copies("GGGGTTTT", 3, sequence, 100)  # another molecule at the same position
    reads += copies("AAAACCCT", 4, sequence, 500)  # the same UMI elsewhere: its own family
    metrics, out = consensus(tmp_path, fasta, reads)
    assert (metrics.umi_families, metrics.families_merged, metrics.families) == (5, 2, 3)
    assert metrics.molecules == 3 and metrics.too_small == 0
    assert out["AAAACCCC"].get_tag("cD") == 7
    assert out["AAAACCCC"].query_sequence == sequence[100:150]  # the base error is voted out
    assert out["GGGGTTTT"].get_tag("cD") == 3
    assert (out["AAAACCCT"].reference_start, out["AAAACCCT"].get_tag("cD")) == (500, 4)
    assert metrics.as_dict("P1")["umi_families_merged"] == 2


def test_exact_umis_with_edit_distance_zero(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = copies("AAAACCCC", 5, sequence, 100) + copies("AAAACCCT", 1, sequence, 100)
    metrics, out = consensus(tmp_path, fasta, reads, edit_distance=0)
    assert (metrics.umi_families, metrics.families_merged, metrics.families) == (2, 0, 2)
    assert metrics.molecules == 1 and metrics.too_small == 1
    assert out["AAAACCCC"].get_tag("cD") == 5


def test_similar_counts_at_one_substitution_stay_apart(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    fasta, sequence = genome
    # 4 < 2 * 3 - 1: two molecules that happen to have neighbouring UMIs
    reads = copies("ACGTACGT", 4, sequence, 100) + copies("ACGTACGA", 3, sequence, 100)
    metrics, out = consensus(tmp_path, fasta, reads)
    assert (metrics.families_merged, metrics.families, metrics.molecules) == (0, 2, 2)
    assert (out["ACGTACGT"].get_tag("cD"), out["ACGTACGA"].get_tag("cD")) == (4, 3)
    # 3 >= 2 * 2 - 1: the smaller one is taken as errors of the larger
    reads = copies("ACGTACGT", 3, sequence, 100) + copies("ACGTACGA", 2, sequence, 100)
    metrics, out = consensus(tmp_path / "closer", fasta, reads)
    assert (metrics.families_merged, metrics.families, metrics.molecules) == (1, 1, 1)
    assert out["ACGTACGT"].get_tag("cD") == 5


def test_umis_with_n(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = copies("AAAACCCC", 4, sequence, 100)
    reads += copies("AAAANCCC", 1, sequence, 100)  # a no-call: one difference, joins
    reads += copies("ANAACCCN", 1, sequence, 100)  # two differences: its own family
    reads += copies("NNNNNNNN", 2, sequence, 300)  # only Ns, alone at its position
    metrics, out = consensus(tmp_path, fasta, reads)
    assert (metrics.umi_families, metrics.families_merged, metrics.families) == (4, 1, 3)
    assert metrics.molecules == 2 and metrics.too_small == 1
    assert out["AAAACCCC"].get_tag("cD") == 5
    assert out["NNNNNNNN"].get_tag("cD") == 2


def test_duplex_strands_pair_after_grouping(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    # molecule 1 (UMI AAAA on the left end, TTTT on the right): 2 + 1 copies per strand and a
    # UMI error on each strand (read 2's UMI of a top copy, read 2's of a bottom copy)
    reads = copies("AAAA_TTTT", 2, sequence, 100)
    reads += copies("AAAA_TTTA", 1, sequence, 100, error_at=120)  # voted out by the 2 others
    reads += copies("TTTT_AAAA", 1, sequence, 100, top=False)
    reads += copies("TTTT_AAAC", 1, sequence, 100, top=False)
    # molecule 2: its only bottom-strand copy has a UMI error; duplex only with grouping
    reads += copies("CCCC_GGGG", 3, sequence, 700)
    reads += copies("GGGG_CCCA", 1, sequence, 700, top=False)
    metrics, out = consensus(tmp_path, fasta, reads)
    assert (metrics.umi_families, metrics.families_merged, metrics.families) == (5, 3, 2)
    assert metrics.duplex_molecules == 2 and metrics.single_strand_molecules == 0
    first = out["AAAA-TTTT"]
    assert (first.get_tag("aD"), first.get_tag("bD"), first.get_tag("cD")) == (3, 2, 5)
    assert first.query_sequence == sequence[100:150]
    assert (out["CCCC-GGGG"].get_tag("aD"), out["CCCC-GGGG"].get_tag("bD")) == (3, 1)

    exact, out = consensus(tmp_path / "exact", fasta, reads, edit_distance=0)
    assert exact.families_merged == 0 and exact.duplex_molecules == 1
    assert exact.single_strand_molecules == 1 and exact.too_small == 3
    assert out["CCCC-GGGG"].get_tag("cD") == 3
    with pytest.raises(KeyError):
        out["CCCC-GGGG"].get_tag("aD")


def test_cli_reports_merged_families(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = copies("AAAACCCC", 3, sequence, 100) + copies("AAAACCCA", 1, sequence, 100)
    raw = write_bam(tmp_path / "raw.bam", CONTIGS, reads)
    out, metrics, table = tmp_path / "P1.bam", tmp_path / "P1.json", tmp_path / "P1_mqc.json"
    args = ["ctdna", "consensus", "--in", str(raw), "--out", str(out), "--metrics", str(metrics)]
    assert main([*args, "--reference", str(fasta), "--mqc-table", str(table)]) == 0
    data = json.loads(metrics.read_text())
    assert (data["umi_families"], data["umi_families_merged"], data["families"]) == (2, 1, 1)
    section = json.loads(table.read_text())
    assert section["data"]["P1"]["umi_families_merged"] == 1
    assert "umi_families_merged" in section["headers"]
    assert main([*args, "--umi-edit-distance", "0"]) == 0
    assert json.loads(metrics.read_text())["umi_families_merged"] == 0
