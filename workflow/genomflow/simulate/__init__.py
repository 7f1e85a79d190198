"""Deterministic test-genome generator and Illumina-like read simulator.

Everything is drawn from ``numpy.random.Generator`` streams derived from one seed, so a data set
is reproducible byte for byte.  Entry points:

* :func:`generate` with :func:`make_testgenome_spec` or :func:`make_benchgenome_spec` writes a
  full data set (reference, genes, features, truth VCF, common SNPs, cohort sheet and FASTQ
  files); :func:`scale_coverage` makes a quicker low-coverage variant of a spec;
* :func:`build_dataset` builds the reference and truth in memory only;
* :mod:`genomflow.simulate.reads` simulates read pairs from any haplotype sequences.
"""

from genomflow.simulate.cohort import (
    COHORT_TSV,
    COMMON_SNPS_VCF,
    DEFAULT_SEED,
    FEATURES_BED,
    GENES_GFF3,
    GENOME_FASTA,
    TRUTH_VCF,
    Dataset,
    DatasetSpec,
    Member,
    UnitSpec,
    build_dataset,
    cohort_rows,
    generate,
    make_benchgenome_spec,
    make_testgenome_spec,
    read_cohort_tsv,
    scale_coverage,
)

__all__ = [
    "COHORT_TSV",
    "COMMON_SNPS_VCF",
    "DEFAULT_SEED",
    "FEATURES_BED",
    "GENES_GFF3",
    "GENOME_FASTA",
    "TRUTH_VCF",
    "Dataset",
    "DatasetSpec",
    "Member",
    "UnitSpec",
    "build_dataset",
    "cohort_rows",
    "generate",
    "make_benchgenome_spec",
    "make_testgenome_spec",
    "read_cohort_tsv",
    "scale_coverage",
]
