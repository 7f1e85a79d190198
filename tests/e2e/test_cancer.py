"""End to end on the cancer panel samples of the demo batch (resources/testcancer).

The cancer samples of the demo sheet, run with the demo config (config/config.yaml: GFF3,
ClinVar-style and population VCFs): CA001T with its matched normal CA001N, the tumour-only
CA002T and one more normal, CA003N, all on the gf-onco-v1 panel. Somatic calls are
compared with the planted truth by VAF band; coverage with samtools depth; consequences with
the planted coding variants.
"""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path
from typing import Any

import pysam
import pytest

from genomflow import snpeff
from genomflow.panels import read_panel
from genomflow.somatic.evaluate import SomaticEvaluation, evaluate_files, read_calls, read_carried
from tests.conftest import REPO, demo_qc_config, snakemake

pytestmark = pytest.mark.e2e

TESTCANCER = REPO / "resources" / "testcancer"
PANEL = REPO / "resources" / "panels" / "gf-onco-v1.bed"
PANEL_SAMPLES = ("CA001T", "CA001N", "CA002T", "CA003N", "CA004T", "CA005T")
#: The tumours whose somatic calls are evaluated by VAF band (the README's accuracy table).
TUMOURS = ("CA001T", "CA002T")
#: Every tumour: CA004T is MSI-high, CA005T hypermutated (tumour-only, issue 17).
ALL_TUMOURS = ("CA001T", "CA002T", "CA004T", "CA005T")
LOW_TARGET = "GFE5:exon2"
#: Planted coding context -> the Sequence Ontology term snpEff must give.
CONSEQUENCES = {
    "missense": "missense_variant",
    "synonymous": "synonymous_variant",
    "stop_gained": "stop_gained",
    "frameshift": "frameshift_variant",
    "splice_donor": "splice_donor_variant",
    "splice_acceptor": "splice_acceptor_variant",
}


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cancer samples of the demo sheet with the demo config, run once."""
    workdir = tmp_path_factory.mktemp("demo-cancer")
    config = demo_qc_config(workdir, samples=PANEL_SAMPLES, batch="e2e cancer batch")
    snakemake(workdir, config, "--profile", str(REPO / "profiles" / "test"))
    return workdir


def deliverable(run: Path, sample: str, suffix: str) -> Path:
    return run / "results" / "samples" / sample / f"{sample}{suffix}"


@pytest.fixture(scope="module")
def evaluations(run: Path) -> dict[str, SomaticEvaluation]:
    results = {
        tumour: evaluate_files(
            TESTCANCER / "truth/somatic.vcf.gz",
            deliverable(run, tumour, ".somatic.vcf.gz"),
            tumour,
            TESTCANCER / "truth/germline.vcf.gz",
            TESTCANCER / "truth/artefacts.vcf.gz",
        )
        for tumour in TUMOURS
    }
    for tumour, result in results.items():
        print(f"\n{tumour}\n{result.table()}")
    return results


def test_paired_tumour_recall_by_vaf_band_and_precision(
    evaluations: dict[str, SomaticEvaluation],
) -> None:
    result = evaluations["CA001T"]
    details = result.to_dict()
    high = result.recall(min_vaf=0.10, cls="snv")
    assert high is not None and high >= 0.95, details["false_negatives"]
    mid = result.recall(min_vaf=0.05, max_vaf=0.10, cls="snv")
    assert mid is not None and mid >= 0.80, details["false_negatives"]
    indels = result.recall(min_vaf=0.10, cls="indel")
    assert indels is not None and indels >= 0.80, details["false_negatives"]
    assert result.precision is not None and result.precision >= 0.95, details["false_positives"]


def test_no_germline_variant_is_reported_somatic(run: Path) -> None:
    for tumour in TUMOURS:
        germline = read_carried(TESTCANCER / "truth/germline.vcf.gz", tumour)
        called = read_calls(deliverable(run, tumour, ".somatic.vcf.gz"), tumour)
        assert germline and not set(called) & germline, sorted(set(called) & germline)


def test_tumour_only_precision_with_the_panel_of_normals(
    run: Path, evaluations: dict[str, SomaticEvaluation]
) -> None:
    result = evaluations["CA002T"]
    assert result.precision is not None and result.precision >= 0.90, result.to_dict()
    high = result.recall(min_vaf=0.10)
    assert high is not None and high >= 0.90
    # The planted artefacts are in the panel of normals and filtered there.
    artefacts = read_carried(TESTCANCER / "truth/artefacts.vcf.gz")
    with pysam.VariantFile(str(deliverable(run, "CA002T", ".somatic.vcf.gz"))) as vcf:
        filtered = {(r.chrom, r.pos, r.ref, r.alts[0]): set(r.filter) for r in vcf if r.alts}
    seen = [filtered[key] for key in artefacts if key in filtered]
    assert len(seen) >= len(artefacts) - 1
    assert all("PanelOfNormals" in filters for filters in seen), seen


@pytest.mark.parametrize("tumour", TUMOURS)
def test_somatic_vcf_is_valid_sorted_indexed_normalised_with_ad_dp_af(
    run: Path, tumour: str
) -> None:
    vcf = deliverable(run, tumour, ".somatic.vcf.gz")
    assert vcf.read_bytes()[:4] == b"\x1f\x8b\x08\x04"  # BGZF
    assert Path(f"{vcf}.tbi").is_file()
    subprocess.run(["bcftools", "view", "-Ou", "-o", "/dev/null", str(vcf)], check=True)
    done = subprocess.run(
        ["bcftools", "norm", "-f", str(REPO / "resources/testgenome/genome.fa"), "-m", "-any",
         "-Ou", "-o", "/dev/null", str(vcf)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    with pysam.VariantFile(str(vcf)) as reader:
        header = reader.header
        records = list(reader.fetch())
    assert f"total/split/realigned/skipped:\t{len(records)}/0/0/0" in done.stderr
    positions = [(r.contig, r.pos) for r in records]
    assert positions == sorted(positions, key=lambda p: (["chr1", "chr2"].index(p[0]), p[1]))
    expected = ["CA001T", "CA001N"] if tumour == "CA001T" else ["CA002T"]
    assert list(header.samples) == expected
    meta = {r.key: r.value for r in header.records if r.value}
    assert meta["tumour_purity"] == {"CA001T": "0.8", "CA002T": "0.6"}[tumour]
    assert {"AD", "DP", "AF"} <= set(header.formats)
    assert {"ANN", "CLNSIG"} <= set(header.info)
    passed = [r for r in records if list(r.filter) == ["PASS"]]
    assert passed
    for record in passed:
        for sample in expected:
            call = record.samples[sample]
            assert call["AD"] is not None and call["DP"] is not None and call["AF"] is not None


def test_planted_coding_variants_get_their_consequence_class(run: Path) -> None:
    with pysam.VariantFile(str(TESTCANCER / "truth/somatic.vcf.gz")) as truth:
        planted = {
            (r.chrom, r.pos, r.ref, r.alts[0]): str(r.info["CONTEXT"])
            for r in truth
            if r.info["CONTEXT"] in CONSEQUENCES and r.samples["CA001T"]["GT"] == (0, 1)
        }
    assert sorted(set(planted.values())) == sorted(CONSEQUENCES)
    with pysam.VariantFile(str(deliverable(run, "CA001T", ".somatic.vcf.gz"))) as vcf:
        found = {(r.chrom, r.pos, r.ref, r.alts[0]): r for r in vcf if r.alts}
    for key, context in planted.items():
        record = found[key]
        consequences = [a.terms for a in snpeff.parse_ann(record.info["ANN"])]
        assert any(CONSEQUENCES[context] in c for c in consequences), (key, consequences)
        assert record.info.get("CLNSIG"), key  # joined from the ClinVar-style VCF


def test_germline_vcfs_of_the_normals_carry_consequences_too(run: Path) -> None:
    exons = [t for t in read_panel(PANEL).targets if t.exon.startswith("exon")]
    with pysam.VariantFile(str(deliverable(run, "CA001N", ".germline.vcf.gz"))) as vcf:
        assert "ANN" in vcf.header.info
        on_exons = [
            (record, target)
            for record in vcf
            for target in exons
            if record.chrom == target.contig and target.start < record.pos <= target.end
        ]
    assert len(on_exons) >= 5
    for record, target in on_exons:
        genes = {a.gene for a in snpeff.parse_ann(record.info.get("ANN"))}
        assert target.gene in genes, (record.pos, genes)


def test_report_variants_in_coding_genes_carry_hgvs_that_parses(run: Path) -> None:
    """Issue 17: every somatic PASS call on a coding exon of the panel has the reporting
    transcript's c. (and p. when coding), and every c./p. string of the reports parses with
    the biocommons HGVS parser."""
    from hgvs.parser import Parser

    parser = Parser()
    chosen = {
        line.split("\t")[1]
        for line in (run / "results/reference/snpeff/transcripts.tsv").read_text().splitlines()[1:]
    }
    strings = 0
    for sample in PANEL_SAMPLES:
        report = json.loads(deliverable(run, sample, ".report.json").read_text())
        for v in report["variants"]:
            if v["hgvs_c"] is None:
                assert v["hgvs_p"] is None, v
                continue
            assert v["transcript"] in chosen and v["gene"] and v["consequence"], v
            parser.parse_hgvs_variant(f"{v['transcript']}:{v['hgvs_c']}")
            strings += 1
            if v["hgvs_p"] is not None:
                assert v["hgvs_p"] == "p.?" or v["hgvs_p"].startswith("p.("), v
                parser.parse_hgvs_variant(f"{v['transcript']}:{v['hgvs_p']}")
                strings += 1
    print(f"\n{strings} c./p. strings of the cancer reports parsed")
    with pysam.VariantFile(str(TESTCANCER / "truth/somatic.vcf.gz")) as truth:
        coding = {
            (r.chrom, r.pos, r.ref, r.alts[0])
            for r in truth
            if r.info["CONTEXT"] in ("missense", "stop_gained", "frameshift")
            and r.samples["CA001T"]["GT"] == (0, 1)
        }
    report = json.loads(deliverable(run, "CA001T", ".report.json").read_text())
    called = {
        (v["chrom"], v["pos"], v["ref"], v["alt"]): v
        for v in report["variants"]
        if v["origin"] == "somatic" and v["filters"] == ["PASS"]
    }
    found = [called[key] for key in coding if key in called]
    assert len(found) >= len(coding) - 1
    assert all(v["hgvs_c"].startswith("c.") and v["hgvs_p"].startswith("p.(") for v in found)


def test_fhir_bundle_carries_the_reports_hgvs(run: Path) -> None:
    """The c./p. HGVS of each passing coding call reach the FHIR Observation (48004-6,
    48005-3), and the bundle parses with fhir.resources."""
    from fhir.resources.bundle import Bundle

    report = json.loads(deliverable(run, "CA001T", ".report.json").read_text())
    bundle = Bundle.model_validate_json(deliverable(run, "CA001T", ".fhir.json").read_text())
    found: dict[str, set[str]] = {"48004-6": set(), "48005-3": set()}
    for entry in bundle.entry or []:
        for component in getattr(entry.resource, "component", None) or []:
            code = component.code.coding[0].code
            if code in found:
                found[code].add(component.valueCodeableConcept.text)
    passing = [v for v in report["variants"] if v["filters"] == ["PASS"]]
    assert found["48004-6"] == {v["hgvs_c"] for v in passing if v["hgvs_c"]} != set()
    assert found["48005-3"] == {v["hgvs_p"] for v in passing if v["hgvs_p"]} != set()


def test_clinvar_significance_reaches_the_report_and_a_diagnostic_implication(run: Path) -> None:
    """Issue 17: the ClinVar-style VCF's CLNSIG of each exact allele a report carries is the
    variant's clinical_significance, and each passing one gets a diagnostic-implication
    Observation (53037-8) derived from that variant's Observation."""
    from fhir.resources.bundle import Bundle

    with pysam.VariantFile(str(TESTCANCER / "clinvar.vcf.gz")) as clinvar:
        known = {(r.chrom, r.pos, r.ref, r.alts[0]): str(r.info["CLNSIG"][0]) for r in clinvar}
    report = json.loads(deliverable(run, "CA001T", ".report.json").read_text())
    carried = [v for v in report["variants"] if (v["chrom"], v["pos"], v["ref"], v["alt"]) in known]
    assert carried, "CA001T carries none of the ClinVar alleles"
    for v in report["variants"]:
        expected = known.get((v["chrom"], v["pos"], v["ref"], v["alt"]))
        assert v["clinical_significance"] == expected, v
    bundle = Bundle.model_validate_json(deliverable(run, "CA001T", ".fhir.json").read_text())
    implications = []
    for entry in bundle.entry or []:
        for component in getattr(entry.resource, "component", None) or []:
            if component.code.coding[0].code == "53037-8":
                implications.append(component.valueCodeableConcept.text)
    passing = [v["clinical_significance"] for v in carried if v["filters"] == ["PASS"]]
    assert sorted(implications) == sorted(passing) != []


