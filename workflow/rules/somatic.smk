# Somatic small variants of tumour samples: candidates from bcftools mpileup over the tumour
# (and its matched normal), a panel of normals from the batch's normals, the genomflow
# classifier, then (annotate.smk) consequences, and the normalised deliverable.


wildcard_constraints:
    target_set=r"[A-Za-z0-9][A-Za-z0-9._-]*",


rule genomflow_genome_regions:
    # Whole contigs as BED: the calling regions of WGS tumours (panels use their BED).
    input:
        fasta=REF,
        fai=REF_FAI,
    output:
        bed=GENOME_REGIONS,
    log:
        "logs/somatic/genomflow_genome_regions.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} panels genome --fasta {input.fasta} --out {output.bed} > {log} 2>&1"


rule bcftools_mpileup_somatic:
    # Candidates: every allele with at least min_alt_reads tumour reads, split and normalised.
    input:
        unpack(somatic_pileup_inputs),
        fasta=REF,
        fai=REF_FAI,
    output:
        bcf=temp(paths.somatic_pileup()),
        csi=temp(f"{paths.somatic_pileup()}.csi"),
    log:
        "logs/somatic/bcftools_mpileup_somatic/{sample}.log",
    benchmark:
        "benchmarks/somatic/bcftools_mpileup_somatic/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(720),
    params:
        min_bq=config["somatic"]["min_base_quality"],
        min_mq=config["somatic"]["min_mapping_quality"],
        max_depth=config["somatic"]["max_depth"],
        indel_fraction=config["somatic"]["min_indel_fraction"],
        min_alt=somatic_min_alt_reads,
        samples="0",
    shell:
        "(bcftools mpileup -f {input.fasta} -R {input.regions} -q {params.min_mq}"
        " -Q {params.min_bq} -d {params.max_depth} -L {params.max_depth} -p -m 2"
        " -F {params.indel_fraction} -a FORMAT/AD,FORMAT/ADF,FORMAT/ADR,FORMAT/DP -Ou {input.bams}"
        " | bcftools norm -f {input.fasta} -m -any -Ou"
        " | bcftools view -i 'ALT!=\"<*>\" && FMT/AD[{params.samples}:1]>={params.min_alt}' -Ob -o {output.bcf}"
        " && bcftools index -f {output.bcf}) 2> {log}"


# The normals of one panel (or of WGS) in one pileup: alleles any normal shows (AD[*:1]),
# where the tumour's pileup keeps the alleles of its first sample, the tumour (AD[0:1]).
use rule bcftools_mpileup_somatic as bcftools_mpileup_pon with:
    input:
        bams=pon_bams,
        bais=pon_bais,
        regions=pon_regions,
        fasta=REF,
        fai=REF_FAI,
    output:
        bcf=temp(paths.pon_pileup()),
        csi=temp(f"{paths.pon_pileup()}.csi"),
    log:
        "logs/somatic/bcftools_mpileup_pon/{target_set}.log",
    benchmark:
        "benchmarks/somatic/bcftools_mpileup_pon/{target_set}.tsv"
    params:
        min_bq=config["somatic"]["min_base_quality"],
        min_mq=config["somatic"]["min_mapping_quality"],
        max_depth=config["somatic"]["max_depth"],
        indel_fraction=config["somatic"]["min_indel_fraction"],
        min_alt=config["somatic"]["pon_min_alt_reads"],
        samples="*",


rule genomflow_pon:
    input:
        bcf=paths.pon_pileup(),
        csi=f"{paths.pon_pileup()}.csi",
    output:
        vcf=paths.pon_vcf(),
        tbi=f"{paths.pon_vcf()}.tbi",
    log:
        "logs/somatic/genomflow_pon/{target_set}.log",
    benchmark:
        "benchmarks/somatic/genomflow_pon/{target_set}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        settings=SOMATIC_SETTINGS,
    shell:
        "{params.genomflow} somatic pon --pileup {input.bcf} {params.settings}"
        " --out {output.vcf} > {log} 2>&1"


rule genomflow_somatic:
    # The classifier: tumour and normal log-odds with a somatic prior learned from the tumour
    # (germline fit when tumour-only), strand bias, base/mapping quality, read position, panel
    # of normals, population allele frequency (genomflow.somatic, docs/somatic.md).
    input:
        unpack(somatic_classify_files),
        bcf=paths.somatic_pileup(),
        csi=f"{paths.somatic_pileup()}.csi",
        fasta=REF,
        fai=REF_FAI,
    output:
        vcf=paths.somatic_calls(),
        tbi=f"{paths.somatic_calls()}.tbi",
    log:
        "logs/somatic/genomflow_somatic/{sample}.log",
    benchmark:
        "benchmarks/somatic/genomflow_somatic/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(240),
    params:
        genomflow=GENOMFLOW,
        args=somatic_classify_args,
    shell:
        "{params.genomflow} somatic classify --candidates {input.bcf} {params.args}"
        " --reference {input.fasta} --regions {input.regions} --out {output.vcf} > {log} 2>&1"


rule bcftools_norm_somatic:
    # The deliverable: the last annotated VCF, checked normalised (split, left-aligned), indexed.
    input:
        unpack(somatic_annotated_vcf),
        fasta=REF,
        fai=REF_FAI,
    output:
        vcf=paths.somatic_vcf(),
        tbi=f"{paths.somatic_vcf()}.tbi",
    log:
        "logs/somatic/bcftools_norm_somatic/{sample}.log",
    benchmark:
        "benchmarks/somatic/bcftools_norm_somatic/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    shell:
        "(bcftools norm -f {input.fasta} -m -any -Oz -o {output.vcf} {input.vcf}"
        " && tabix -p vcf {output.vcf}) 2> {log}"
