"""An HL7 FHIR R4 Genomics Reporting (STU3) bundle made from a sample report.

The bundle (type ``collection``) holds the Patient (its pseudonym only), the Organization
(the centre), the Specimen, one DiagnosticReport (LOINC 81247-9) and one variant Observation
(LOINC 69548-6, Genomics Reporting ``variant`` profile) per passing call, with the
components of the implementation guide's Variant and GenomicFinding profiles: variation code
(81252-9, the VRS id), assembly (62374-4), genomic reference sequence (48013-7), coordinate
system (92822-6), exact start-end (81254-5), reference and alternate allele (69547-8,
69551-0), genomic source class (48002-0: Germline LA6683-2, Somatic LA6684-0), allelic state
(53034-5), sample allelic frequency (81258-6), allelic read depth (82121-5: the reads
supporting the allele), gene studied (48018-6, the gene symbol as text: the test genome's
genes have no HGNC id), and from report schema 1.2.0 the transcript reference sequence
(51958-7, the reporting transcript), c. HGVS (48004-6) and p. HGVS (48005-3) when the variant
carries them. The total read depth has no code in the guide; it is a component of
its own with genomflow's code (:data:`TOTAL_DEPTH`), never folded into 82121-5 (copy number
is 82155-3, not the source class).

A variant with a ClinVar clinical significance (``clinical_significance``, schema 1.2.0) gets
the guide's ``diagnostic-implication`` Observation too: code ``diagnostic-implication`` of the
guide's TBD code system, ``derivedFrom`` the variant Observation, and the clinical-significance
component (53037-8) valued from LOINC answer list LL4034-6 (Pathogenic LA6668-3, Likely
pathogenic LA26332-9, Uncertain significance LA26333-7, Likely benign LA26334-5, Benign
LA6675-8) with ClinVar's own words as its text; a ClinVar value outside those five (for
example ``Conflicting_interpretations_of_pathogenicity``) is given as text only.

A tumour's biomarkers become the guide's ``tmb`` (94076-7, Mutations/Megabase) and ``msi``
(81695-9; Stable LA14122-8, MSI-H LA26203-2, Indeterminate LA11884-6) Observations; one
not assessed carries a dataAbsentReason and the reason in a note. It is checked by parsing
it with the R4B models of ``fhir.resources`` (R4B only adds to R4; these resources are the
same in both).

Structural variants and copy-number segments (the report's ``structural_variants``) get one
``variant`` Observation each too: DNA change type (48019-4, a Sequence Ontology term),
structural variant length (81300-6), copy number (82155-3, copy-number segments), genes
(48018-6), allele start-end, allelic state and source class.
"""

from __future__ import annotations

import functools
import math
import re
import uuid
from typing import Any

from genomflow.errors import GenomflowError

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
GR = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
VRS_SYSTEM = "https://w3id.org/ga4gh/vrs"
REFGET_SYSTEM = "https://w3id.org/ga4gh/refget"
PSEUDONYM_SYSTEM = "urn:genomflow:pseudonym"
SAMPLE_SYSTEM = "urn:genomflow:sample"
CENTRE_SYSTEM = "urn:genomflow:centre"
_NAMESPACE = uuid.UUID("6f1c7c4e-3a57-4d0c-9a43-9d3c1e8f0b11")

