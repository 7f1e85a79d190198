"""Tumour-informed ctDNA monitoring of plasma samples (issue 4).

* :mod:`~genomflow.ctdna.model`: likelihood over loci, maximum-likelihood tumour fraction,
  likelihood-ratio test, profile interval, limit of detection and status;
* :mod:`~genomflow.ctdna.counts`: molecules supporting ref, alt and other at the tracked loci,
  and the sample's own background from off-target positions;
* :mod:`~genomflow.ctdna.background`: the panel of normal plasmas, per-locus rates shrunk
  toward their context and class, and the exclusion of loci (with a reason each);
* :mod:`~genomflow.ctdna.monitor`: one plasma sample from VCF + BAM + FASTA to its result;
* :mod:`~genomflow.ctdna.umi`: UMI families and single-strand / duplex consensus reads;
* :mod:`~genomflow.ctdna.longitudinal`: a patient's series and its calls over time;
* :mod:`~genomflow.ctdna.pon`: the panel of normal plasmas, counted from normal plasma BAMs;
* :mod:`~genomflow.ctdna.pipeline`: what the workflow does for UMI libraries and plasma samples;
* :mod:`~genomflow.ctdna.simulate`: small plasma BAMs with UMIs for tests and demos;
* :mod:`~genomflow.ctdna.cli`: ``genomflow ctdna monitor | consensus | timeline | pon``.

Methods and formats: ``docs/ctdna.md``.
"""
