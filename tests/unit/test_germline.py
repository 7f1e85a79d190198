"""Ploidy by sex and calling groups."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from genomflow.cli import main
from genomflow.errors import GenomflowError
from genomflow.germline import calling_groups, cnv_map_lines, parse_sexes, ploidy_lines
from genomflow.sheets import Cohort, Sample

CONTIGS = {"chr1": 1000, "chrX": 500, "chrY": 300}


def _sample(
    name: str, sex: str = "female", family: str | None = None, kind: str = "germline"
) -> Sample:
    return Sample(
        sample=name,
        patient=f"P-{name}",
        sex=sex,
        type=kind,
        assay="wgs",
        panel=None,
        family=family,
        father=None,
        mother=None,
        matched_normal=None,
        tumour_sample=None,
        collection_date=datetime.date(2026, 1, 1),
        purity=None,
    )


def _cohort(*samples: Sample) -> Cohort:
    return Cohort(samples={s.sample: s for s in samples}, units=())


def test_male_is_haploid_on_x_and_y_female_has_no_y() -> None:
    lines = ploidy_lines(CONTIGS, "chrX", "chrY")
    assert "chrX\t1\t500\tM\t1" in lines
    assert "chrY\t1\t300\tM\t1" in lines
    assert "chrY\t1\t300\tF\t0" in lines
    assert not any(line.startswith("chrX") and "\tF\t" in line for line in lines)


def test_missing_sex_contigs_are_left_out() -> None:
    assert ploidy_lines({"q": 100}, "chrX", "chrY") == [
        "*\t*\t*\tM\t2",
        "*\t*\t*\tF\t2",
        "*\t*\t*\tU\t2",
    ]


def test_cnv_map_for_freebayes() -> None:
    lines = cnv_map_lines(CONTIGS, "chrX", "chrY", {"A": "male", "B": "female", "C": "unknown"})
    assert lines == ["chrX\t0\t500\tA\t1", "chrY\t0\t300\tA\t1", "chrY\t0\t300\tB\t0"]


def test_parse_sexes_rejects_unknown_sex() -> None:
    assert parse_sexes(["A=male"]) == {"A": "male"}
    with pytest.raises(GenomflowError, match="A=M: sex must be one of"):
        parse_sexes(["A=M"])


def test_families_are_called_together_and_others_alone() -> None:
    groups = calling_groups(
        _cohort(
            _sample("K1", family="F1"),
            _sample("S1"),
            _sample("K2", family="F1"),
            _sample("T1", kind="tumour"),
            _sample("N1", kind="normal"),
        )
    )
    assert groups == {"F1": ("K1", "K2"), "S1": ("S1",), "N1": ("N1",)}


def test_family_named_like_another_sample_is_an_error() -> None:
    with pytest.raises(GenomflowError, match="family 'S1' has the name of sample 'S1'"):
        calling_groups(_cohort(_sample("K1", family="S1"), _sample("S1")))


def test_cli_writes_the_three_files(tmp_path: Path) -> None:
    fai = tmp_path / "ref.fa.fai"
    fai.write_text("chr1\t1000\t6\t60\t61\nchrX\t500\t1100\t60\t61\n")
    out = {name: tmp_path / name for name in ("ploidy.txt", "sexes.txt", "cnv.bed")}
    code = main(
        [
            "germline",
            "ploidy",
            "--fai",
            str(fai),
            "--sample",
            "A=male",
            "--sample",
            "B=female",
            "--ploidy-out",
            str(out["ploidy.txt"]),
            "--samples-out",
            str(out["sexes.txt"]),
            "--cnv-map-out",
            str(out["cnv.bed"]),
        ]
    )
    assert code == 0
    assert out["sexes.txt"].read_text() == "A\tM\nB\tF\n"
    assert out["cnv.bed"].read_text() == "chrX\t0\t500\tA\t1\n"
    assert out["ploidy.txt"].read_text().startswith("chrX\t1\t500\tM\t1\n")
