# Read trimming and read/alignment QC metrics.


rule fastp_trim:
    input:
        unpack(unit_fastq),
    output:
        r1=temp("results/qc/fastp_trim/{sample}.{unit}.R1.fastq.gz"),
        r2=temp("results/qc/fastp_trim/{sample}.{unit}.R2.fastq.gz"),
        json="results/qc/fastp_trim/{sample}.{unit}.fastp.json",
        html="results/qc/fastp_trim/{sample}.{unit}.fastp.html",
    log:
        "logs/qc/fastp_trim/{sample}.{unit}.log",
    benchmark:
        "benchmarks/qc/fastp_trim/{sample}.{unit}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        min_length=config["trimming"]["min_length"],
        cut_quality=config["trimming"]["cut_mean_quality"],
    shell:
        "fastp --in1 {input.fq1} --in2 {input.fq2} --out1 {output.r1} --out2 {output.r2}"
        " --detect_adapter_for_pe --cut_right --cut_right_mean_quality {params.cut_quality}"
        " --length_required {params.min_length} --compression 1 --thread {threads}"
        " --json {output.json} --html {output.html} --report_title '{wildcards.sample}.{wildcards.unit}'"
        " 2> {log}"


rule samtools_stats:
    input:
        bam="results/samples/{sample}/{sample}.bam",
        bai="results/samples/{sample}/{sample}.bam.bai",
    output:
        stats="results/qc/samtools_stats/{sample}.txt",
    log:
        "logs/qc/samtools_stats/{sample}.log",
    benchmark:
        "benchmarks/qc/samtools_stats/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    shell:
        "samtools stats {input.bam} > {output.stats} 2> {log}"


rule mosdepth_wgs:
    input:
        bam="results/samples/{sample}/{sample}.bam",
        bai="results/samples/{sample}/{sample}.bam.bai",
    output:
        dist="results/qc/mosdepth_wgs/{sample}.mosdepth.global.dist.txt",
        summary="results/qc/mosdepth_wgs/{sample}.mosdepth.summary.txt",
    log:
        "logs/qc/mosdepth_wgs/{sample}.log",
    benchmark:
        "benchmarks/qc/mosdepth_wgs/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        prefix=subpath(output.summary, strip_suffix=".mosdepth.summary.txt"),
    shell:
        "mosdepth --threads {threads} --no-per-base --fast-mode {params.prefix} {input.bam} 2> {log}"


rule bcftools_stats:
    input:
        vcf="results/samples/{sample}/{sample}.germline.vcf.gz",
        tbi="results/samples/{sample}/{sample}.germline.vcf.gz.tbi",
    output:
        stats="results/qc/bcftools_stats/{sample}.txt",
    log:
        "logs/qc/bcftools_stats/{sample}.log",
    benchmark:
        "benchmarks/qc/bcftools_stats/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(30),
    shell:
        "bcftools stats -s - {input.vcf} > {output.stats} 2> {log}"
