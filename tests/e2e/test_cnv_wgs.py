"""End to end: germline copy number of a whole genome (cnv.wgs: CNVkit on 1 kb bins, flat
reference, clonal calls at purity 1) against planted deletions and duplications of 12-15 kb.

The test genome's trio carries no event of 10 kb or more (its SVs are 2-2.5 kb), so
``genomflow simulate wgs-cnv`` writes a 30x genome of one more person, CNV001, with a
heterozygous and a homozygous deletion, a one-copy and a two-copy duplication
(genomflow.simulate.wgs_cnv). Each must be found with the right type, copy number and
genotype, reciprocal overlap >= 0.5 (the issue's criterion for events >= 10 kb), with at most
two false calls.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pysam
import pytest

from genomflow.simulate.wgs_cnv import TRUTH_TSV, WgsCnvSpec, generate_wgs_cnv
from tests.conftest import REPO, TESTGENOME, snakemake, write_config

pytestmark = pytest.mark.e2e

SAMPLE = WgsCnvSpec().sample
FILES = [f"results/samples/{SAMPLE}/{SAMPLE}.cnv.{ext}" for ext in ("vcf.gz", "tsv", "png")]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wgs-cnv-data")
    generate_wgs_cnv(out)
    return out


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory, data: Path) -> Path:
    workdir = tmp_path_factory.mktemp("wgs-cnv-run")
    (workdir / "samples.tsv").write_text(
        f"sample\tpatient\tsex\ttype\tassay\tpanel\n{SAMPLE}\tPAT-0301\tfemale\tgermline\twgs\t\n"
    )
    reads = data / "reads"
    (workdir / "units.tsv").write_text(
        "sample\tunit\tfq1\tfq2\n"
        f"{SAMPLE}\tL001\t{reads}/{SAMPLE}_L001_R1.fastq.gz\t{reads}/{SAMPLE}_L001_R2.fastq.gz\n"
    )
    config = {
        "samples": str(workdir / "samples.tsv"),
        "units": str(workdir / "units.tsv"),
        "reference": {"fasta": str(TESTGENOME / "genome.fa"),
                      "gff3": str(TESTGENOME / "genes.gff3")},
        "cnv": {"wgs": True},
    }  # fmt: skip
    profile = str(REPO / "profiles" / "test")
    snakemake(workdir, write_config(workdir, config), "--profile", profile, *FILES)
    return workdir


def overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    shared = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return min(shared / (a[1] - a[0]), shared / (b[1] - b[0]))


def test_planted_events_found_with_copy_number_genotype_and_overlap(run: Path, data: Path) -> None:
    with (data / TRUTH_TSV).open() as handle:
        truth = list(csv.DictReader(handle, delimiter="\t"))
    vcf = run / FILES[0]
    with pysam.VariantFile(str(vcf)) as reader:
        meta = {r.key: r.value for r in reader.header.records if r.value}
        records = list(reader)
    assert meta["cnv_reference"] == "flat" and meta["cnv_min_length"] == "10000"
    matched = set()
    for event in truth:
        span = (int(event["start"]), int(event["end"]))
        hits = [
            r for r in records
            if r.chrom == event["contig"] and overlap((r.start, r.stop), span) >= 0.5
        ]  # fmt: skip
        assert hits, f"planted {event} not found"
        record = hits[0]
        gt = "/".join("." if a is None else str(a) for a in record.samples[SAMPLE]["GT"])
        print(f"{event['svtype']} {event['contig']}:{span[0]}-{span[1]} CN {event['copies']}: "
              f"called {record.start}-{record.stop} CN {record.samples[SAMPLE]['CN']} GT {gt}, "
              f"overlap {overlap((record.start, record.stop), span):.2f}")  # fmt: skip
        assert record.info["SVTYPE"] == event["svtype"]
        assert record.samples[SAMPLE]["CN"] == int(event["copies"])
        assert gt == event["genotype"]
        assert list(record.filter) == ["PASS"] and abs(record.info["SVLEN"]) >= 10_000
        matched.add(record.start)
    false = [f"{r.chrom}:{r.start}-{r.stop}" for r in records if r.start not in matched]
    assert len(false) <= 2, false


def test_the_duplication_over_a_gene_names_it(run: Path) -> None:
    with pysam.VariantFile(str(run / FILES[0])) as reader:
        genes = [g for r in reader if r.info["SVTYPE"] == "DUP" for g in r.info.get("GENES", ())]
    assert "GFC3" in genes


def test_every_segment_is_in_the_table_and_the_plot_is_written(run: Path) -> None:
    with (run / FILES[1]).open() as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert {r["contig"] for r in rows} >= {"chr1", "chr2", "chrX"}
    assert (run / FILES[2]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
