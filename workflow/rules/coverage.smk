# Panel samples: depth over the panel targets (mosdepth), then coverage per target, exon and
# gene, the gaps below the minimum depth and the on-target metrics (genomflow coverage).


rule mosdepth_panel:
    input:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=REF_FAI,
        bed=panel_bed,
    output:
        regions=paths.mosdepth_panel(suffix=".regions.bed.gz"),
        thresholds=paths.mosdepth_panel(suffix=".thresholds.bed.gz"),
        quantized=paths.mosdepth_panel(suffix=".quantized.bed.gz"),
        dist=paths.mosdepth_panel(suffix=".mosdepth.region.dist.txt"),
        summary=paths.mosdepth_panel(suffix=".mosdepth.summary.txt"),
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
        fai=REF_FAI,
        bed=panel_bed,
        regions=paths.mosdepth_panel(suffix=".regions.bed.gz"),
        thresholds=paths.mosdepth_panel(suffix=".thresholds.bed.gz"),
        quantized=paths.mosdepth_panel(suffix=".quantized.bed.gz"),
        dist=paths.mosdepth_panel(suffix=".mosdepth.region.dist.txt"),
    output:
        coverage=paths.deliverable(suffix=".coverage.tsv"),
        gaps=paths.deliverable(suffix=".gaps.bed"),
        metrics=paths.coverage_file(suffix=".metrics.tsv"),
        qc=paths.coverage_file(suffix=".qc.json"),
        mqc=paths.coverage_file(suffix=".panel_mqc.json"),
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
