# cython: language_level=3, boundscheck=False, wraparound=False
# distutils: language = c++
"""Molecules at an SNV, counted in C from one fetch of its reads.

The compiled twin of :func:`genomflow.ctdna.counts._count_reads` for an SNV in a BAM
without duplex consensus reads: the same reads (the fetch of the position, minus the
skipped flags and low mapping qualities), the same allele of each read
(:func:`genomflow.ctdna.counts.read_allele`: the base over the position, LOW_QUALITY below
the minimum base quality, OTHER where the read has a deletion or a skip there, NONE where it
does not reach it), and the same merge of the reads of one name
(:func:`genomflow.ctdna.counts.merge_mates`, here a bitwise OR of the alleles' bits: more than
one of REF, ALT and OTHER is DISCORDANT; none of them, LOW_QUALITY if a read was low quality,
else NONE). It walks each read's CIGAR in C instead of building htslib's pileup column or
Python objects for every read; only the reads kept for the off-target background become
pysam reads.

It uses pysam's own iterator and htslib's inline accessors (``pysam.get_include()``), so it
links to nothing: what it reads is exactly what ``AlignmentFile.fetch`` reads.
"""

from libc.stdint cimport uint8_t, uint32_t
from libcpp.string cimport string
from libcpp.unordered_map cimport unordered_map
from pysam.libcalignedsegment cimport makeAlignedSegment
from pysam.libcalignmentfile cimport AlignmentFile, IteratorRowRegion
from pysam.libchtslib cimport (
    bam1_t,
    bam_cigar_op,
    bam_cigar_oplen,
    bam_get_cigar,
    bam_get_qname,
    bam_get_qual,
    bam_get_seq,
    bam_seqi,
)

# Read flags that exclude a read (counts.SKIP_FLAGS).
cdef int SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
# Allele bits of a read; a read that shows nothing (NONE) has none.
cdef int REF_BIT = 1, ALT_BIT = 2, OTHER_BIT = 4, LOW_BIT = 8
# CIGAR operations.
cdef int MATCH = 0, INS = 1, DEL = 2, SKIP = 3, SOFT = 4, HARD = 5, EQUAL = 7, DIFF = 8
# htslib's 4-bit base codes as letters (seq_nt16_str, which is data and would need linking).
cdef const char *NT16 = b"=ACMGRSVTWYHKDBN"
# Result of a read the compiled path does not decide (no bases, no qualities, a padding or
# unknown CIGAR operation): the caller counts the locus read by read.
cdef int UNDECIDED = -1


cdef struct Template:
    int mask  # OR of the allele bits of the name's reads
    int mates  # reads with evidence (REF, ALT or OTHER)


cdef inline int base_bit(bam1_t *b, int qpos, char ref, char alt, int min_base_quality):
    """The allele bit of the read's base at query position ``qpos``."""
    if bam_get_qual(b)[qpos] < min_base_quality:
        return LOW_BIT
    cdef char base = NT16[bam_seqi(bam_get_seq(b), qpos)]
    if base == ref:
        return REF_BIT
    if base == alt:
        return ALT_BIT
    return OTHER_BIT


cdef int read_bit(bam1_t *b, long position, char ref, char alt, int min_base_quality):
    """The allele bit of one read at 0-based ``position`` (0: NONE; UNDECIDED)."""
    if b.core.l_qseq == 0 or bam_get_qual(b)[0] == 0xFF:
        return UNDECIDED
    cdef uint32_t *cigar = bam_get_cigar(b)
    cdef uint32_t i, n = b.core.n_cigar
    cdef int op
    cdef long length, rpos = b.core.pos, qpos = 0
    for i in range(n):
        op = bam_cigar_op(cigar[i])
        if op > DIFF or op == 6:  # padding, or an operation htslib does not know
            return UNDECIDED
    for i in range(n):
        op = bam_cigar_op(cigar[i])
        length = bam_cigar_oplen(cigar[i])
        if op == MATCH or op == EQUAL or op == DIFF:
            if rpos <= position < rpos + length:
                return base_bit(b, qpos + position - rpos, ref, alt, min_base_quality)
            rpos += length
            qpos += length
        elif op == INS or op == SOFT:
            qpos += length
        elif op == DEL or op == SKIP:
            if rpos <= position < rpos + length:
                return OTHER_BIT  # the base itself is deleted or skipped in this read
            rpos += length
    return 0  # the read does not reach the position (NONE)


