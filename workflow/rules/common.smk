# Shared state of a run: the validated config, the sample sheets and small input functions.
# Anything with a branch or a formula lives in the genomflow package; these functions only
# look things up in what the package returned.
import inspect
import os
import threading
from pathlib import Path

from snakemake.common import overwrite_function_params
from snakemake.exceptions import WorkflowError

from genomflow import cancer as gf_cancer
from genomflow.cnv import setup as gf_cnv
from genomflow.sv import setup as gf_sv
from genomflow import config as gf_config
from genomflow import paths
from genomflow import snpeff as gf_snpeff
from genomflow.ctdna import pipeline as gf_ctdna
from genomflow.errors import GenomflowError
from genomflow.fastq import fastp_trim_options
from genomflow.germline import calling_groups, group_index, sex_options
from genomflow.scatter import chunk_count, chunk_names
from genomflow.sheets import load_sheets
from genomflow.somatic.settings import settings_args
from genomflow.biomarkers.msi import settings_options as msi_settings_options
from genomflow import targets as gf_targets
from genomflow.targets import RunPlan

try:
    _RESOLVED = gf_config.resolve(config, source="config")
    config.clear()
    config.update(_RESOLVED)
    COHORT = load_sheets(Path(config["samples"]), Path(config["units"]))
    GROUPS = calling_groups(COHORT)
    # Genome chunks for scatter-gather, planned from the contig lengths of the reference.
    CHUNKS = chunk_names(
        chunk_count(
            Path(config["reference"]["fasta"]), config["scatter"]["window_size"]
        )
    )
    # What each sample gets: the cancer stages (panels, tumours, panels of normals,
    # annotation), UMI consensus and ctDNA monitoring, and the run plan built on them.
    CANCER = gf_cancer.setup(
        COHORT,
        config,
        samples_sheet=config["samples"],
        default_panels_dir=Path(
            gf_config.project_path(Path(workflow.basedir) / "resources" / "panels")
        ),
    )
    CTDNA = gf_ctdna.setup(
        COHORT,
        config["ctdna"],
        samples_sheet=config["samples"],
        units_sheet=config["units"],
    )
    # Copy number of the panel samples (CNVkit), a reference per panel.
    CNV = gf_cnv.setup(
        COHORT,
        CANCER.panel_of_sample,
        config["cnv"]["reference_min_normals"],
        config["cnv"]["call_center"],
        gf_cnv.WgsSettings(
            config["cnv"]["wgs"],
            config["cnv"]["wgs_bin_size"],
            config["cnv"]["wgs_min_length"],
        ),
    )
    PLAN = RunPlan(
        cohort=COHORT,
        group_of=group_index(GROUPS),
        cancer=CANCER,
        ctdna=CTDNA,
        cnv=CNV,
        sv=gf_sv.setup(COHORT, GROUPS, config["sv"]["pon_min_normals"]),
        alignment_format=config["alignment_format"],
        identity_sites=config["reference"]["identity_sites"],
        load_db=config["load"]["db"],
        gff3=config["reference"]["gff3"] or None,
    )
except GenomflowError as err:
    raise WorkflowError(str(err)) from None

SAMPLES = tuple(COHORT.samples)
UNITS = {(u.sample, u.unit): u for u in COHORT.units}
UNITS_OF = {s: tuple(u.unit for u in COHORT.units_of(s)) for s in SAMPLES}
GROUP_OF = PLAN.group_of  # every germline sample is in exactly one group
REF = paths.REFERENCE
REF_FAI = paths.REFERENCE_FAI
# Every rule runs in the one pinned environment (with --software-deployment-method conda).
CONDA_ENV = "../../environment.yml"
# The package's command line, from this checkout: works in the venv, a conda env built from
# environment.yml, or on a cluster node, with or without `pip install -e .`. The checkout's
# package folder goes into the jobs' environment, not into the command: a command that named
# where the checkout lies would change when the project is moved, and Snakemake would plan
# every job again (tests/e2e/test_relocation.py).
os.environ.update(
    PYTHONPATH=os.pathsep.join(
        filter(None, (f"{workflow.basedir}/workflow", os.environ.get("PYTHONPATH")))
    )
)
GENOMFLOW = "python -m genomflow"
BWA_INDEX = list(paths.BWA_INDEX)
# The per-sample alignment deliverable, BAM or CRAM (config `alignment_format`): the one place
# that knows its file names. Rules use ALIGNMENT/ALIGNMENT_INDEX (with the {sample} wildcard)
# or paths.alignment(sample, ALIGNMENT_FORMAT); a CRAM is read with REF (every reading rule
# takes it as an input).
ALIGNMENT_FORMAT = config["alignment_format"]
ALIGNMENT = paths.alignment(fmt=ALIGNMENT_FORMAT)
ALIGNMENT_INDEX = paths.alignment_index(fmt=ALIGNMENT_FORMAT)
ALIGNMENT_WRITE = paths.write_options(ALIGNMENT_FORMAT, REF)


