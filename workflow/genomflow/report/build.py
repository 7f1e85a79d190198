"""Assemble the sample report from a run's outputs, validate it, and write it atomically.

Deliverables are recognised by their name (:data:`ROLES`); the report lists each with its
path relative to the report, size and SHA-256. Variants come from the germline and somatic
VCFs among them, the ctDNA result from ``{sample}.ctdna.json``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring as _string_text
from pathlib import Path
from typing import Any

import yaml

from genomflow import __version__, atomic
from genomflow.errors import GenomflowError
from genomflow.report import qc, structural
from genomflow.report.canonical import canonical_json as canonical_json  # re-exported
from genomflow.report.validate import schema_version, validate_report
from genomflow.report.variants import GERMLINE, SOMATIC, read_calls
from genomflow.report.vrs import Contig, FastaDataProxy, read_refget_table, read_sequence_dict
from genomflow.sheets import Sample

#: Deliverable roles by file-name ending, longest first wins.
ROLES: tuple[tuple[str, str], ...] = (
    (".germline.vcf.gz.tbi", "germline_vcf_index"),
    (".sv.vcf.gz.tbi", "sv_vcf_index"),
    (".cnv.vcf.gz.tbi", "cnv_vcf_index"),
    (".sv.vcf.gz", "sv_vcf"),
    (".cnv.vcf.gz", "cnv_vcf"),
    (".cnv.tsv", "cnv_segments"),
    (".cnv.png", "cnv_plot"),
    (".somatic.vcf.gz.tbi", "somatic_vcf_index"),
    (".germline.vcf.gz", "germline_vcf"),
    (".somatic.vcf.gz", "somatic_vcf"),
    (".bam.bai", "alignments_index"),
    (".cram.crai", "alignments_index"),
    (".bam", "alignments"),
    (".cram", "alignments"),
    (".coverage.tsv", "coverage"),
    (".gaps.bed", "coverage_gaps"),
    (".ctdna.json", "ctdna"),
)

OTHER_ROLE = "other"

#: A Swedish personal identity or coordination number: YYMMDD or YYYYMMDD, '-'/'+', 4 digits.
PERSONNUMMER = re.compile(r"[0-9]{6}([0-9]{2})?[-+]?[0-9]{4}")

CTDNA_FIELDS: tuple[str, ...] = (
    "tumour_fraction",
    "ci_low",
    "ci_high",
    "p_value",
    "detected",
    "status",
    "informative_molecules",
    "mutant_molecules",
    "loci_used",
    "lod95",
)

_CHUNK = 1 << 20

#: The TMB fields a report carries (of ``genomflow biomarkers tmb``'s result).
TMB_FIELDS: tuple[str, ...] = (
    "status",
    "tmb",
    "ci_low",
    "ci_high",
    "mutations",
    "callable_bp",
    "coding_target_bp",
    "reason",
    "method",
)
TMB_SETTINGS: tuple[str, ...] = ("min_depth", "min_vaf", "include_synonymous")
#: The MSI fields a report carries (of ``genomflow biomarkers msi``'s result).
MSI_FIELDS: tuple[str, ...] = (
    "status",
    "call",
    "unstable_share",
    "sites_total",
    "sites_evaluable",
    "sites_unstable",
    "threshold",
    "mode",
    "comparison",
    "reason",
    "method",
)


def config_digest(config: Mapping[str, Any]) -> str:
    """SHA-256 (hex) of the canonical JSON of a resolved config."""
    return hashlib.sha256(canonical_json(config)).hexdigest()


def sha256_file(path: Path) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def check_pseudonym(patient: str, source: str) -> None:
    """Refuse a patient id that holds a personal identity number (personnummer).

    >>> check_pseudonym("PAT-0001", "samples.tsv")
    >>> check_pseudonym("19121212-1212", "samples.tsv")
    Traceback (most recent call last):
    ...
    genomflow.errors.GenomflowError: samples.tsv: patient '19121212-1212' looks like a \
