"""Which samples get structural variants: the germline WGS samples, by calling group."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

from genomflow import paths
from genomflow.sheets import Cohort


@dataclass(frozen=True)
class SvSetup:
    """The SV plan of a batch: calling group -> its WGS germline samples, and WGS tumour ->
    its matched normal (None: tumour-only, unfiltered and flagged)."""

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    tumours: dict[str, str | None] = field(default_factory=dict)

    def calls(self, sample: str) -> str:
        """The BCF a sample's SVs come from: its tumour calls, or its group's."""
        if sample in self.tumours:
            return paths.sv_somatic_calls(sample)
        return paths.sv_calls(self.group_of[sample])

    def somatic_alignments(self, tumour: str, fmt: str) -> list[str]:
        """The tumour's alignment, then its matched normal's (if any)."""
        normal = self.tumours[tumour]
        return [paths.alignment(s, fmt) for s in (tumour, normal) if s]

    def somatic_options(self, tumour: str) -> str:
        """``genomflow sv deliver`` options of a tumour: its matched normal, if any.

        >>> SvSetup(tumours={"T": "N", "U": None}).somatic_options("T")
        '--somatic --normal N'
        >>> SvSetup(tumours={"U": None}).somatic_options("U")
        '--somatic'
        """
        normal = self.tumours[tumour]
        return "--somatic" + (f" --normal {normal}" if normal else "")

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


def setup(cohort: Cohort, groups: dict[str, tuple[str, ...]]) -> SvSetup:
    """The germline calling ``groups`` restricted to their WGS members, and the WGS tumours
    with their matched normals. Panel samples get no SV calls."""
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
    return SvSetup(wgs, tumours)
