# Alignment per unit, then per sample: merge of its units and duplicate marking.


rule bwa_mem:
    input:
        r1=paths.fastp_reads(read=1),
        r2=paths.fastp_reads(read=2),
        index=BWA_INDEX,
        fasta=REF,
    output:
        bam=temp(paths.unit_bam()),
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
        fai=REF_FAI,
    output:
        aln=temp(paths.markdup_alignment(fmt=ALIGNMENT_FORMAT)),
        idx=temp(paths.index_of(paths.markdup_alignment(fmt=ALIGNMENT_FORMAT))),
        stats=paths.markdup_stats(),
    log:
        "logs/align/samtools_markdup/{sample}.log",
    benchmark:
        "benchmarks/align/samtools_markdup/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 4
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(360),
    params:
        optical=config["alignment"]["optical_duplicate_distance"],
        tmp=subpath(output.aln, strip_suffix=f".{ALIGNMENT_FORMAT}"),
        # BAM, or CRAM compressed against the reference (alignment_format).
        format=ALIGNMENT_WRITE,
    shell:
        "(samtools merge -u -@ {threads} -o - {input.bams}"
        " | samtools markdup -@ {threads} -d {params.optical} -f {output.stats} -T {params.tmp}"
        " {params.format} --write-index - {output.aln}##idx##{output.idx}) 2> {log}"


rule alignment_deliver:
    # The deliverable: duplicate-marked alignments, or UMI consensus reads for UMI libraries
    # (genomflow_consensus, ctdna.smk), as deduplicated_alignment chooses; a hard link, no copy.
    input:
        unpack(deduplicated_alignment),
    output:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
    log:
        "logs/align/alignment_deliver/{sample}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(100),
        runtime=scaled(5),
    shell:
        # The alignment is hard-linked (no copy of a genome's reads); the small index is copied.
        # Snakemake touches each output after the job, alignment first: a hard-linked index
        # would move its input's modification time past the output alignment's, and the job
        # would fail as clock skew. The copied index is written after the link, so it is never
        # older than its alignment.
        "(ln -f {input.aln} {output.aln} || cp {input.aln} {output.aln};"
        " cp {input.idx} {output.idx}) 2> {log}"
