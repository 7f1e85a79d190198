#!/usr/bin/env bash
# The pipeline's tool chain for one sample with one unit, as a plain script, same threads.
# Usage: bare.sh OUTDIR REFERENCE.fa R1.fastq.gz R2.fastq.gz SAMPLE SEX THREADS
set -euo pipefail
out=$1 ref_in=$2 fq1=$3 fq2=$4 sample=$5 sex=$6 threads=$7
mkdir -p "$out" && cd "$out"
cp "$ref_in" genome.fa
samtools faidx genome.fa
samtools dict genome.fa -o genome.dict
bwa index genome.fa 2> bwa_index.log
python -m genomflow fastq check --fq1 "$fq1" --fq2 "$fq2" > fastq_check.log & pair_check=$!
fastp --in1 "$fq1" --in2 "$fq2" --out1 r1.fq.gz --out2 r2.fq.gz \
    --cut_right --cut_right_mean_quality 20 --length_required 36 --compression 1 \
    --thread "$threads" --json "$sample.fastp.json" --html "$sample.fastp.html" 2> fastp.log
wait $pair_check
python -m genomflow fastq kept --json "$sample.fastp.json" >> fastq_check.log
bwa mem -t "$threads" -K 100000000 -R "@RG\tID:$sample.L001\tSM:$sample\tLB:$sample\tPL:ILLUMINA\tPU:L001" \
    genome.fa r1.fq.gz r2.fq.gz 2> bwa.log \
    | samtools fixmate -m -u - - | samtools sort -@ "$threads" -m 768M -T sort -o unit.bam -
samtools merge -u -@ "$threads" -o - unit.bam \
    | samtools markdup -@ "$threads" -d 0 -f markdup.txt -T markdup --write-index - \
        "$sample.bam##idx##$sample.bam.bai"
samtools stats "$sample.bam" > "$sample.stats.txt"
mosdepth --threads "$threads" --no-per-base --fast-mode "$sample" "$sample.bam"
awk -v s="$sample" -v x="$sex" 'BEGIN { print s "\t" x }' > sexes.txt
printf 'chrX\t1\t1000000000\tM\t1\nchrY\t1\t1000000000\tM\t1\nchrY\t1\t1000000000\tF\t0\n*\t*\t*\tM\t2\n*\t*\t*\tF\t2\n' > ploidy.txt
bcftools mpileup -f genome.fa -q 20 -Q 13 -d 1000 -a FORMAT/AD,FORMAT/DP,FORMAT/SP -Ou "$sample.bam" \
    | bcftools call -m -v -a GQ --ploidy-file ploidy.txt -S sexes.txt -Ob -o calls.bcf
bcftools norm -f genome.fa -m -any -Ou calls.bcf | bcftools filter -s LowQual -e 'QUAL<20' -Ou \
    | bcftools filter -m + -s LowDepth -e 'INFO/DP<5' -Oz -o group.vcf.gz
tabix -p vcf group.vcf.gz
bcftools view -s "$sample" --trim-alt-alleles --min-ac 1:nref -Oz -o "$sample.germline.vcf.gz" group.vcf.gz
tabix -p vcf "$sample.germline.vcf.gz"
bcftools stats -s - "$sample.germline.vcf.gz" > "$sample.bcftools_stats.txt"
delly call -g genome.fa -q 1 -o sv.bcf "$sample.bam" > delly.log 2>&1
python -m genomflow sv deliver --calls sv.bcf --sample "$sample" --out "$sample.sv.vcf.gz" \
    --min-length 50 --mosdepth-summary "$sample.mosdepth.summary.txt" --min-coverage 10 > sv.log 2>&1
multiqc --force --no-ai --filename multiqc_report.html --outdir . . > multiqc.log 2>&1
