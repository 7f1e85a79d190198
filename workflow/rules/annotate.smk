# Offline annotation of the germline (per calling group) and somatic (per tumour) VCFs:
# consequences with snpEff from a database built from the reference GFF3 (reference.gff3) and
# FASTA, then an optional ClinVar-style VCF (annotation.clinvar_vcf). Each step runs only when
# its file is configured; the package decides the chain (genomflow.cancer.annotation_chain).
# snpEff writes INFO/ANN (Sequence Ontology terms, HGVS c. and three-letter p., 3'-shifted:
# -noShiftHgvs is not set) on the reporting transcript of each gene only (-onlyTr, the list
# genomflow.transcripts chooses: MANE_Select, else Ensembl_canonical, else the longest CDS).
# No download, no usage report (-nodownload, -noLog); the database lives under results/.
# Debian's snpEff wrapper prints its arguments to stdout when given -c (its `grep "\-c "`
# is not quiet): sed drops a first line that is not the VCF's ##fileformat.


rule snpeff_build:
    input:
        gff3=reference_gff3,
        fasta=REF,
        fai=REF_FAI,
    output:
        config=paths.SNPEFF_CONFIG,
        database=paths.SNPEFF_DATABASE,
        transcripts=paths.SNPEFF_TRANSCRIPTS,
        table=paths.SNPEFF_TRANSCRIPT_TABLE,
    log:
        "logs/reference/snpeff_build.log",
    benchmark:
        "benchmarks/reference/snpeff_build.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(60),
    params:
        genomflow=GENOMFLOW,
        heap=java_heap,
        options=gf_snpeff.BUILD_OPTIONS,
        genome=gf_snpeff.GENOME,
    shell:
        "({params.genomflow} reference snpeff --gff3 {input.gff3} --fasta {input.fasta}"
        " --out-dir $(dirname {output.config})"
        " && snpEff {params.heap} build -c {output.config} {params.options} {params.genome})"
        " > {log} 2>&1"


rule snpeff_ann_germline:
    input:
        unpack(annotation_input("germline", "csq")),
        config=paths.SNPEFF_CONFIG,
        database=paths.SNPEFF_DATABASE,
        transcripts=paths.SNPEFF_TRANSCRIPTS,
    output:
        vcf=paths.annotated_vcf("snpeff_ann_germline", "{group}"),
        tbi=paths.annotated_vcf("snpeff_ann_germline", "{group}") + ".tbi",
    log:
        "logs/annotate/snpeff_ann_germline/{group}.log",
    benchmark:
        "benchmarks/annotate/snpeff_ann_germline/{group}.tsv"
    conda:
        CONDA_ENV
    threads: 1
    resources:
        mem_mb=scaled(2000),
        runtime=scaled(120),
    params:
        heap=java_heap,
        options=gf_snpeff.ANN_OPTIONS,
        genome=gf_snpeff.GENOME,
    shell:
        "(snpEff {params.heap} ann -c {input.config} {params.options}"
        " -onlyTr {input.transcripts} {params.genome} {input.vcf}"
        " | sed '1{{/^##fileformat/!d}}' | bgzip -c > {output.vcf}"
        " && tabix -p vcf {output.vcf}) 2> {log}"


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
use rule snpeff_ann_germline as snpeff_ann_somatic with:
    input:
        unpack(annotation_input("somatic", "csq")),
        config=paths.SNPEFF_CONFIG,
        database=paths.SNPEFF_DATABASE,
        transcripts=paths.SNPEFF_TRANSCRIPTS,
    output:
        vcf=paths.annotated_vcf("snpeff_ann_somatic", "{sample}"),
        tbi=paths.annotated_vcf("snpeff_ann_somatic", "{sample}") + ".tbi",
    log:
        "logs/annotate/snpeff_ann_somatic/{sample}.log",
    benchmark:
        "benchmarks/annotate/snpeff_ann_somatic/{sample}.tsv"


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