personal identity number; use the patient's pseudonym
    """
    if PERSONNUMMER.search(patient):
        raise GenomflowError(
            f"{source}: patient {patient!r} looks like a personal identity number; "
            "use the patient's pseudonym"
        )


def deliverable_role(path: str) -> str:
    """The role of a deliverable from its name (:data:`OTHER_ROLE` for unknown names).

    >>> deliverable_role("results/samples/T1/T1.somatic.vcf.gz.tbi")
    'somatic_vcf_index'
    >>> deliverable_role("results/samples/T1/T1.msi.json")
    'other'
    """
    for suffix, role in ROLES:
        if path.endswith(suffix):
            return role
    return OTHER_ROLE


def file_entry(path: Path, report_dir: Path) -> dict[str, Any]:
    """A ``files`` entry: path relative to the report, role, size and SHA-256."""
    if not path.is_file():
        raise GenomflowError(f"{path}: deliverable not found")
    return {
        "path": os.path.relpath(path, report_dir),
        "role": deliverable_role(str(path)),
        "size": path.stat().st_size,
        "sha256": sha256_file(path),
    }


def reference_contigs(dict_path: Path, refget_path: Path) -> list[Contig]:
    """The reference's contigs: MD5 from the dictionary (M5 tags), refget from the table."""
    dictionary = read_sequence_dict(dict_path)
    table = read_refget_table(refget_path)
    if [c.name for c in table] != list(dictionary):
        raise GenomflowError(f"{refget_path}: contigs differ from {dict_path}")
    for contig in table:
        length, md5 = dictionary[contig.name]
        if (contig.length, contig.md5) != (length, md5):
            raise GenomflowError(
                f"{refget_path}: contig {contig.name!r} differs from {dict_path} (length or MD5)"
            )
    return table


def flat_versions(path: Path) -> dict[str, str]:
    """``results/versions.yml`` flattened to ``name: version``."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict):
        raise GenomflowError(f"{path}: not a versions file")
    return {
        str(name): str(version)
        for group in data.values()
        if isinstance(group, dict)
        for name, version in group.items()
    }


def reference_name(config: Mapping[str, Any]) -> str:
    """``reference.name`` of the config, or the FASTA's file name without extensions.

    >>> reference_name({"reference": {"name": "", "fasta": "/refs/GRCh38.fa.gz"}})
    'GRCh38'
    """
    name = str(config["reference"].get("name") or "")
    if name:
        return name
    base = Path(str(config["reference"]["fasta"])).name
    for ext in (".gz", ".bgz", ".fa", ".fasta", ".fna"):
        base = base.removesuffix(ext)
    return base


def ctdna_result(path: Path) -> dict[str, Any]:
    """The report's ctDNA section from a ``{sample}.ctdna.json``."""
    try:
        data = json.loads(path.read_text())
        result = {name: data[name] for name in CTDNA_FIELDS}
    except (json.JSONDecodeError, KeyError) as err:
        raise GenomflowError(f"{path}: not a ctDNA result ({err})") from None
    excluded = data.get("loci_excluded", [])
    result["loci_excluded"] = len(excluded) if isinstance(excluded, list) else int(excluded)
    result["tumour_sample"] = data.get("tumour_sample")
    return result


def biomarkers_section(sample: Sample, files: Sequence[Path]) -> dict[str, Any] | None:
    """The tumour biomarkers of a report: null for samples other than tumours; a tumour
    without a result (TMB: no gene models configured) says so rather than leaving it empty."""
    if sample.type != "tumour":
        return None
    section: dict[str, Any] = {
        "tmb": {
            "status": "not_assessed",
            "tmb": None,
            "ci_low": None,
            "ci_high": None,
            "reason": "no TMB result: reference.gff3 is not configured (no coding territory)",
        },
        "msi": {
            "status": "not_assessed",
            "call": None,
            "unstable_share": None,
            "reason": "no MSI result for this tumour",
        },
    }
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise GenomflowError(f"{path}: cannot read the biomarker result ({err})") from None
        if not isinstance(data, dict) or data.get("sample") != sample.sample:
            found = data.get("sample") if isinstance(data, dict) else None
            raise GenomflowError(f"{path}: biomarker result of {found!r}, not {sample.sample!r}")
        if "tmb" in data and "settings" in data:
            tmb = {name: data[name] for name in TMB_FIELDS}
            tmb |= {name: data["settings"][name] for name in TMB_SETTINGS}
            tmb["unit"] = "mutations/Mb"
            section["tmb"] = tmb
        elif "unstable_share" in data:
            section["msi"] = {name: data[name] for name in MSI_FIELDS}
        else:
            raise GenomflowError(f"{path}: neither a TMB nor an MSI result")
    return section


