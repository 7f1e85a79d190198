# Shared state of a run: the validated config, the sample sheets and small input functions.
# Anything with a branch or a formula lives in the genomflow package; these functions only
# look things up in what the package returned.
from pathlib import Path

from snakemake.exceptions import WorkflowError

from genomflow import config as gf_config
from genomflow.errors import GenomflowError
from genomflow.germline import GERMLINE_TYPES, calling_groups, group_of
from genomflow.sheets import load_sheets

try:
    _RESOLVED = gf_config.resolve(config, source="config")
    config.clear()
    config.update(_RESOLVED)
    COHORT = load_sheets(Path(config["samples"]), Path(config["units"]))
    GROUPS = calling_groups(COHORT)
except GenomflowError as err:
    raise WorkflowError(str(err)) from None

SAMPLES = tuple(COHORT.samples)
GERMLINE_SAMPLES = tuple(
    s.sample for s in COHORT.samples.values() if s.type in GERMLINE_TYPES
)
UNITS = {(u.sample, u.unit): u for u in COHORT.units}
UNITS_OF = {s: tuple(u.unit for u in COHORT.units_of(s)) for s in SAMPLES}
GROUP_OF = {s: group_of(GROUPS, s) for s in GERMLINE_SAMPLES}
REF = "results/reference/genome.fa"
# Every rule runs in the one pinned environment (with --software-deployment-method conda).
CONDA_ENV = "../../environment.yml"
# The package's command line, from this checkout: works in the venv, a conda env built from
# environment.yml, or on a cluster node, with or without `pip install -e .`.
GENOMFLOW = f"PYTHONPATH={workflow.basedir}/workflow${{PYTHONPATH:+:$PYTHONPATH}} python -m genomflow"
BWA_INDEX = multiext(REF, ".amb", ".ann", ".bwt", ".pac", ".sa")


wildcard_constraints:
    sample=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    unit=r"[A-Za-z0-9][A-Za-z0-9_-]*",
    group=r"[A-Za-z0-9][A-Za-z0-9_-]*",


# --- resources: memory and runtime grow with each retry ----------------------------------
def scaled(base):
    """A resource callable: ``base`` on the first attempt, ``base * attempt`` after."""

    def by_attempt(wildcards, attempt):
        return base * attempt

    return by_attempt


# --- input functions ------------------------------------------------------------------
def unit_fastq(wildcards):
    unit = UNITS[(wildcards.sample, wildcards.unit)]
    return {"fq1": str(unit.fq1), "fq2": str(unit.fq2)}


def read_group(wildcards):
    """The read group of a unit, as bwa mem -R wants it (tabs escaped)."""
    fields = (
        f"ID:{wildcards.sample}.{wildcards.unit}",
        f"SM:{wildcards.sample}",
        f"LB:{wildcards.sample}",
        f"PL:{config['alignment']['platform']}",
        f"PU:{wildcards.unit}",
    )
    return "\\t".join(("@RG", *fields))


def sample_unit_bams(wildcards):
    return [
        f"results/align/bwa_mem/{wildcards.sample}.{unit}.bam"
        for unit in UNITS_OF[wildcards.sample]
    ]


def group_bams(wildcards):
    return [f"results/samples/{s}/{s}.bam" for s in GROUPS[wildcards.group]]


def group_sexes(wildcards):
    return " ".join(
        f"--sample {s}={COHORT.samples[s].sex}" for s in GROUPS[wildcards.group]
    )


def group_germline_vcf(wildcards):
    group = GROUP_OF[wildcards.sample]
    return {
        "vcf": f"results/germline/germline_filter/{group}.vcf.gz",
        "tbi": f"results/germline/germline_filter/{group}.vcf.gz.tbi",
    }


def sample_deliverables(sample):
    paths = [
        f"results/samples/{sample}/{sample}.bam",
        f"results/samples/{sample}/{sample}.bam.bai",
    ]
    if sample in GROUP_OF:
        paths += [
            f"results/samples/{sample}/{sample}.germline.vcf.gz",
            f"results/samples/{sample}/{sample}.germline.vcf.gz.tbi",
        ]
    return paths


def multiqc_inputs(wildcards):
    paths = [
        f"results/qc/fastp_trim/{u.sample}.{u.unit}.fastp.json" for u in COHORT.units
    ]
    for sample in SAMPLES:
        paths += [
            f"results/qc/samtools_stats/{sample}.txt",
            f"results/qc/samtools_markdup/{sample}.txt",
            f"results/qc/mosdepth_wgs/{sample}.mosdepth.global.dist.txt",
            f"results/qc/mosdepth_wgs/{sample}.mosdepth.summary.txt",
        ]
    paths += [f"results/qc/bcftools_stats/{s}.txt" for s in GERMLINE_SAMPLES]
    paths.append("results/report/genomflow_versions/software_mqc_versions.yml")
    return paths


def all_outputs():
    paths = [p for sample in SAMPLES for p in sample_deliverables(sample)]
    return [
        *paths,
        "results/reference/genome.dict",
        "results/qc/multiqc_report.html",
        "results/versions.yml",
    ]


def multiqc_extra_config(wildcards):
    extra = config["multiqc"]["extra_config"]
    return f"--config {extra}" if extra else ""
