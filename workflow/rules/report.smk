# Batch-level reporting: tool versions and the MultiQC report.


rule genomflow_versions:
    output:
        yml="results/versions.yml",
        mqc="results/report/genomflow_versions/software_mqc_versions.yml",
    log:
        "logs/report/genomflow_versions.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} versions --out {output.yml} --multiqc-out {output.mqc} > {log} 2>&1"


rule multiqc_report:
    input:
        multiqc_inputs,
    output:
        html="results/qc/multiqc_report.html",
        data=directory("results/qc/multiqc_report_data"),
    log:
        "logs/report/multiqc_report.log",
    benchmark:
        "benchmarks/report/multiqc_report.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(60),
    params:
        title=config["batch"],
        config=f"{workflow.basedir}/config/multiqc.yaml",
        extra=multiqc_extra_config,
        file_list="results/qc/multiqc_files.txt",
    shell:
        "printf '%s\\n' {input} > {params.file_list} && "
        "multiqc --force --no-ai --title '{params.title}' --filename multiqc_report.html"
        " --outdir results/qc --config {params.config} {params.extra}"
        " --file-list {params.file_list} > {log} 2>&1"
