"""End to end: copy number of the cancer panel samples (CNVkit) against the planted events.

The demo's panel samples with the demo config: CA002T (tumour-only, purity 0.6) carries GFB2
amplified to 8 copies and a homozygous deletion of GFD4 (resources/testcancer/truth/
copy_number.tsv); CA001T and the normals CA001N and CA003N have two copies of every gene.
The reference is pooled from the batch's normals, CA001N and CA003N.

Copy-number accuracy, as the issue asks: the amplified gene's copy number within ±1.5 of
truth (6.5-9.5 for 8 planted) and each called event's reciprocal overlap with the planted
region at least 0.5. The generator gives each target its probe's capture efficiency, shared
by every sample of the panel with a little per-sample noise (log sd 0.05), so the reference
pooled from the normals corrects it, as on a real panel. (With an efficiency drawn per sample,
before, GFB2 came out at 6 copies, log2 1.01 against 1.49 expected.)
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pysam
import pytest

from tests.conftest import REPO, demo_qc_config, snakemake

pytestmark = pytest.mark.e2e

PANEL_SAMPLES = ("CA001T", "CA001N", "CA002T", "CA003N")
TRUTH = REPO / "resources" / "testcancer" / "truth" / "copy_number.tsv"
GENES = ("GFC3", "GFB2", "GFA1", "GFE5", "GFD4")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("cnv")
    config = demo_qc_config(workdir, samples=PANEL_SAMPLES, batch="e2e CNV batch")
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def truth() -> list[dict[str, str]]:
    with TRUTH.open() as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def genes(run: Path, sample: str) -> dict[str, dict[str, str]]:
    path = run / "results" / "cnv" / "genomflow_cnv" / f"{sample}.genes.tsv"
    with path.open() as handle:
        return {row["gene"]: row for row in csv.DictReader(handle, delimiter="\t")}


def records(run: Path, sample: str) -> list[pysam.VariantRecord]:
    path = run / "results" / "samples" / sample / f"{sample}.cnv.vcf.gz"
    with pysam.VariantFile(str(path)) as vcf:
        return list(vcf)


def overlap(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Reciprocal overlap of two intervals."""
    shared = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return min(shared / (a[1] - a[0]), shared / (b[1] - b[0]))


def _overlaps(record: pysam.VariantRecord, event: dict[str, str]) -> bool:
    span = (record.start, record.stop)
    return (
        event["contig"] == record.chrom
        and overlap(span, (int(event["start"]), int(event["end"]))) > 0
    )


def test_amplified_gene_is_called_amplification(run: Path) -> None:
    gfb2 = genes(run, "CA002T")["GFB2"]
    planted = next(row for row in truth() if row["gene"] == "GFB2")
    print(f"GFB2: called CN {gfb2['copy_number']} (truth {planted['copies']}), log2 {gfb2['log2']}")
    assert gfb2["call"] == "amplification"
    assert abs(int(gfb2["copy_number"]) - int(planted["copies"])) <= 1.5


def test_homozygously_deleted_gene_is_called_deletion(run: Path) -> None:
    gfd4 = genes(run, "CA002T")["GFD4"]
    assert gfd4["call"] == "deletion" and int(gfd4["copy_number"]) == 0


def test_other_panel_genes_are_neutral(run: Path) -> None:
    planted = {(row["tumour"], row["gene"]) for row in truth()}
    for sample in PANEL_SAMPLES:
        table = genes(run, sample)
        assert set(table) == set(GENES)
        for gene, row in table.items():
            if (sample, gene) not in planted:
                assert row["call"] == "neutral", (sample, row)
                assert int(row["copy_number"]) == 2, (sample, row)


def test_vcf_records_match_the_planted_events_with_at_most_two_false_calls(run: Path) -> None:
    events: dict[str, list[dict[str, str]]] = {row["tumour"]: [] for row in truth()}
    for row in truth():
        events[row["tumour"]].append(row)
    for sample in PANEL_SAMPLES:
        calls = records(run, sample)
        found = set()
        false = []
        for record in calls:
            span = (record.start, record.stop)
            hit = [e for e in events.get(sample, []) if _overlaps(record, e)]
            if not hit:
                false.append(record)
                continue
            event = hit[0]
            found.add(event["gene"])
            expected = "DEL" if int(event["copies"]) < 2 else "DUP"
            assert record.info["SVTYPE"] == expected
            assert event["gene"] in record.info["GENES"]
            ro = overlap(span, (int(event["start"]), int(event["end"])))
            print(f"{sample} {event['gene']}: {record.chrom}:{span} reciprocal overlap {ro:.2f}")
            assert ro >= 0.5, (sample, event["gene"], span, ro)
        assert len(false) <= 2, [str(r) for r in false]
        assert found == {e["gene"] for e in events.get(sample, [])}


def test_deliverables_are_valid_and_carry_the_reference_and_purity(run: Path) -> None:
    for sample in PANEL_SAMPLES:
        folder = run / "results" / "samples" / sample
        vcf = folder / f"{sample}.cnv.vcf.gz"
        assert Path(f"{vcf}.tbi").is_file()
        subprocess.run(["bcftools", "view", "-Ou", "-o", "/dev/null", str(vcf)], check=True)
        with pysam.VariantFile(str(vcf)) as reader:
            meta = {r.key: r.value for r in reader.header.records if r.value}
        assert meta["cnv_reference"] == "pooled"
        if sample == "CA002T":
            assert meta["tumour_purity"] == "0.6"
        png = folder / f"{sample}.cnv.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        with (folder / f"{sample}.cnv.tsv").open() as handle:
            header = handle.readline().rstrip("\n").split("\t")
        assert header[:7] == ["contig", "start", "end", "genes", "log2", "copy_number", "call"]
    summary = json.loads(
        (run / "results" / "cnv" / "cnvkit_reference" / "gf-onco-v1.json").read_text()
    )
    assert summary["kind"] == "pooled" and summary["normals"] == ["CA001N", "CA003N"]


def test_cnv_noise_is_a_qc_metric_with_its_threshold(run: Path) -> None:
    with (run / "results" / "qc" / "qc_status.tsv").open() as handle:
        text = handle.read()
    assert "cnv_noise" in text
    for sample in PANEL_SAMPLES:
        noise = json.loads(
            (run / "results" / "cnv" / "genomflow_cnv" / f"{sample}.qc.json").read_text()
        )["cnv_noise"]
        print(f"{sample}: CNV noise (MAD) {noise:.3f}")
        assert 0 < noise < 0.5


def test_multiqc_shows_the_copy_number_plots(run: Path) -> None:
    html = (run / "results" / "qc" / "multiqc_report.html").read_text()
    for sample in PANEL_SAMPLES:
        assert f"{sample}.cnv_mqc" in html or f"{sample}.cnv" in html
