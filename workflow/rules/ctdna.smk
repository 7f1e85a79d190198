# UMI libraries: consensus reads (one read pair per original molecule) instead of duplicate
# marking. Plasma samples: tumour-informed ctDNA monitoring at the somatic variants of their
# tumour, and each patient's timeline (genomflow.ctdna).


rule genomflow_consensus:
    input:
        bams=sample_unit_bams,
        fasta=REF,
        fai=REF_FAI,
    output:
        aln=temp(paths.consensus_alignment(fmt=ALIGNMENT_FORMAT)),
        idx=temp(paths.index_of(paths.consensus_alignment(fmt=ALIGNMENT_FORMAT))),
        metrics=paths.consensus_file(suffix=".json"),
        qc=paths.consensus_file(suffix=".qc.json"),
        families=paths.consensus_file(suffix=".families_mqc.json"),
        table=paths.consensus_file(suffix=".consensus_mqc.json"),
    log:
        "logs/ctdna/genomflow_consensus/{sample}.log",
    benchmark:
        "benchmarks/ctdna/genomflow_consensus/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 2
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(360),
    params:
        genomflow=GENOMFLOW,
        work=subpath(output.metrics, strip_suffix=".json"),
        structure=umi_read_structure,
        min_family=config["ctdna"]["min_family_size"],
        umi_distance=config["ctdna"]["umi_edit_distance"],
        min_quality=config["ctdna"]["min_consensus_quality"],
        # BAM, or CRAM compressed against the reference (alignment_format); calmd gives the
        # consensus reads the NM/MD tags that samtools stats counts errors with.
        format=ALIGNMENT_WRITE,
    shell:
        "(samtools merge -f -@ {threads} -o {params.work}.merged.bam {input.bams}"
        " && {params.genomflow} ctdna consensus --in {params.work}.merged.bam"
        " --out {params.work}.consensus.bam --sample {wildcards.sample}"
        " --read-structure '{params.structure}' --min-family-size {params.min_family}"
        " --umi-edit-distance {params.umi_distance}"
        " --min-consensus-quality {params.min_quality} --reference {input.fasta}"
        " --metrics {output.metrics} --qc {output.qc} --mqc {output.families}"
        " --mqc-table {output.table}"
        " && samtools calmd -u {params.work}.consensus.bam {input.fasta}"
        " | samtools view -@ {threads} {params.format} --write-index"
        " -o {output.aln}##idx##{output.idx} -"
        " && rm -f {params.work}.merged.bam {params.work}.consensus.bam"
        " {params.work}.consensus.bam.bai) > {log} 2>&1"


rule genomflow_ctdna_monitor:
    input:
        unpack(ctdna_monitor_inputs),
        aln=ALIGNMENT,
        idx=ALIGNMENT_INDEX,
        fasta=REF,
        fai=REF_FAI,
    output:
        json=paths.deliverable(suffix=".ctdna.json"),
    log:
        "logs/ctdna/genomflow_ctdna_monitor/{sample}.log",
    benchmark:
        "benchmarks/ctdna/genomflow_ctdna_monitor/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
        options=ctdna_monitor_options,
    shell:
        "{params.genomflow} ctdna monitor --variants {input.variants} --bam {input.aln}"
        " --reference {input.fasta} --sample {wildcards.sample} {params.options}"
        " --out {output.json} > {log} 2>&1"


rule genomflow_ctdna_timeline:
    input:
        results=PLAN.ctdna_results(),
        samples=config["samples"],
    output:
        tsv=paths.CTDNA_TIMELINE,
        mqc=paths.CTDNA_TIMELINE_MQC,
    log:
        "logs/ctdna/genomflow_ctdna_timeline.log",
    benchmark:
        "benchmarks/ctdna/genomflow_ctdna_timeline.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} ctdna timeline --results {input.results} --samples {input.samples}"
        " --out {output.tsv} --mqc {output.mqc} > {log} 2>&1"
