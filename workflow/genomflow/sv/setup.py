"""Which samples get structural variants: the germline WGS samples, by calling group."""

from __future__ import annotations

from dataclasses import dataclass, field

from genomflow import paths
from genomflow.sheets import Cohort


@dataclass(frozen=True)
class SvSetup:
    """The SV plan of a batch: calling group -> its WGS germline samples."""

    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def group_of(self) -> dict[str, str]:
        return {s: g for g, members in self.groups.items() for s in members}

    def deliverables(self, sample: str) -> list[str]:
        if sample not in self.group_of:
            return []
        vcf = paths.deliverable(sample, ".sv.vcf.gz")
        return [vcf, f"{vcf}.tbi"]

    def group_alignments(self, group: str, fmt: str) -> list[str]:
        return [paths.alignment(s, fmt) for s in self.groups[group]]


def setup(cohort: Cohort, groups: dict[str, tuple[str, ...]]) -> SvSetup:
    """The germline calling ``groups`` restricted to their WGS members.

    Tumours and panel samples get no SV calls yet (somatic SVs with ``delly filter -f
    somatic`` and panels are not built).
    """
    wgs: dict[str, tuple[str, ...]] = {}
    for group, members in groups.items():
        kept = tuple(s for s in members if cohort.samples[s].assay == "wgs")
        if kept:
            wgs[group] = kept
    return SvSetup(wgs)
