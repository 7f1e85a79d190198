"""Microsatellite instability in the manner of MSIsensor (Niu et al. 2014, Bioinformatics
30:1015) and MSIsensor-pro (Jia et al. 2020, Genomics Proteomics Bioinformatics 18:65).

1. **Scan** (:func:`scan_sites`): the microsatellites of the reference inside the targets
   (or the genome): homopolymers of at least ``min_homopolymer`` bases and repeats of a 2-5
   base unit with at least ``min_repeats`` copies, with ``flank`` unique bases on each side
   inside the same target.
2. **Length distributions** (:func:`site_lengths`): for every read that spans a site with its
   flanks (mapping quality ≥ ``min_mapping_quality``, one read per fragment, no duplicates,
   secondary or supplementary alignments), the repeat's length in the read: the reference
   length plus the insertions and minus the deleted bases the read's CIGAR places inside it.
3. **Per-site test** (:func:`call_msi`): the tumour's distribution against the matched
   normal's (or, for a tumour-only sample, against the baseline: the pooled distributions of
   the batch's normals): Pearson's chi-square test of the 2 x lengths table, and the total
   variation distance between the two distributions (half the sum of the absolute
   differences of the length frequencies). A site is *unstable* when its Benjamini-Hochberg
   q-value is below ``alpha`` and the distance at least ``min_distance`` (a significant but
   tiny shift at high depth is stutter, not instability). Sites with fewer than ``min_reads``
   reads in either are not evaluable.
4. **Call**: the share of unstable sites among the evaluable ones; MSI-H at or above
   ``threshold``, MSS below. Fewer than ``min_sites`` evaluable sites: not assessable, with
   the reason (as is a panel without microsatellites, or a tumour with neither a matched
   normal nor a baseline).
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.tsv import read_table

ASSESSED = "assessed"
NOT_ASSESSABLE = "not_assessable"
MSI_H = "MSI-H"
MSS = "MSS"
PAIRED = "paired"
BASELINE = "baseline"
SITE_COLUMNS = ("chrom", "start", "end", "unit", "copies", "left_flank", "right_flank")
#: Reads not counted: unmapped, secondary, QC-failed, duplicate, supplementary.
_SKIP_FLAGS = 0x4 | 0x100 | 0x200 | 0x400 | 0x800
_CIGAR_ALIGNED = (0, 7, 8)  # M, =, X
_CIGAR_INSERTION = 1
_CIGAR_DELETION = 2
_CIGAR_REF_SKIP = (2, 3)  # D, N consume the reference only


@dataclass(frozen=True)
class Site:
    """A microsatellite: ``[start, end)`` on ``chrom`` (0-based), its unit and copies."""

    chrom: str
    start: int
    end: int
    unit: str
    copies: int
    left_flank: str = ""
    right_flank: str = ""

    @property
    def name(self) -> str:
        return f"{self.chrom}:{self.start + 1}-{self.end}:{self.unit}x{self.copies}"

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class MsiSettings:
    """The method's parameters (config section ``msi``)."""

    min_homopolymer: int = 5
    min_repeats: int = 3
    max_unit: int = 5
    flank: int = 5
    min_reads: int = 20
    min_mapping_quality: int = 20
    alpha: float = 0.05
    min_distance: float = 0.1
    threshold: float = 0.2
    min_sites: int = 3


def settings_options(config: Mapping[str, Any]) -> str:
    """Command-line options of the method from the config's ``msi`` section.

    >>> settings_options({"min_homopolymer": 5, "threshold": 0.2})
    '--min-homopolymer 5 --threshold 0.2'
    """
    names = [f.name for f in dataclasses.fields(MsiSettings)]
    return " ".join(f"--{n.replace('_', '-')} {config[n]}" for n in names if n in config)