ALLELIC_STATE = {
    "het": ("LA6706-1", "Heterozygous"),
    "hom": ("LA6705-3", "Homozygous"),
    "hemi": ("LA6707-9", "Hemizygous"),
}
SOURCE_CLASS = {"germline": ("LA6683-2", "Germline"), "somatic": ("LA6684-0", "Somatic")}
#: The guide's component codes used here (LOINC).
GENOMIC_SOURCE_CLASS = ("48002-0", "Genomic source class [Type]")
ALLELIC_READ_DEPTH = ("82121-5", "Allelic read depth")
GENE_STUDIED = ("48018-6", "Gene studied [ID]")
CODING_HGVS = ("48004-6", "DNA change (c.HGVS)")
PROTEIN_HGVS = ("48005-3", "Amino acid change (pHGVS)")
TRANSCRIPT_REF_SEQ = ("51958-7", "Transcript reference sequence [ID]")
CLINICAL_SIGNIFICANCE = ("53037-8", "Genetic variation clinical significance [Imp]")
#: The guide's code system for codes LOINC does not have yet (STU3: ``tbd-codes-cs``).
GR_TBD_CODES = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
DIAGNOSTIC_IMPLICATION = ("diagnostic-implication", "Diagnostic Implication")
#: ClinVar CLNSIG -> LOINC answer (list LL4034-6) of the clinical-significance component.
CLINVAR_ANSWERS = {
    "pathogenic": ("LA6668-3", "Pathogenic"),
    "likely_pathogenic": ("LA26332-9", "Likely pathogenic"),
    "uncertain_significance": ("LA26333-7", "Uncertain significance"),
    "likely_benign": ("LA26334-5", "Likely benign"),
    "benign": ("LA6675-8", "Benign"),
}
#: Code systems of transcript ids, by prefix (RefSeq, Ensembl); other names: text only.
TRANSCRIPT_SYSTEMS = (
    (("NM_", "NR_", "XM_", "XR_"), "http://www.ncbi.nlm.nih.gov/refseq"),
    (("ENST",), "http://www.ensembl.org"),
)
TMB_CODE = ("94076-7", "Mutations/Megabase [# Ratio] in Tumor")
MSI_CODE = ("81695-9", "Microsatellite instability [Interpretation] in Cancer specimen Qualitative")
MSI_VALUE = {
    "MSS": ("LA14122-8", "Stable"),
    "MSI-H": ("LA26203-2", "MSI-H"),
    None: ("LA11884-6", "Indeterminate"),
}
GENOMFLOW_CODES = "https://genomflow.org/fhir/CodeSystem/genomflow"
#: Total read depth at the site: no code in the guide or LOINC, so genomflow's own.
TOTAL_DEPTH = ("total-read-depth", "Total read depth at the variant's position")
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
SPECIMEN_TYPE = {
    "germline": "Peripheral blood",
    "normal": "Peripheral blood (matched normal)",
    "tumour": "Tumour tissue",
    "plasma": "Plasma (cell-free DNA)",
}


def _coding(code: str, display: str, system: str = LOINC) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def _component(code: str, display: str, **value: Any) -> dict[str, Any]:
    return {"code": _coding(code, display), **value}


def _urn(*parts: object) -> str:
    return f"urn:uuid:{uuid.uuid5(_NAMESPACE, '/'.join(str(p) for p in parts))}"


def _location(reference: dict[str, Any], chrom: str, start: int, end: int) -> list[dict[str, Any]]:
    """Where an allele or event lies: assembly, reference sequence (refget), coordinate
    system (1-based) and start-end, the components every variant Observation carries."""
    refget = {c["name"]: c["refget"] for c in reference["contigs"]}
    return [
        _component(
            "62374-4",
            "Human reference sequence assembly version",
            valueCodeableConcept={"text": reference["name"]},
        ),
        _component(
            "48013-7",
            "Genomic reference sequence ID",
            valueCodeableConcept={
                "coding": [{"system": REFGET_SYSTEM, "code": refget[chrom]}],
                "text": chrom,
            },
        ),
        _component(
            "92822-6",
            "Genomic coordinate system",
            valueCodeableConcept=_coding("LA30102-0", "1-based character counting"),
        ),
        _component(
            "81254-5",
            "Genomic allele start-end",
            valueRange={"low": {"value": start}, "high": {"value": end}},
        ),
    ]


