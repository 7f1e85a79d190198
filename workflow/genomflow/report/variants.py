"""The calls of one sample, from its germline or somatic VCF, as report variants.

Each record gets its VRS id (:func:`genomflow.report.vrs.allele_id`), the sample's genotype
and zygosity (germline) or allele fraction (somatic), its depth, QUAL, FILTER values and the
most severe snpEff annotation (``INFO/ANN`` on the gene's reporting transcript): consequence
(Sequence Ontology), gene, transcript, HGVS c. and predicted p., exon or intron number.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pysam

from genomflow import snpeff
from genomflow.errors import GenomflowError
from genomflow.report.vrs import FastaDataProxy, allele_id

GERMLINE = "germline"
SOMATIC = "somatic"
ORIGINS: tuple[str, ...] = (GERMLINE, SOMATIC)
#: Names under which somatic callers write the tumour column when not by sample id.
TUMOUR_COLUMNS: tuple[str, ...] = ("TUMOR", "TUMOUR", "tumor", "tumour")
#: The report's annotation fields (schema 1.2.0).
HGVS_FIELDS: tuple[str, ...] = (
    "consequence", "gene", "transcript", "hgvs_c", "hgvs_p", "exon", "intron",
)  # fmt: skip


def zygosity(genotype: tuple[int | None, ...]) -> str | None:
    """het, hom or hemi of a VCF genotype (allele indexes); None when not called.

    >>> zygosity((0, 1)), zygosity((1, 1)), zygosity((1,)), zygosity((None, None))
    ('het', 'hom', 'hemi', None)
    """
    called = [a for a in genotype if a is not None]
    if not called or not any(called):
        return None
    if len(genotype) == 1:
        return "hemi"
    return "hom" if len(set(called)) == 1 and len(called) == len(genotype) else "het"


def genotype_text(genotype: tuple[int | None, ...], phased: bool) -> str:
    """VCF text of a genotype.

    >>> genotype_text((0, 1), False), genotype_text((1, None), True), genotype_text((1,), False)
    ('0/1', '1|.', '1')
    """
    sep = "|" if phased else "/"
    return sep.join("." if a is None else str(a) for a in genotype)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _depth(call: Any, record: Any) -> int | None:
    for key in ("DP",):
        if key in call and call[key] is not None:
            return int(call[key])
    if "AD" in call and call["AD"] is not None and None not in call["AD"]:
        return int(sum(call["AD"]))
    value = record.info.get("DP")
    return None if value is None else int(value)


def _alt_depth(call: Any, index: int) -> int | None:
    """Reads supporting ALT allele ``index`` (1-based): FORMAT/AD, else None."""
    if "AD" not in call:
        return None
    ad = call["AD"]
    if ad is None or len(ad) <= index or ad[index] is None:
        return None
    return int(ad[index])


def _vaf(call: Any) -> float | None:
    if "AF" in call and call["AF"] is not None:
        value = call["AF"]
        first = value[0] if isinstance(value, tuple) else value
        if first is not None:
            return min(1.0, max(0.0, round(float(first), 6)))
    if "AD" in call and call["AD"] is not None and None not in call["AD"] and len(call["AD"]) > 1:
        total = sum(call["AD"])
        return round(call["AD"][1] / total, 6) if total else None
    return None


def has_annotation(header: Any) -> bool:
    """Whether a VCF header declares snpEff's ``INFO/ANN``."""
    return snpeff.ANN_TAG in header.info


def annotation(record: Any, alt: str | None = None) -> snpeff.Annotation | None:
    """The most severe snpEff annotation of ``alt`` (of the record when None or when the only
    ALT allele is named otherwise), None without one (:func:`genomflow.snpeff.parse_ann`)."""
    value = record.info.get(snpeff.ANN_TAG)
    found = snpeff.first_for(value, alt)
    if found is None and alt is not None and len(record.alts or ()) == 1:
        found = snpeff.first_for(value)
    return found


def hgvs_fields(found: snpeff.Annotation | None) -> dict[str, str | None]:
    """The report's consequence, gene, transcript, HGVS and exon/intron of an annotation."""
    if found is None:
        return dict.fromkeys(HGVS_FIELDS)
    if not found.on_transcript:  # e.g. intergenic_region: a consequence, no gene
        return dict.fromkeys(HGVS_FIELDS) | {"consequence": found.consequence}
    return {
        "consequence": found.consequence,
        "gene": found.gene or None,
        "transcript": found.transcript or None,
        "hgvs_c": found.hgvs_c or None,
        "hgvs_p": found.protein,
        "exon": found.exon,
        "intron": found.intron,
    }


