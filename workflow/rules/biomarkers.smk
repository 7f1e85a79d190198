# Tumour biomarkers: the mutational burden of every tumour (genomflow.biomarkers.tmb; needs
# reference.gff3 for the coding territory), and the batch's table of them for MultiQC.


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
        tmb=biomarker_tables,
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
        "{params.genomflow} biomarkers table --tmb {input.tmb} --out {output.mqc} > {log} 2>&1"
