"""A sample's SV deliverable from its group's delly calls."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pysam

from genomflow.errors import GenomflowError
from genomflow.sv.genes import Gene, overlap

#: FILTER of a tumour-only sample's SVs that passed delly but were filtered against no normal.
UNFILTERED = "Unfiltered"
#: SV types with an END on the same contig (delly: DEL, DUP, INV; INS has INSLEN).
SPANNING = ("DEL", "DUP", "INV")
MIN_LENGTH = 50


@dataclass(frozen=True)
class Summary:
    sample: str
    kept: int
    passed: int
    skipped_short: int
    skipped_reference: int


def sv_length(svtype: str, pos: int, end: int, inslen: int | None) -> int | None:
    """SVLEN as VCF 4.2 has it: negative for deletions; None for breakends.

    >>> sv_length("DEL", 100, 2300, None), sv_length("INV", 10, 60, None)
    (-2200, 50)
    >>> sv_length("INS", 5, 5, 80), sv_length("BND", 5, 5, None)
    (80, None)
    """
    if svtype == "INS":
        return inslen
    if svtype in SPANNING:
        return -(end - pos) if svtype == "DEL" else end - pos
    return None


def deliver(
    calls: Path,
    sample: str,
    out: Path,
    min_length: int = MIN_LENGTH,
    warning: str = "",
    genes: Sequence[Gene] | None = None,
    somatic: bool = False,
    pon: Sequence[str] = (),
    unfiltered: bool = False,
) -> Summary:
    """Write ``sample``'s genotyped (non-reference) SVs of at least ``min_length`` bp from
    the group's delly ``calls`` as a bgzipped, indexed VCF; FILTER as delly set it (PASS:
    reportable). ``warning`` (e.g. too shallow) goes into the header; with ``genes`` (the
    reference GFF3) each SV gets INFO GENES, EXONS and CODING (disrupts a coding sequence).
    ``somatic``: the calls are a tumour's (delly filter -f somatic against its normal when it
    has one, else against the panel of normals ``pon``); PASS means somatic. ``unfiltered``:
    a tumour-only sample filtered against no normal, whose delly PASS calls get FILTER
    :data:`UNFILTERED` (germline SVs are among them)."""
    try:
        reader = pysam.VariantFile(str(calls))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{calls}: cannot read SV calls: {err}") from None
    with reader:
        if sample not in reader.header.samples:
            raise GenomflowError(f"{calls}: no sample {sample!r} in the SV calls")
        header = pysam.VariantHeader()
        for line in reader.header.records:
            header.add_record(line)
        header.add_sample(sample)
        header.add_line(
            '##INFO=<ID=SVLEN,Number=1,Type=Integer,Description="SV length (negative: deletion)">'
        )
        header.add_line(f"##sv_caller=delly; min_length={min_length}")
        if somatic:
            header.add_line("##sv_origin=somatic (PASS = somatic)")
        if pon:
            header.add_line(
                f"##sv_panel_of_normals={','.join(pon)} (delly filter -f somatic: PASS = "
                "carried by none of these normals)"
            )
        if unfiltered:
            header.add_line(
                f'##FILTER=<ID={UNFILTERED},Description="Tumour-only, filtered against no '
                'matched normal or panel of normals: may be germline">'
            )
        if genes is not None:
            for text in (
                '##INFO=<ID=GENES,Number=.,Type=String,Description="Genes the SV overlaps">',
                '##INFO=<ID=EXONS,Number=.,Type=String,Description="Exons the SV overlaps '
                "(GENE:exonN, 5' to 3')\">",
                '##INFO=<ID=CODING,Number=0,Type=Flag,Description="The SV disrupts a coding '
                'sequence (deletes coding bases, or a breakpoint lies in a coding span)">',
            ):
                header.add_line(text)
        if warning:
            header.add_line(f"##sv_warning={warning}")
        kept = passed = short = reference = 0
        with tempfile.TemporaryDirectory(dir=out.parent, prefix=f".{out.name}.") as folder:
            staged = Path(folder) / "sv.vcf.gz"
            with pysam.VariantFile(str(staged), "wz", header=header) as writer:
                for record in reader:
                    gt = record.samples[sample]["GT"]
                    if not any(a for a in gt if a is not None):
                        reference += 1
                        continue
                    svtype = str(record.info.get("SVTYPE", ""))
                    inslen = record.info.get("INSLEN") if "INSLEN" in record.info else None
                    length = sv_length(svtype, record.pos, record.stop, inslen)
                    if length is not None and abs(length) < min_length:
                        short += 1
                        continue
                    filters = list(record.filter)
                    if unfiltered and filters == ["PASS"]:
                        filters = [UNFILTERED]
                    copy = writer.new_record(
                        contig=record.chrom,
                        start=record.start,
                        stop=record.stop,
                        alleles=record.alleles,
                        id=record.id,
                        qual=record.qual,
                        filter=filters or None,
                        info={k: v for k, v in record.info.items()},
                    )
                    if length is not None:
                        copy.info["SVLEN"] = length
                    if genes is not None:
                        end = record.stop if svtype in SPANNING else record.pos
                        hit = overlap(genes, record.chrom, record.start, end, svtype)
                        if hit.genes:
                            copy.info["GENES"] = hit.genes
                        if hit.exons:
                            copy.info["EXONS"] = hit.exons
                        if hit.coding:
                            copy.info["CODING"] = True
                    for key, value in record.samples[sample].items():
                        if value is not None and value != (None,):
                            copy.samples[sample][key] = value
                    copy.samples[sample].phased = record.samples[sample].phased
                    writer.write(copy)
                    kept += 1
                    passed += filters == ["PASS"]
            pysam.tabix_index(str(staged), preset="vcf", force=True)
            Path(f"{staged}.tbi").replace(f"{out}.tbi")
            staged.replace(out)
    return Summary(sample, kept, passed, short, reference)