def rare_disease_section(sample: Sample, files: Sequence[Path]) -> dict[str, Any] | None:
    """The family's ranked candidates, for the proband's report only (None otherwise)."""
    for path in files:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as err:  # ValueError: not UTF-8, not JSON
            raise GenomflowError(f"{path}: cannot read the ranked candidates ({err})") from None
        if not isinstance(data, dict) or "candidates" not in data or "proband" not in data:
            raise GenomflowError(f"{path}: not a ranked candidate list (genomflow rare rank)")
        if data["proband"] == sample.sample:
            return data
    return None


def sample_section(sample: Sample) -> dict[str, Any]:
    return {
        "id": sample.sample,
        "patient": sample.patient,
        "sex": sample.sex,
        "type": sample.type,
        "assay": sample.assay,
        "panel": sample.panel,
        "collection_date": (sample.collection_date.isoformat() if sample.collection_date else None),
        "family": sample.family,
        "matched_normal": sample.matched_normal,
        "tumour_sample": sample.tumour_sample,
        "purity": sample.purity,
        "diagnosis": sample.diagnosis,
    }


@dataclass(frozen=True)
class ReportInputs:
    """Everything a sample report is made from."""

    sample: Sample
    config: Mapping[str, Any]
    versions: Path
    sequence_dict: Path
    refget: Path
    fasta: Path
    samtools_stats: Path
    mosdepth_summary: Path
    fastp: Sequence[Path]
    deliverables: Sequence[Path]
    qc_status: Path | None
    out: Path
    qc_metrics: Path | None = None
    #: A tumour's biomarker results (``genomflow biomarkers tmb`` JSON).
    biomarkers: Sequence[Path] = ()
    #: The ranked candidates of the sample's family (``genomflow rare rank --json-out``).
    rare: Sequence[Path] = ()


def _metrics(inputs: ReportInputs) -> dict[str, float]:
    coverage = [p for p in inputs.deliverables if deliverable_role(str(p)) == "coverage"]
    return {
        **qc.fastp_metrics(inputs.fastp),
        **qc.samtools_stats_metrics(inputs.samtools_stats),
        **qc.mosdepth_mean_depth(inputs.mosdepth_summary),
        **(qc.panel_mean_depth(coverage[0]) if coverage else {}),
        **qc.qc_stage_metrics(inputs.qc_metrics),
    }


def _variants(inputs: ReportInputs, proxy: FastaDataProxy) -> list[dict[str, Any]]:
    variants: list[dict[str, Any]] = []
    for path in inputs.deliverables:
        role = deliverable_role(str(path))
        if role == "germline_vcf":
            variants += read_calls(path, inputs.sample.sample, GERMLINE, proxy)
        elif role == "somatic_vcf":
            variants += read_calls(path, inputs.sample.sample, SOMATIC, proxy)
    return variants


def _structural(inputs: ReportInputs) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    for path in inputs.deliverables:
        role = deliverable_role(str(path))
        if role in ("sv_vcf", "cnv_vcf"):
            kind = structural.SV if role == "sv_vcf" else structural.CNV
            entries += structural.read_structural(path, inputs.sample.sample, kind)
    return entries


