# Alignment per unit, then per sample: merge of its units and duplicate marking.


rule bwa_mem:
    input:
        r1="results/qc/fastp_trim/{sample}.{unit}.R1.fastq.gz",
        r2="results/qc/fastp_trim/{sample}.{unit}.R2.fastq.gz",
        index=BWA_INDEX,
        fasta=REF,
    output:
        bam=temp("results/align/bwa_mem/{sample}.{unit}.bam"),
    log:
        "logs/align/bwa_mem/{sample}.{unit}.log",
    benchmark:
        "benchmarks/align/bwa_mem/{sample}.{unit}.tsv"
    conda:
        CONDA_ENV
    threads: 8
    resources:
        mem_mb=scaled(12000),
        runtime=scaled(720),
    params:
        read_group=read_group,
        tmp=subpath(output.bam, strip_suffix=".bam"),
    # -K fixes bwa's batch size, so alignments do not depend on the number of threads.
    shell:
        "(bwa mem -t {threads} -K 100000000 -R '{params.read_group}' {input.fasta} {input.r1} {input.r2}"
        " | samtools fixmate -m -u - -"
        " | samtools sort -@ {threads} -m 768M -T {params.tmp}.sort -o {output.bam} -) 2> {log}"


rule samtools_markdup:
    input:
        bams=sample_unit_bams,
        fasta=REF,
        fai=f"{REF}.fai",
    output:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        stats="results/qc/samtools_markdup/{sample}.txt",
    log:
        "logs/align/samtools_markdup/{sample}.log",
    benchmark:
        "benchmarks/align/samtools_markdup/{sample}.tsv"
    # UMI libraries are deduplicated by their UMIs instead (genomflow_consensus, ctdna.smk).
    wildcard_constraints:
        sample=MARKDUP_SAMPLES_REGEX,
    conda:
        CONDA_ENV
    threads: 4
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(360),
    params:
        optical=config["alignment"]["optical_duplicate_distance"],
        tmp="results/align/samtools_markdup/{sample}",
        # BAM, or CRAM compressed against the reference (alignment_format).
        format=gf_alignments.write_options(ALIGNMENT_FORMAT, REF),
    shell:
        "mkdir -p $(dirname {params.tmp}) && "
        "(samtools merge -u -@ {threads} -o - {input.bams}"
        " | samtools markdup -@ {threads} -d {params.optical} -f {output.stats} -T {params.tmp}"
        " {params.format} --write-index - {output.aln}##idx##{output.idx}) 2> {log}"
