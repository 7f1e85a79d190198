"""Settings of the somatic classifier and its FILTER names (light: imported while the workflow
parses, so it imports neither scipy nor pysam)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from genomflow.errors import GenomflowError

# --- FILTERs ---------------------------------------------------------------------------------
LOW_DEPTH = "LowDepth"
LOW_ALT_READS = "LowAltReads"
LOW_VAF = "LowVAF"
WEAK_EVIDENCE = "WeakEvidence"
STRAND_BIAS = "StrandBias"
LOW_BASE_QUALITY = "LowBaseQuality"
LOW_MAPPING_QUALITY = "LowMappingQuality"
READ_POSITION = "ReadPosition"
PANEL_OF_NORMALS = "PanelOfNormals"
POPULATION_AF = "PopulationAF"
NORMAL_LOD = "NormalLOD"
NORMAL_SUPPORT = "NormalSupport"
GERMLINE = "Germline"
GERMLINE_VAF = "GermlineVAF"

PAIRED, TUMOUR_ONLY = "paired", "tumour_only"
#: Assays with their own minimum evidence (``somatic.<assay>`` in the config).
ASSAYS = ("panel", "wgs")
#: Settings that differ by assay.
EVIDENCE_SETTINGS = ("min_depth", "min_alt_reads", "min_vaf")


@dataclass(frozen=True)
class Thresholds:
    """Classifier and panel-of-normals settings (defaults = the config schema's; the
    minimum evidence defaults are the panel's)."""

    # minimum evidence (per assay)
    min_depth: int = 20
    min_alt_reads: int = 5
    min_vaf: float = 0.02
    # the likelihood model (genomflow.somatic.model)
    max_base_quality: float = 33.0
    default_base_quality: float = 30.0
    indel_error_log10: float = -4.5
    indel_error_slope: float = 0.25
    indel_error_max_log10: float = -1.5
    min_tumour_lod: float = 3.0
    somatic_prior: float = 0.0
    min_posterior: float = 0.5
    # paired: the normal
    min_normal_lod: float = 2.2
    normal_contamination: float = 0.1
    normal_error_rate: float = 0.005
    normal_pvalue: float = 0.01
    # germline prior and tumour-only germline
    population_af_absent: float = 1e-5
    germline_fit_lod: float = 2.5
    germline_hom_vaf: float = 0.9
    max_population_af: float = 0.001
    # artefacts
    strand_bias_pvalue: float = 0.001
    strand_bias_min_fraction: float = 0.1
    min_alt_base_quality: float = 25.0
    min_alt_mapping_quality: float = 40.0
    min_alt_read_position: float = 5.0
    # panel of normals
    pon_min_normals: int = 2
    pon_min_alt_reads: int = 2
    pon_min_vaf: float = 0.01

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> Thresholds:
        """Take the fields of this class from a mapping (other keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {key: value for key, value in settings.items() if key in names}
        return dataclasses.replace(cls(), **values)

    def filter_descriptions(self, mode: str) -> dict[str, str]:
        """FILTER id -> description with the thresholds, for the filters of ``mode``."""
        common = {
            LOW_DEPTH: f"Tumour depth (ref + alt reads) below {self.min_depth}",
            LOW_ALT_READS: f"Fewer than {self.min_alt_reads} alt reads in the tumour",
            LOW_VAF: f"Tumour VAF below {self.min_vaf}",
            WEAK_EVIDENCE: (
                f"Tumour log-odds TLOD below {self.min_tumour_lod}, or posterior probability "
                f"of a somatic variant (INFO/PSOM) below {self.min_posterior}"
            ),
            STRAND_BIAS: (
                f"Strand bias: Fisher p < {self.strand_bias_pvalue} and fewer than "
                f"{self.strand_bias_min_fraction:.0%} of alt reads on one strand"
            ),
            LOW_BASE_QUALITY: (
                f"SNV whose alt bases have mean base quality below {self.min_alt_base_quality}"
            ),
            LOW_MAPPING_QUALITY: (
                f"Alt reads with mean mapping quality below {self.min_alt_mapping_quality}"
            ),
            READ_POSITION: (
                f"Alt bases on average closer than {self.min_alt_read_position} bases to a read end"
            ),
            PANEL_OF_NORMALS: (
                f"Seen in at least {self.pon_min_normals} normals of the panel of normals"
            ),
        }
        if mode == PAIRED:
            common |= {
                NORMAL_LOD: (
                    f"Normal log-odds NLOD below {self.min_normal_lod} (plus the germline "
                    "prior of a population allele): the normal cannot rule out a germline "
                    "variant"
                ),
                NORMAL_SUPPORT: (
                    "More alt reads in the normal than tumour-in-normal contamination of "
                    f"{self.normal_contamination} x tumour VAF explains "
                    f"(binomial p < {self.normal_pvalue})"
                ),
                GERMLINE: "Normal log-odds NLOD below 0: the normal's reads favour germline",
            }
        else:
            common |= {
                GERMLINE_VAF: (
                    "Tumour-only: the VAF fits a germline genotype (log-odds GLOD of a free "
                    f"allele fraction over 0.5 or 1 below {self.germline_fit_lod}, plus the "
                    f"germline prior of a population allele) or is at least "
                    f"{self.germline_hom_vaf}"
                ),
                POPULATION_AF: (
                    f"Tumour-only: population allele frequency at least {self.max_population_af}"
                ),
            }
        return common


def _type_of(field: dataclasses.Field[Any]) -> type:
    return int if field.type in ("int", int) else float


def parse_settings(pairs: Sequence[str]) -> Thresholds:
    """``--set NAME=VALUE`` options as :class:`Thresholds` (names and types checked).

    >>> parse_settings(["min_vaf=0.05", "min_alt_reads=3"]).min_alt_reads
    3
    """
    types = {f.name: _type_of(f) for f in dataclasses.fields(Thresholds)}
    values: dict[str, Any] = {}
    for pair in pairs:
        name, _, text = pair.partition("=")
        if name not in types:
            raise GenomflowError(f"--set {pair}: unknown setting {name!r}")
        try:
            values[name] = types[name](text)
        except ValueError:
            raise GenomflowError(f"--set {pair}: not a number") from None
    return Thresholds.from_settings(values)


def assay_settings(settings: Mapping[str, Any], assay: str) -> dict[str, Any]:
    """The ``somatic`` config section flattened for one assay: its minimum evidence
    (``somatic.<assay>``) over the shared settings.

    >>> assay_settings({"min_posterior": 0.9, "wgs": {"min_alt_reads": 2}}, "wgs")
    {'min_posterior': 0.9, 'min_alt_reads': 2}
    """
    if assay not in ASSAYS:
        raise ValueError(f"unknown assay {assay!r}")
    flat = {key: value for key, value in settings.items() if key not in ASSAYS}
    return flat | dict(settings.get(assay, {}))


def settings_args(settings: Mapping[str, Any], assay: str | None = None) -> str:
    """The ``--set`` options for the thresholds of a config section (for rules); with
    ``assay``, that assay's minimum evidence too.

    >>> settings_args({"min_vaf": 0.05, "population_vcf": ""})
    '--set min_vaf=0.05'
    >>> settings_args({"min_posterior": 0.9, "wgs": {"min_alt_reads": 2}}, "wgs")
    '--set min_posterior=0.9 --set min_alt_reads=2'
    """
    flat = assay_settings(settings, assay) if assay else settings
    names = {f.name for f in dataclasses.fields(Thresholds)}
    return " ".join(f"--set {k}={v}" for k, v in flat.items() if k in names)
