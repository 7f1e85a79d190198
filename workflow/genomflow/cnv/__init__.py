"""Copy number of panel samples with CNVkit (issue #16).

CNVkit (a well-kept tool) bins the reads, normalises them against a reference built from the
batch's normals of the same panel (a flat reference, flagged, when there are none), segments
them (circular binary segmentation) and calls integer copy numbers, corrected for the tumour's
purity. This package plans those steps (:mod:`genomflow.cnv.setup`), builds the reference
(:mod:`genomflow.cnv.reference`) and turns CNVkit's tables into the deliverables: the segment
table, the copy-number VCF, the plot and the noise QC metric (:mod:`genomflow.cnv.calls`).
"""