def build_report(inputs: ReportInputs, run_date: datetime.datetime | None = None) -> dict[str, Any]:
    """The report of one sample (validated against the schema)."""
    sample = inputs.sample
    check_pseudonym(sample.patient, f"sample {sample.sample}")
    contigs = reference_contigs(inputs.sequence_dict, inputs.refget)
    proxy = FastaDataProxy(inputs.fasta, contigs)
    try:
        variants = _variants(inputs, proxy)
    finally:
        proxy.close()
    report_dir = inputs.out.parent
    status = qc.qc_status(inputs.qc_status, sample.sample)
    ctdna = [p for p in inputs.deliverables if deliverable_role(str(p)) == "ctdna"]
    when = run_date or datetime.datetime.now(datetime.UTC)
    centre = inputs.config["centre"]
    report: dict[str, Any] = {
        "schema_version": schema_version(),
        "sample": sample_section(sample),
        "centre": {"id": centre["id"], "name": centre["name"], "region": centre["region"]},
        "provenance": {
            "genomflow_version": __version__,
            "batch": str(inputs.config.get("batch", "")),
            "config_digest": config_digest(inputs.config),
            "run_date": when.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "reference": {
                "name": reference_name(inputs.config),
                "contigs": [
                    {"name": c.name, "length": c.length, "md5": c.md5, "refget": c.refget}
                    for c in contigs
                ],
            },
            "software": flat_versions(inputs.versions),
        },
        "qc": {
            "status": status.status,
            "status_source": (
                os.path.relpath(inputs.qc_status, report_dir) if inputs.qc_status else None
            ),
            "reasons": list(status.reasons),
            "metrics": _metrics(inputs),
        },
        "variants": variants,
        "ctdna": ctdna_result(ctdna[0]) if ctdna else None,
        "biomarkers": biomarkers_section(sample, inputs.biomarkers),
        "structural_variants": _structural(inputs),
        "files": [file_entry(path, report_dir) for path in inputs.deliverables],
    }
    rare = rare_disease_section(sample, inputs.rare)
    if rare is not None:
        report["rare_disease"] = rare
    validate_report(report, str(inputs.out))
    return report


def _float_text(number: float) -> str:
    if number != number:
        return "NaN"
    if number in (math.inf, -math.inf):
        return "Infinity" if number > 0 else "-Infinity"
    return float.__repr__(number)


def _encode(value: Any, pad: str, out: list[str]) -> None:
    """Append the text of ``value`` at the indentation ``pad`` (a newline and spaces)."""
    kind = type(value)
    if kind is dict:
        _encode_items(value.items(), "{", "}", pad, out)
    elif kind is list:
        _encode_items(((None, item) for item in value), "[", "]", pad, out)
    elif kind is str:
        out.append(_string_text(value))
    elif kind is int:
        out.append(int.__repr__(value))
    elif kind is float:
        out.append(_float_text(value))
    elif value is None or kind is bool:
        out.append({None: "null", True: "true", False: "false"}[value])
    else:
        raise TypeError(f"{kind.__name__} is not JSON")


def _encode_items(
    items: Iterable[tuple[str | None, Any]], opening: str, closing: str, pad: str, out: list[str]
) -> None:
    """A dict's (key, value) pairs or a list's (None, value) pairs, one per line."""
    inner = pad + " "
    separator = opening + inner
    for key, item in items:
        if key is not None or opening == "{":
            if type(key) is not str:
                raise TypeError(f"key {key!r} is not a string")
            separator += _string_text(key) + ": "
        if type(item) is str:
            out.append(separator + _string_text(item))
        else:
            out.append(separator)
            _encode(item, inner, out)
        separator = "," + inner
    out.append(opening + closing if separator == opening + inner else pad + closing)


def indented_json(value: Any) -> str:
    """``json.dumps(value, indent=1, ensure_ascii=False)``, the same text about three times
    faster (the standard library encodes indented JSON in Python, not C; a WGS sample's FHIR
    bundle is 13 MB). Other values than dicts with string keys, lists, strings, numbers,
    booleans and None go to :func:`json.dumps`.

    >>> indented_json({"a": [1, 0.5, None], "b": {}})
    '{\\n "a": [\\n  1,\\n  0.5,\\n  null\\n ],\\n "b": {}\\n}'
    """
    out: list[str] = []
    try:
        _encode(value, "\n", out)
    except TypeError:
        return json.dumps(value, indent=1, ensure_ascii=False)
    return "".join(out)


def write_json(value: Any, out: Path) -> None:
    """Write ``value`` as indented JSON, atomically (temporary name, then rename)."""
    atomic.write_text(out, indented_json(value) + "\n")
