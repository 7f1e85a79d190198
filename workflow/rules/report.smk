# Batch-level reporting: tool versions and the MultiQC report.


rule genomflow_versions:
    output:
        yml=paths.VERSIONS,
        mqc=paths.VERSIONS_MQC,
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
        PLAN.multiqc_inputs(),
    output:
        html=paths.MULTIQC_REPORT,
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
        config=gf_config.project_path(f"{workflow.basedir}/config/multiqc.yaml"),
        extra=multiqc_extra_config,
        file_list="results/qc/multiqc_files.txt",
    shell:
        "printf '%s\\n' {input} > {params.file_list} && "
        "multiqc --force --no-ai --title '{params.title}' --filename multiqc_report.html"
        " --outdir results/qc --config {params.config} {params.extra}"
        " --file-list {params.file_list} > {log} 2>&1"


# --- sample reports (JSON + FHIR) and the knowledge database ----------------------------


rule genomflow_config:
    # The resolved config as canonical JSON: its SHA-256 is the reports' config digest, and
    # the settings file the other rules read (qc_identity, qc_status take it by path). This is
    # the one job that carries the config on its command line: the resolved config exists only
    # in Snakemake's memory (config files merged with --config, schema defaults filled), and as
    # a param it reruns this job exactly when the resolved config changes.
    output:
        json=paths.RESOLVED_CONFIG,
    log:
        "logs/report/genomflow_config.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
        config=gf_config.analysis_json(config),
    shell:
        "{params.genomflow} report config --json {params.config:q} --out {output.json} > {log} 2>&1"


rule genomflow_refget:
    # Length, MD5 and GA4GH refget accession of every contig, for the VRS identifiers.
    input:
        fasta=REF,
        fai=REF_FAI,
    output:
        tsv=paths.REFGET,
    log:
        "logs/report/genomflow_refget.log",
    benchmark:
        "benchmarks/report/genomflow_refget.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} report refget --fasta {input.fasta} --out {output.tsv} > {log} 2>&1"


rule genomflow_report:
    input:
        unpack(sample_report_inputs),
        samples=config["samples"],
        units=config["units"],
        config=paths.RESOLVED_CONFIG,
        versions=paths.VERSIONS,
        dict=paths.REFERENCE_DICT,
        refget=paths.REFGET,
        fasta=REF,
        fai=REF_FAI,
    output:
        report=paths.deliverable(suffix=".report.json"),
        fhir=paths.deliverable(suffix=".fhir.json"),
    log:
        "logs/report/genomflow_report/{sample}.log",
    benchmark:
        "benchmarks/report/genomflow_report/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} report build --sample {wildcards.sample}"
        " --samples {input.samples} --units {input.units} --config {input.config}"
        " --versions {input.versions} --dict {input.dict} --refget {input.refget}"
        " --fasta {input.fasta} --samtools-stats {input.samtools_stats}"
        " --mosdepth-summary {input.mosdepth} --fastp {input.fastp} --qc-status {input.qc_status} --qc-metrics {input.qc_metrics}"
        " --deliverable {input.deliverables} --biomarker {input.biomarkers}"
        " --rare-candidates {input.rare}"
        " --out {output.report} --fhir-out {output.fhir}"
        " > {log} 2>&1"


rule genomflow_load:
    # Optional (config `load: {db: URL}`): load the batch's reports into the knowledge database.
    input:
        reports=PLAN.sample_reports(".report.json"),
        # The loader recomputes the reports' VRS ids (indels need the sequence).
        fasta=REF,
        fai=REF_FAI,
    output:
        summary=paths.LOAD_SUMMARY,
    log:
        "logs/report/genomflow_load.log",
    benchmark:
        "benchmarks/report/genomflow_load.tsv"
    conda:
        CONDA_ENV
    # Reports loaded at once (each in its own transaction) on PostgreSQL; SQLite takes one.
    threads: 2
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        db=config["load"]["db"],
    shell:
        "{params.genomflow} load --db {params.db:q} --jobs {threads} --summary {output.summary}"
        " --reference {input.fasta} {input.reports} > {log} 2>&1"