wildcard_constraints:
    sample=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    unit=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    group=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    family=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    chunk=r"chunk\d+",
    panel=r"[A-Za-z0-9][A-Za-z0-9._-]*",


# --- planning cost -------------------------------------------------------------------
def parameters_read(function):
    """``function``, with its parameters read once: Snakemake reads the parameters of an
    input, params or resource function (inspect.signature) on every job it plans with one,
    unless overwrite_function_params gave them (bench/dag_scale/README.md)."""
    overwrite_function_params(function, inspect.signature(function).parameters)
    return function


# --- resources: memory and runtime grow with each retry ----------------------------------
def scaled(base):
    """A resource callable: ``base`` on the first attempt, ``base * attempt`` after."""

    def by_attempt(wildcards, attempt):
        return base * attempt

    return parameters_read(by_attempt)


def java_heap(wildcards, resources):
    """A Java tool's heap option: 80% of the job's memory (the rest for the JVM itself)."""
    return f"-Xmx{int(resources.mem_mb * 0.8)}m"


# --- input functions ------------------------------------------------------------------
def unit_fastq(wildcards):
    unit = UNITS[(wildcards.sample, wildcards.unit)]
    return {
        "fq1": gf_config.project_path(unit.fq1),
        "fq2": gf_config.project_path(unit.fq2),
    }


def read_group(wildcards):
    platform = config["alignment"]["platform"]
    return gf_targets.read_group(wildcards.sample, wildcards.unit, platform)


def sample_unit_bams(wildcards):
    return [
        paths.unit_bam(wildcards.sample, unit) for unit in UNITS_OF[wildcards.sample]
    ]


def group_bams(wildcards):
    return [paths.alignment(s, ALIGNMENT_FORMAT) for s in GROUPS[wildcards.group]]


def called_chunks(wildcards):
    """The per-chunk calls of a group, in genome order, from the configured caller."""
    caller = config["germline"]["caller"]
    return [paths.called_chunk(caller, wildcards.group, c) for c in CHUNKS]


def group_sexes(wildcards):
    return sex_options(COHORT, GROUPS[wildcards.group])


def group_germline_vcf(wildcards):
    # The group's VCF after the annotation steps that run (annotate.smk), or unannotated.
    return vcf_and_index(CANCER.annotated("germline", GROUP_OF[wildcards.sample]))


def multiqc_extra_config(wildcards):
    extra = config["multiqc"]["extra_config"]
    return f"--config {extra}" if extra else ""


# --- sample reports and the knowledge database (report.smk) ---------------------------


def sample_report_inputs(wildcards):
    return PLAN.sample_report_inputs(wildcards.sample)


# --- QC status: thresholds, sex, identity (qc.smk) --------------------------------------
IDENTITY_SITES = config["reference"]["identity_sites"]


def identity_sites(wildcards):
    return IDENTITY_SITES


def qc_metrics_inputs(wildcards):
    return PLAN.qc_metrics_inputs(wildcards.sample)


def qc_offtarget_args(wildcards, input):
    if "panel_bed" not in input.keys():
        return ""
    return f"--bam {input.aln} --reference {input.fasta} --panel-bed {input.panel_bed}"


def qc_status_inputs(wildcards):
    return PLAN.qc_status_inputs(config["samples"], config["units"])


def qc_identity_arg(wildcards, input):
    return f"--identity {input.identity}" if "identity" in input.keys() else ""


def panel_coverage_tables(wildcards):
    return PLAN.panel_coverage_tables()


def panel_coverage_args(wildcards, input):
    return " ".join(f"{s}={path}" for s, path in input.items() if s in SAMPLES)


def print_qc_summary():
    """The batch QC summary, at the end of a successful run (when the run made one)."""
    summary = Path(paths.QC_SUMMARY)
    if summary.is_file():
        print(f"\n{summary.read_text()}", end="")


