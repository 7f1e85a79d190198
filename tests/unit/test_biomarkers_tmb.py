"""Tumour mutational burden: territory, counting rules and the exact Poisson interval, on
hand-worked cases (a tiny GFF3, panel, BAM and somatic VCF written here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pysam
import pytest

from genomflow import snpeff
from genomflow.biomarkers import territory as terr
from genomflow.biomarkers.cli import biomarker_table
from genomflow.biomarkers.tmb import (
    NOT_ASSESSABLE,
    TmbSettings,
    garwood,
    is_silent,
    tumour_mutational_burden,
)
from genomflow.kb.loader import biomarker_rows

CONTIG_LENGTH = 1000

GFF3 = """##gff-version 3
c1\tt\tgene\t90\t420\t.\t+\t.\tID=gene:G1;Name=GA
c1\tt\tmRNA\t90\t420\t.\t+\t.\tID=transcript:T1;Parent=gene:G1
c1\tt\tCDS\t101\t300\t.\t+\t0\tID=CDS:P1;Parent=transcript:T1
c1\tt\tCDS\t401\t420\t.\t+\t1\tID=CDS:P1;Parent=transcript:T1
"""
# CDS 0-based: [100, 300) and [400, 420).
PANEL = "c1\t50\t250\tGA:exon1\nc1\t390\t430\tGA:exon2\nc1\t600\t700\tGA:intron2\n"
# Targets ∩ CDS: [100, 250) + [400, 420) = 170 bp; the BAM covers [100, 200) at depth 6 and
# the rest at depth 2, so with min_depth 5 the callable territory is [100, 200): 100 bp.


def write_bam(path: Path) -> Path:
    header = {"HD": {"VN": "1.6", "SO": "coordinate"}, "SQ": [{"SN": "c1", "LN": CONTIG_LENGTH}]}
    unsorted = path.with_suffix(".unsorted.bam")
    with pysam.AlignmentFile(str(unsorted), "wb", header=header) as out:
        reads = [(100, 100)] * 6 + [(200, 100), (200, 100), (400, 20), (400, 20)]
        for number, (start, length) in enumerate(reads):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"r{number}"
            read.query_sequence = "A" * length
            read.flag = 0
            read.reference_id = 0
            read.reference_start = start
            read.mapping_quality = 60
            read.cigartuples = [(0, length)]
            read.query_qualities = pysam.qualitystring_to_array("I" * length)
            out.write(read)
        # a duplicate and a low-MAPQ read over [200, 300) do not make depth
        for number, (flag, mapq) in enumerate([(0x400, 60), (0, 5), (0, 5), (0, 5)]):
            read = pysam.AlignedSegment(out.header)
            read.query_name = f"x{number}"
            read.query_sequence = "A" * 100
            read.flag = flag
            read.reference_id = 0
            read.reference_start = 200
            read.mapping_quality = mapq
            read.cigartuples = [(0, 100)]
            read.query_qualities = pysam.qualitystring_to_array("I" * 100)
            out.write(read)
    pysam.sort("-o", str(path), str(unsorted))
    pysam.index(str(path))
    return path


#: (pos, ref, alt, filter, VAF, POPAF, consequence, why not counted or None)
RECORDS = [
    (111, "A", "G", "PASS", 0.30, None, "missense_variant", None),
    (121, "AC", "A", "PASS", 0.20, None, "frameshift_variant", None),
    (131, "A", "G", "PASS", 0.10, None, "synonymous_variant", "synonymous"),
    (141, "A", "T", "PASS", 0.04, None, "missense_variant", "low_vaf"),
    (151, "A", "C", "PASS", 0.05, None, "stop_gained", None),
    (161, "A", "C", "StrandBias", 0.40, None, "missense_variant", "not_pass"),
    (171, "A", "T", "PASS", 0.45, 0.02, "missense_variant", "germline_population_af"),
    (181, "A", "C", "PASS", 0.30, None, "missense_variant", "hotspot"),
    (231, "A", "G", "PASS", 0.30, None, "missense_variant", "outside_callable_coding"),
    (641, "A", "G", "PASS", 0.30, None, "intron_variant", "outside_callable_coding"),
    (100, "AC", "A", "PASS", 0.30, None, "frameshift_variant", None),  # REF span reaches the CDS
]


def write_vcf(path: Path, records: list[tuple[object, ...]], sample: str = "T1") -> Path:
    header = pysam.VariantHeader()
    header.contigs.add("c1", length=CONTIG_LENGTH)
    header.add_line('##FILTER=<ID=StrandBias,Description="strand">')
    header.add_line('##INFO=<ID=POPAF,Number=1,Type=Float,Description="population AF">')
    header.add_line(snpeff.ANN_HEADER)
    header.add_line('##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">')
    header.add_line('##FORMAT=<ID=AF,Number=A,Type=Float,Description="VAF">')
    header.add_sample(sample)
    plain = path.with_suffix("")
    with pysam.VariantFile(str(plain), "w", header=header) as out:
        for pos, ref, alt, filt, vaf, popaf, csq, _ in sorted(
            records, key=lambda r: int(str(r[0]))
        ):
            record = out.new_record(contig="c1", start=int(str(pos)) - 1, alleles=(ref, alt))
            record.filter.add(str(filt))
            if popaf is not None:
                record.info["POPAF"] = popaf
            record.info["ANN"] = (
                f"{alt}|{csq}|MODERATE|GA|GA|transcript|T1|protein_coding|||||||",
            )
            record.samples[sample]["GT"] = (0, 1)
            record.samples[sample]["AF"] = (vaf,)
            out.write(record)
    pysam.tabix_compress(str(plain), str(path), force=True)
    pysam.tabix_index(str(path), preset="vcf", force=True)
    return path


@pytest.fixture
def case(tmp_path: Path) -> dict[str, Path]:
    gff3 = tmp_path / "genes.gff3"
    gff3.write_text(GFF3)
    panel = tmp_path / "panel.bed"
    panel.write_text(PANEL)
    hotspots = write_vcf(tmp_path / "hotspots.vcf.gz", [RECORDS[7]], sample="H")
    return {
        "gff3": gff3,
        "panel": panel,
        "bam": write_bam(tmp_path / "t1.bam"),
        "vcf": write_vcf(tmp_path / "t1.vcf.gz", RECORDS),
        "hotspots": hotspots,
    }


def test_garwood_interval_matches_published_table() -> None:
    # Exact 95% limits for a Poisson count (e.g. Ulm 1990, Am J Epidemiol 131:373).
    assert garwood(0) == pytest.approx((0.0, 3.689), abs=1e-3)
    assert garwood(1) == pytest.approx((0.0253, 5.572), abs=1e-3)
    assert garwood(5) == pytest.approx((1.624, 11.668), abs=1e-3)
    assert garwood(10) == pytest.approx((4.795, 18.390), abs=1e-3)


def test_territory_is_cds_inside_targets(case: dict[str, Path]) -> None:
    cds = terr.read_cds(case["gff3"])
    assert cds == {"c1": [(100, 300), (400, 420)]}
    targets = terr.spans_of([("c1", 50, 250), ("c1", 390, 430), ("c1", 600, 700)])
    coding = terr.intersect(targets, cds)
    assert coding == {"c1": [(100, 250), (400, 420)]}
    callable_spans = terr.callable_spans(case["bam"], coding, 5, 20)
    assert callable_spans == {"c1": [(100, 200)]}


def test_hand_worked_tmb(case: dict[str, Path]) -> None:
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=case["gff3"],
        targets=case["panel"],
        settings=TmbSettings(min_depth=5),
        hotspots=case["hotspots"],
    )
    # 4 count (missense, frameshift, stop gain at VAF exactly 5%, the anchored deletion) in
    # 100 callable bp = 1e-4 Mb: 40,000/Mb, interval garwood(4) / 1e-4.
    assert result.counted == ["c1:100:AC:A", "c1:111:A:G", "c1:121:AC:A", "c1:151:A:C"]
    assert (result.callable_bp, result.coding_target_bp) == (100, 170)
    assert result.tmb == pytest.approx(40000.0)
    low, high = garwood(4)
    assert (result.ci_low, result.ci_high) == pytest.approx((low * 1e4, high * 1e4), abs=1e-2)
    expected: dict[str, int] = {}
    for *_, why in RECORDS:
        if why:
            expected[str(why)] = expected.get(str(why), 0) + 1
    assert result.excluded == dict(sorted(expected.items()))


def test_synonymous_counted_when_asked(case: dict[str, Path]) -> None:
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=case["gff3"],
        targets=case["panel"],
        settings=TmbSettings(min_depth=5, include_synonymous=True),
    )
    # + the synonymous variant, + the hotspot (no hotspot VCF given)
    assert result.mutations == 6
    assert "synonymous" not in result.excluded


def test_gff3_without_cds_is_stated(case: dict[str, Path], tmp_path: Path) -> None:
    gff3 = tmp_path / "nocds.gff3"
    gff3.write_text("\n".join(line for line in GFF3.splitlines() if "\tCDS\t" not in line))
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=gff3,
        targets=case["panel"],
        settings=TmbSettings(min_depth=5),
    )
    assert result.status == NOT_ASSESSABLE
    assert result.tmb is None
    assert (
        result.reason
        == f"{gff3}: no CDS features, so no coding territory (transcripts without CDS)"
    )


def test_panel_without_coding_target_is_stated(case: dict[str, Path], tmp_path: Path) -> None:
    panel = tmp_path / "intronic.bed"
    panel.write_text("c1\t600\t700\tGA:intron2\n")
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=case["gff3"],
        targets=panel,
        settings=TmbSettings(min_depth=5),
    )
    assert (result.status, result.tmb) == (NOT_ASSESSABLE, None)
    assert "no target overlaps a CDS" in str(result.reason)


def test_no_base_at_depth_is_stated(case: dict[str, Path]) -> None:
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=case["gff3"],
        targets=case["panel"],
        settings=TmbSettings(min_depth=50),
    )
    assert (result.status, result.reason) == (
        NOT_ASSESSABLE,
        f"{case['bam']}: no coding base at depth >= 50",
    )


def test_whole_genome_uses_every_cds(case: dict[str, Path]) -> None:
    result = tumour_mutational_burden(
        sample="T1",
        vcf=case["vcf"],
        bam=case["bam"],
        gff3=case["gff3"],
        targets=None,
        settings=TmbSettings(min_depth=2),
    )
    # CDS 220 bp; depth >= 2 over [100, 300) and [400, 420): all of it.
    assert (result.coding_target_bp, result.callable_bp) == (220, 220)


def test_silent_consequences() -> None:
    assert is_silent("synonymous_variant")
    assert is_silent("stop_retained_variant")
    assert not is_silent("synonymous_variant&splice_region_variant")
    assert not is_silent("missense_variant")


def test_cli_writes_result_and_table(case: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "T1.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "genomflow",
            "biomarkers",
            "tmb",
            "--sample",
            "T1",
            "--vcf",
            str(case["vcf"]),
            "--bam",
            str(case["bam"]),
            "--gff3",
            str(case["gff3"]),
            "--targets",
            str(case["panel"]),
            "--min-depth",
            "5",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(out.read_text())
    assert (result["tmb"], result["mutations"], result["status"]) == (50000.0, 5, "assessed")
    table = biomarker_table([result])
    assert table["data"]["T1"]["tmb"] == 50000.0
    assert table["id"] == "tumour_biomarkers"
    rows = biomarker_rows({"tmb": result}, "C1", 3)
    assert rows[0]["value"] == 50000.0 and rows[0]["ci_low"] == result["ci_low"]
