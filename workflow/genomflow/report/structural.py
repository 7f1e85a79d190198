"""A sample's structural variants and copy-number segments, for its report.

Each entry has a symbolic identifier ``CHROM:START-END:TYPE`` (1-based, inclusive START and
END as in the VCF; VRS has no stable representation of imprecise SVs yet), the type, length,
genes, and either a genotype (SVs) or an integer copy number and call (copy number).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pysam

from genomflow.errors import GenomflowError

SV = "sv"
CNV = "cnv"


def symbolic_id(chrom: str, start: int, end: int, svtype: str) -> str:
    """>>> symbolic_id("chr1", 112300, 114500, "DEL")
    'chr1:112300-114500:DEL'
    """
    return f"{chrom}:{start}-{end}:{svtype}"


def _genotype(record: pysam.VariantRecord, sample: str) -> str | None:
    call = record.samples[sample]
    if "GT" not in call or call["GT"] is None or all(a is None for a in call["GT"]):
        return None
    separator = "|" if call.phased else "/"
    return separator.join("." if a is None else str(a) for a in call["GT"])


def read_structural(path: Path, sample: str, kind: str) -> list[dict[str, Any]]:
    """The records of an ``.sv.vcf.gz`` (``kind`` sv) or ``.cnv.vcf.gz`` (cnv) of ``sample``."""
    try:
        vcf = pysam.VariantFile(str(path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read {kind.upper()} VCF: {err}") from None
    entries = []
    with vcf:
        if sample not in vcf.header.samples:
            raise GenomflowError(f"{path}: no sample {sample!r}")
        for record in vcf:
            svtype = str(record.info.get("SVTYPE", "BND"))
            start = record.pos
            end = record.stop if svtype != "BND" else record.pos
            length = record.info.get("SVLEN") if "SVLEN" in record.info else None
            genes = record.info.get("GENES") if "GENES" in record.info else ()
            call = record.samples[sample]
            entries.append(
                {
                    "id": symbolic_id(record.chrom, start, end, svtype),
                    "source": kind,
                    "chrom": record.chrom,
                    "start": start,
                    "end": end,
                    "svtype": svtype,
                    "length": None if length is None else int(length),
                    "genes": [str(g) for g in genes],
                    "genotype": _genotype(record, sample),
                    "copy_number": int(call["CN"]) if kind == CNV and "CN" in call else None,
                    "log2": round(float(call["L2R"]), 4) if kind == CNV and "L2R" in call else None,
                    "call": str(record.info["CNCALL"]) if "CNCALL" in record.info else None,
                    "coding": "CODING" in record.info,
                    "filters": list(record.filter),
                }
            )
    return entries
