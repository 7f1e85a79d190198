# Rare disease: the ranked candidate variants of a family (or a singleton) from its annotated
# joint germline VCF, the proband's HPO terms and panels (genomflow.rare; docs/rare_disease.md).


rule genomflow_rare_rank_family:
    input:
        unpack(rare_inputs),
        samples=config["samples"],
        units=config["units"],
    output:
        tsv=paths.family_candidates(),
        json=paths.rare_json("genomflow_rare_rank_family", "{family}"),
    log:
        "logs/rare/genomflow_rare_rank_family/{family}.log",
    benchmark:
        "benchmarks/rare/genomflow_rare_rank_family/{family}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
        options=rare_options,
    shell:
        "{params.genomflow} rare rank --vcf {input.vcf} --samples {input.samples}"
        " --units {input.units} {params.options} --out {output.tsv}"
        " --json-out {output.json} > {log} 2>&1"


use rule genomflow_rare_rank_family as genomflow_rare_rank_sample with:
    output:
        tsv=paths.deliverable("{sample}", ".candidates.tsv"),
        json=paths.rare_json("genomflow_rare_rank_sample", "{sample}"),
    log:
        "logs/rare/genomflow_rare_rank_sample/{sample}.log",
    benchmark:
        "benchmarks/rare/genomflow_rare_rank_sample/{sample}.tsv"


rule genomflow_rare_table:
    # MultiQC custom content: the top candidates of every ranked family or singleton.
    input:
        candidates=PLAN.rare_json_all(),
    output:
        mqc=paths.RARE_MQC,
    log:
        "logs/rare/genomflow_rare_table.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} rare table --candidates {input.candidates} --out {output.mqc}"
        " > {log} 2>&1"