# --- scanning ----------------------------------------------------------------------------
def _minimal_unit(unit: str) -> str:
    """The shortest period of a repeat unit.

    >>> _minimal_unit("ATAT"), _minimal_unit("AAA"), _minimal_unit("AC")
    ('AT', 'A', 'AC')
    """
    for k in range(1, len(unit)):
        if len(unit) % k == 0 and unit[:k] * (len(unit) // k) == unit:
            return unit[:k]
    return unit


def find_repeats(seq: str, settings: MsiSettings) -> list[tuple[int, int, str]]:
    """``(start, end, unit)`` of the microsatellites of ``seq`` (upper case, 0-based),
    longest first among overlapping ones, returned in position order.

    >>> find_repeats("GCAAAAAAAAGTCACACACACAGG", MsiSettings())
    [(2, 10, 'A'), (12, 22, 'CA')]
    >>> find_repeats("GCAAAAGTCACAGG", MsiSettings())
    []
    """
    found: list[tuple[int, int, str]] = []
    n = len(seq)
    for k in range(1, settings.max_unit + 1):
        need = settings.min_homopolymer if k == 1 else settings.min_repeats * k
        i = 0
        while i + k < n:
            j = i
            while j + k < n and seq[j] == seq[j + k]:
                j += 1
            span = j - i + k  # seq[i : j + k] has period k
            unit = seq[i : i + k]
            if (
                j > i
                and span >= need
                and "N" not in unit
                and (k == 1 or _minimal_unit(unit) == unit)
            ):
                copies = span // k
                found.append((i, i + copies * k, unit))
            i = max(j, i + 1)
    found.sort(key=lambda r: (-(r[1] - r[0]), r[0]))
    kept: list[tuple[int, int, str]] = []
    for start, end, unit in found:
        if all(end <= s or e <= start for s, e, _ in kept):
            kept.append((start, end, unit))
    return sorted(kept)


def scan_sites(
    fasta: Path, regions: Iterable[tuple[str, int, int]], settings: MsiSettings
) -> list[Site]:
    """The microsatellites inside ``regions`` with ``settings.flank`` bases on each side in
    the same region, in region order."""
    sites: list[Site] = []
    try:
        reference = pysam.FastaFile(os.fspath(fasta))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{fasta}: cannot read the reference ({err})") from None
    with reference:
        for chrom, start, end in regions:
            seq = reference.fetch(chrom, start, end).upper()
            for rs, re_, unit in find_repeats(seq, settings):
                if rs < settings.flank or re_ + settings.flank > len(seq):
                    continue
                sites.append(
                    Site(
                        chrom,
                        start + rs,
                        start + re_,
                        unit,
                        (re_ - rs) // len(unit),
                        seq[rs - settings.flank : rs],
                        seq[re_ : re_ + settings.flank],
                    )
                )
    return sites


def write_sites(path: Path, sites: Sequence[Site]) -> None:
    atomic.write_tsv(path, SITE_COLUMNS, ([getattr(s, c) for c in SITE_COLUMNS] for s in sites))


def read_sites(path: Path) -> list[Site]:
    header, rows = read_table(path, "the microsatellite table", rectangular=True)
    if tuple(header) != SITE_COLUMNS:
        raise GenomflowError(
            f"{path}: not a microsatellite table (columns {', '.join(SITE_COLUMNS)})"
        )
    try:
        return [
            Site(
                row["chrom"],
                int(row["start"]),
                int(row["end"]),
                row["unit"],
                int(row["copies"]),
                row["left_flank"],
                row["right_flank"],
            )
            for row in rows
        ]
    except ValueError as err:
        raise GenomflowError(f"{path}: not a microsatellite table ({err})") from None


# --- read lengths ------------------------------------------------------------------------
def repeat_length_in_read(read: Any, site: Site, flank: int) -> int | None:
    """The site's repeat length in ``read``, or None when the read does not span the site
    and its flanks with aligned bases (a soft clip or a reference skip inside does not
    span)."""
    if read.reference_start > site.start - flank or read.reference_end is None:
        return None
    if read.reference_end < site.end + flank:
        return None
    length = site.length
    pos = read.reference_start
    for op, size in read.cigartuples or ():
        if op in _CIGAR_ALIGNED:
            pos += size
        elif op == _CIGAR_INSERTION:
            # An insertion before reference base ``pos``: inside when between the repeat's
            # first base and the base after its last (left- or right-aligned).
            if site.start <= pos <= site.end:
                length += size
        elif op in _CIGAR_REF_SKIP:
            overlap = min(pos + size, site.end) - max(pos, site.start)
            if op == 3 and pos < site.end + flank and pos + size > site.start - flank:
                return None
            if op == _CIGAR_DELETION and overlap > 0:
                length -= overlap
            pos += size
    return length


def site_lengths(
    bam: Path, sites: Sequence[Site], settings: MsiSettings, reference: Path | None = None
) -> dict[str, Counter[int]]:
    """Site name -> repeat lengths counted over the reads (one per fragment)."""
    options: dict[str, Any] = {"reference_filename": os.fspath(reference)} if reference else {}
    try:
        alignments = pysam.AlignmentFile(os.fspath(bam), **options)
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{bam}: cannot read the alignments ({err})") from None
    out: dict[str, Counter[int]] = {}
    with alignments:
        known = set(alignments.references)
        for site in sites:
            counts: Counter[int] = Counter()
            seen: set[str] = set()
            if site.chrom in known:
                for read in alignments.fetch(site.chrom, site.start, site.end):
                    if (
                        read.flag & _SKIP_FLAGS
                        or read.mapping_quality < settings.min_mapping_quality
                    ):
                        continue
                    if read.query_name in seen:
                        continue
                    length = repeat_length_in_read(read, site, settings.flank)
                    if length is not None:
                        seen.add(str(read.query_name))
                        counts[length] += 1
            out[site.name] = counts
    return out


# --- the per-site test and the call --------------------------------------------------------
def distance(a: Mapping[int, int], b: Mapping[int, int]) -> float:
    """Total variation distance between two length distributions (0 to 1).

    >>> distance({10: 80, 9: 20}, {10: 100})
    0.2
    """
    ta, tb = sum(a.values()), sum(b.values())
    if not ta or not tb:
        return 0.0
    keys = set(a) | set(b)
    return round(0.5 * sum(abs(a.get(k, 0) / ta - b.get(k, 0) / tb) for k in keys), 6)


def chi_square_p(a: Mapping[int, int], b: Mapping[int, int]) -> float:
    """Pearson's chi-square p-value of the 2 x lengths table (1.0 when one length only).

    >>> round(chi_square_p({10: 50, 9: 50}, {10: 100}), 8)
    0.0
    >>> chi_square_p({10: 30}, {10: 40})
    1.0
    """
    keys = sorted(set(a) | set(b))
    if len(keys) < 2:
        return 1.0
    table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]])
    from scipy.stats import chi2_contingency  # 1 s to import; the workflow plans without it

    return float(chi2_contingency(table, correction=False)[1])


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values, in the order given.

    >>> benjamini_hochberg([0.01, 0.02, 0.03, 0.5])
    [0.04, 0.04, 0.04, 0.5]
    """
    n = len(p_values)
    order = sorted(range(n), key=lambda i: p_values[i])
    q = [0.0] * n
    running = 1.0
    for rank in range(n, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * n / rank)
        q[i] = round(running, 12)
    return q


@dataclass
class SiteResult:
    site: str
    tumour_reads: int
    normal_reads: int
    evaluable: bool
    p_value: float | None = None
    q_value: float | None = None
    distance: float | None = None
    unstable: bool = False


@dataclass
class MsiResult:
    sample: str
    status: str
    call: str | None
    unstable_share: float | None
    sites_total: int
    sites_evaluable: int
    sites_unstable: int
    mode: str | None
    threshold: float
    reason: str | None = None
    comparison: str | None = None
    settings: MsiSettings = field(default_factory=MsiSettings)
    sites: list[SiteResult] = field(default_factory=list)
    method: str = (
        "MSIsensor-style: repeat-length distributions of tumour vs matched normal (or the "
        "batch's normals), chi-square with Benjamini-Hochberg q < alpha and total variation "
        "distance >= min_distance per site; MSI-H when the unstable share >= threshold"
    )

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return data


def call_msi(
    sample: str,
    sites: Sequence[Site],
    tumour: Mapping[str, Counter[int]],
    normal: Mapping[str, Counter[int]] | None,
    settings: MsiSettings,
    mode: str,
    comparison: str,
) -> MsiResult:
    """Compare a tumour's length distributions with the normal's (or the baseline's)."""

    def unassessable(reason: str, results: list[SiteResult] | None = None) -> MsiResult:
        results = results or []
        return MsiResult(
            sample=sample,
            status=NOT_ASSESSABLE,
            call=None,
            unstable_share=None,
            sites_total=len(sites),
            sites_evaluable=sum(r.evaluable for r in results),
            sites_unstable=0,
            mode=mode if normal is not None else None,
            threshold=settings.threshold,
            reason=reason,
            comparison=comparison,
            settings=settings,
            sites=results,
        )

    if not sites:
        return unassessable("no microsatellites inside the targets")
    if normal is None:
        return unassessable(
            "no matched normal and no baseline of normals of the same panel: MSI needs one"
        )
    results: list[SiteResult] = []
    for site in sites:
        t, n = tumour.get(site.name, Counter()), normal.get(site.name, Counter())
        tn, nn = sum(t.values()), sum(n.values())
        enough = tn >= settings.min_reads and nn >= settings.min_reads
        result = SiteResult(site.name, tn, nn, enough)
        if enough:
            result.p_value = chi_square_p(t, n)
            result.distance = distance(t, n)
        results.append(result)
    evaluable = [r for r in results if r.evaluable]
    if len(evaluable) < settings.min_sites:
        return unassessable(
            f"{len(evaluable)} of {len(sites)} microsatellites have {settings.min_reads} reads "
            f"in both samples; at least {settings.min_sites} are needed",
            results,
        )
    q_values = benjamini_hochberg([float(r.p_value or 1.0) for r in evaluable])
    for result, q in zip(evaluable, q_values, strict=True):
        result.q_value = q
        result.unstable = (
            q < settings.alpha and float(result.distance or 0) >= settings.min_distance
        )
    unstable = sum(r.unstable for r in evaluable)
    share = round(unstable / len(evaluable), 4)
    return MsiResult(
        sample=sample,
        status=ASSESSED,
        call=MSI_H if share >= settings.threshold else MSS,
        unstable_share=share,
        sites_total=len(sites),
        sites_evaluable=len(evaluable),
        sites_unstable=unstable,
        mode=mode,
        threshold=settings.threshold,
        comparison=comparison,
        settings=settings,
        sites=results,
    )


def pooled(distributions: Iterable[Mapping[str, Counter[int]]]) -> dict[str, Counter[int]]:
    """The baseline: the normals' length counts summed per site."""
    out: dict[str, Counter[int]] = {}
    for one in distributions:
        for name, counts in one.items():
            out.setdefault(name, Counter()).update(counts)
    return out


def write_baseline(path: Path, normals: Mapping[str, Mapping[str, Counter[int]]]) -> None:
    """The batch's normals' length distributions (JSON: normal -> site -> length -> reads)."""
    data = {
        sample: {site: {str(k): v for k, v in sorted(c.items())} for site, c in sites.items()}
        for sample, sites in normals.items()
    }
    atomic.write_text(path, json.dumps({"normals": data}, indent=1) + "\n")


def read_baseline(path: Path) -> tuple[list[str], dict[str, Counter[int]]]:
    """(normals, pooled distributions) of a baseline file."""
    try:
        data = json.loads(path.read_text())
        normals = data["normals"]
        distributions = [
            {site: Counter({int(k): int(v) for k, v in c.items()}) for site, c in sites.items()}
            for sites in normals.values()
        ]
    except (OSError, json.JSONDecodeError, KeyError, AttributeError, ValueError) as err:
        raise GenomflowError(f"{path}: not an MSI baseline ({err})") from None
    return list(normals), pooled(distributions)