def variant_observation(
    variant: dict[str, Any], report: dict[str, Any], refs: dict[str, str]
) -> dict[str, Any]:
    """The Genomics Reporting ``variant`` Observation of one report variant."""
    reference = report["provenance"]["reference"]
    end = variant["pos"] + len(variant["ref"]) - 1
    components = [
        *_location(reference, variant["chrom"], variant["pos"], end),
        _component("69547-8", "Genomic ref allele [ID]", valueString=variant["ref"]),
        _component("69551-0", "Genomic alt allele [ID]", valueString=variant["alt"]),
        _component(
            *GENOMIC_SOURCE_CLASS,
            valueCodeableConcept=_coding(*SOURCE_CLASS[variant["origin"]]),
        ),
    ]
    if variant.get("gene"):
        components.append(_component(*GENE_STUDIED, valueCodeableConcept={"text": variant["gene"]}))
    if variant.get("transcript"):
        components.append(
            _component(*TRANSCRIPT_REF_SEQ, valueCodeableConcept=transcript_concept(variant))
        )
    if variant.get("hgvs_c"):
        components.append(
            _component(*CODING_HGVS, valueCodeableConcept={"text": variant["hgvs_c"]})
        )
    if variant.get("hgvs_p"):
        components.append(
            _component(*PROTEIN_HGVS, valueCodeableConcept={"text": variant["hgvs_p"]})
        )
    if variant["vrs_id"]:
        components.insert(
            0,
            _component(
                "81252-9",
                "Discrete genetic variant",
                valueCodeableConcept={
                    "coding": [{"system": VRS_SYSTEM, "code": variant["vrs_id"]}],
                },
            ),
        )
    if variant["zygosity"]:
        components.append(
            _component(
                "53034-5",
                "Allelic state",
                valueCodeableConcept=_coding(*ALLELIC_STATE[variant["zygosity"]]),
            )
        )
    if variant["vaf"] is not None:
        components.append(
            _component(
                "81258-6",
                "Sample variant allelic frequency [NFr]",
                valueQuantity={"value": variant["vaf"], "system": UCUM, "code": "1"},
            )
        )
    if variant.get("alt_depth") is not None:
        components.append(
            _component(
                *ALLELIC_READ_DEPTH,
                valueQuantity={"value": variant["alt_depth"], "system": UCUM, "code": "1"},
            )
        )
    if variant["depth"] is not None:
        components.append(
            {
                "code": _coding(*TOTAL_DEPTH, system=GENOMFLOW_CODES),
                "valueQuantity": {"value": variant["depth"], "system": UCUM, "code": "1"},
            }
        )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "meta": {"profile": [f"{GR}/variant"]},
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                        "code": "laboratory",
                    }
                ]
            }
        ],
        "code": _coding("69548-6", "Genetic variant assessment"),
        "subject": {"reference": refs["patient"]},
        "specimen": {"reference": refs["specimen"]},
        "valueCodeableConcept": _coding("LA9633-4", "Present"),
        "component": components,
    }
    if variant["vrs_id"]:
        observation["identifier"] = [{"system": VRS_SYSTEM, "value": variant["vrs_id"]}]
    return observation


def transcript_concept(variant: dict[str, Any]) -> dict[str, Any]:
    """The transcript id as a concept: coded when it is a RefSeq or Ensembl id, else text.

    >>> transcript_concept({"transcript": "ENST00000288602.11"})["coding"][0]["system"]
    'http://www.ensembl.org'
    >>> transcript_concept({"transcript": "GFB2-201"})
    {'text': 'GFB2-201'}
    """
    name = str(variant["transcript"])
    for prefixes, system in TRANSCRIPT_SYSTEMS:
        if name.startswith(prefixes):
            return {"coding": [{"system": system, "code": name}], "text": name}
    return {"text": name}