@pytest.mark.parametrize("sample", PANEL_SAMPLES)
def test_under_covered_target_is_in_the_gap_bed(run: Path, sample: str) -> None:
    gaps = [
        line.split("\t") for line in deliverable(run, sample, ".gaps.bed").read_text().splitlines()
    ]
    names = {g[3] for g in gaps}
    assert LOW_TARGET in names
    panel = {t.name: t for t in read_panel(PANEL).targets}
    low = panel[LOW_TARGET]
    covered = sum(int(e) - int(s) for c, s, e, n in gaps if n == LOW_TARGET)
    assert covered == low.length  # the whole target is below 100x
    for contig, start, end, name in gaps:  # every gap lies in its named target
        target = panel[name]
        assert contig == target.contig and target.start <= int(start) < int(end) <= target.end


def samtools_gene_depth(bam: Path) -> dict[str, float]:
    """Mean depth per gene over the panel targets, by samtools depth (same read filters)."""
    targets = read_panel(PANEL).targets
    done = subprocess.run(
        ["samtools", "depth", "-a", "-s", "-Q", "20", "-b", str(PANEL), str(bam)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    depth = {}
    for line in done.stdout.splitlines():
        contig, pos, value = line.split("\t")
        depth[(contig, int(pos))] = int(value)
    totals: dict[str, list[int]] = {}
    for t in targets:
        values = [depth.get((t.contig, p + 1), 0) for p in range(t.start, t.end)]
        totals.setdefault(t.gene, []).extend(values)
    return {gene: sum(v) / len(v) for gene, v in totals.items()}


@pytest.mark.parametrize("sample", PANEL_SAMPLES)
def test_gene_mean_depth_agrees_with_samtools_depth(run: Path, sample: str) -> None:
    with deliverable(run, sample, ".coverage.tsv").open() as table:
        rows = list(csv.DictReader(table, delimiter="\t"))
    genes = {r["gene"]: float(r["mean_depth"]) for r in rows if r["level"] == "gene"}
    reference = samtools_gene_depth(deliverable(run, sample, ".bam"))
    assert set(genes) == set(reference)
    worst = max(abs(genes[g] - reference[g]) / reference[g] for g in genes)
    print(f"\n{sample}: largest per-gene difference from samtools depth {worst:.5%}")
    assert worst < 0.01, (genes, reference)
    levels = {r["level"] for r in rows}
    assert levels == {"panel", "gene", "exon", "target"}


def test_panel_metrics_reach_qc_and_multiqc(run: Path) -> None:
    data = json.loads((run / "results/qc/multiqc_report_data/multiqc_data.json").read_text())
    panel = next(
        values
        for values in data["report_general_stats_data"].values()
        if set(values) == set(PANEL_SAMPLES) and "on_target_fraction" in values["CA001T"]
    )
    assert 0.5 < panel["CA001T"]["on_target_fraction"] < 0.95
    assert panel["CA001T"]["mean_target_depth"] > 300
    for sample in PANEL_SAMPLES:
        qc = json.loads((run / f"results/coverage/genomflow_coverage/{sample}.qc.json").read_text())
        assert 0.8 < qc["target_bases_at_depth"] <= 1.0


def _rules_under(root: Path) -> set[str]:
    names = set()
    for path in root.rglob("*"):
        if path.is_file():
            parts = path.relative_to(root).parts
            names.add(parts[1] if len(parts) > 2 else parts[1].split(".")[0])
    return names


def test_cancer_rules_left_logs_and_benchmarks(run: Path) -> None:
    tools = {
        "bcftools_mpileup_somatic",
        "bcftools_mpileup_pon",
        "genomflow_pon",
        "genomflow_somatic",
        "bcftools_norm_somatic",
        "mosdepth_panel",
        "genomflow_coverage",
        "snpeff_build",
        "snpeff_ann_germline",
        "snpeff_ann_somatic",
        "bcftools_annotate_germline",
        "bcftools_annotate_somatic",
        "genomflow_tmb",
    }
    benchmarks, logs = _rules_under(run / "benchmarks"), _rules_under(run / "logs")
    assert tools <= benchmarks, tools - benchmarks
    assert tools <= logs, tools - logs


def planted_tmb(run: Path, tumour: str, min_depth: int, min_vaf: float) -> tuple[int, int]:
    """(planted variants, callable bp) under the counting rules of the demo (synonymous
    included: the truth does not say which planted 'plain' variants are synonymous)."""
    from genomflow.biomarkers import territory as terr
    from genomflow.intervals import read_bed

    cds = terr.read_cds(REPO / "resources/testgenome/genes.gff3")
    targets = terr.spans_of((r.contig, r.start, r.end) for r in read_bed(PANEL))
    spans = terr.callable_spans(
        deliverable(run, tumour, ".bam"), terr.intersect(targets, cds), min_depth, 20
    )
    planted = 0
    with pysam.VariantFile(str(TESTCANCER / "truth/somatic.vcf.gz")) as truth:
        for record in truth:
            vaf = record.samples[tumour]["VAF"]
            start = record.pos - 1
            if vaf is not None and vaf >= min_vaf:
                planted += terr.overlaps(spans, record.chrom, start, start + len(record.ref))
    return planted, terr.size(spans)


@pytest.mark.parametrize("tumour", ALL_TUMOURS)
def test_tmb_is_the_planted_burden_within_its_interval(run: Path, tumour: str) -> None:
    from genomflow.biomarkers.tmb import TmbSettings, garwood, tumour_mutational_burden

    result = json.loads((run / f"results/biomarkers/genomflow_tmb/{tumour}.json").read_text())
    assert result["status"] == "assessed"
    report = json.loads(deliverable(run, tumour, ".report.json").read_text())
    assert report["biomarkers"]["tmb"]["tmb"] == result["tmb"]
    # The same rules with synonymous variants counted, against the planted truth.
    settings = TmbSettings(min_depth=100, include_synonymous=True)
    measured = tumour_mutational_burden(
        sample=tumour,
        vcf=deliverable(run, tumour, ".somatic.vcf.gz"),
        bam=deliverable(run, tumour, ".bam"),
        gff3=REPO / "resources/testgenome/genes.gff3",
        targets=PANEL,
        settings=settings,
    )
    planted, callable_bp = planted_tmb(run, tumour, 100, settings.min_vaf)
    assert measured.callable_bp == callable_bp
    low, high = garwood(measured.mutations)
    assert low <= planted <= high, (planted, measured.mutations)
    assert measured.mutations <= planted + 1  # precision 1.0 on the panel (README)


def test_tumour_biomarkers_reach_multiqc(run: Path) -> None:
    table = json.loads(
        (
            run / "results/biomarkers/genomflow_biomarkers_table/tumour_biomarkers_mqc.json"
        ).read_text()
    )
    assert set(table["data"]) == set(ALL_TUMOURS)
    html = (run / "results/qc/multiqc_report.html").read_text()
    assert "Tumour biomarkers" in html


def test_hypermutated_tumour_has_the_highest_burden(run: Path) -> None:
    tmb = {
        t: json.loads((run / f"results/biomarkers/genomflow_tmb/{t}.json").read_text())
        for t in ALL_TUMOURS
    }
    others = [tmb[t]["ci_high"] for t in ALL_TUMOURS if t != "CA005T"]
    # the hypermutated tumour's interval lies above every other tumour's
    assert tmb["CA005T"]["ci_low"] > max(others)


@pytest.mark.parametrize(
    ("tumour", "call", "mode"),
    [
        ("CA001T", "MSS", "paired"),
        ("CA002T", "MSS", "baseline"),
        ("CA004T", "MSI-H", "baseline"),
        ("CA005T", "MSS", "baseline"),
    ],
)
def test_msi_high_tumour_is_called_and_the_others_are_stable(
    run: Path, tumour: str, call: str, mode: str
) -> None:
    report = json.loads(deliverable(run, tumour, ".report.json").read_text())
    msi = report["biomarkers"]["msi"]
    assert (msi["call"], msi["mode"], msi["status"]) == (call, mode, "assessed")
    assert msi["sites_total"] >= 30
    if call == "MSI-H":
        assert msi["unstable_share"] >= msi["threshold"]
        # the unstable sites are where CA004T's deletions were planted
        result = json.loads((run / f"results/biomarkers/genomflow_msi/{tumour}.json").read_text())
        unstable = {s["site"].split(":")[1].split("-")[0] for s in result["sites"] if s["unstable"]}
        with pysam.VariantFile(str(TESTCANCER / "truth/somatic.vcf.gz")) as truth:
            planted = {
                str(r.pos + 1)
                for r in truth
                if r.info["CONTEXT"] == "microsatellite" and r.samples[tumour]["GT"] == (0, 1)
            }
        assert unstable <= planted
        assert len(unstable) >= 0.8 * len(planted)
    else:
        assert msi["unstable_share"] < msi["threshold"]


@pytest.mark.parametrize("sample", PANEL_SAMPLES)
def test_fhir_bundles_parse_and_carry_the_genomics_reporting_codes(run: Path, sample: str) -> None:
    from fhir.resources.R4B.bundle import Bundle

    from genomflow.report.fhir import GR

    bundle = json.loads(deliverable(run, sample, ".fhir.json").read_text())
    Bundle.model_validate(bundle)
    resources = [e["resource"] for e in bundle["entry"]]

    def profiled(name: str) -> list[dict[str, object]]:
        return [r for r in resources if f"{GR}/{name}" in r.get("meta", {}).get("profile", [])]

    def structural(observation: dict[str, Any]) -> bool:
        systems = {i["system"] for i in observation.get("identifier", [])}
        return "urn:genomflow:structural" in systems

    variants = [o for o in profiled("variant") if not structural(o)]
    segments = [o for o in profiled("variant") if structural(o)]
    if sample == "CA002T":  # the planted amplification: copy number and change type
        gfb2 = [
            o for o in segments
            if {"text": "GFB2"} in [c.get("valueCodeableConcept") for c in o["component"]]
        ]  # fmt: skip
        assert gfb2
        for amplified in gfb2:
            codes = {c["code"]["coding"][0]["code"] for c in amplified["component"]}
            assert {"82155-3", "48019-4", "48002-0", "81254-5"} <= codes
    assert variants
    for observation in variants:
        codes = {c["code"]["coding"][0]["code"] for c in observation["component"]}
        assert {"48002-0", "82121-5", "81258-6", "69547-8", "69551-0", "81254-5"} <= codes
        assert "82155-3" not in codes
    # the planted coding variants' genes are studied
    genes = {
        c["valueCodeableConcept"]["text"]
        for o in variants
        for c in o["component"]
        if c["code"]["coding"][0]["code"] == "48018-6"
    }
    assert genes
    if sample in ALL_TUMOURS:
        (tmb,) = profiled("tmb")
        (msi,) = profiled("msi")
        assert tmb["code"]["coding"][0]["code"] == "94076-7"
        assert tmb["valueQuantity"]["code"] == "1/1000000{Base}"
        expected = "LA26203-2" if sample == "CA004T" else "LA14122-8"
        assert msi["valueCodeableConcept"]["coding"][0]["code"] == expected
    else:
        assert not profiled("tmb") and not profiled("msi")
