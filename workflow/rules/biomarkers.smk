# Tumour biomarkers: the mutational burden of every tumour (genomflow.biomarkers.tmb; needs
# reference.gff3 for the coding territory), the microsatellite instability of every tumour
# (genomflow.biomarkers.msi), and the batch's table of them for MultiQC.


rule genomflow_tmb:
    # Somatic coding variants per Mb of callable coding territory, with the exact 95% Poisson
    # interval; the counting rules are in docs/biomarkers.md.
    input:
        unpack(tmb_inputs),
        fasta=REF,
        fai=REF_FAI,
    output:
        json=paths.tmb_json(),
    log:
        "logs/biomarkers/genomflow_tmb/{sample}.log",
    benchmark:
        "benchmarks/biomarkers/genomflow_tmb/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        options=tmb_options,
        min_mq=config["panels"]["min_mapping_quality"],
    shell:
        "{params.genomflow} biomarkers tmb --sample {wildcards.sample} --vcf {input.vcf}"
        " --bam {input.aln} --reference {input.fasta} --gff3 {input.gff3}"
        " --min-mapping-quality {params.min_mq} {params.options} --out {output.json}"
        " > {log} 2>&1"


rule genomflow_biomarkers_table:
    input:
        unpack(biomarker_tables),
    output:
        mqc=paths.BIOMARKERS_MQC,
    log:
        "logs/biomarkers/genomflow_biomarkers_table.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} biomarkers table --tmb {input.tmb} --msi {input.msi}"
        " --out {output.mqc} > {log} 2>&1"


rule genomflow_msi_scan:
    # The microsatellites of the reference inside a target set's regions (panel or genome).
    input:
        regions=msi_scan_regions,
        fasta=REF,
        fai=REF_FAI,
    output:
        tsv=paths.msi_sites(),
    log:
        "logs/biomarkers/genomflow_msi_scan/{target_set}.log",
    benchmark:
        "benchmarks/biomarkers/genomflow_msi_scan/{target_set}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
        options=MSI_OPTIONS,
    shell:
        "{params.genomflow} biomarkers msi-scan --fasta {input.fasta} --regions {input.regions}"
        " {params.options} --out {output.tsv} > {log} 2>&1"


rule genomflow_msi_baseline:
    # Repeat lengths of a target set's normals (its panel of normals): what a tumour-only
    # sample is compared with.
    input:
        unpack(msi_baseline_inputs),
        fasta=REF,
        fai=REF_FAI,
    output:
        json=paths.msi_baseline(),
    log:
        "logs/biomarkers/genomflow_msi_baseline/{target_set}.log",
    benchmark:
        "benchmarks/biomarkers/genomflow_msi_baseline/{target_set}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        options=MSI_OPTIONS,
        samples=msi_baseline_samples,
    shell:
        "{params.genomflow} biomarkers msi-baseline --sites {input.sites}"
        " --sample {params.samples} --bam {input.alns} --reference {input.fasta}"
        " {params.options} --out {output.json} > {log} 2>&1"


rule genomflow_msi:
    # Tumour against matched normal (or the baseline), site by site; the share of unstable
    # sites and the MSI-H / MSS call.
    input:
        unpack(msi_inputs),
        fasta=REF,
        fai=REF_FAI,
    output:
        json=paths.msi_json(),
    log:
        "logs/biomarkers/genomflow_msi/{sample}.log",
    benchmark:
        "benchmarks/biomarkers/genomflow_msi/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        options=MSI_OPTIONS,
        comparison=msi_comparison,
    shell:
        "{params.genomflow} biomarkers msi --sample {wildcards.sample} --sites {input.sites}"
        " --bam {input.aln} {params.comparison} --reference {input.fasta}"
        " {params.options} --out {output.json} > {log} 2>&1"
