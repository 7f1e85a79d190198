# Copy number of panel samples with CNVkit: bins on and off the panel's targets, coverage per
# sample, a reference per panel pooled from the batch's normals (flat and flagged without
# them), then per sample: normalise, segment (CBS), call integer copy numbers corrected for
# the sheet's purity, and the deliverables (genomflow.cnv). Whole-genome germline and normal
# samples (cnv.wgs) are the "panel" wgs: bins tiled over the accessible genome, no antitargets
# to speak of, a genotype from each segment's copy number.


rule genomflow_cnv_targets:
    # The panel's targets named by gene, as CNVkit labels its bins.
    input:
        bed=cnv_panel_bed,
        fasta=REF,
        fai=REF_FAI,
    output:
        bed=paths.cnv_targets(),
    log:
        "logs/cnv/genomflow_cnv_targets/{panel}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
        source=cnv_targets_options,
    shell:
        "{params.genomflow} cnv targets {params.source} --reference {input.fasta}"
        " --out {output.bed} > {log} 2>&1"


rule cnvkit_access:
    input:
        fasta=REF,
        fai=REF_FAI,
    output:
        bed=paths.CNV_ACCESS,
    log:
        "logs/cnv/cnvkit_access/genome.log",
    benchmark:
        "benchmarks/cnv/cnvkit_access/genome.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    shell:
        "cnvkit.py access {input.fasta} -o {output.bed} > {log} 2>&1"


rule cnvkit_antitarget:
    input:
        targets=paths.cnv_targets(),
        access=paths.CNV_ACCESS,
    output:
        bed=paths.cnv_targets(suffix=".antitarget.bed"),
    log:
        "logs/cnv/cnvkit_antitarget/{panel}.log",
    benchmark:
        "benchmarks/cnv/cnvkit_antitarget/{panel}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        size=config["cnv"]["antitarget_avg_size"],
    shell:
        "cnvkit.py antitarget {input.targets} -g {input.access} --avg-size {params.size}"
        " -o {output.bed} > {log} 2>&1"


rule cnvkit_coverage:
    input:
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=REF_FAI,
        targets=cnv_sample_targets,
        antitargets=cnv_sample_antitargets,
    output:
        target=paths.cnv_coverage(),
        antitarget=paths.cnv_coverage(suffix=".antitargetcoverage.cnn"),
    log:
        "logs/cnv/cnvkit_coverage/{sample}.log",
    benchmark:
        "benchmarks/cnv/cnvkit_coverage/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(30),
    params:
        min_mq=config["cnv"]["min_mapping_quality"],
    shell:
        "(cnvkit.py coverage {input.aln} {input.targets} -f {input.fasta} -q {params.min_mq}"
        " -p {threads} -o {output.target}"
        " && cnvkit.py coverage {input.aln} {input.antitargets} -f {input.fasta}"
        " -q {params.min_mq} -p {threads} -o {output.antitarget}) > {log} 2>&1"


rule cnvkit_reference:
    # Pooled from the panel's normals in the batch (cnv.reference_min_normals), else flat;
    # the .json says which, and the samples' deliverables carry it.
    input:
        coverages=cnv_reference_coverages,
        targets=paths.cnv_targets(),
        antitargets=paths.cnv_targets(suffix=".antitarget.bed"),
        fasta=REF,
        fai=REF_FAI,
    output:
        cnn=paths.cnv_reference(),
        summary=paths.cnv_reference(suffix=".json"),
    log:
        "logs/cnv/cnvkit_reference/{panel}.log",
    benchmark:
        "benchmarks/cnv/cnvkit_reference/{panel}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(30),
    params:
        genomflow=GENOMFLOW,
        normals=cnv_reference_normals,
        min_normals=config["cnv"]["reference_min_normals"],
    shell:
        "{params.genomflow} cnv reference --panel-name {wildcards.panel} {params.normals}"
        " --coverage {input.coverages} --min-normals {params.min_normals}"
        " --targets {input.targets} --antitargets {input.antitargets} --fasta {input.fasta}"
        " --out {output.cnn} --summary-out {output.summary} > {log} 2>&1"


