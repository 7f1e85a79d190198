"""The run plan behind common.smk, tested directly (issue #15): which files each sample gets."""

from __future__ import annotations

from pathlib import Path

import pytest

from genomflow import paths
from genomflow.cancer import CancerSetup, Tumour
from genomflow.ctdna.pipeline import CtdnaSetup, PlasmaPlan
from genomflow.germline import parse_sexes, sex_options
from genomflow.panels import Panel
from genomflow.sheets import Cohort, Sample, Unit
from genomflow.targets import RunPlan, read_group


def _sample(name: str, kind: str, assay: str = "wgs") -> Sample:
    return Sample(sample=name, patient=f"P-{name}", sex="female", type=kind, assay=assay)


def _unit(sample: str, unit: str) -> Unit:
    return Unit(sample=sample, unit=unit, fq1=Path(f"{unit}_1.fq.gz"), fq2=Path(f"{unit}_2.fq.gz"))


@pytest.fixture
def plan() -> RunPlan:
    """A germline sample N1, its tumour T1 on a panel, and a UMI plasma sample C1."""
    cohort = Cohort(
        samples={
            "N1": _sample("N1", "germline"),
            "T1": _sample("T1", "tumour", "panel"),
            "C1": _sample("C1", "plasma", "panel"),
        },
        units=(_unit("N1", "L1"), _unit("N1", "L2"), _unit("T1", "L1"), _unit("C1", "L1")),
    )
    tumour = Tumour(sample="T1", normal="N1", target_set="P", regions="panel.bed")
    panel = Panel(name="P", path=Path("panels/P.bed"), targets=())
    cancer = CancerSetup(panels={"P": panel}, panel_of_sample={"T1": "P"}, tumours={"T1": tumour})
    plasma = PlasmaPlan("C1", "T1", paths.somatic_vcf("T1"), None, None)
    ctdna = CtdnaSetup(structures={"C1": "8M+T 8M+T"}, plasma={"C1": plasma})
    return RunPlan(cohort=cohort, group_of={"N1": "N1"}, cancer=cancer, ctdna=ctdna)


def test_each_sample_gets_the_deliverables_of_its_kind(plan: RunPlan) -> None:
    assert plan.sample_deliverables("N1") == [
        "results/samples/N1/N1.bam",
        "results/samples/N1/N1.bam.bai",
        paths.germline_vcf("N1"),
        f"{paths.germline_vcf('N1')}.tbi",
    ]
    tumour = plan.sample_deliverables("T1")
    assert paths.somatic_vcf("T1") in tumour
    assert paths.deliverable("T1", ".coverage.tsv") in tumour
    assert paths.germline_vcf("T1") not in tumour
    assert plan.sample_deliverables("C1")[-1] == paths.deliverable("C1", ".ctdna.json")


def test_cram_deliverables_replace_bam() -> None:
    cohort = Cohort(samples={"N1": _sample("N1", "germline")}, units=(_unit("N1", "L1"),))
    cram = RunPlan(cohort, {"N1": "N1"}, CancerSetup(), CtdnaSetup({}, {}), paths.CRAM)
    assert cram.sample_deliverables("N1")[:2] == [
        "results/samples/N1/N1.cram",
        "results/samples/N1/N1.cram.crai",
    ]


def test_batch_targets_follow_the_config(plan: RunPlan) -> None:
    targets = plan.all_outputs()
    assert paths.CTDNA_TIMELINE in targets
    assert paths.LOAD_SUMMARY not in targets
    assert len(plan.sample_reports()) == 2 * len(plan.samples)
    loading = RunPlan(plan.cohort, plan.group_of, plan.cancer, plan.ctdna, load_db="sqlite://")
    assert paths.LOAD_SUMMARY in loading.all_outputs()


def test_umi_samples_report_consensus_not_duplicate_marking(plan: RunPlan) -> None:
    assert plan.deduplication_reports("N1") == [paths.markdup_stats("N1")]
    assert plan.deduplication_reports("C1") == [
        paths.consensus_file("C1", ".families_mqc.json"),
        paths.consensus_file("C1", ".consensus_mqc.json"),
    ]
    assert plan.qc_metrics_inputs("C1")["markdup"] == []
    assert plan.qc_metrics_inputs("C1")["extra"] == [paths.consensus_file("C1", ".qc.json")]


def test_panel_samples_get_off_target_inputs(plan: RunPlan) -> None:
    assert "panel_bed" not in plan.qc_metrics_inputs("N1")
    tumour = plan.qc_metrics_inputs("T1")
    assert tumour["panel_bed"] == "panels/P.bed"
    # The alignment and the reference are the rule's own inputs, as for every sample.
    assert "aln" not in tumour
    assert tumour["extra"] == [paths.coverage_file("T1", ".qc.json")]
    assert plan.qc_metrics_inputs("N1")["fastp"] == [
        paths.fastp_json("N1", "L1"),
        paths.fastp_json("N1", "L2"),
    ]


def test_identity_sites_add_the_identity_checks(plan: RunPlan) -> None:
    assert "identity" not in plan.qc_status_inputs("s.tsv", "u.tsv")
    assert not set(paths.IDENTITY_MQC) & set(plan.multiqc_inputs())
    checked = RunPlan(
        plan.cohort, plan.group_of, plan.cancer, plan.ctdna, identity_sites="snps.vcf.gz"
    )
    assert checked.qc_status_inputs("s.tsv", "u.tsv")["identity"] == paths.IDENTITY_CHECKS
    assert set(paths.IDENTITY_MQC) <= set(checked.multiqc_inputs())


