# Panel samples: depth over the panel targets (mosdepth), then coverage per target, exon and
# gene, the gaps below the minimum depth and the on-target metrics (genomflow coverage).


rule mosdepth_panel:
    input:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=f"{REF}.fai",
        bed=panel_bed,
    output:
        regions="results/coverage/mosdepth_panel/{sample}.regions.bed.gz",
        thresholds="results/coverage/mosdepth_panel/{sample}.thresholds.bed.gz",
        quantized="results/coverage/mosdepth_panel/{sample}.quantized.bed.gz",
        dist="results/coverage/mosdepth_panel/{sample}.mosdepth.region.dist.txt",
        summary="results/coverage/mosdepth_panel/{sample}.mosdepth.summary.txt",
    log:
        "logs/coverage/mosdepth_panel/{sample}.log",
    benchmark:
        "benchmarks/coverage/mosdepth_panel/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        prefix=subpath(output.summary, strip_suffix=".mosdepth.summary.txt"),
        depths=",".join(str(d) for d in config["panels"]["depths"]),
        min_depth=config["panels"]["min_depth"],
        min_mq=config["panels"]["min_mapping_quality"],
    shell:
        "mosdepth --threads {threads} --no-per-base --by {input.bed}"
        " --thresholds {params.depths} --quantize 0:{params.min_depth}:"
        " --mapq {params.min_mq} -f {input.fasta} {params.prefix} {input.aln} 2> {log}"


rule genomflow_coverage:
    input:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=f"{REF}.fai",
        bed=panel_bed,
        regions="results/coverage/mosdepth_panel/{sample}.regions.bed.gz",
        thresholds="results/coverage/mosdepth_panel/{sample}.thresholds.bed.gz",
        quantized="results/coverage/mosdepth_panel/{sample}.quantized.bed.gz",
        dist="results/coverage/mosdepth_panel/{sample}.mosdepth.region.dist.txt",
    output:
        coverage="results/samples/{sample}/{sample}.coverage.tsv",
        gaps="results/samples/{sample}/{sample}.gaps.bed",
        metrics="results/coverage/genomflow_coverage/{sample}.metrics.tsv",
        qc="results/coverage/genomflow_coverage/{sample}.qc.json",
        mqc="results/coverage/genomflow_coverage/{sample}.panel_mqc.json",
    log:
        "logs/coverage/genomflow_coverage/{sample}.log",
    benchmark:
        "benchmarks/coverage/genomflow_coverage/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
        prefix=subpath(input.regions, strip_suffix=".regions.bed.gz"),
        depths=" ".join(str(d) for d in config["panels"]["depths"]),
        min_depth=config["panels"]["min_depth"],
        min_mq=config["panels"]["min_mapping_quality"],
        consensus=coverage_consensus_flag,
    shell:
        "{params.genomflow} coverage panel --sample {wildcards.sample} --panel {input.bed}"
        " --mosdepth-prefix {params.prefix} --bam {input.aln} --reference {input.fasta}"
        " --depths {params.depths}"
        " --min-depth {params.min_depth} --min-mapping-quality {params.min_mq}"
        " --coverage-out {output.coverage} --gaps-out {output.gaps}"
        " --metrics-out {output.metrics} --qc-out {output.qc} --multiqc-out {output.mqc}"
        " {params.consensus}"
        " > {log} 2>&1"