rule cnvkit_call:
    input:
        target=paths.cnv_coverage(),
        antitarget=paths.cnv_coverage(suffix=".antitargetcoverage.cnn"),
        reference=cnv_sample_reference,
    output:
        fixed=temp(paths.cnv_call(suffix=".fix.cnr")),
        cnr=paths.cnv_call(),
        cns=paths.cnv_call(suffix=".cns"),
        called=paths.cnv_call(suffix=".call.cns"),
    log:
        "logs/cnv/cnvkit_call/{sample}.log",
    benchmark:
        "benchmarks/cnv/cnvkit_call/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(30),
    params:
        method=config["cnv"]["segment_method"],
        threshold=config["cnv"]["segment_threshold"],
        options=cnv_call_options,
        genomflow=GENOMFLOW,
    # The bins go to segmentation (and to the report) with log2 ratios below -5 raised to -5
    # (genomflow.cnv.calls.MIN_SEGMENT_LOG2: a homozygous deletion's partly covered edge bin
    # otherwise hides the other events of its contig from CBS).
    shell:
        "(cnvkit.py fix {input.target} {input.antitarget} {input.reference}"
        " --no-gc --no-edge --no-rmask -o {output.fixed}"
        " && {params.genomflow} cnv floor --cnr {output.fixed} --out {output.cnr}"
        " && cnvkit.py segment {output.cnr} -m {params.method} -t {params.threshold}"
        " -o {output.cns}"
        " && cnvkit.py call {output.cns} -m clonal {params.options}"
        " -o {output.called}) > {log} 2>&1"


rule genomflow_cnv:
    input:
        cnr=paths.cnv_call(),
        cns=paths.cnv_call(suffix=".cns"),
        called=paths.cnv_call(suffix=".call.cns"),
        summary=cnv_sample_reference_summary,
        panel=cnv_report_panel,
        fasta=REF,
        fai=REF_FAI,
        gff3=sv_gff3,
    output:
        tsv=paths.deliverable(suffix=".cnv.tsv"),
        vcf=paths.deliverable(suffix=".cnv.vcf.gz"),
        tbi=paths.deliverable(suffix=".cnv.vcf.gz.tbi"),
        png=paths.deliverable(suffix=".cnv.png"),
        genes=paths.cnv_report(suffix=".genes.tsv"),
        qc=paths.cnv_report(suffix=".qc.json"),
    log:
        "logs/cnv/genomflow_cnv/{sample}.log",
    benchmark:
        "benchmarks/cnv/genomflow_cnv/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
        options=cnv_report_options,
        amplification=config["cnv"]["amplification_min_copies"],
        gff3=sv_gff3_option,
        panel=cnv_report_panel_option,
    shell:
        "{params.genomflow} cnv report --sample {wildcards.sample} {params.options}"
        " --bins {input.cnr} --segments {input.called} --observed {input.cns}"
        " --reference-summary {input.summary} {params.panel} --fasta {input.fasta}"
        " --amplification-min {params.amplification} --tsv {output.tsv} --vcf {output.vcf}"
        " --genes-out {output.genes} --png {output.png} --qc-out {output.qc} {params.gff3}"
        " > {log} 2>&1"


rule genomflow_cnv_multiqc:
    # The plot as MultiQC custom content (an image named *_mqc.png).
    input:
        png=paths.deliverable(suffix=".cnv.png"),
    output:
        png=paths.cnv_report(suffix=".cnv_mqc.png"),
    log:
        "logs/cnv/genomflow_cnv_multiqc/{sample}.log",
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(100),
        runtime=scaled(5),
    shell:
        "cp {input.png} {output.png} 2> {log}"
