# Structural variants of whole-genome germline samples: delly calls each calling group (a
# family jointly, or a sample alone) over its alignments; genomflow keeps each sample's
# genotyped SVs of at least sv.min_length bp (genomflow.sv).


rule delly_call:
    input:
        alns=sv_group_alignments,
        idxs=sv_group_indexes,
        fasta=REF,
        fai=REF_FAI,
    output:
        bcf=paths.sv_calls(),
        csi=f"{paths.sv_calls()}.csi",
    log:
        "logs/sv/delly_call/{group}.log",
    benchmark:
        "benchmarks/sv/delly_call/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(1440),
    params:
        min_mq=config["sv"]["min_mapping_quality"],
    shell:
        "delly call -g {input.fasta} -q {params.min_mq} -o {output.bcf} {input.alns} > {log} 2>&1"


rule delly_call_somatic:
    # A WGS tumour with its matched normal: delly calls both, then `delly filter -f somatic`
    # keeps the SVs of the tumour absent from the normal. Tumour-only: the same against the
    # batch's WGS normals (the SV panel of normals, sv.pon_min_normals), or without enough of
    # them the tumour's calls, unfiltered (genomflow_sv flags them).
    input:
        alns=sv_somatic_alignments,
        idxs=sv_somatic_indexes,
        fasta=REF,
        fai=REF_FAI,
    output:
        bcf=paths.sv_somatic_calls(),
        csi=f"{paths.sv_somatic_calls()}.csi",
    log:
        "logs/sv/delly_call_somatic/{sample}.log",
    benchmark:
        "benchmarks/sv/delly_call_somatic/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(4000),
        runtime=scaled(1440),
    params:
        min_mq=config["sv"]["min_mapping_quality"],
        samples=sv_somatic_filter,
        raw=subpath(output.bcf, strip_suffix=".bcf"),
    shell:
        "(if [ -n '{params.samples}' ]; then"
        " set -- {params.samples};"
        " delly call -g {input.fasta} -q {params.min_mq} -o {params.raw}.raw.bcf {input.alns}"
        " && printf '%s\\ttumor\\n' $1 > {params.raw}.samples.tsv && shift"
        " && printf '%s\\tcontrol\\n' $@ >> {params.raw}.samples.tsv"
        " && delly filter -f somatic -s {params.raw}.samples.tsv -o {output.bcf}"
        " {params.raw}.raw.bcf"
        " && rm -f {params.raw}.raw.bcf {params.raw}.raw.bcf.csi {params.raw}.samples.tsv;"
        " else delly call -g {input.fasta} -q {params.min_mq} -o {output.bcf} {input.alns}; fi"
        ") > {log} 2>&1"


rule genomflow_sv:
    input:
        bcf=sv_sample_calls,
        summary=paths.mosdepth_summary(),
        gff3=sv_gff3,
    output:
        vcf=paths.deliverable(suffix=".sv.vcf.gz"),
        tbi=paths.deliverable(suffix=".sv.vcf.gz.tbi"),
    log:
        "logs/sv/genomflow_sv/{sample}.log",
    benchmark:
        "benchmarks/sv/genomflow_sv/{sample}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(10),
    params:
        genomflow=GENOMFLOW,
        min_length=config["sv"]["min_length"],
        min_coverage=config["sv"]["min_coverage"],
        gff3=sv_gff3_option,
        somatic=sv_deliver_options,
    shell:
        "{params.genomflow} sv deliver --calls {input.bcf} --sample {wildcards.sample}"
        " --out {output.vcf} --min-length {params.min_length}"
        " --mosdepth-summary {input.summary} --min-coverage {params.min_coverage}"
        " {params.gff3} {params.somatic} > {log} 2>&1"


rule genomflow_sv_table:
    # MultiQC custom content: every sample's SV and copy-number calls by type, PASS or not.
    input:
        vcfs=PLAN.structural_vcfs(),
    output:
        mqc=paths.SV_TABLE_MQC,
    log:
        "logs/sv/genomflow_sv_table.log",
    benchmark:
        "benchmarks/sv/genomflow_sv_table.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(500),
        runtime=scaled(5),
    params:
        genomflow=GENOMFLOW,
    shell:
        "{params.genomflow} sv table --vcf {input.vcfs} --out {output.mqc} > {log} 2>&1"
