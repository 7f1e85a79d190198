"""Sample QC that decides by itself: thresholds, sex check, sample identity, batch status.

* :mod:`genomflow.qc.checks`: the statuses (PASS, WARN, FAIL, NA) and one check's result;
* :mod:`genomflow.qc.thresholds`: warn/fail bounds per assay and sample type, from the config;
* :mod:`genomflow.qc.metrics`: a sample's metrics from fastp, samtools and mosdepth outputs;
* :mod:`genomflow.qc.sex`: sex inferred from X and Y coverage, checked against the sheet;
* :mod:`genomflow.qc.identity`: genotypes at common SNP sites, pairwise relatedness, checked
  against the patients, families and parents of the sheet;
* :mod:`genomflow.qc.status`: every check of every sample, ``qc_status.tsv`` and the batch
  summary;
* :mod:`genomflow.qc.multiqc`: MultiQC custom-content files for the lab's report;
* :mod:`genomflow.qc.cli`: ``genomflow qc metrics|identity|status``.
"""
