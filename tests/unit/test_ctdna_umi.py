"""UMI parsing, families and single-strand / duplex consensus on hand-made BAMs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pysam
import pytest

from genomflow.cli import main
from genomflow.ctdna import umi
from genomflow.ctdna.simulate import ReadSpec, write_bam, write_reference
from genomflow.errors import GenomflowError

READ = 50
R1_FORWARD = 0x1 | 0x2 | 0x40 | 0x20
R2_REVERSE = 0x1 | 0x2 | 0x80 | 0x10
R1_REVERSE = 0x1 | 0x2 | 0x40 | 0x10
R2_FORWARD = 0x1 | 0x2 | 0x80 | 0x20


def test_read_structures() -> None:
    assert umi.parse_read_structure("3M2S+T").umi_length == 3
    assert umi.duplex_capable(umi.parse_read_structures("8M142T 8M142T"))
    assert not umi.duplex_capable(umi.parse_read_structures("8M+T +T"))
    with pytest.raises(GenomflowError, match="not in fgbio notation"):
        umi.parse_read_structure("8X+T")
    with pytest.raises(GenomflowError, match="only one"):
        umi.parse_read_structure("+M+T")


def _read(name: str, **tags: str) -> pysam.AlignedSegment:
    read = pysam.AlignedSegment()
    read.query_name = name
    for tag, value in tags.items():
        read.set_tag(tag, value)
    return read


def test_umis_from_names_and_tags() -> None:
    assert umi.read_umis(_read("A01:1:FC:1:1101:100:200:ACGTACGT")) == ("ACGTACGT",)
    assert umi.read_umis(_read("A01:1:FC:1:1:2:3:UMI_ACG_TTA")) == ("ACG", "TTA")
    assert umi.read_umis(_read("r1", RX="ACG-TTA")) == ("ACG", "TTA")
    with pytest.raises(ValueError, match="no UMI"):
        umi.read_umis(_read("plain_name"))


def test_consensus_of_bases_weighs_qualities() -> None:
    codes = np.array([[0, 1, 2, 4], [0, 1, 3, 4], [0, 3, 3, 4]], dtype=np.uint8)
    quals = np.array([[30, 30, 40, 30], [30, 30, 10, 30], [30, 10, 10, 30]])
    bases, qualities = umi.consensus_bases(codes, quals, umi.ConsensusSettings())
    # column 2: one Q40 G against two Q10 T: G wins
    assert bases.tolist() == [0, 1, 2, 4]
    assert qualities[0] == 60 and qualities[3] == umi.MASKED_QUALITY
    assert 10 <= qualities[1] < 60


def test_five_prime_ends() -> None:
    assert umi.five_prime(100, [(0, 50)], False) == 100
    assert umi.five_prime(100, [(4, 3), (0, 47)], False) == 97
    assert umi.five_prime(100, [(0, 47), (4, 3)], True) == 149


@pytest.fixture
def genome(tmp_path: Path) -> tuple[Path, str]:
    fasta = tmp_path / "ref.fa"
    return fasta, write_reference(fasta, {"chr1": 2000}, seed=5)["chr1"]


def template(
    name: str,
    sequence: str,
    left: int,
    right: int,
    top: bool = True,
    error_at: int | None = None,
) -> list[ReadSpec]:
    """A pair with its left read at ``left`` and right read at ``right`` (50 bp each);
    ``top``: read 1 is the left, forward read."""
    left_seq = sequence[left : left + READ]
    right_seq = sequence[right : right + READ]
    if error_at is not None:
        i = error_at - left
        left_seq = left_seq[:i] + ("A" if left_seq[i] != "A" else "C") + left_seq[i + 1 :]
    mc = (("MC", f"{READ}M"),)
    if top:
        return [
            ReadSpec(name, left, left_seq, flag=R1_FORWARD, mate_start=right, tags=mc),
            ReadSpec(name, right, right_seq, flag=R2_REVERSE, mate_start=left, tags=mc),
        ]
    return [
        ReadSpec(name, left, left_seq, flag=R2_FORWARD, mate_start=right, tags=mc),
        ReadSpec(name, right, right_seq, flag=R1_REVERSE, mate_start=left, tags=mc),
    ]


def test_single_strand_consensus(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = []
    for i in range(3):  # family AAAA: three copies, one with an error
        reads += template(f"a{i}:AAAA", sequence, 100, 150, error_at=120 if i == 0 else None)
    reads += template("c0:CCCC", sequence, 100, 150)  # a family of one: too small
    for i in range(2):  # family GGGG: two copies that disagree at 410
        reads += template(f"g{i}:GGGG", sequence, 400, 460, error_at=410 if i == 0 else None)
    reads += template("t0:AAAA", sequence, 100, 150, top=False)  # the other strand: own family
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, reads)
    out = tmp_path / "cons.bam"
    metrics = umi.call_consensus(raw, out, umi.ConsensusSettings(), reference=fasta)
    assert metrics.templates == 7
    assert metrics.families == 4
    assert dict(metrics.family_sizes) == {3: 1, 1: 2, 2: 1}
    assert metrics.too_small == 2
    assert metrics.molecules == 2 and metrics.duplex_molecules == 0
    assert metrics.error_rate == 0.0
    assert out.with_name("cons.bam.bai").is_file()
    with pysam.AlignmentFile(str(out)) as bam:
        consensus = list(bam.fetch())
    assert len(consensus) == 4
    by_start = {(r.reference_start, r.is_read1): r for r in consensus}
    first = by_start[(100, True)]
    assert first.query_sequence == sequence[100:150]  # the error is voted out
    assert first.get_tag("cD") == 3 and first.get_tag("RX") == "AAAA"
    assert first.next_reference_start == 150 and first.mate_is_reverse
    masked = by_start[(400, True)]
    assert masked.query_sequence[10] == "N"
    assert masked.query_qualities[10] == umi.MASKED_QUALITY
    assert masked.query_sequence[:10] == sequence[400:410]


def test_duplex_consensus_pairs_the_two_strands(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = []
    for i in range(2):
        reads += template(f"a{i}:AAAA_TTTT", sequence, 300, 350)
    reads += template("b0:TTTT_AAAA", sequence, 300, 350, top=False)
    # A duplex family whose strands disagree at 710: the base is masked.
    reads += template("x0:CCCC_GGGG", sequence, 700, 750)
    reads += template("y0:GGGG_CCCC", sequence, 700, 750, top=False, error_at=710)
    # One strand only with two copies: single-strand consensus.
    for i in range(2):
        reads += template(f"s{i}:ACAC_GTGT", sequence, 1000, 1050)
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, reads)
    out = tmp_path / "duplex.bam"
    metrics = umi.call_consensus(raw, out, umi.ConsensusSettings(), reference=fasta)
    assert metrics.molecules == 3
    assert metrics.duplex_molecules == 2
    assert metrics.single_strand_molecules == 1
    with pysam.AlignmentFile(str(out)) as bam:
        reads_out = {(r.reference_start, r.is_read1): r for r in bam.fetch()}
    duplex = reads_out[(300, True)]
    assert (duplex.get_tag("aD"), duplex.get_tag("bD"), duplex.get_tag("cD")) == (2, 1, 3)
    assert duplex.query_sequence == sequence[300:350]
    assert reads_out[(700, True)].query_sequence[10] == "N"
    assert reads_out[(1000, True)].get_tag("cD") == 2
    with pytest.raises(KeyError):
        reads_out[(1000, True)].get_tag("aD")


def test_require_duplex_drops_single_strand_molecules(
    genome: tuple[Path, str], tmp_path: Path
) -> None:
    _, sequence = genome
    reads = [r for i in range(3) for r in template(f"s{i}:ACAC_GTGT", sequence, 1000, 1050)]
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, reads)
    settings = umi.ConsensusSettings(require_duplex=True)
    metrics = umi.call_consensus(raw, tmp_path / "out.bam", settings)
    assert metrics.molecules == 0 and metrics.error_rate is None


def test_reads_without_umis_are_an_error(genome: tuple[Path, str], tmp_path: Path) -> None:
    _, sequence = genome
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, template("plain", sequence, 10, 60))
    with pytest.raises(GenomflowError, match="no UMI"):
        umi.call_consensus(raw, tmp_path / "out.bam", umi.ConsensusSettings())


def test_consensus_cli_writes_metrics_and_multiqc(genome: tuple[Path, str], tmp_path: Path) -> None:
    fasta, sequence = genome
    reads = [r for i in range(3) for r in template(f"a{i}:AAAA", sequence, 100, 150)]
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, reads)
    out, metrics, mqc = tmp_path / "P1.bam", tmp_path / "P1.json", tmp_path / "P1_mqc.json"
    args = ["ctdna", "consensus", "--in", str(raw), "--out", str(out), "--metrics", str(metrics)]
    code = main(
        [*args, "--reference", str(fasta), "--mqc", str(mqc), "--read-structure", "4M+T +T"]
    )
    assert code == 0
    data = json.loads(metrics.read_text())
    assert data["sample"] == "P1"
    assert data["family_sizes"] == {"3": 1}
    assert data["molecules"] == 1
    assert data["consensus_error_rate"] == 0.0
    section = json.loads(mqc.read_text())
    assert section["plot_type"] == "linegraph"
    assert section["data"] == {"P1": {"3": 100.0}}


def test_unsorted_input_is_refused(genome: tuple[Path, str], tmp_path: Path) -> None:
    _, sequence = genome
    raw = write_bam(tmp_path / "raw.bam", {"chr1": 2000}, template("a:AAAA", sequence, 10, 60))
    by_name = tmp_path / "queryname.bam"
    pysam.sort("-n", "-o", str(by_name), str(raw))
    with pytest.raises(GenomflowError, match="must be coordinate-sorted"):
        umi.call_consensus(by_name, tmp_path / "out.bam", umi.ConsensusSettings())