def stop_reevaluation_timers():
    """End the timers Snakemake's scheduler leaves behind. Snakemake 9 arms a 1 s
    threading.Timer after each round of job selection (its job rate limiter,
    --max-jobs-per-timespan), and the process waits for the last one before it exits: up to
    1 s added to every run (bench/e2e_overhead/README.md). When the run is over there is no
    scheduler left for them to wake, so they are cancelled."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


onsuccess:
    print_qc_summary()
    stop_reevaluation_timers()


onerror:
    stop_reevaluation_timers()


# --- cancer: panels, coverage, somatic calls, annotation (coverage/somatic/annotate.smk) ---

GENOME_REGIONS = gf_cancer.GENOME_REGIONS
# The panel of normals' thresholds, as `--set NAME=VALUE` options (the classifier's, which
# depend on the tumour's assay, come with somatic_classify_args).
SOMATIC_SETTINGS = settings_args(config["somatic"])
CLINVAR_COLUMNS = ",".join(
    ["ID", *(f"INFO/{name}" for name in config["annotation"]["clinvar_fields"])]
)


def vcf_and_index(vcf):
    return {"vcf": vcf, "tbi": f"{vcf}.tbi"}


def panel_bed(wildcards):
    return CANCER.panel_bed(wildcards.sample)


def somatic_pileup_inputs(wildcards):
    tumour = CANCER.tumours[wildcards.sample]
    return {
        "bams": tumour.bams,
        "bais": [paths.index_of(bam) for bam in tumour.bams],
        "regions": tumour.regions,
    }


def pon_bams(wildcards):
    return CANCER.pon_bams(wildcards.target_set)


def pon_bais(wildcards):
    return [paths.index_of(b) for b in CANCER.pon_bams(wildcards.target_set)]


def pon_regions(wildcards):
    return CANCER.pon_regions(wildcards.target_set)


def somatic_classify_files(wildcards):
    return CANCER.tumours[wildcards.sample].classify_files()


def somatic_classify_args(wildcards):
    return CANCER.tumours[wildcards.sample].classify_args()


def somatic_min_alt_reads(wildcards):
    return CANCER.tumours[wildcards.sample].min_alt_reads


def reference_gff3(wildcards):
    return config["reference"]["gff3"]


def clinvar_vcf(wildcards):
    return config["annotation"]["clinvar_vcf"]


def annotation_input(kind, step):
    """An input function: the VCF and index that annotation ``step`` (csq or clinvar) of a
    germline group or a tumour (``kind``) reads, after the steps before it."""
    wildcard = "group" if kind == "germline" else "sample"

    def vcf(wildcards):
        return vcf_and_index(
            CANCER.annotation_input(kind, step, getattr(wildcards, wildcard))
        )

    return parameters_read(vcf)


def somatic_annotated_vcf(wildcards):
    return vcf_and_index(CANCER.annotated("somatic", wildcards.sample))


# --- tumour biomarkers (biomarkers.smk) ---------------------------------------------------


def tmb_inputs(wildcards):
    return PLAN.tmb_inputs(wildcards.sample)


def tmb_options(wildcards):
    return PLAN.tmb_options(wildcards.sample, config["tmb"])


def biomarker_tables(wildcards):
    return PLAN.biomarker_tables()


def msi_scan_regions(wildcards):
    return PLAN.msi_scan_regions(wildcards.target_set)


def msi_baseline_inputs(wildcards):
    return PLAN.msi_baseline_inputs(wildcards.target_set)


def msi_baseline_samples(wildcards):
    return " ".join(PLAN.msi_baseline_normals(wildcards.target_set))


def msi_inputs(wildcards):
    return PLAN.msi_inputs(wildcards.sample)


def msi_comparison(wildcards):
    return PLAN.msi_comparison(wildcards.sample)


#: The MSI method's options (config `msi`) of every `genomflow biomarkers msi*` command.
MSI_OPTIONS = msi_settings_options(config["msi"])


# --- UMI consensus and ctDNA monitoring (ctdna.smk) --------------------------------------

# fastp's trimming options (config `trimming`), the same for every unit.
FASTP_TRIM = fastp_trim_options(config["trimming"])
FASTP_UMI = {s: gf_ctdna.fastp_umi_arguments(u) for s, u in CTDNA.structures.items()}


def deduplicated_alignment(wildcards):
    """UMI libraries get consensus reads (genomflow_consensus), the others duplicate marking."""
    aln = paths.deduplicated_alignment(
        wildcards.sample, ALIGNMENT_FORMAT, umi=CTDNA.is_umi(wildcards.sample)
    )
    return {"aln": aln, "idx": paths.index_of(aln)}


def fastp_umi_args(wildcards):
    return FASTP_UMI.get(wildcards.sample, "")


def umi_read_structure(wildcards):
    return CTDNA.structures[wildcards.sample]


def qc_markdup_arg(wildcards, input):
    return f"--markdup {input.markdup}" if input.markdup else ""


def coverage_consensus_flag(wildcards):
    return "--consensus" if CTDNA.is_umi(wildcards.sample) else ""


def ctdna_monitor_inputs(wildcards):
    return PLAN.ctdna_monitor_inputs(wildcards.sample, config["ctdna"]["background"])


def ctdna_monitor_options(wildcards):
    return PLAN.ctdna_monitor_options(wildcards.sample, config["ctdna"])


# --- rare disease (rare.smk) -------------------------------------------------------------


def rare_inputs(wildcards):
    group = getattr(wildcards, "family", None) or wildcards.sample
    return PLAN.rare_inputs(
        group, config["rare_disease"], config["annotation"]["population_vcf"]
    )


def rare_options(wildcards):
    group = getattr(wildcards, "family", None) or wildcards.sample
    return PLAN.rare_options(
        group,
        config["rare_disease"],
        config["annotation"]["population_vcf"],
        config["reference"]["sex_contigs"]["x"],
    )


# --- copy number (cnv.smk): look-ups in the CnvSetup (genomflow.cnv.setup) ---------------------


def cnv_panel_bed(wildcards):
    """The panel's BED, or for whole genomes the accessible regions to tile into bins."""
    if wildcards.panel == gf_cnv.WGS:
        return paths.CNV_ACCESS
    return os.fspath(CANCER.panels[wildcards.panel].path)