def test_multiqc_reads_every_unit_and_germline_stats_only(plan: RunPlan) -> None:
    files = plan.multiqc_inputs()
    assert files[:4] == [paths.fastp_json(u.sample, u.unit) for u in plan.cohort.units]
    assert [f for f in files if "bcftools" in f] == [paths.bcftools_stats("N1")]
    assert paths.PANEL_GENES_MQC in files
    assert files[-1] == paths.VERSIONS_MQC
    assert len(files) == len(set(files))


CTDNA_SETTINGS = {
    "min_base_quality": 20,
    "min_mapping_quality": 30,
    "min_informative": 500,
    "alpha": 0.01,
    "seed": 7,
    "background": "",
}


def test_plasma_monitoring_reads_this_runs_indexed_calls(plan: RunPlan) -> None:
    assert plan.ctdna_results() == [paths.deliverable("C1", ".ctdna.json")]
    variants = paths.somatic_vcf("T1")
    assert plan.ctdna_monitor_inputs("C1", None) == {"variants": variants, "tbi": f"{variants}.tbi"}
    assert plan.ctdna_monitor_options("C1", CTDNA_SETTINGS) == (
        "--min-base-quality 20 --min-mapping-quality 30 --min-informative 500 --alpha 0.01 --seed 7"
    )


def test_purity_normal_and_background_become_options(plan: RunPlan) -> None:
    external = PlasmaPlan("C1", "T9", "/calls/T9.vcf.gz", 0.4, paths.germline_vcf("N1"))
    ctdna = CtdnaSetup(structures={}, plasma={"C1": external})
    monitored = RunPlan(plan.cohort, plan.group_of, plan.cancer, ctdna)
    settings = {**CTDNA_SETTINGS, "background": "bg.tsv"}
    assert monitored.ctdna_monitor_inputs("C1", "bg.tsv") == {
        "variants": "/calls/T9.vcf.gz",
        "normal": paths.germline_vcf("N1"),
        "background": "bg.tsv",
    }
    options = monitored.ctdna_monitor_options("C1", settings)
    assert options.endswith(
        f" --purity 0.4 --normal-vcf {paths.germline_vcf('N1')} --background bg.tsv"
    )


def test_the_read_group_names_sample_library_platform_and_unit() -> None:
    group = read_group("S1", "L001", "ILLUMINA")
    assert group.split("\\t") == ["@RG", "ID:S1.L001", "SM:S1", "LB:S1", "PL:ILLUMINA", "PU:L001"]


def test_sex_options_are_read_back_by_the_ploidy_command(plan: RunPlan) -> None:
    options = sex_options(plan.cohort, ["N1", "T1"])
    assert options == "--sample N1=female --sample T1=female"
    assert parse_sexes(options.split()[1::2]) == {"N1": "female", "T1": "female"}


def test_the_load_step_reads_the_json_reports_only(plan: RunPlan) -> None:
    assert plan.sample_reports(".report.json") == [
        paths.deliverable(s, ".report.json") for s in ("N1", "T1", "C1")
    ]


def test_the_gene_coverage_section_reads_the_panel_samples(plan: RunPlan) -> None:
    assert plan.panel_coverage_tables() == {"T1": paths.deliverable("T1", ".coverage.tsv")}


def test_rare_ranking_reads_the_familys_svs_and_the_batchs_for_frequency() -> None:
    from genomflow.sv.setup import SvSetup

    def member(name: str, **more: object) -> Sample:
        return Sample(name, f"P-{name}", "female", "germline", "wgs", family="F1", **more)  # type: ignore[arg-type]

    cohort = Cohort(
        samples={
            "K": member("K", father="D", mother="M", hpo=("HP:0001250",), affected="yes"),
            "D": member("D"),
            "M": member("M"),
            "U": _sample("U", "germline"),
        },
        units=tuple(_unit(s, "L1") for s in ("K", "D", "M", "U")),
    )
    group_of = {"K": "F1", "D": "F1", "M": "F1", "U": "U"}
    sv = SvSetup(groups={"F1": ("K", "D", "M"), "U": ("U",)})
    settings = {"panels": {}, "panels_dir": "resources/gene_panels", "bs1_af": 0.01}
    plan = RunPlan(cohort, group_of, CancerSetup(), CtdnaSetup({}, {}), gff3="g.gff3", sv=sv)
    inputs = plan.rare_inputs("F1", settings, "")
    assert inputs["sv_vcfs"] == [paths.deliverable(s, ".sv.vcf.gz") for s in ("K", "D", "M")]
    assert inputs["sv_joint"] == paths.sv_calls("F1")
    assert inputs["batch_sv"] == [paths.deliverable("U", ".sv.vcf.gz")]
    assert inputs["cnv_vcfs"] == [] and inputs["gff3"] == "g.gff3"
    options = plan.rare_options("F1", settings, "", "chrX")
    assert f"--sv-joint {paths.sv_calls('F1')}" in options
    assert f"--batch-sv {paths.deliverable('U', '.sv.vcf.gz')}" in options
    # Without gene models no SV is a candidate: nothing to read.
    bare = RunPlan(cohort, group_of, CancerSetup(), CtdnaSetup({}, {}), sv=sv)
    assert "sv_vcfs" not in bare.rare_inputs("F1", settings, "")