cdef inline bint is_kept_shape(bam1_t *b, long position):
    """One match operation over ``position`` (reads the off-target background may keep)."""
    if b.core.n_cigar != 1:
        return False
    cdef uint32_t cigar = bam_get_cigar(b)[0]
    cdef int op = bam_cigar_op(cigar)
    if op != MATCH and op != EQUAL and op != DIFF:
        return False
    return b.core.pos <= position and b.core.pos + bam_cigar_oplen(cigar) >= position + 1


def snv_molecules(
    AlignmentFile bam,
    str chrom,
    long position,
    str ref,
    str alt,
    int min_mapping_quality,
    int min_base_quality,
    int keep,
):
    """Molecules at the SNV ``ref`` > ``alt`` at 0-based ``position``.

    Returns None when a read there has no bases or qualities, or a CIGAR operation other
    than M, I, D, N, S, H, = and X (the caller counts such a locus read by read). Otherwise
    ``(tally, kinds, kept)``: templates by allele ``(ref, alt, other, discordant,
    low_quality)``; ref and alt templates by kind ``(one_mate ref, one_mate alt, both_mates
    ref, both_mates alt)``; and the first ``keep`` reads that :func:`_count_reads` keeps for
    the background (one match operation covering the position), as pysam reads.
    """
    cdef char ref_base = ord(ref), alt_base = ord(alt)
    cdef IteratorRowRegion reads = bam.fetch(chrom, position, position + 1)
    cdef bam1_t *b = reads.b
    cdef unordered_map[string, Template] templates
    cdef Template *template
    cdef int bit
    kept = []
    while True:
        reads.cnext()
        if reads.retval < 0:
            break
        if b.core.flag & SKIP_FLAGS or b.core.qual < min_mapping_quality:
            continue
        bit = read_bit(b, position, ref_base, alt_base, min_base_quality)
        if bit == UNDECIDED:
            return None
        if len(kept) < keep and is_kept_shape(b, position):
            kept.append(makeAlignedSegment(b, bam.header))
        if bit == 0:
            continue  # NONE: merging it changes nothing
        template = &templates[string(bam_get_qname(b))]
        template.mask |= bit
        template.mates += bit != LOW_BIT
    if reads.retval == -2:  # what AlignmentFile.fetch raises
        raise OSError("truncated file")
    if reads.retval < -2:
        raise OSError(f"error while reading file {bam.filename}: {reads.retval}")
    return _tally(templates), kept


cdef tuple _tally(unordered_map[string, Template] &templates):
    cdef long ref = 0, alt = 0, other = 0, discordant = 0, low = 0
    cdef long one_ref = 0, one_alt = 0, both_ref = 0, both_alt = 0
    cdef int strong
    for entry in templates:
        strong = entry.second.mask & (REF_BIT | ALT_BIT | OTHER_BIT)
        if strong == 0:
            low += 1  # only LOW_QUALITY reads: NONE reads were not added
        elif strong & (strong - 1):
            discordant += 1
        elif strong == OTHER_BIT:
            other += 1
        elif entry.second.mates >= 2:
            if strong == REF_BIT:
                ref += 1
                both_ref += 1
            else:
                alt += 1
                both_alt += 1
        elif strong == REF_BIT:
            ref += 1
            one_ref += 1
        else:
            alt += 1
            one_alt += 1
    return (ref, alt, other, discordant, low), (one_ref, one_alt, both_ref, both_alt)