def cnv_targets_options(wildcards, input):
    return CNV.targets_options(wildcards.panel, input.bed)


def cnv_report_panel(wildcards):
    """A panel sample's panel BED (its genes label the plot and the genes table); WGS: none."""
    if CNV.samples[wildcards.sample].panel == gf_cnv.WGS:
        return []
    return CANCER.panel_bed(wildcards.sample)


def cnv_report_panel_option(wildcards, input):
    return f"--panel {input.panel}" if input.panel else ""


def cnv_sample_targets(wildcards):
    return paths.cnv_targets(CNV.samples[wildcards.sample].panel)


def cnv_sample_antitargets(wildcards):
    return paths.cnv_targets(CNV.samples[wildcards.sample].panel, ".antitarget.bed")


def cnv_reference_coverages(wildcards):
    return CNV.reference_coverages(wildcards.panel)


def cnv_reference_normals(wildcards):
    return CNV.reference_options(wildcards.panel)


def cnv_sample_reference(wildcards):
    return paths.cnv_reference(CNV.samples[wildcards.sample].panel)


def cnv_sample_reference_summary(wildcards):
    return paths.cnv_reference(CNV.samples[wildcards.sample].panel, ".json")


def cnv_call_options(wildcards):
    return CNV.call_options(wildcards.sample)


def cnv_report_options(wildcards):
    return CNV.report_options(wildcards.sample)


# --- structural variants (sv.smk) ----------------------------------------------------------


def sv_group_alignments(wildcards):
    return PLAN.sv.group_alignments(wildcards.group, ALIGNMENT_FORMAT)


def sv_group_indexes(wildcards):
    return [paths.index_of(a) for a in sv_group_alignments(wildcards)]


def sv_sample_calls(wildcards):
    return PLAN.sv.calls(wildcards.sample)


def sv_somatic_alignments(wildcards):
    return PLAN.sv.somatic_alignments(wildcards.sample, ALIGNMENT_FORMAT)


def sv_somatic_indexes(wildcards):
    return [paths.index_of(a) for a in sv_somatic_alignments(wildcards)]


def sv_somatic_filter(wildcards):
    """The tumour and its controls for delly filter (matched normal or panel of normals)."""
    return PLAN.sv.somatic_filter(wildcards.sample)


def sv_deliver_options(wildcards):
    if wildcards.sample in PLAN.sv.tumours:
        return PLAN.sv.somatic_options(wildcards.sample)
    return ""


def sv_gff3(wildcards):
    return config["reference"]["gff3"] or []


def sv_gff3_option(wildcards):
    gff3 = config["reference"]["gff3"]
    return f"--gff3 {gff3}" if gff3 else ""


# Every input and params function of this file, with its parameters read once.
for _function in [f for f in globals().values() if inspect.isfunction(f)]:
    if _function.__code__.co_filename == parameters_read.__code__.co_filename:
        parameters_read(_function)
del _function