def significance_concept(clinvar: str) -> dict[str, Any]:
    """ClinVar's CLNSIG as the value of the clinical-significance component (LL4034-6).

    >>> significance_concept("Likely_pathogenic")["coding"][0]["code"]
    'LA26332-9'
    >>> significance_concept("Conflicting_interpretations_of_pathogenicity")
    {'text': 'Conflicting_interpretations_of_pathogenicity'}
    """
    answer = CLINVAR_ANSWERS.get(clinvar.strip().lower())
    if answer is None:
        return {"text": clinvar}
    return {**_coding(*answer), "text": clinvar}


def implication_observation(
    variant: dict[str, Any], variant_url: str, refs: dict[str, str]
) -> dict[str, Any]:
    """The guide's ``diagnostic-implication`` Observation of a variant's ClinVar significance,
    derived from the variant's Observation (``variant_url``)."""
    return {
        "resourceType": "Observation",
        "meta": {"profile": [f"{GR}/diagnostic-implication"]},
        "status": "final",
        "category": [_LAB, _GENOMICS],
        "code": _coding(*DIAGNOSTIC_IMPLICATION, system=GR_TBD_CODES),
        "subject": {"reference": refs["patient"]},
        "specimen": {"reference": refs["specimen"]},
        "derivedFrom": [{"reference": variant_url}],
        "component": [
            _component(
                *CLINICAL_SIGNIFICANCE,
                valueCodeableConcept=significance_concept(variant["clinical_significance"]),
            )
        ],
        "note": [{"text": "Clinical significance from ClinVar (CLNSIG) of the exact allele"}],
    }


_GENOMICS = _coding("GE", "Genetics", "http://terminology.hl7.org/CodeSystem/v2-0074")
_LAB = {
    "coding": [
        {
            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
            "code": "laboratory",
        }
    ]
}


def _biomarker(profile: str, code: tuple[str, str], refs: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "meta": {"profile": [f"{GR}/{profile}"]},
        "status": "final",
        "category": [_LAB],
        "code": _coding(*code),
        "subject": {"reference": refs["patient"]},
        "specimen": {"reference": refs["specimen"]},
    }


