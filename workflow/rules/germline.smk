# Germline small variants: joint calling per group (a family, or one sample), normalisation
# (left-align, split multi-allelics), soft filters, then one VCF per sample.


rule germline_ploidy:
    input:
        fai=REF_FAI,
    output:
        ploidy=paths.germline_ploidy(suffix=".ploidy.txt"),
        sexes=paths.germline_ploidy(suffix=".sexes.txt"),
        cnv_map=paths.germline_ploidy(suffix=".cnv.bed"),
    log:
        "logs/germline/germline_ploidy/{group}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
        x=config["reference"]["sex_contigs"]["x"],
        y=config["reference"]["sex_contigs"]["y"],
        sexes=group_sexes,
    shell:
        "{params.genomflow} germline ploidy --fai {input.fai} --x {params.x} --y {params.y} {params.sexes}"
        " --ploidy-out {output.ploidy} --samples-out {output.sexes}"
        " --cnv-map-out {output.cnv_map} > {log} 2>&1"


rule bcftools_call:
    input:
        bams=group_bams,
        bed=paths.reference_chunk(),
        fasta=REF,
        fai=REF_FAI,
        ploidy=paths.germline_ploidy(suffix=".ploidy.txt"),
        sexes=paths.germline_ploidy(suffix=".sexes.txt"),
    output:
        bcf=temp(paths.called_chunk("bcftools")),
    log:
        "logs/germline/bcftools_call/{group}/{chunk}.log",
    benchmark:
        "benchmarks/germline/bcftools_call/{group}/{chunk}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(1440),
    params:
        min_bq=config["germline"]["min_base_quality"],
        min_mq=config["germline"]["min_mapping_quality"],
        max_depth=config["germline"]["max_depth"],
    shell:
        "(bcftools mpileup -f {input.fasta} -R {input.bed} -q {params.min_mq} -Q {params.min_bq}"
        " -d {params.max_depth} -a FORMAT/AD,FORMAT/DP,FORMAT/SP -Ou {input.bams}"
        " | bcftools call -m -v -a GQ --ploidy-file {input.ploidy} -S {input.sexes}"
        " -Ob -o {output.bcf}) 2> {log}"


rule freebayes_call:
    input:
        bams=group_bams,
        bed=paths.reference_chunk(),
        fasta=REF,
        fai=REF_FAI,
        cnv_map=paths.germline_ploidy(suffix=".cnv.bed"),
    output:
        bcf=temp(paths.called_chunk("freebayes")),
    log:
        "logs/germline/freebayes_call/{group}/{chunk}.log",
    benchmark:
        "benchmarks/germline/freebayes_call/{group}/{chunk}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(1440),
    params:
        min_bq=config["germline"]["min_base_quality"],
        min_mq=config["germline"]["min_mapping_quality"],
    shell:
        "(freebayes -f {input.fasta} --targets {input.bed} --cnv-map {input.cnv_map}"
        " --min-base-quality {params.min_bq} --min-mapping-quality {params.min_mq} {input.bams}"
        " | bcftools view -Ob -o {output.bcf}) 2> {log}"


rule germline_filter:
    # Gather, then normalise and filter in one stream: the chunks are disjoint and in genome
    # order, so a plain concatenation is sorted.
    input:
        bcfs=called_chunks,
        fasta=REF,
        fai=REF_FAI,
    output:
        vcf=paths.germline_group_vcf(),
        tbi=f"{paths.germline_group_vcf()}.tbi",
    log:
        "logs/germline/germline_filter/{group}.log",
    benchmark:
        "benchmarks/germline/germline_filter/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(120),
    params:
        min_qual=config["germline"]["min_qual"],
        min_depth=config["germline"]["min_depth"],
    shell:
        "(bcftools concat --no-version -Ou {input.bcfs}"
        " | bcftools norm -f {input.fasta} -m -any -Ou -"
        " | bcftools filter -s LowQual -e 'QUAL<{params.min_qual}' -Ou"
        " | bcftools filter -m + -s LowDepth -e 'INFO/DP<{params.min_depth}' -Oz -o {output.vcf}"
        " && tabix -p vcf {output.vcf}) 2> {log}"


rule bcftools_view_sample:
    # The sample's deliverable from its group's VCF, and its bcftools stats for MultiQC in the
    # same job (the stats read only this VCF and always follow it).
    input:
        unpack(group_germline_vcf),
    output:
        vcf=paths.germline_vcf(),
        tbi=f"{paths.germline_vcf()}.tbi",
        stats=paths.bcftools_stats(),
    log:
        "logs/germline/bcftools_view_sample/{sample}.log",
    benchmark:
        "benchmarks/germline/bcftools_view_sample/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    shell:
        "(bcftools view -s {wildcards.sample} --trim-alt-alleles --min-ac 1:nref"
        " -Oz -o {output.vcf} {input.vcf} && tabix -p vcf {output.vcf}"
        " && bcftools stats -s - {output.vcf} > {output.stats}) 2> {log}"
