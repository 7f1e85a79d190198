# Structural variants of whole-genome germline samples: delly calls each calling group (a
# family jointly, or a sample alone) over its alignments; genomflow keeps each sample's
# genotyped SVs of at least sv.min_length bp (genomflow.sv).


rule delly_call:
    input:
        alns=sv_group_alignments,
        idxs=sv_group_indexes,
        fasta=REF,
        fai=REF_FAI,
    output:
        bcf=paths.sv_calls(),
        csi=f"{paths.sv_calls()}.csi",
    log:
        "logs/sv/delly_call/{group}.log",
    benchmark:
        "benchmarks/sv/delly_call/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(1440),
    params:
        min_mq=config["sv"]["min_mapping_quality"],
    shell:
        "delly call -g {input.fasta} -q {params.min_mq} -o {output.bcf} {input.alns} > {log} 2>&1"


rule genomflow_sv:
    input:
        bcf=sv_sample_calls,
        summary=paths.mosdepth_summary(),
        gff3=sv_gff3,
    output:
        vcf=paths.deliverable(suffix=".sv.vcf.gz"),
        tbi=paths.deliverable(suffix=".sv.vcf.gz.tbi"),
    log:
        "logs/sv/genomflow_sv/{sample}.log",
    benchmark:
        "benchmarks/sv/genomflow_sv/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
        min_length=config["sv"]["min_length"],
        min_coverage=config["sv"]["min_coverage"],
        gff3=sv_gff3_option,
    shell:
        "{params.genomflow} sv deliver --calls {input.bcf} --sample {wildcards.sample}"
        " --out {output.vcf} --min-length {params.min_length}"
        " --mosdepth-summary {input.summary} --min-coverage {params.min_coverage}"
        " {params.gff3} > {log} 2>&1"
