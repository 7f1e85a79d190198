"""The batch's structural variants and copy-number calls as a MultiQC table (custom content):
per sample, the PASS records of its ``.sv.vcf.gz`` by type and of its ``.cnv.vcf.gz`` by
type, and the records that did not pass."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError

SV_TYPES = ("DEL", "DUP", "INV", "INS", "BND")
CNV_TYPES = ("DEL", "DUP")
FILTERED = "filtered"
SECTION_ID = "genomflow_structural"


def sample_of(path: Path) -> tuple[str, str]:
    """(sample, kind) of a deliverable ``{sample}.sv.vcf.gz`` or ``{sample}.cnv.vcf.gz``.

    >>> sample_of(Path("results/samples/RD001/RD001.sv.vcf.gz"))
    ('RD001', 'sv')
    """
    sample, _, rest = path.name.partition(".")
    kind = rest.removesuffix(".vcf.gz")
    if kind not in ("sv", "cnv"):
        raise GenomflowError(f"{path}: not a .sv.vcf.gz or .cnv.vcf.gz deliverable")
    return sample, kind


def count(path: Path) -> Counter[str]:
    """PASS records by SVTYPE, and the others under :data:`FILTERED`."""
    try:
        reader = pysam.VariantFile(str(path))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read VCF: {err}") from None
    counts: Counter[str] = Counter()
    with reader:
        for record in reader:
            if list(record.filter) == ["PASS"]:
                counts[str(record.info.get("SVTYPE", "BND"))] += 1
            else:
                counts[FILTERED] += 1
    return counts


def section(vcfs: Iterable[Path]) -> dict[str, Any]:
    """The MultiQC custom-content table of the deliverables ``vcfs``."""
    data: dict[str, dict[str, int]] = {}
    for path in vcfs:
        sample, kind = sample_of(path)
        counts = count(path)
        types = SV_TYPES if kind == "sv" else CNV_TYPES
        row = data.setdefault(sample, {})
        for svtype in (*types, FILTERED):
            row[f"{kind}_{svtype}"] = counts.get(svtype, 0)
    headers: dict[str, dict[str, Any]] = {}
    for kind, types, what in (("sv", SV_TYPES, "SV"), ("cnv", CNV_TYPES, "copy-number")):
        for svtype in types:
            headers[f"{kind}_{svtype}"] = {
                "title": f"{what} {svtype}",
                "description": f"PASS {what} calls of type {svtype} ({kind}.vcf.gz)",
                "format": "{:,.0f}",
            }
        headers[f"{kind}_{FILTERED}"] = {
            "title": f"{what} not PASS",
            "description": f"{what} records with a FILTER other than PASS ({kind}.vcf.gz)",
            "format": "{:,.0f}",
        }
    return {
        "id": SECTION_ID,
        "section_name": "Structural variants and copy number",
        "description": (
            "Per sample, the PASS records of <code>{sample}.sv.vcf.gz</code> (delly; for "
            "tumours: somatic) and <code>{sample}.cnv.vcf.gz</code> (CNVkit) by type, and "
            "the records that did not pass."
        ),
        "plot_type": "table",
        "pconfig": {"id": f"{SECTION_ID}_table", "title": "SV and CNV calls", "no_violin": True},
        "headers": headers,
        "data": data,
    }


def write_section(vcfs: Iterable[Path], out: Path) -> None:
    atomic.write_text(out, json.dumps(section(vcfs), indent=2) + "\n")
