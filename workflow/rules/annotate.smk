# Offline annotation of the germline (per calling group) and somatic (per tumour) VCFs:
# consequences with bcftools csq and the reference GFF3 (reference.gff3), then an optional
# ClinVar-style VCF (annotation.clinvar_vcf). Each step runs only when its file is configured;
# the package decides the chain (genomflow.cancer.annotation_chain). bcftools csq writes
# INFO/BCSQ per record (--local-csq, all records whatever their genotypes: --samples -),
# protein changes cut to 10 amino acids.


rule bcftools_csq_germline:
    input:
        unpack(annotation_input("germline", "csq")),
        gff3=reference_gff3,
        fasta=REF,
        fai=REF_FAI,
    output:
        vcf=paths.annotated_vcf("bcftools_csq_germline", "{group}"),
        tbi=paths.annotated_vcf("bcftools_csq_germline", "{group}") + ".tbi",
    log:
        "logs/annotate/bcftools_csq_germline/{group}.log",
    benchmark:
        "benchmarks/annotate/bcftools_csq_germline/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    shell:
        "(bcftools csq -f {input.fasta} -g {input.gff3} --local-csq --samples - --trim-protein-seq 10"
        " -Oz -o {output.vcf} {input.vcf} && tabix -p vcf {output.vcf}) 2> {log}"


rule bcftools_annotate_germline:
    input:
        unpack(annotation_input("germline", "clinvar")),
        clinvar=clinvar_vcf,
    output:
        vcf=paths.annotated_vcf("bcftools_annotate_germline", "{group}"),
        tbi=paths.annotated_vcf("bcftools_annotate_germline", "{group}") + ".tbi",
    log:
        "logs/annotate/bcftools_annotate_germline/{group}.log",
    benchmark:
        "benchmarks/annotate/bcftools_annotate_germline/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(1000),
        runtime=scaled(60),
    params:
        columns=CLINVAR_COLUMNS,
    shell:
        "(bcftools annotate -a {input.clinvar} -c {params.columns} --pair-logic exact"
        " -Oz -o {output.vcf} {input.vcf} && tabix -p vcf {output.vcf}) 2> {log}"


# The somatic steps: the same commands on a tumour's calls.
use rule bcftools_csq_germline as bcftools_csq_somatic with:
    input:
        unpack(annotation_input("somatic", "csq")),
        gff3=reference_gff3,
        fasta=REF,
        fai=REF_FAI,
    output:
        vcf=paths.annotated_vcf("bcftools_csq_somatic", "{sample}"),
        tbi=paths.annotated_vcf("bcftools_csq_somatic", "{sample}") + ".tbi",
    log:
        "logs/annotate/bcftools_csq_somatic/{sample}.log",
    benchmark:
        "benchmarks/annotate/bcftools_csq_somatic/{sample}.tsv"


use rule bcftools_annotate_germline as bcftools_annotate_somatic with:
    input:
        unpack(annotation_input("somatic", "clinvar")),
        clinvar=clinvar_vcf,
    output:
        vcf=paths.annotated_vcf("bcftools_annotate_somatic", "{sample}"),
        tbi=paths.annotated_vcf("bcftools_annotate_somatic", "{sample}") + ".tbi",
    log:
        "logs/annotate/bcftools_annotate_somatic/{sample}.log",
    benchmark:
        "benchmarks/annotate/bcftools_annotate_somatic/{sample}.tsv"
