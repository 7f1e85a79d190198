"""ACMG/AMP criteria that genomflow decides automatically, and the provisional class.

Only criteria that follow from data the pipeline holds are decided (Richards et al. 2015,
Genet Med 17:405; thresholds as ClinGen SVI recommends where noted). PP5 and BP6 (reputable
source) are not used. Everything else is left to the clinical scientist.

* **PVS1**: a null variant (stop gained, frameshift, canonical splice site, start lost) in
  a gene where loss of function is a known disease mechanism. genomflow takes that from a
  gene panel row (``mechanism`` = ``LoF``) or, without one, from the HPO annotation of the
  gene with autosomal or X-linked *recessive* inheritance (recessive disease genes act by
  loss of function in the great majority; dominant genes may be gain of function or
  dominant negative, so a null variant there does not get PVS1 without a panel saying so).
* **PM2**: absent from the population data (only decided when population data are
  configured; "absent" = no allele in the population VCF, or allele frequency 0).
* **PS2** / **PM6**: de novo (both parents sequenced and homozygous reference) with parentage
  confirmed by the identity check (PS2), or assumed (PM6).
* **PM3**: in a recessive gene, in trans with a (likely) pathogenic variant: the other
  variant of a compound-heterozygous pair phased by the parents' genotypes is ClinVar
  pathogenic / likely pathogenic or itself gets PVS1.
* **BA1**: population allele frequency above 5 %. **BS1**: above the disorder's expected
  frequency (``bs1_af``, default 1 %) but not BA1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PVS1 = "PVS1"
PS2 = "PS2"
PM2 = "PM2"
PM3 = "PM3"
PM6 = "PM6"
BA1 = "BA1"
BS1 = "BS1"

PATHOGENIC = "pathogenic"
LIKELY_PATHOGENIC = "likely_pathogenic"
UNCERTAIN = "uncertain_significance"
LIKELY_BENIGN = "likely_benign"
BENIGN = "benign"

#: Default thresholds (allele frequency).
BA1_AF = 0.05
BS1_AF = 0.01


@dataclass(frozen=True)
class Evidence:
    """What the criteria are decided from."""

    null_variant: bool
    lof_mechanism: bool
    population_checked: bool
    population_af: float | None
    de_novo: bool
    parentage_confirmed: bool
    in_trans_with_pathogenic: bool


def criteria(evidence: Evidence, *, ba1_af: float = BA1_AF, bs1_af: float = BS1_AF) -> list[str]:
    """The criteria met, in the order PVS1, PS2, PM2, PM3, PM6, BA1, BS1.

    >>> criteria(Evidence(True, True, True, None, False, False, False))
    ['PVS1', 'PM2']
    """
    met: list[str] = []
    af = evidence.population_af
    if evidence.null_variant and evidence.lof_mechanism:
        met.append(PVS1)
    if evidence.de_novo and evidence.parentage_confirmed:
        met.append(PS2)
    if evidence.population_checked and (af is None or af == 0):
        met.append(PM2)
    if evidence.in_trans_with_pathogenic:
        met.append(PM3)
    if evidence.de_novo and not evidence.parentage_confirmed:
        met.append(PM6)
    if evidence.population_checked and af is not None:
        if af > ba1_af:
            met.append(BA1)
        elif af > bs1_af:
            met.append(BS1)
    return met


def classify(met: Iterable[str]) -> str:
    """The provisional class from the criteria met (the 2015 combining rules).

    With pathogenic and benign evidence both present the class is uncertain significance.

    >>> classify(["PS2", "PM2"])
    'likely_pathogenic'
    >>> classify(["PVS1", "PM2", "PM3"])
    'pathogenic'
    """
    codes = list(met)
    very_strong = sum(code.startswith("PVS") for code in codes)
    strong = sum(code.startswith("PS") for code in codes)
    moderate = sum(code.startswith("PM") for code in codes)
    supporting = sum(code.startswith("PP") for code in codes)
    stand_alone = sum(code.startswith("BA") for code in codes)
    benign_strong = sum(code.startswith("BS") for code in codes)
    benign_supporting = sum(code.startswith("BP") for code in codes)

    pathogenic = (
        (very_strong >= 1 and (strong >= 1 or moderate >= 2 or (moderate == 1 and supporting == 1)))
        or (very_strong >= 1 and supporting >= 2)
        or strong >= 2
        or (
            strong == 1
            and (
                moderate >= 3
                or (moderate == 2 and supporting >= 2)
                or (moderate == 1 and supporting >= 4)
            )
        )
    )
    likely_pathogenic = (
        (very_strong >= 1 and moderate == 1)
        or (strong == 1 and moderate in (1, 2))
        or (strong == 1 and supporting >= 2)
        or moderate >= 3
        or (moderate == 2 and supporting >= 2)
        or (moderate == 1 and supporting >= 4)
    )
    benign = stand_alone >= 1 or benign_strong >= 2
    likely_benign = (benign_strong == 1 and benign_supporting >= 1) or benign_supporting >= 2

    if (pathogenic or likely_pathogenic) and (benign or likely_benign):
        return UNCERTAIN
    if pathogenic:
        return PATHOGENIC
    if likely_pathogenic:
        return LIKELY_PATHOGENIC
    if benign:
        return BENIGN
    if likely_benign:
        return LIKELY_BENIGN
    return UNCERTAIN
