"""The cancer path of a batch, worked out once before any job: panels, tumours, normals, files.

:func:`setup` is called by the workflow right after the sheets are loaded. It checks what the
cancer rules will read and stops the run before any job, with the file and line of the fault:

* a sample's panel must exist as ``<panels dir>/<panel>.bed`` and be a valid panel: targets on
  the reference (contig and bounds, against the FASTA's ``.fai`` or the FASTA itself), named
  ``GENE:EXON``, not overlapping (:mod:`genomflow.panels`);
* the GFF3 (``reference.gff3``) must only name reference contigs (:mod:`genomflow.annotate`);
* the ClinVar-style and population VCFs, when given, must exist, be indexed and have the
  INFO fields used;
* a tumour-only sample needs a panel of normals: at least ``somatic.pon_min_normals`` normal
  samples of the same panel (or of WGS, for a WGS tumour) in the sheet.

(A tumour whose ``matched_normal`` is not a normal sample of the same patient is already
rejected by :func:`genomflow.sheets.load_sheets`.)

It returns a :class:`CancerSetup`: which samples get coverage reports, and for each tumour
its normal, calling regions, panel of normals and the command-line arguments of the classifier,
so that the rules only look things up.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from genomflow import annotate, paths
from genomflow.errors import GenomflowError
from genomflow.panels import (
    Panel,
    PanelError,
    available_panels,
    check_panel_name,
    panel_path,
    read_panel,
    reference_contigs,
)
from genomflow.sheets import Cohort, Sample
from genomflow.somatic.settings import assay_settings, settings_args

#: Name of the target set of whole-genome samples (reserved: no panel may be called so).
GENOME = "genome"
#: Calling regions of whole-genome tumours (written by a rule from the reference index).
GENOME_REGIONS = paths.GENOME_REGIONS
#: Rule names of the annotation steps (without the kind of VCF).
STEP_RULES = {annotate.CSQ: "snpeff_ann", annotate.CLINVAR: "bcftools_annotate"}


def annotation_rule(step: str, kind: str) -> str:
    """The rule of an annotation ``step`` on a ``kind`` of VCF (germline or somatic).

    >>> annotation_rule("csq", "germline")
    'snpeff_ann_germline'
    """
    return f"{STEP_RULES[step]}_{kind}"


def alignment(sample: str, alignment_format: str = paths.BAM) -> str:
    """The alignment file of ``sample``: a BAM or a CRAM (config ``alignment_format``)."""
    return paths.alignment(sample, alignment_format)


@dataclass(frozen=True)
class Tumour:
    """How one tumour sample is called."""

    sample: str
    normal: str | None
    target_set: str
    regions: str
    purity: float | None = None
    pon: str | None = None
    population: str | None = None
    alignment_format: str = paths.BAM
    #: ``panel`` or ``wgs``: which minimum evidence applies (``somatic.<assay>``).
    assay: str = "panel"
    #: The classifier's ``--set`` options (the config's somatic settings for the assay).
    settings: str = ""
    #: Fewest tumour alt reads that make a candidate (the assay's ``min_alt_reads``).
    min_alt_reads: int = 5

    @property
    def mode(self) -> str:
        return "paired" if self.normal else "tumour_only"

    @property
    def bams(self) -> list[str]:
        """Tumour BAM (or CRAM) first, then the matched normal's (the pileup's sample order)."""
        return [alignment(s, self.alignment_format) for s in (self.sample, self.normal) if s]

    def classify_files(self) -> dict[str, str]:
        """Inputs of the classifier besides the candidates: the calling regions (where the
        somatic prior is learned), panel of normals and population VCF (+ index)."""
        files: dict[str, str] = {"regions": self.regions}
        if self.pon:
            files |= {"pon": self.pon, "pon_tbi": f"{self.pon}.tbi"}
        if self.population:
            files |= {"population": self.population}
        return files

    def classify_args(self) -> str:
        """The classifier's arguments for this tumour (samples, purity, optional files and
        the settings of its assay).

        >>> Tumour("T1", "N1", "p", "p.bed", 0.8, "pon.vcf.gz").classify_args()
        '--tumour T1 --normal N1 --purity 0.8 --pon pon.vcf.gz'
        """
        args = ["--tumour", self.sample]
        if self.normal:
            args += ["--normal", self.normal]
        if self.purity is not None:
            args += ["--purity", f"{self.purity:g}"]
        if self.pon:
            args += ["--pon", self.pon]
        if self.population:
            args += ["--population", self.population]
        return " ".join(filter(None, (shlex.join(args), self.settings)))


@dataclass(frozen=True)
class CancerSetup:
    """Everything the cancer rules look up."""

    panels: dict[str, Panel] = field(default_factory=dict)
    panel_of_sample: dict[str, str] = field(default_factory=dict)
    tumours: dict[str, Tumour] = field(default_factory=dict)
    pon_normals: dict[str, tuple[str, ...]] = field(default_factory=dict)
    annotation: tuple[str, ...] = ()
    alignment_format: str = paths.BAM

    @property
    def panel_samples(self) -> tuple[str, ...]:
        return tuple(self.panel_of_sample)

    def panel_bed(self, sample: str) -> str:
        return os.fspath(self.panels[self.panel_of_sample[sample]].path)

    def pon_bams(self, target_set: str) -> list[str]:
        return [alignment(s, self.alignment_format) for s in self.pon_normals[target_set]]

    def pon_regions(self, target_set: str) -> str:
        return GENOME_REGIONS if target_set == GENOME else os.fspath(self.panels[target_set].path)

    def annotation_input(self, kind: str, step: str, name: str) -> str:
        """The VCF an annotation ``step`` of a germline group or tumour reads."""
        return annotation_chain(kind, name, self.annotation)[self.annotation.index(step)]

    def annotated(self, kind: str, name: str) -> str:
        """The last VCF of the annotation chain (the unannotated one if no step runs)."""
        return annotation_chain(kind, name, self.annotation)[-1]


def annotation_chain(kind: str, name: str, steps: tuple[str, ...]) -> list[str]:
    """VCF paths from the unannotated one through each step (``kind``: germline or somatic).

    >>> for path in annotation_chain("somatic", "T1", ("csq",)):
    ...     print(path)
    results/somatic/genomflow_somatic/T1.vcf.gz
    results/annotate/snpeff_ann_somatic/T1.vcf.gz
    """
    if kind not in ("germline", "somatic"):
        raise ValueError(f"unknown kind {kind!r}")
    first = paths.germline_group_vcf(name) if kind == "germline" else paths.somatic_calls(name)
    return [first] + [paths.annotated_vcf(annotation_rule(step, kind), name) for step in steps]


def _sheet_fault(
    sheet: str, cohort: Cohort, sample: str, column: str | None, problem: str
) -> GenomflowError:
    line = cohort.lines.get(sample)
    where = f"{sheet} line {line}" if line else f"{sheet}, sample {sample!r}"
    return GenomflowError(f"{where}{f', column {column!r}' if column else ''}: {problem}")


def _listed(names: list[str]) -> str:
    return f" ({', '.join(names)})" if names else ""


def _target_set(sample: Sample) -> str:
    return sample.panel if sample.assay == "panel" and sample.panel else GENOME


def setup(
    cohort: Cohort,
    config: Mapping[str, Any],
    *,
    samples_sheet: str,
    default_panels_dir: Path,
) -> CancerSetup:
    """Check the cancer inputs of a batch and work out its calling plan (see the module doc).

    ``config`` is resolved (:func:`genomflow.config.resolve`): the schema filled every default.
    """
    panels_setting = str(config["panels"]["dir"])
    panels_dir = Path(panels_setting) if panels_setting else default_panels_dir
    panel_of_sample: dict[str, str] = {}
    for sample in cohort.samples.values():
        if sample.assay != "panel" or not sample.panel:
            continue
        try:
            check_panel_name(sample.panel)
        except PanelError as err:
            raise _sheet_fault(samples_sheet, cohort, sample.sample, "panel", str(err)) from None
        if sample.panel == GENOME:
            raise _sheet_fault(
                samples_sheet, cohort, sample.sample, "panel", f"{GENOME!r} is reserved for WGS"
            )
        path = panel_path(panels_dir, sample.panel)
        if not path.is_file():
            known = ", ".join(available_panels(panels_dir)) or "none"
            raise _sheet_fault(
                samples_sheet,
                cohort,
                sample.sample,
                "panel",
                f"panel {sample.panel!r} not found: {path} does not exist "
                f"(panels in {panels_dir}: {known})",
            )
        panel_of_sample[sample.sample] = sample.panel

    reference = config["reference"]
    gff3 = str(reference["gff3"])
    annotation_config = config["annotation"]
    clinvar = str(annotation_config["clinvar_vcf"])
    somatic = config["somatic"]
    population = str(somatic["population_vcf"])
    alignment_format = str(config["alignment_format"])
    needs_contigs = bool(panel_of_sample) or bool(gff3)
    contigs = reference_contigs(Path(reference["fasta"])) if needs_contigs else {}

    panels: dict[str, Panel] = {}
    for name in dict.fromkeys(panel_of_sample.values()):
        panels[name] = read_panel(panel_path(panels_dir, name), contigs, name=name)
    if gff3:
        annotate.check_gff3(Path(gff3), contigs)
    if clinvar:
        fields = [str(f) for f in annotation_config["clinvar_fields"]]
        annotate.check_indexed_vcf(Path(clinvar), "ClinVar-style VCF", fields)
    if population:
        annotate.check_indexed_vcf(Path(population), "population VCF", ["AF"])

    normals_of: dict[str, list[str]] = {}
    for sample in cohort.samples.values():
        if sample.type == "normal":
            normals_of.setdefault(_target_set(sample), []).append(sample.sample)
    min_normals = int(somatic["pon_min_normals"])
    pon_normals: dict[str, tuple[str, ...]] = {}
    tumours: dict[str, Tumour] = {}
    for sample in cohort.samples.values():
        if sample.type != "tumour":
            continue
        target_set = _target_set(sample)
        normals = normals_of.get(target_set, [])
        has_pon = len(normals) >= min_normals
        if not sample.matched_normal and not has_pon:
            kind = f"panel {target_set}" if target_set != GENOME else "WGS"
            raise _sheet_fault(
                samples_sheet,
                cohort,
                sample.sample,
                None,
                f"tumour-only sample {sample.sample!r} ({kind}) needs a panel of normals: at "
                f"least {min_normals} normal samples of the same {kind} in the sheet, found "
                f"{len(normals)}{_listed(normals)}; add normals "
                "or give the tumour its matched_normal",
            )
        if has_pon:
            pon_normals[target_set] = tuple(normals)
        assay = "wgs" if target_set == GENOME else "panel"
        tumours[sample.sample] = Tumour(
            sample=sample.sample,
            normal=sample.matched_normal,
            target_set=target_set,
            regions=GENOME_REGIONS if target_set == GENOME else os.fspath(panels[target_set].path),
            purity=sample.purity,
            pon=paths.pon_vcf(target_set) if has_pon else None,
            population=population or None,
            alignment_format=alignment_format,
            assay=assay,
            settings=settings_args(somatic, assay),
            min_alt_reads=int(assay_settings(somatic, assay)["min_alt_reads"]),
        )
    return CancerSetup(
        panels=panels,
        panel_of_sample=panel_of_sample,
        tumours=tumours,
        pon_normals=pon_normals,
        annotation=annotate.steps(gff3, clinvar),
        alignment_format=alignment_format,
    )
