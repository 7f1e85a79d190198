"""Every file the pipeline writes and reads twice, in one place.

The rules (``workflow/rules/*.smk``) and the package call these functions, so that renaming a
rule or moving an output is a one-line change here. Each function takes the names it needs
with the wildcard as default: called without arguments it returns the pattern a rule declares,
with a name it returns that one file.

>>> samtools_stats()
'results/qc/qc_metrics/samtools_stats/{sample}.txt'
>>> samtools_stats("S1")
'results/qc/qc_metrics/samtools_stats/S1.txt'
>>> fastp_json("S1", "L001")
'results/qc/fastp_trim/S1.L001.fastp.json'

Paths under ``results/samples/{sample}/`` are the public deliverables (docs: contracts): they
do not change. Where a sample's alignment deliverable lives, as BAM or CRAM (config
``alignment_format``):

>>> alignment("S1", "cram")
'results/samples/S1/S1.cram'
>>> alignment_index("S1", "bam")
'results/samples/S1/S1.bam.bai'
>>> alignment_index("S1", "cram")
'results/samples/S1/S1.cram.crai'

CRAM is compressed against the pipeline's reference (:data:`REFERENCE`); every tool reading it
needs that FASTA (``samtools --reference``, ``mosdepth -f``, ``pysam`` ``reference_filename``).
"""

from __future__ import annotations

SAMPLE = "{sample}"
UNIT = "{unit}"
GROUP = "{group}"

# --- reference -------------------------------------------------------------------------
#: The reference the pipeline aligns to and CRAMs are compressed against.
REFERENCE = "results/reference/genome.fa"
REFERENCE_FAI = f"{REFERENCE}.fai"
REFERENCE_DICT = "results/reference/genome.dict"
#: bwa's index files beside the reference.
BWA_INDEX = tuple(f"{REFERENCE}{ext}" for ext in (".amb", ".ann", ".bwt", ".pac", ".sa"))
#: snpEff's database built from the reference GFF3 and FASTA (rule snpeff_build): its config,
#: the database, and the reporting transcripts (one per gene: a list for ``-onlyTr`` and a
#: table with the basis of each choice).
SNPEFF_DIR = "results/reference/snpeff"
SNPEFF_CONFIG = f"{SNPEFF_DIR}/snpEff.config"
SNPEFF_DATABASE = f"{SNPEFF_DIR}/genomflow/snpEffectPredictor.bin"
SNPEFF_TRANSCRIPTS = f"{SNPEFF_DIR}/transcripts.txt"
SNPEFF_TRANSCRIPT_TABLE = f"{SNPEFF_DIR}/transcripts.tsv"


def reference_chunk(chunk: str = "{chunk}") -> str:
    """A genome chunk of the scatter-gather germline calling, as BED."""
    return f"results/reference/reference_chunks/{chunk}.bed"


# --- alignment formats -----------------------------------------------------------------
BAM = "bam"
CRAM = "cram"
#: The values of the config key ``alignment_format`` (the schema's enum).
FORMATS = (BAM, CRAM)
#: Suffix of the index, appended to the alignment file's name.
INDEX_SUFFIX = {BAM: ".bai", CRAM: ".crai"}


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"alignment format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


def index_of(path: str) -> str:
    """The index beside an alignment file, from its extension.

    >>> index_of("results/samples/N1/N1.cram")
    'results/samples/N1/N1.cram.crai'
    """
    for fmt, suffix in INDEX_SUFFIX.items():
        if path.endswith(f".{fmt}"):
            return path + suffix
    raise ValueError(f"not a BAM or CRAM file name: {path}")


def write_options(fmt: str, reference: str = REFERENCE) -> str:
    """samtools output options for ``fmt``: CRAM is compressed against ``reference``.

    htslib writes each @SQ line's MD5 (M5) and location (UR) of the reference into the header.

    >>> write_options("bam")
    '-O bam'
    >>> write_options("cram", "ref.fa")
    '-O cram --reference ref.fa'
    """
    if _check(fmt) == CRAM:
        return f"-O cram --reference {reference}"
    return "-O bam"


# --- per unit: trimming and alignment ----------------------------------------------------
def fastp_reads(sample: str = SAMPLE, unit: str = UNIT, read: int = 1) -> str:
    """Trimmed reads of a unit (``read`` 1 or 2)."""
    return f"results/qc/fastp_trim/{sample}.{unit}.R{read}.fastq.gz"