def tmb_observation(tmb: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """The guide's ``tmb`` Observation of a report's ``biomarkers.tmb``."""
    observation = _biomarker("tmb", TMB_CODE, refs)
    if tmb["tmb"] is None:
        observation["dataAbsentReason"] = _coding(
            "not-performed" if tmb["status"] == "not_assessed" else "as-text",
            "Not performed" if tmb["status"] == "not_assessed" else "As text",
            DATA_ABSENT,
        )
        observation["note"] = [{"text": f"TMB {tmb['status']}: {tmb['reason']}"}]
        return observation
    observation["valueQuantity"] = {
        "value": tmb["tmb"],
        "unit": "Mutations/Megabase",
        "system": UCUM,
        "code": "1/1000000{Base}",
    }
    observation["note"] = [
        {
            "text": f"95% CI {tmb['ci_low']:g}-{tmb['ci_high']:g} mutations/Mb (exact Poisson); "
            f"{tmb.get('mutations')} variants in {tmb.get('callable_bp')} callable coding bp"
        }
    ]
    return observation


def msi_observation(msi: dict[str, Any], refs: dict[str, str]) -> dict[str, Any]:
    """The guide's ``msi`` Observation of a report's ``biomarkers.msi``."""
    observation = _biomarker("msi", MSI_CODE, refs)
    observation["valueCodeableConcept"] = _coding(*MSI_VALUE[msi["call"]])
    if msi["call"] is None:
        observation["note"] = [{"text": f"MSI {msi['status']}: {msi['reason']}"}]
    else:
        observation["note"] = [
            {
                "text": f"{msi.get('sites_unstable')} of {msi.get('sites_evaluable')} "
                f"microsatellites unstable ({msi['unstable_share']:g}; MSI-H at >= "
                f"{msi.get('threshold')}), compared with {msi.get('mode')} "
                f"{msi.get('comparison')}"
            }
        ]
    return observation


def biomarker_observations(
    report: dict[str, Any], refs: dict[str, str]
) -> list[tuple[str, dict[str, Any]]]:
    """(full URL, Observation) of a tumour report's biomarkers (none for other samples)."""
    biomarkers = report.get("biomarkers")
    if not biomarkers:
        return []
    sample, centre = report["sample"], report["centre"]
    out = []
    if biomarkers.get("tmb"):
        url = _urn("tmb", centre["id"], sample["id"])
        out.append((url, tmb_observation(biomarkers["tmb"], refs)))
    if biomarkers.get("msi"):
        url = _urn("msi", centre["id"], sample["id"])
        out.append((url, msi_observation(biomarkers["msi"], refs)))
    return out


SEQUENCE_ONTOLOGY = "http://sequenceontology.org"
#: DNA change type (LOINC 48019-4) of an SV type, by source (Sequence Ontology).
CHANGE_TYPE = {
    ("sv", "DEL"): ("SO:0000159", "deletion"),
    ("sv", "DUP"): ("SO:1000173", "tandem_duplication"),
    ("sv", "INV"): ("SO:1000036", "inversion"),
    ("sv", "INS"): ("SO:0000667", "insertion"),
    ("sv", "BND"): ("SO:0000699", "junction"),
    ("cnv", "DEL"): ("SO:0001743", "copy_number_loss"),
    ("cnv", "DUP"): ("SO:0001742", "copy_number_gain"),
}
ZYGOSITY_OF_GENOTYPE = {"0/1": "het", "0|1": "het", "1|0": "het", "1/1": "hom", "1|1": "hom"}


def structural_observation(
    entry: dict[str, Any], report: dict[str, Any], refs: dict[str, str]
) -> dict[str, Any]:
    """The Genomics Reporting ``variant`` Observation of an SV or copy-number segment."""
    reference = report["provenance"]["reference"]
    fallback = ("SO:0001059", "sequence_alteration")
    change = CHANGE_TYPE.get((entry["source"], entry["svtype"]), fallback)
    origin = "somatic" if report["sample"]["type"] == "tumour" else "germline"
    components = [
        *_location(reference, entry["chrom"], entry["start"], entry["end"]),
        _component(
            "48019-4",
            "DNA change type",
            valueCodeableConcept=_coding(change[0], change[1], SEQUENCE_ONTOLOGY),
        ),
        _component(*GENOMIC_SOURCE_CLASS, valueCodeableConcept=_coding(*SOURCE_CLASS[origin])),
    ]
    if entry["length"] is not None:
        components.append(
            _component(
                "81300-6",
                "Structural variant [Length]",
                valueQuantity={"value": abs(entry["length"]), "system": UCUM, "code": "1"},
            )
        )
    if entry["copy_number"] is not None:
        components.append(
            _component(
                "82155-3",
                "Genomic structural variant copy number",
                valueQuantity={"value": entry["copy_number"], "system": UCUM, "code": "1"},
            )
        )
    zygosity = ZYGOSITY_OF_GENOTYPE.get(entry["genotype"] or "")
    if zygosity:
        components.append(
            _component(
                "53034-5",
                "Allelic state",
                valueCodeableConcept=_coding(*ALLELIC_STATE[zygosity]),
            )
        )
    for gene in entry["genes"]:
        components.append(
            _component("48018-6", "Gene studied [ID]", valueCodeableConcept={"text": gene})
        )
    return {
        "resourceType": "Observation",
        "meta": {"profile": [f"{GR}/variant"]},
        "status": "final",
        "category": [_LAB],
        "code": _coding("69548-6", "Genetic variant assessment"),
        "subject": {"reference": refs["patient"]},
        "specimen": {"reference": refs["specimen"]},
        "valueCodeableConcept": _coding("LA9633-4", "Present"),
        "identifier": [{"system": "urn:genomflow:structural", "value": entry["id"]}],
        "component": components,
    }


def _entry(full_url: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": full_url, "resource": resource}


def fhir_bundle(report: dict[str, Any]) -> dict[str, Any]:
    """The FHIR R4 bundle of a (valid) report, checked by ``fhir.resources``.

    Only passing calls (FILTER PASS) become Observations; all calls stay in the report.
    """
    sample, centre = report["sample"], report["centre"]
    refs = {
        "patient": _urn("patient", centre["id"], sample["patient"]),
        "organization": _urn("centre", centre["id"]),
        "specimen": _urn("specimen", centre["id"], sample["id"]),
        "report": _urn("report", centre["id"], sample["id"]),
    }
    passing = [v for v in report["variants"] if v["filters"] == ["PASS"]]
    observations = [
        (_urn("variant", centre["id"], sample["id"], i), variant_observation(v, report, refs))
        for i, v in enumerate(passing)
    ]
    observations += [
        (_urn("implication", url), implication_observation(v, url, refs))
        for (url, _), v in zip(list(observations), passing, strict=True)
        if v.get("clinical_significance")
    ]
    observations += biomarker_observations(report, refs)
    structural = [e for e in report.get("structural_variants", []) if e["filters"] == ["PASS"]]
    observations += [
        (
            _urn("structural", centre["id"], sample["id"], e["id"]),
            structural_observation(e, report, refs),
        )
        for e in structural
    ]
    specimen: dict[str, Any] = {
        "resourceType": "Specimen",
        "identifier": [{"system": SAMPLE_SYSTEM, "value": sample["id"]}],
        "type": {"text": SPECIMEN_TYPE[sample["type"]]},
        "subject": {"reference": refs["patient"]},
    }
    if sample["collection_date"]:
        specimen["collection"] = {"collectedDateTime": sample["collection_date"]}
    diagnostic = {
        "resourceType": "DiagnosticReport",
        "meta": {"profile": [f"{GR}/genomics-report"]},
        "status": "final",
        "category": [_coding("GE", "Genetics", "http://terminology.hl7.org/CodeSystem/v2-0074")],
        "code": _coding("81247-9", "Master HL7 genetic variant reporting panel"),
        "subject": {"reference": refs["patient"]},
        "issued": report["provenance"]["run_date"],
        "performer": [{"reference": refs["organization"]}],
        "specimen": [{"reference": refs["specimen"]}],
        "result": [{"reference": url} for url, _ in observations],
        "conclusion": f"QC status: {report['qc']['status']}; {len(passing)} passing calls, "
        f"{len(structural)} structural variants / copy-number segments "
        f"({sample['assay']}, reference {report['provenance']['reference']['name']})",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": report["provenance"]["run_date"],
        "entry": [
            _entry(refs["report"], diagnostic),
            _entry(
                refs["patient"],
                {
                    "resourceType": "Patient",
                    "identifier": [
                        {"system": f"{PSEUDONYM_SYSTEM}:{centre['id']}", "value": sample["patient"]}
                    ],
                },
            ),
            _entry(
                refs["organization"],
                {
                    "resourceType": "Organization",
                    "identifier": [{"system": CENTRE_SYSTEM, "value": centre["id"]}],
                    "name": centre["name"],
                },
            ),
            _entry(refs["specimen"], specimen),
            *(_entry(url, obs) for url, obs in observations),
        ],
    }
    check_bundle(bundle, f"sample {sample['id']}")
    return bundle


#: Keys whose values are data of the report (alleles, ids, depths, genes), each of a FHIR
#: primitive type checked by a pattern or a range: ``code`` (Coding/Quantity, code),
#: ``value`` (Identifier, string; Quantity, decimal), ``valueString``, ``text`` (string or
#: markdown), ``display`` and ``reference`` (string). Every other value is compared as it is.
DATA_KEYS: frozenset[str] = frozenset(
    {"code", "value", "valueString", "text", "display", "reference"}
)
#: Every pattern a FHIR primitive string is checked with (fhir_core's types): String, Code,
#: Id, Uri, Markdown, Decimal, Integer, PositiveInt.
_PRIMITIVE_PATTERNS: tuple[re.Pattern[str], ...] = tuple(
    re.compile(p)
    for p in (
        r"[ \r\n\t\S]+",
        r"[^\s]+(\s[^\s]+)*",
        r"[A-Za-z0-9\-.]+",
        r"\S*",
        r"\s*(\S|\s)*",
        r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?",
        r"[0]|[-+]?[1-9][0-9]*",
        r"\+?[1-9][0-9]*",
    )
)
_URN_UUID = re.compile(r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_INT32 = 2**31


@functools.lru_cache(maxsize=1 << 16)
def _string_class(text: str) -> tuple[object, ...]:
    """What the FHIR primitive checks can see of a string: which patterns it (and its
    stripped form) matches, control characters, and its length against the 64 (id) and
    1 MiB (string) limits."""
    return (
        "str",
        *(bool(p.search(text)) for p in _PRIMITIVE_PATTERNS),
        *(bool(p.match(text)) for p in _PRIMITIVE_PATTERNS),
        *(bool(p.fullmatch(text)) for p in _PRIMITIVE_PATTERNS),
        *(bool(p.fullmatch(text.strip())) for p in _PRIMITIVE_PATTERNS),
        any(ord(c) < 32 for c in text),
        (not text, len(text) <= 64, len(text) <= 1 << 20),
    )


@functools.lru_cache(maxsize=1 << 16)
def _number_class(number: float) -> tuple[object, ...]:
    """What the FHIR decimal and integer checks can see of a number."""
    finite = not math.isinf(number) and not math.isnan(number)
    return (
        type(number).__name__,
        finite,
        (number > 0) - (number < 0) if finite else 0,
        finite and -_INT32 <= number < _INT32,
        bool(_PRIMITIVE_PATTERNS[5].fullmatch(str(number))),
    )


def _signature(value: Any, key: str = "") -> Any:
    """A hashable form of a resource in which data values (:data:`DATA_KEYS`) are replaced
    by what the FHIR checks can see of them (:func:`_string_class`, :func:`_number_class`).
    Two resources with the same signature are both valid or both not."""
    kind = type(value)
    if kind is dict:
        return tuple([(k, _signature(v, k)) for k, v in value.items()])
    if kind is list:
        return ("[", *[_signature(v, key) for v in value])
    if key in DATA_KEYS:
        if kind is str:
            return _string_class(value)
        if kind is int or kind is float:
            return _number_class(value)
    return (kind.__name__, value)


def _entry_signature(entry: dict[str, Any]) -> Any:
    url = entry.get("fullUrl")
    url_class = "urn:uuid" if isinstance(url, str) and _URN_UUID.fullmatch(url) else url
    rest = {k: v for k, v in entry.items() if k != "fullUrl"}
    return (url_class, _signature(rest))


def distinct_entries(bundle: dict[str, Any]) -> dict[str, Any]:
    """The bundle with one entry per signature (:func:`_entry_signature`): what the FHIR
    models must parse to judge the whole bundle (a WGS bundle of thousands of variant
    Observations has a few dozen)."""
    seen: dict[Any, dict[str, Any]] = {}
    for entry in bundle.get("entry") or []:
        seen.setdefault(_entry_signature(entry), entry)
    if "entry" not in bundle:
        return bundle
    return {**bundle, "entry": list(seen.values())}


def check_bundle(bundle: dict[str, Any], source: str) -> None:
    """Parse a bundle with the FHIR R4B models; a fault is a :class:`GenomflowError`.

    Entries that differ only in data values the FHIR checks see alike are parsed once
    (:func:`distinct_entries`): the same verdict as parsing every entry, in a fraction of
    the time (``fhir.resources`` parses about 800 Observations a second).
    """
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(distinct_entries(bundle))
    except ValueError as err:
        raise GenomflowError(f"{source}: FHIR bundle is not valid: {err}") from None
