"""Where a sample's alignment deliverable lives, as BAM or CRAM (config ``alignment_format``).

One place knows the file names, so that every step reading alignments follows the setting:

>>> alignment_path("S1", "cram")
'results/samples/S1/S1.cram'
>>> alignment_index_path("S1", "bam")
'results/samples/S1/S1.bam.bai'
>>> alignment_index_path("S1", "cram")
'results/samples/S1/S1.cram.crai'

CRAM is compressed against the pipeline's reference (:data:`REFERENCE`); every tool reading it
needs that FASTA (``samtools --reference``, ``mosdepth -f``, ``pysam`` ``reference_filename``).
"""

from __future__ import annotations

BAM = "bam"
CRAM = "cram"
#: The values of the config key ``alignment_format`` (the schema's enum).
FORMATS = (BAM, CRAM)
#: Suffix of the index, appended to the alignment file's name.
INDEX_SUFFIX = {BAM: ".bai", CRAM: ".crai"}
#: The reference the pipeline aligns to and CRAMs are compressed against.
REFERENCE = "results/reference/genome.fa"


def _check(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"alignment format must be one of {', '.join(FORMATS)}, not {fmt!r}")
    return fmt


def alignment_path(sample: str, fmt: str = BAM) -> str:
    """The alignment deliverable of ``sample`` (``sample`` may be a ``{sample}`` wildcard)."""
    return f"results/samples/{sample}/{sample}.{_check(fmt)}"


def alignment_index_path(sample: str, fmt: str = BAM) -> str:
    """The index of :func:`alignment_path` (``.bam.bai`` or ``.cram.crai``)."""
    return alignment_path(sample, fmt) + INDEX_SUFFIX[fmt]


def index_of(path: str) -> str:
    """The index beside an alignment file, from its extension.

    >>> index_of("results/samples/N1/N1.cram")
    'results/samples/N1/N1.cram.crai'
    """
    for fmt, suffix in INDEX_SUFFIX.items():
        if path.endswith(f".{fmt}"):
            return path + suffix
    raise ValueError(f"not a BAM or CRAM file name: {path}")


def write_options(fmt: str, reference: str = REFERENCE) -> str:
    """samtools output options for ``fmt``: CRAM is compressed against ``reference``.

    htslib writes each @SQ line's MD5 (M5) and location (UR) of the reference into the header.

    >>> write_options("bam")
    '-O bam'
    >>> write_options("cram", "ref.fa")
    '-O cram --reference ref.fa'
    """
    if _check(fmt) == CRAM:
        return f"-O cram --reference {reference}"
    return "-O bam"
