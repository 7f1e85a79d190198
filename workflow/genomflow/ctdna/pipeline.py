"""What the pipeline does for UMI libraries and plasma samples (workflow/rules/ctdna.smk).

* A sample whose units carry a read structure (units.tsv ``umi``) is a UMI library: fastp
  moves the UMIs from the reads into the read names (:func:`fastp_umi_arguments`), and its
  alignment deliverable is built from UMI-consensus reads instead of duplicate marking. All
  units of a sample must agree (one library, one structure).
* Every plasma sample is monitored against the somatic variants of its ``tumour_sample``:
  this run's somatic VCF when the tumour is in the sheet, else the VCF that the config's
  ``ctdna.tumour_variants`` gives for it (a tumour sequenced in an earlier batch). The
  tumour's matched normal's germline calls (this run) exclude germline loci; the purity is
  the tumour's (sheet, else the VCF header).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genomflow.ctdna.umi import ReadStructure, parse_read_structures
from genomflow.errors import GenomflowError
from genomflow.sheets import Cohort

PLASMA = "plasma"


@dataclass(frozen=True)
class PlasmaPlan:
    """How one plasma sample is monitored."""

    sample: str
    tumour_sample: str
    #: The tumour's somatic VCF (this run's deliverable, or from the config).
    variants: str
    purity: float | None
    #: Germline calls of the tumour's matched normal (this run), or None.
    normal_vcf: str | None


@dataclass(frozen=True)
class CtdnaSetup:
    """UMI libraries (sample -> read structure) and plasma samples to monitor."""

    structures: dict[str, str]
    plasma: dict[str, PlasmaPlan]

    def is_umi(self, sample: str) -> bool:
        return sample in self.structures


def _simple_umi(structure: ReadStructure) -> tuple[int, int] | None:
    """(UMI length, skipped bases) of a read that starts with its UMI, else None (no UMI)."""
    segments = list(structure.segments)
    if not structure.has_umi:
        return None
    length, kind = segments[0]
    skip = 0
    rest = segments[1:]
    if rest and rest[0][1] == "S":
        skip = rest[0][0] or 0
        rest = rest[1:]
    if (
        kind != "M"
        or length is None
        or rest[:1] == []
        or rest[0][1] != "T"
        or any(k == "M" for _, k in rest)
    ):
        raise GenomflowError(
            "fastp extracts a UMI only at the start of a read "
            "(<n>M[<k>S]<rest>T, e.g. 8M142T or 3M2S+T)"
        )
    return length, skip


def fastp_umi_arguments(structure: str) -> str:
    """fastp options that move the UMIs of ``structure`` (R1 and R2) into the read names.

    >>> fastp_umi_arguments("8M142T 8M142T")
    '--umi --umi_loc per_read --umi_len 8'
    >>> fastp_umi_arguments("3M2S+T 3M2S+T")
    '--umi --umi_loc per_read --umi_len 3 --umi_skip 2'
    >>> fastp_umi_arguments("8M+T +T")
    '--umi --umi_loc read1 --umi_len 8'
    """
    reads = parse_read_structures(structure)
    if len(reads) != 2:
        raise GenomflowError(
            f"read structure {structure!r}: give one structure per read (R1 and R2)"
        )
    try:
        umis = [_simple_umi(read) for read in reads]
    except GenomflowError as err:
        raise GenomflowError(f"read structure {structure!r}: {err}") from None
    present = [u for u in umis if u is not None]
    if not present:
        raise GenomflowError(f"read structure {structure!r}: no UMI (M) segment")
    if len(present) == 2 and present[0] != present[1]:
        raise GenomflowError(
            f"read structure {structure!r}: fastp needs the same UMI length and skip on both reads"
        )
    location = "per_read" if len(present) == 2 else ("read1" if umis[0] else "read2")
    length, skip = present[0]
    return f"--umi --umi_loc {location} --umi_len {length}" + (
        f" --umi_skip {skip}" if skip else ""
    )


def _structures(cohort: Cohort, units_sheet: str) -> dict[str, str]:
    structures: dict[str, str] = {}
    for sample in cohort.samples:
        given = {unit.umi for unit in cohort.units_of(sample)}
        if given == {None}:
            continue
        if len(given) > 1:
            shown = ", ".join(sorted(repr(s or "") for s in given))
            raise GenomflowError(
                f"{units_sheet}: units of sample {sample!r} have different umi read "
                f"structures ({shown}); one sample is one library"
            )
        (structure,) = given
        assert structure is not None
        try:
            fastp_umi_arguments(structure)
        except GenomflowError as err:
            raise GenomflowError(f"{units_sheet}: sample {sample!r}: {err}") from None
        structures[sample] = structure
    return structures


def _plasma_plan(
    cohort: Cohort,
    sample: str,
    tumour_variants: Mapping[str, str],
    samples_sheet: str,
    deliverable: str,
) -> PlasmaPlan:
    record = cohort.samples[sample]
    tumour = record.tumour_sample
    if tumour is None:
        raise GenomflowError(
            f"{samples_sheet}: plasma sample {sample!r} has no tumour_sample: tumour-informed "
            "ctDNA monitoring needs the tumour whose somatic variants it tracks"
        )
    if tumour in cohort.samples:
        tumour_record = cohort.samples[tumour]
        normal = tumour_record.matched_normal
        return PlasmaPlan(
            sample=sample,
            tumour_sample=tumour,
            variants=deliverable.format(sample=tumour, kind="somatic"),
            purity=tumour_record.purity,
            normal_vcf=None
            if normal is None
            else deliverable.format(sample=normal, kind="germline"),
        )
    if tumour not in tumour_variants:
        raise GenomflowError(
            f"{samples_sheet}: plasma sample {sample!r}: tumour_sample {tumour!r} is neither "
            "a sample of this run nor given in the config's ctdna.tumour_variants"
        )
    vcf = Path(str(tumour_variants[tumour]))
    if not vcf.is_file():
        raise GenomflowError(
            f"config ctdna.tumour_variants: {tumour!r}: {vcf} not found (plasma sample {sample!r})"
        )
    return PlasmaPlan(sample, tumour, str(vcf), None, None)


def setup(
    cohort: Cohort,
    ctdna_config: Mapping[str, Any],
    samples_sheet: str,
    units_sheet: str,
    deliverable: str = "results/samples/{sample}/{sample}.{kind}.vcf.gz",
) -> CtdnaSetup:
    """The UMI libraries and plasma plans of a run, or a :class:`GenomflowError` naming the
    sheet, sample and problem."""
    structures = _structures(cohort, units_sheet)
    given = {item["tumour"]: item["vcf"] for item in ctdna_config.get("tumour_variants", [])}
    plasma = {
        name: _plasma_plan(cohort, name, given, samples_sheet, deliverable)
        for name, record in cohort.samples.items()
        if record.type == PLASMA
    }
    return CtdnaSetup(structures, plasma)