def fastp_json(sample: str = SAMPLE, unit: str = UNIT) -> str:
    return f"results/qc/fastp_trim/{sample}.{unit}.fastp.json"


def fastp_html(sample: str = SAMPLE, unit: str = UNIT) -> str:
    return f"results/qc/fastp_trim/{sample}.{unit}.fastp.html"


def unit_bam(sample: str = SAMPLE, unit: str = UNIT) -> str:
    """A unit's alignments, sorted (bwa_mem)."""
    return f"results/align/bwa_mem/{sample}.{unit}.bam"


# --- per sample: the alignment, deduplicated two ways, and the deliverable -----------------
def alignment(sample: str = SAMPLE, fmt: str = BAM) -> str:
    """The alignment deliverable of ``sample`` (BAM or CRAM)."""
    return f"results/samples/{sample}/{sample}.{_check(fmt)}"


def alignment_index(sample: str = SAMPLE, fmt: str = BAM) -> str:
    """The index of :func:`alignment` (``.bam.bai`` or ``.cram.crai``)."""
    return alignment(sample, fmt) + INDEX_SUFFIX[fmt]


def markdup_alignment(sample: str = SAMPLE, fmt: str = BAM) -> str:
    """Duplicate-marked alignments of a library without UMIs (samtools_markdup)."""
    return f"results/align/samtools_markdup/{sample}.{_check(fmt)}"


def consensus_alignment(sample: str = SAMPLE, fmt: str = BAM) -> str:
    """UMI-consensus alignments of a UMI library (genomflow_consensus)."""
    return f"results/ctdna/genomflow_consensus/{sample}.{_check(fmt)}"


def deduplicated_alignment(sample: str, fmt: str, umi: bool) -> str:
    """The alignments a sample's deliverable is made from: UMI consensus or markdup.

    >>> deduplicated_alignment("P1", "bam", umi=True)
    'results/ctdna/genomflow_consensus/P1.bam'
    >>> deduplicated_alignment("N1", "cram", umi=False)
    'results/align/samtools_markdup/N1.cram'
    """
    return consensus_alignment(sample, fmt) if umi else markdup_alignment(sample, fmt)


def markdup_stats(sample: str = SAMPLE) -> str:
    return f"results/qc/samtools_markdup/{sample}.txt"


def consensus_file(sample: str = SAMPLE, suffix: str = ".json") -> str:
    """genomflow_consensus's metrics (``.json``, ``.qc.json``, ``.families_mqc.json``,
    ``.consensus_mqc.json``)."""
    return f"results/ctdna/genomflow_consensus/{sample}{suffix}"


# --- per sample: QC ------------------------------------------------------------------------
# samtools stats and mosdepth run inside qc_metrics (one job per sample); each tool's files
# keep their own folder and MultiQC's file names ({sample}.txt, {sample}.mosdepth.*).
def samtools_stats(sample: str = SAMPLE) -> str:
    return f"results/qc/qc_metrics/samtools_stats/{sample}.txt"


def mosdepth_summary(sample: str = SAMPLE) -> str:
    return f"results/qc/qc_metrics/mosdepth/{sample}.mosdepth.summary.txt"


def mosdepth_dist(sample: str = SAMPLE) -> str:
    return f"results/qc/qc_metrics/mosdepth/{sample}.mosdepth.global.dist.txt"


def bcftools_stats(sample: str = SAMPLE) -> str:
    """bcftools stats of a germline deliverable, made with it (bcftools_view_sample)."""
    return f"results/germline/bcftools_view_sample/stats/{sample}.txt"


def identity_genotypes(sample: str = SAMPLE) -> str:
    return f"results/qc/bcftools_identity/{sample}.vcf.gz"


def qc_metrics(sample: str = SAMPLE) -> str:
    return f"results/qc/qc_metrics/{sample}.json"


QC_STATUS = "results/qc/qc_status.tsv"
QC_SUMMARY = "results/qc/qc_status/summary.txt"
QC_STATUS_MQC = (
    "results/qc/qc_status/qc_status_mqc.json",
    "results/qc/qc_status/qc_thresholds_mqc.json",
    "results/qc/qc_status/qc_general_mqc.json",
)
IDENTITY_PAIRS = "results/qc/qc_identity/pairs.tsv"
IDENTITY_CHECKS = "results/qc/qc_identity/samples.tsv"
IDENTITY_MQC = (
    "results/qc/qc_identity/identity_matrix_mqc.json",
    "results/qc/qc_identity/identity_pairs_mqc.json",
)
PANEL_GENES_MQC = "results/qc/qc_panel_genes/panel_genes_mqc.json"
MULTIQC_REPORT = "results/qc/multiqc_report.html"


