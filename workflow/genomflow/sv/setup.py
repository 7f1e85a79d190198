"""Which samples get structural variants: the germline WGS samples, by calling group."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from genomflow import paths
from genomflow.sheets import Cohort

#: Default of ``sv.pon_min_normals``: WGS normals a batch needs for an SV panel of normals.
PON_MIN_NORMALS = 3


@dataclass(frozen=True)
class SvSetup:
    """The SV plan of a batch: calling group -> its WGS germline samples, WGS tumour -> its
    matched normal (None: tumour-only), and the batch's SV panel of normals (its WGS normals
    when there are enough; empty: a tumour-only sample's SVs are unfiltered and flagged)."""

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tumours: dict[str, str | None] = field(default_factory=dict)
    pon: tuple[str, ...] = ()

    def controls(self, tumour: str) -> tuple[str, ...]:
        """The samples a tumour's SVs are filtered against (delly filter -f somatic): its
        matched normal, else the panel of normals (which may be empty).

        >>> plan = SvSetup(tumours={"T": "N", "U": None}, pon=("N", "M", "O"))
        >>> plan.controls("T"), plan.controls("U")
        (('N',), ('N', 'M', 'O'))
        >>> SvSetup(tumours={"U": None}).controls("U")
        ()
        """
        normal = self.tumours[tumour]
        return (normal,) if normal else self.pon

    def calls(self, sample: str) -> str:
        """The BCF a sample's SVs come from: its tumour calls, or its group's."""
        if sample in self.tumours:
            return paths.sv_somatic_calls(sample)
        return paths.sv_calls(self.group_of[sample])

    def somatic_alignments(self, tumour: str, fmt: str) -> list[str]:
        """The tumour's alignment, then its controls' (:meth:`controls`)."""
        return [paths.alignment(s, fmt) for s in (tumour, *self.controls(tumour))]

    def somatic_filter(self, tumour: str) -> str:
        """The tumour and its controls for ``delly filter -f somatic`` (none: empty).

        >>> SvSetup(tumours={"T": None}, pon=("A", "B", "C")).somatic_filter("T")
        'T A B C'
        >>> SvSetup(tumours={"T": None}).somatic_filter("T")
        ''
        """
        controls = self.controls(tumour)
        return " ".join((tumour, *controls)) if controls else ""

    def somatic_options(self, tumour: str) -> str:
        """``genomflow sv deliver`` options of a tumour: its matched normal, or the panel of
        normals it was filtered against, or neither (unfiltered).

        >>> SvSetup(tumours={"T": "N", "U": None}).somatic_options("T")
        '--somatic --normal N'
        >>> SvSetup(tumours={"U": None}, pon=("A", "B", "C")).somatic_options("U")
        '--somatic --pon A,B,C'
        >>> SvSetup(tumours={"U": None}).somatic_options("U")
        '--somatic'
        """
        normal = self.tumours[tumour]
        if normal:
            return f"--somatic --normal {normal}"
        return "--somatic" + (f" --pon {','.join(self.pon)}" if self.pon else "")

    @functools.cached_property
    def group_of(self) -> dict[str, str]:
        """Sample -> its calling group, built once: the workflow asks it for every job it
        plans (rebuilt each time, it made planning quadratic in the batch size)."""
        return {s: g for g, members in self.groups.items() for s in members}

    def deliverables(self, sample: str) -> list[str]:
        if sample not in self.group_of and sample not in self.tumours:
            return []
        vcf = paths.deliverable(sample, ".sv.vcf.gz")
        return [vcf, f"{vcf}.tbi"]

    def group_alignments(self, group: str, fmt: str) -> list[str]:
        return [paths.alignment(s, fmt) for s in self.groups[group]]


def setup(
    cohort: Cohort, groups: dict[str, tuple[str, ...]], pon_min_normals: int = PON_MIN_NORMALS
) -> SvSetup:
    """The germline calling ``groups`` restricted to their WGS members, the WGS tumours with
    their matched normals, and the SV panel of normals: the batch's WGS normal samples when
    there are at least ``pon_min_normals`` of them (and a tumour-only WGS tumour to use it).
    Panel samples get no SV calls."""
    wgs: dict[str, tuple[str, ...]] = {}
    for group, members in groups.items():
        kept = tuple(s for s in members if cohort.samples[s].assay == "wgs")
        if kept:
            wgs[group] = kept
    tumours = {
        s.sample: s.matched_normal
        for s in cohort.samples.values()
        if s.type == "tumour" and s.assay == "wgs"
    }
    normals = tuple(
        s.sample for s in cohort.samples.values() if s.type == "normal" and s.assay == "wgs"
    )
    tumour_only = any(normal is None for normal in tumours.values())
    pon = normals if tumour_only and len(normals) >= pon_min_normals else ()
    return SvSetup(wgs, tumours, pon)
