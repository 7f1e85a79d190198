# Reference preparation: a validated plain copy, its indexes and per-contig MD5 checksums.


rule reference_prepare:
    input:
        fasta=config["reference"]["fasta"],
    output:
        fasta=REF,
    log:
        "logs/reference/reference_prepare.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(30),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} reference prepare --fasta {input.fasta} --out {output.fasta} > {log} 2>&1"


rule samtools_faidx:
    input:
        fasta=REF,
    output:
        fai=REF_FAI,
    log:
        "logs/reference/samtools_faidx.log",
    benchmark:
        "benchmarks/reference/samtools_faidx.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(30),
    shell:
        "samtools faidx {input.fasta} 2> {log}"


rule samtools_dict:
    # The sequence dictionary carries each contig's MD5 (M5), the reference checksums.
    input:
        fasta=REF,
    output:
        dict=paths.REFERENCE_DICT,
    log:
        "logs/reference/samtools_dict.log",
    benchmark:
        "benchmarks/reference/samtools_dict.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(30),
    shell:
        "samtools dict {input.fasta} -o {output.dict} 2> {log}"


rule bwa_index:
    input:
        fasta=REF,
    output:
        BWA_INDEX,
    log:
        "logs/reference/bwa_index.log",
    benchmark:
        "benchmarks/reference/bwa_index.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(8000),
        runtime=scaled(240),
    shell:
        "bwa index {input.fasta} 2> {log}"


rule reference_chunks:
    # N-free genome chunks for scatter-gather (see genomflow.scatter).
    input:
        fasta=REF,
        fai=REF_FAI,
    output:
        beds=expand(paths.reference_chunk(), chunk=CHUNKS),
    log:
        "logs/reference/reference_chunks.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(30),
    params:
        genomflow=GENOMFLOW,
        window_size=config["scatter"]["window_size"],
    shell:
        "{params.genomflow} scatter chunks --fasta {input.fasta}"
        " --window-size {params.window_size} --out {output.beds} > {log} 2>&1"