# --- germline ------------------------------------------------------------------------------
def germline_ploidy(group: str = GROUP, suffix: str = ".ploidy.txt") -> str:
    """germline_ploidy's files (``.ploidy.txt``, ``.sexes.txt``, ``.cnv.bed``)."""
    return f"results/germline/germline_ploidy/{group}{suffix}"


def called_chunk(caller: str, group: str = GROUP, chunk: str = "{chunk}") -> str:
    """A group's calls in one genome chunk, by ``caller`` (bcftools or freebayes)."""
    return f"results/germline/{caller}_call/{group}/{chunk}.bcf"


def germline_group_vcf(name: str = GROUP) -> str:
    """A calling group's filtered VCF (germline_filter)."""
    return f"results/germline/germline_filter/{name}.vcf.gz"


def germline_vcf(sample: str = SAMPLE) -> str:
    """The germline deliverable of a sample."""
    return f"results/samples/{sample}/{sample}.germline.vcf.gz"


# --- somatic, coverage, annotation -----------------------------------------------------------
#: Calling regions of whole-genome tumours (written by a rule from the reference index).
GENOME_REGIONS = "results/somatic/genomflow_genome_regions/genome.bed"


def somatic_pileup(sample: str = SAMPLE) -> str:
    return f"results/somatic/bcftools_mpileup_somatic/{sample}.bcf"


def pon_pileup(target_set: str = "{target_set}") -> str:
    return f"results/somatic/bcftools_mpileup_pon/{target_set}.bcf"


def pon_vcf(target_set: str = "{target_set}") -> str:
    """A target set's panel of normals."""
    return f"results/somatic/genomflow_pon/{target_set}.vcf.gz"


def somatic_calls(sample: str = SAMPLE) -> str:
    """A tumour's classified candidates, before annotation (genomflow_somatic)."""
    return f"results/somatic/genomflow_somatic/{sample}.vcf.gz"


def somatic_vcf(sample: str = SAMPLE) -> str:
    """The somatic deliverable of a tumour."""
    return f"results/samples/{sample}/{sample}.somatic.vcf.gz"


def annotated_vcf(rule: str, name: str) -> str:
    """The output of an annotation rule (``snpeff_ann_germline`` …) for a group or tumour.

    >>> annotated_vcf("snpeff_ann_somatic", "T1")
    'results/annotate/snpeff_ann_somatic/T1.vcf.gz'
    """
    return f"results/annotate/{rule}/{name}.vcf.gz"


def mosdepth_panel(sample: str = SAMPLE, suffix: str = ".mosdepth.summary.txt") -> str:
    """mosdepth_panel's files (``.regions.bed.gz``, ``.thresholds.bed.gz`` …)."""
    return f"results/coverage/mosdepth_panel/{sample}{suffix}"


def coverage_file(sample: str = SAMPLE, suffix: str = ".qc.json") -> str:
    """genomflow_coverage's files (``.metrics.tsv``, ``.qc.json``, ``.panel_mqc.json``)."""
    return f"results/coverage/genomflow_coverage/{sample}{suffix}"


def deliverable(sample: str = SAMPLE, suffix: str = ".report.json") -> str:
    """A deliverable of a sample other than its alignments and VCFs (``.coverage.tsv``,
    ``.gaps.bed``, ``.ctdna.json``, ``.report.json``, ``.fhir.json``)."""
    return f"results/samples/{sample}/{sample}{suffix}"


# --- tumour biomarkers ----------------------------------------------------------------------
def tmb_json(sample: str = SAMPLE) -> str:
    """A tumour's mutational burden (genomflow_tmb)."""
    return f"results/biomarkers/genomflow_tmb/{sample}.json"


def msi_sites(target_set: str = "{target_set}") -> str:
    """The microsatellites inside a target set (genomflow_msi_scan)."""
    return f"results/biomarkers/genomflow_msi_scan/{target_set}.tsv"


