# Read trimming and read/alignment QC metrics.


rule fastp_trim:
    input:
        unpack(unit_fastq),
    output:
        r1=temp(paths.fastp_reads(read=1)),
        r2=temp(paths.fastp_reads(read=2)),
        json=paths.fastp_json(),
        html=paths.fastp_html(),
    log:
        "logs/qc/fastp_trim/{sample}.{unit}.log",
    benchmark:
        "benchmarks/qc/fastp_trim/{sample}.{unit}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        trim=FASTP_TRIM,
        # UMI libraries: fastp moves the UMIs into the read names (NAME:UMI1_UMI2).
        umi=fastp_umi_args,
        genomflow=GENOMFLOW,
    # fastp 0.23 keeps the pairs it can read and drops the rest without failing (a truncated
    # gzip, an R2 longer than R1, a file that is not FASTQ). `genomflow fastq check` reads both
    # files to their end beside fastp and fails the job, naming both files, unless they are
    # mates; `genomflow fastq kept` fails it when trimming kept no read.
    shell:
        "({params.genomflow} fastq check --fq1 {input.fq1} --fq2 {input.fq2} & pair_check=$!;"
        " fastp --in1 {input.fq1} --in2 {input.fq2} --out1 {output.r1} --out2 {output.r2}"
        " {params.trim} --compression 1 --thread {threads} {params.umi}"
        " --json {output.json} --html {output.html} --report_title '{wildcards.sample}.{wildcards.unit}';"
        " wait $pair_check;"
        " {params.genomflow} fastq kept --json {output.json}) 2> {log}"


# --- QC status: per-sample metrics, sex, identity; the batch status table and summary ------


rule bcftools_identity:
    # Read counts of REF and ALT at the identity SNP sites; genotypes are called in the package.
    input:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=REF_FAI,
        sites=identity_sites,
    output:
        vcf=paths.identity_genotypes(),
        tbi=f"{paths.identity_genotypes()}.tbi",
    log:
        "logs/qc/bcftools_identity/{sample}.log",
    benchmark:
        "benchmarks/qc/bcftools_identity/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    params:
        max_depth=config["qc"]["identity"]["max_depth"],
        min_mq=config["qc"]["identity"]["min_mapping_quality"],
        min_bq=config["qc"]["identity"]["min_base_quality"],
    shell:
        "(bcftools mpileup -f {input.fasta} -R {input.sites} --skip-indels -a FORMAT/AD,FORMAT/DP"
        " -d {params.max_depth} -q {params.min_mq} -Q {params.min_bq} -Oz -o {output.vcf}"
        " {input.aln} && tabix -p vcf {output.vcf}) 2> {log}"


rule qc_metrics:
    # The per-sample QC summaries in one job, as they always run together on the same
    # alignment: samtools stats and mosdepth side by side, then the sample's metrics JSON from
    # them, the unit's fastp reports and the other stages' metrics.
    input:
        unpack(qc_metrics_inputs),
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=REF_FAI,
    output:
        stats=paths.samtools_stats(),
        dist=paths.mosdepth_dist(),
        summary=paths.mosdepth_summary(),
        json=paths.qc_metrics(),
    log:
        "logs/qc/qc_metrics/{sample}.log",
    benchmark:
        "benchmarks/qc/qc_metrics/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(3000),
        runtime=scaled(120),
    params:
        genomflow=GENOMFLOW,
        prefix=subpath(output.summary, strip_suffix=".mosdepth.summary.txt"),
        x=config["reference"]["sex_contigs"]["x"],
        y=config["reference"]["sex_contigs"]["y"],
        offtarget=qc_offtarget_args,
        markdup=qc_markdup_arg,
    shell:
        "(samtools stats --reference {input.fasta} {input.aln} > {output.stats} & stats=$!;"
        " mosdepth --threads {threads} --no-per-base --fast-mode -f {input.fasta}"
        " {params.prefix} {input.aln} && wait $stats"
        " && {params.genomflow} qc metrics --sample {wildcards.sample}"
        " --samtools-stats {output.stats} {params.markdup}"
        " --mosdepth-summary {output.summary} --mosdepth-dist {output.dist}"
        " --fastp {input.fastp} --extra {input.extra} {params.offtarget}"
        " --x {params.x} --y {params.y} --out {output.json}) > {log} 2>&1"


rule qc_identity:
    input:
        genotypes=[paths.identity_genotypes(s) for s in SAMPLES],
        sites=identity_sites,
        samples=config["samples"],
        units=config["units"],
        config=paths.RESOLVED_CONFIG,
    output:
        pairs=paths.IDENTITY_PAIRS,
        checks=paths.IDENTITY_CHECKS,
        matrix=paths.IDENTITY_MQC[0],
        pairs_mqc=paths.IDENTITY_MQC[1],
    log:
        "logs/qc/qc_identity.log",
    benchmark:
        "benchmarks/qc/qc_identity.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(30),
    params:
        genomflow=GENOMFLOW,
        x=config["reference"]["sex_contigs"]["x"],
        y=config["reference"]["sex_contigs"]["y"],
    shell:
        "{params.genomflow} qc identity --samples {input.samples} --units {input.units}"
        " --config {input.config} --sites {input.sites} --genotypes {input.genotypes}"
        " --x {params.x} --y {params.y} --out {output.pairs} --checks-out {output.checks}"
        " --matrix-mqc {output.matrix} --pairs-mqc {output.pairs_mqc} > {log} 2>&1"


rule qc_status:
    input:
        unpack(qc_status_inputs),
    output:
        tsv=paths.QC_STATUS,
        summary=paths.QC_SUMMARY,
        status_mqc=paths.QC_STATUS_MQC[0],
        thresholds_mqc=paths.QC_STATUS_MQC[1],
        general_mqc=paths.QC_STATUS_MQC[2],
    log:
        "logs/qc/qc_status.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
        batch=config["batch"],
        identity=qc_identity_arg,
    shell:
        "{params.genomflow} qc status --samples {input.samples} --units {input.units}"
        " --config {input.config} --batch {params.batch:q} --metrics {input.metrics}"
        " {params.identity} --out {output.tsv} --summary-out {output.summary}"
        " --status-mqc {output.status_mqc} --thresholds-mqc {output.thresholds_mqc}"
        " --general-mqc {output.general_mqc} > {log} 2>&1"


rule qc_panel_genes:
    # The MultiQC section of per-gene coverage of the panel samples.
    input:
        unpack(panel_coverage_tables),
        samples=config["samples"],
        units=config["units"],
        config=paths.RESOLVED_CONFIG,
    output:
        mqc=paths.PANEL_GENES_MQC,
    log:
        "logs/qc/qc_panel_genes.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
        coverage=panel_coverage_args,
    shell:
        "{params.genomflow} qc panel-genes --samples {input.samples} --units {input.units}"
        " --coverage {params.coverage} --config {input.config} --out {output.mqc} > {log} 2>&1"
