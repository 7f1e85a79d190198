"""What a report's calls say, checked before anything is written (issue #14).

The schema checks each field on its own; these checks look at a call as a whole:

* REF differs from ALT (a call REF = ALT is no variant; its VRS id can only be another's);
* numbers are finite (JSON has no NaN; :func:`genomflow.report.validate.read_report` refuses
  ``NaN`` and ``Infinity`` tokens already, this catches any other way in);
* a germline genotype fits the sample's ploidy: at most two alleles; one allele (haploid)
  only on the X or Y of a male sample; no call on Y in a female sample; ``hemi`` zygosity
  only with one allele (somatic calls have no genotype: a tumour's copy number is its own);
* the VRS id is the allele's: recomputed for every call up to :data:`VRS_CHECKS`, else for an
  even sample of that many. Plain substitutions need no reference; other alleles are
  recomputed when the reference FASTA is given (``genomflow load --reference``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from genomflow.errors import GenomflowError

#: Calls whose VRS ids are recomputed per report (all of them in a smaller report).
VRS_CHECKS = 10_000
#: Contig names of the sex chromosomes.
X_NAMES: frozenset[str] = frozenset({"X", "chrX"})
Y_NAMES: frozenset[str] = frozenset({"Y", "chrY"})
_ALLELES = re.compile(r"[/|]")


class ContentError(GenomflowError):
    """A call whose content cannot be right; nothing is loaded."""


def call_text(v: dict[str, Any]) -> str:
    return f"{v['origin']} call {v['chrom']}:{v['pos']}:{v['ref']}:{v['alt']}"


def check_numbers(path: Path, v: dict[str, Any]) -> None:
    for field in ("vaf", "quality"):
        value = v[field]
        if isinstance(value, float) and not math.isfinite(value):
            raise ContentError(f"{path}: {call_text(v)}: {field} is {value}, not a number")


def ploidy_problem(sex: str, chrom: str, genotype: str | None, zygosity: str | None) -> str | None:
    """What is wrong with a genotype for a sample of ``sex`` on ``chrom``; None if nothing.

    >>> ploidy_problem("female", "chr1", "0/1", "het") is None
    True
    >>> ploidy_problem("male", "chrX", "1", "hemi") is None
    True
    >>> ploidy_problem("female", "chrX", "1", "hemi")
    "haploid genotype '1' on chrX, where a female sample has two copies"
    >>> ploidy_problem("female", "chrY", "0/1", "het")
    'a call on chrY in a female sample'
    >>> ploidy_problem("male", "chr2", "0/1/1", None)
    "genotype '0/1/1' has 3 alleles; at most 2"
    """
    if genotype is None:  # a somatic call: the tumour's copy number is not the sample's
        return None
    if sex == "female" and chrom in Y_NAMES:
        return f"a call on {chrom} in a female sample"
    alleles = len(_ALLELES.split(genotype))
    if alleles > 2:
        return f"genotype {genotype!r} has {alleles} alleles; at most 2"
    haploid_here = sex == "male" and chrom in X_NAMES | Y_NAMES
    if alleles == 1 and not haploid_here:
        copies = "two copies" if sex != "unknown" else "two copies (sex unknown)"
        return f"haploid genotype {genotype!r} on {chrom}, where a {sex} sample has {copies}"
    if zygosity == "hemi" and alleles != 1:
        return f"zygosity hemi with the diploid genotype {genotype!r}"
    return None


def checked_indices(count: int, limit: int = VRS_CHECKS) -> range:
    """Indices of the calls whose VRS ids are recomputed: all, or an even sample of ``limit``.

    >>> checked_indices(3), checked_indices(25_000, 10_000)
    (range(0, 3), range(0, 25000, 3))
    """
    return range(count) if count <= limit else range(0, count, -(-count // limit))


def _expected_id(
    v: dict[str, Any], refgets: dict[str, str], proxy: Any | None
) -> str | bool | None:
    """The VRS id the call should have; False when it cannot be computed here."""
    from genomflow.report.vrs import (
        allele_id,
        is_plain_substitution,
        is_sequence_allele,
        substitution_id,
    )

    ref, alt = v["ref"], v["alt"]
    if not is_sequence_allele(ref, alt):
        return None
    if is_plain_substitution(ref, alt):
        return substitution_id(refgets[v["chrom"]], v["pos"], ref, alt)
    if proxy is None:
        return False
    return allele_id(proxy, v["chrom"], v["pos"], ref, alt)


def check_vrs_ids(path: Path, report: dict[str, Any], proxy: Any | None = None) -> int:
    """Recompute the VRS ids of the calls :func:`checked_indices` picks; the number checked."""
    contigs = report["provenance"]["reference"]["contigs"]
    refgets = {c["name"]: f"{c['refget']}" for c in contigs}
    variants: Sequence[dict[str, Any]] = report["variants"]
    checked = 0
    for index in checked_indices(len(variants)):
        v = variants[index]
        try:
            expected = _expected_id(v, refgets, proxy)
        except GenomflowError as err:
            raise ContentError(f"{path}: {call_text(v)}: {err}") from None
        if expected is False:
            continue
        checked += 1
        if expected != v["vrs_id"]:
            raise ContentError(
                f"{path}: {call_text(v)}: VRS id {v['vrs_id']} is not the allele's "
                f"(recomputed: {expected})"
            )
    return checked


def check_content(path: Path, report: dict[str, Any], proxy: Any | None = None) -> None:
    """Every check of the module doc; :class:`ContentError` names the report and the call."""
    sex = report["sample"]["sex"]
    for v in report["variants"]:
        if v["ref"] == v["alt"]:
            raise ContentError(f"{path}: {call_text(v)}: REF equals ALT, not a variant")
        check_numbers(path, v)
        problem = ploidy_problem(sex, v["chrom"], v["genotype"], v["zygosity"])
        if problem is not None:
            raise ContentError(f"{path}: {call_text(v)}: {problem}")
    check_vrs_ids(path, report, proxy)