def msi_baseline(target_set: str = "{target_set}") -> str:
    """Repeat lengths of a target set's normals, for tumour-only MSI (genomflow_msi_baseline)."""
    return f"results/biomarkers/genomflow_msi_baseline/{target_set}.json"


def msi_json(sample: str = SAMPLE) -> str:
    """A tumour's microsatellite instability (genomflow_msi)."""
    return f"results/biomarkers/genomflow_msi/{sample}.json"


#: The batch's tumour biomarkers as a MultiQC table.
BIOMARKERS_MQC = "results/biomarkers/genomflow_biomarkers_table/tumour_biomarkers_mqc.json"


# --- rare disease -------------------------------------------------------------------------------
FAMILY = "{family}"


def family_candidates(family: str = FAMILY) -> str:
    """A family's ranked candidates (deliverable)."""
    return f"results/families/{family}/{family}.candidates.tsv"


def rare_json(rule: str, name: str) -> str:
    """The ranked candidates as JSON (for the report and MultiQC)."""
    return f"results/rare/{rule}/{name}.candidates.json"


RARE_MQC = "results/rare/genomflow_rare_table/rare_disease_candidates_mqc.json"

#: MultiQC custom content: SV and copy-number calls per sample (genomflow_sv_table).
SV_TABLE_MQC = "results/sv/genomflow_sv_table/structural_calls_mqc.json"

# --- copy number (CNVkit) -------------------------------------------------------------------
#: The reference's accessible regions (cnvkit_access), where off-target bins may lie.
CNV_ACCESS = "results/cnv/cnvkit_access/genome.bed"


def cnv_targets(panel: str = "{panel}", suffix: str = ".target.bed") -> str:
    """A panel's CNVkit bins: ``.target.bed`` (genomflow_cnv_targets) and
    ``.antitarget.bed`` (cnvkit_antitarget)."""
    rule = "genomflow_cnv_targets" if suffix == ".target.bed" else "cnvkit_antitarget"
    return f"results/cnv/{rule}/{panel}{suffix}"


def cnv_coverage(sample: str = SAMPLE, suffix: str = ".targetcoverage.cnn") -> str:
    """cnvkit_coverage's files (``.targetcoverage.cnn``, ``.antitargetcoverage.cnn``)."""
    return f"results/cnv/cnvkit_coverage/{sample}{suffix}"


def cnv_reference(panel: str = "{panel}", suffix: str = ".cnn") -> str:
    """cnvkit_reference's files: the reference (``.cnn``) and what it pools (``.json``)."""
    return f"results/cnv/cnvkit_reference/{panel}{suffix}"


def cnv_call(sample: str = SAMPLE, suffix: str = ".cnr") -> str:
    """cnvkit_call's files: bins (``.cnr``), segments (``.cns``), called (``.call.cns``).

    >>> cnv_call("T1", ".call.cns")
    'results/cnv/cnvkit_call/T1.call.cns'
    """
    return f"results/cnv/cnvkit_call/{sample}{suffix}"


def cnv_report(sample: str = SAMPLE, suffix: str = ".qc.json") -> str:
    """genomflow_cnv's files besides the deliverables (``.genes.tsv``, ``.qc.json``,
    ``.cnv_mqc.png``)."""
    return f"results/cnv/genomflow_cnv/{sample}{suffix}"


# --- structural variants (delly) -------------------------------------------------------------
def sv_calls(group: str = GROUP) -> str:
    """A calling group's joint delly calls (delly_call), BCF."""
    return f"results/sv/delly_call/{group}.bcf"


def sv_somatic_calls(sample: str = SAMPLE) -> str:
    """A WGS tumour's delly calls, filtered against its matched normal (delly_call_somatic)."""
    return f"results/sv/delly_call_somatic/{sample}.bcf"


# --- ctDNA and the report --------------------------------------------------------------------
CTDNA_TIMELINE = "results/ctdna/timeline.tsv"
CTDNA_TIMELINE_MQC = "results/ctdna/genomflow_ctdna_timeline/timeline_mqc.json"
VERSIONS = "results/versions.yml"
VERSIONS_MQC = "results/report/genomflow_versions/software_mqc_versions.yml"
RESOLVED_CONFIG = "results/report/genomflow_config/config.json"
REFGET = "results/report/genomflow_refget/genome.refget.tsv"
LOAD_SUMMARY = "results/report/genomflow_load/loaded.tsv"