#: The INFO field that the ClinVar annotation (annotation.clinvar_vcf) copies onto an allele.
CLINVAR_SIGNIFICANCE = "CLNSIG"


def has_clinvar(header: Any) -> bool:
    """Whether a VCF header declares the ClinVar annotation's ``INFO/CLNSIG``."""
    return CLINVAR_SIGNIFICANCE in header.info


def clinical_significance(record: Any) -> str | None:
    """ClinVar's CLNSIG of a record (copied by the exact-allele ClinVar annotation), its values
    joined by ',' when there are several; None when the record has none. The record's header
    must declare CLNSIG (:func:`has_clinvar`, asked once per file).

    >>> import pysam
    >>> header = pysam.VariantHeader()
    >>> header.contigs.add("chr1", 100)
    >>> header.add_line('##INFO=<ID=CLNSIG,Number=.,Type=String,Description="ClinVar">')
    >>> record = header.new_record(contig="chr1", start=9, alleles=("A", "G"))
    >>> has_clinvar(header), clinical_significance(record) is None
    (True, True)
    >>> record.info["CLNSIG"] = ("Likely_pathogenic",)
    >>> clinical_significance(record)
    'Likely_pathogenic'
    """
    value = record.info.get(CLINVAR_SIGNIFICANCE)
    if value is None:
        return None
    words = [
        str(v) for v in (value if isinstance(value, tuple) else (value,)) if v not in (None, "")
    ]
    return ",".join(words) or None


def _sample_column(reader: Any, sample: str, path: Path) -> str:
    names = list(reader.header.samples)
    if sample in names:
        return sample
    if len(names) == 1:
        return str(names[0])
    for name in TUMOUR_COLUMNS:
        if name in names:
            return name
    raise GenomflowError(f"{path}: no column for sample {sample!r} (columns: {', '.join(names)})")


def read_calls(path: Path, sample: str, origin: str, proxy: FastaDataProxy) -> list[dict[str, Any]]:
    """The report variants of ``sample`` in the VCF at ``path`` (one per ALT allele)."""
    if origin not in ORIGINS:
        raise ValueError(f"origin must be one of {ORIGINS}")
    variants: list[dict[str, Any]] = []
    with pysam.VariantFile(str(path)) as reader:
        column = _sample_column(reader, sample, path)
        annotated = has_annotation(reader.header)
        clinvar = has_clinvar(reader.header)
        for record in reader:
            variants.extend(_variants_of(record, column, origin, annotated, clinvar, proxy, path))
    return variants


def _variants_of(
    record: Any,
    column: str,
    origin: str,
    annotated: bool,
    clinvar: bool,
    proxy: FastaDataProxy,
    path: Path,
) -> list[dict[str, Any]]:
    """The report variants of one record; ``annotated``/``clinvar``: whether the file
    declares snpEff's ANN and ClinVar's CLNSIG."""
    call = record.samples[column]
    genotype = tuple(call.get("GT") or ())
    filters = list(record.filter.keys()) or ["PASS"]
    # ClinVar records are biallelic: its significance is that of a biallelic record's one ALT.
    biallelic = len(record.alts or ()) == 1
    significance = clinical_significance(record) if clinvar and biallelic else None
    out = []
    for index, alt in enumerate(record.alts or (), start=1):
        if origin == GERMLINE and genotype and index not in genotype:
            continue  # this sample does not carry this allele
        try:
            vrs_id = allele_id(proxy, record.chrom, record.pos, record.ref, alt)
        except GenomflowError as err:
            raise GenomflowError(f"{path}: {err}") from None
        germline = origin == GERMLINE
        out.append(
            {
                "chrom": record.chrom,
                "pos": record.pos,
                "ref": record.ref.upper(),
                "alt": alt.upper(),
                "vrs_id": vrs_id,
                "origin": origin,
                "genotype": genotype_text(genotype, call.phased) if germline and genotype else None,
                "zygosity": zygosity(genotype) if germline else None,
                "vaf": _vaf(call),
                "depth": _depth(call, record),
                "alt_depth": _alt_depth(call, index),
                "quality": _number(record.qual),
                **hgvs_fields(annotation(record, alt) if annotated else None),
                "clinical_significance": significance,
                "filters": filters,
            }
        )
    return out
