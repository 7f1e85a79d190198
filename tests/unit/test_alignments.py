"""Alignment deliverable names after ``alignment_format``, and the cancer plan following it."""

from __future__ import annotations

import pytest

from genomflow.cancer import CancerSetup, Tumour
from genomflow.paths import alignment as alignment_path
from genomflow.paths import alignment_index as alignment_index_path
from genomflow.paths import index_of, write_options


@pytest.mark.parametrize(
    ("fmt", "path", "index"),
    [
        ("bam", "results/samples/S1/S1.bam", "results/samples/S1/S1.bam.bai"),
        ("cram", "results/samples/S1/S1.cram", "results/samples/S1/S1.cram.crai"),
    ],
)
def test_paths_follow_the_format(fmt: str, path: str, index: str) -> None:
    assert alignment_path("S1", fmt) == path
    assert alignment_index_path("S1", fmt) == index
    assert index_of(path) == index


def test_wildcard_pattern_for_rule_outputs() -> None:
    assert alignment_path("{sample}", "cram") == "results/samples/{sample}/{sample}.cram"


def test_unknown_format_or_file_is_refused() -> None:
    with pytest.raises(ValueError, match="bam, cram, not 'sam'"):
        alignment_path("S1", "sam")
    with pytest.raises(ValueError, match="not a BAM or CRAM"):
        index_of("results/samples/S1/S1.sam")


def test_cram_is_written_against_the_reference() -> None:
    assert write_options("cram", "results/reference/genome.fa") == (
        "-O cram --reference results/reference/genome.fa"
    )
    assert write_options("bam") == "-O bam"


def test_tumour_and_pon_alignments_follow_the_format() -> None:
    tumour = Tumour("T1", "N1", "p", "p.bed", alignment_format="cram")
    assert tumour.bams == ["results/samples/T1/T1.cram", "results/samples/N1/N1.cram"]
    assert Tumour("T1", None, "p", "p.bed").bams == ["results/samples/T1/T1.bam"]
    plan = CancerSetup(pon_normals={"p": ("N1", "N2")}, alignment_format="cram")
    assert plan.pon_bams("p") == ["results/samples/N1/N1.cram", "results/samples/N2/N2.cram"]
