"""Types of the compiled module ``_snvcount.pyx`` (molecules at an SNV counted in C)."""

import pysam

def snv_molecules(
    bam: pysam.AlignmentFile,
    chrom: str,
    position: int,
    ref: str,
    alt: str,
    min_mapping_quality: int,
    min_base_quality: int,
    keep: int,
) -> (
    tuple[
        tuple[tuple[int, int, int, int, int], tuple[int, int, int, int]],
        list[pysam.AlignedSegment],
    ]
    | None
): ...
