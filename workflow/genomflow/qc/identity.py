"""Sample identity: genotypes at common SNP sites, pairwise relatedness, checked against the sheet.

Each sample is piled up at the identity sites (``bcftools mpileup -R sites -a AD``); a site's
genotype is called from the allele fraction when its depth is at least ``min_depth``
(``qc.identity`` in the config): hom-ref up to ``hom_max_fraction``, het between
``het_min_fraction`` and ``1 - het_min_fraction``, hom-alt from ``1 - hom_max_fraction``, no call
in between. Only autosomal sites are used.

For every pair of samples, over the sites called in both: the genotype discordance, the
fraction of opposite homozygotes (IBS0) and the KING-robust kinship coefficient
``(N_het,het - 2 N_opposite_hom) / (N_het(a) + N_het(b))``: 0.5 for the same person, 0.25 for
parent/child and full siblings, 0.125 for second degree, about 0 for unrelated people. The
observed relation follows the KING cut-offs (``qc.identity.kinship``). Whether two samples are
one person is clear from a few sites (``min_sites``, 15 by default: unrelated people share all
genotypes at 15 common SNPs with a chance of about one in a million), the degree of
relatedness needs more (``min_sites_relatedness``); a panel sample often has only the few
sites in and near its targets.

The expected relation comes from the sheet: samples of one patient (tumour, normal, plasma
timepoints, repeats) are the same person; a patient and the patient of its ``father`` or
``mother`` sample are first degree, so are full siblings; half siblings and grandparents are
second degree; other members of one ``family`` are relatives of unknown degree; everyone else is
unrelated. A pair that should be one person but is not, or should be two people but is one, is
FAIL (a swap), naming both samples; so is a declared parent or sibling who is unrelated.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pysam

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.qc.checks import Check, Status, worst
from genomflow.qc.metrics import autosomes
from genomflow.sheets import Cohort
from genomflow.tsv import read_table

IDENTITY_CHECK = "identity"

IDENTICAL = "identical"
FIRST_DEGREE = "first_degree"
SECOND_DEGREE = "second_degree"
FAMILY = "family"
UNRELATED = "unrelated"
#: Observed when too few sites tell the degree of relatedness, only that two are not one.
NOT_IDENTICAL = "not_identical"
NOT_ASSESSED = "not_assessed"
#: Relations, closest first (``family``: relatives of a degree the sheet does not tell).
RELATIONS: tuple[str, ...] = (IDENTICAL, FIRST_DEGREE, SECOND_DEGREE, FAMILY, UNRELATED)

SiteKey = tuple[str, int]

#: Columns of the pairs table, in order.
PAIR_COLUMNS: tuple[str, ...] = (
    "sample_a",
    "sample_b",
    "expected",
    "observed",
    "status",
    "sites",
    "kinship",
    "discordance",
    "ibs0",
    "reason",
)


@dataclass(frozen=True)
class IdentityConfig:
    """``qc.identity`` of the config."""

    min_depth: int = 10
    hom_max_fraction: float = 0.1
    het_min_fraction: float = 0.25
    min_sites: int = 15
    min_sites_relatedness: int = 100
    identical_min: float = 0.354
    first_degree_min: float = 0.177
    second_degree_min: float = 0.0884

    @classmethod
    def from_config(cls, identity: Mapping[str, Any]) -> IdentityConfig:
        kinship = identity.get("kinship", {})
        return cls(
            min_depth=int(identity.get("min_depth", cls.min_depth)),
            hom_max_fraction=float(identity.get("hom_max_fraction", cls.hom_max_fraction)),
            het_min_fraction=float(identity.get("het_min_fraction", cls.het_min_fraction)),
            min_sites=int(identity.get("min_sites", cls.min_sites)),
            min_sites_relatedness=int(
                identity.get("min_sites_relatedness", cls.min_sites_relatedness)
            ),
            identical_min=float(kinship.get("identical_min", cls.identical_min)),
            first_degree_min=float(kinship.get("first_degree_min", cls.first_degree_min)),
            second_degree_min=float(kinship.get("second_degree_min", cls.second_degree_min)),
        )


@dataclass(frozen=True)
class Site:
    """A biallelic SNP identity site."""

    chrom: str
    pos: int
    ref: str
    alt: str

    @property
    def key(self) -> SiteKey:
        return (self.chrom, self.pos)


# --- sites and genotypes ---------------------------------------------------------------------


def read_sites(path: Path, x: str, y: str) -> list[Site]:
    """The autosomal biallelic SNPs of an identity-sites VCF."""
    try:
        with pysam.VariantFile(str(path)) as reader:
            records = [
                Site(r.chrom, r.pos, r.ref.upper(), r.alts[0].upper())
                for r in reader
                if r.ref is not None
                and r.alts is not None
                and len(r.alts) == 1
                and len(r.ref) == 1
                and len(r.alts[0]) == 1
            ]
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read identity sites VCF ({err})") from None
    kept = set(autosomes(list(dict.fromkeys(site.chrom for site in records)), x, y))
    sites = [site for site in records if site.chrom in kept]
    if not sites:
        raise GenomflowError(f"{path}: no autosomal biallelic SNPs to check identity with")
    return sites


def read_allele_counts(path: Path, sites: Sequence[Site]) -> dict[SiteKey, tuple[int, int]]:
    """Reads supporting the REF and the ALT of each site, from a ``mpileup -a AD`` VCF."""
    by_key = {site.key: site for site in sites}
    counts: dict[SiteKey, tuple[int, int]] = {}
    try:
        with pysam.VariantFile(str(path)) as reader:
            if len(reader.header.samples) != 1:
                raise GenomflowError(
                    f"{path}: expected one sample, found {len(reader.header.samples)}"
                )
            for record in reader:
                site = by_key.get((record.chrom, record.pos))
                if site is None or record.ref is None or record.ref.upper() != site.ref:
                    continue
                depths = record.samples[0].get("AD")
                if depths is None or None in depths:
                    raise GenomflowError(f"{path}: no FORMAT/AD at {record.chrom}:{record.pos}")
                alleles = [a.upper() for a in record.alleles or ()]
                alt = depths[alleles.index(site.alt)] if site.alt in alleles else 0
                counts[site.key] = (int(depths[0]), int(alt))
    except (OSError, ValueError) as err:
        raise GenomflowError(f"{path}: cannot read identity genotypes ({err})") from None
    return counts


def call_genotype(ref: int, alt: int, config: IdentityConfig) -> int | None:
    """Number of ALT alleles (0, 1, 2) from read counts; None below depth or in between.

    >>> config = IdentityConfig()
    >>> [call_genotype(r, a, config) for r, a in ((20, 0), (11, 9), (0, 15), (15, 4), (3, 2))]
    [0, 1, 2, None, None]
    """
    depth = ref + alt
    if depth < config.min_depth:
        return None
    fraction = alt / depth
    if fraction <= config.hom_max_fraction:
        return 0
    if fraction >= 1 - config.hom_max_fraction:
        return 2
    if config.het_min_fraction <= fraction <= 1 - config.het_min_fraction:
        return 1
    return None


def call_genotypes(
    counts: Mapping[SiteKey, tuple[int, int]], config: IdentityConfig
) -> dict[SiteKey, int]:
    """Called genotypes of one sample (sites with no call left out)."""
    calls = {key: call_genotype(ref, alt, config) for key, (ref, alt) in counts.items()}
    return {key: call for key, call in calls.items() if call is not None}


# --- pairwise relatedness --------------------------------------------------------------------


@dataclass(frozen=True)
class PairStats:
    """Relatedness of two samples over the sites called in both."""

    sites: int
    discordance: float | None
    ibs0: float | None
    kinship: float | None


def compare(a: Mapping[SiteKey, int], b: Mapping[SiteKey, int]) -> PairStats:
    """Discordance, IBS0 and KING-robust kinship of two samples' genotypes.

    >>> same = {("1", i): g for i, g in enumerate([0, 1, 2, 1, 0, 1])}
    >>> compare(same, same)
    PairStats(sites=6, discordance=0.0, ibs0=0.0, kinship=0.5)
    """
    shared = [key for key in a if key in b]
    if not shared:
        return PairStats(0, None, None, None)
    pairs = [(a[key], b[key]) for key in shared]
    discordant = sum(1 for ga, gb in pairs if ga != gb)
    opposite = sum(1 for ga, gb in pairs if abs(ga - gb) == 2)
    het_het = sum(1 for ga, gb in pairs if ga == 1 and gb == 1)
    hets = sum(1 for ga, _ in pairs if ga == 1) + sum(1 for _, gb in pairs if gb == 1)
    kinship = (het_het - 2 * opposite) / hets if hets else None
    n = len(pairs)
    return PairStats(n, discordant / n, opposite / n, kinship)


def observed_relation(kinship: float, config: IdentityConfig) -> str:
    """The relation a kinship coefficient shows (KING cut-offs)."""
    if kinship >= config.identical_min:
        return IDENTICAL
    if kinship >= config.first_degree_min:
        return FIRST_DEGREE
    if kinship >= config.second_degree_min:
        return SECOND_DEGREE
    return UNRELATED


# --- expected relations from the sheet -------------------------------------------------------


@dataclass(frozen=True)
class Pedigree:
    """Patients, their parents (patients) and families, from the sheet."""

    patient_of: dict[str, str]
    parents: dict[str, frozenset[str]]
    families: dict[str, frozenset[str]]

    @classmethod
    def from_cohort(cls, cohort: Cohort) -> Pedigree:
        patient_of = {s.sample: s.patient for s in cohort.samples.values()}
        parents: dict[str, set[str]] = {}
        families: dict[str, set[str]] = {}
        for s in cohort.samples.values():
            parents.setdefault(s.patient, set()).update(
                patient_of[p] for p in (s.father, s.mother) if p is not None and p in patient_of
            )
            if s.family is not None:
                families.setdefault(s.patient, set()).add(s.family)
        return cls(
            patient_of=patient_of,
            parents={p: frozenset(ps) for p, ps in parents.items()},
            families={p: frozenset(fs) for p, fs in families.items()},
        )

    def relation(self, sample_a: str, sample_b: str) -> str:
        """The relation the sheet declares between two samples."""
        a, b = self.patient_of[sample_a], self.patient_of[sample_b]
        if a == b:
            return IDENTICAL
        pa, pb = self.parents.get(a, frozenset()), self.parents.get(b, frozenset())
        if a in pb or b in pa or (len(pa) == 2 and pa == pb):
            return FIRST_DEGREE
        grandparents_a = {g for p in pa for g in self.parents.get(p, frozenset())}
        grandparents_b = {g for p in pb for g in self.parents.get(p, frozenset())}
        if pa & pb or a in grandparents_b or b in grandparents_a:
            return SECOND_DEGREE
        if self.families.get(a, frozenset()) & self.families.get(b, frozenset()):
            return FAMILY
        return UNRELATED


# --- checking pairs and samples --------------------------------------------------------------


@dataclass(frozen=True)
class PairResult:
    """One pair of samples: expected and observed relation, statistics and verdict."""

    sample_a: str
    sample_b: str
    expected: str
    observed: str
    status: Status
    stats: PairStats
    reason: str = ""


_WORDS = {
    NOT_IDENTICAL: "different people",
    IDENTICAL: "the same person",
    FIRST_DEGREE: "first-degree relatives",
    SECOND_DEGREE: "second-degree relatives",
    FAMILY: "relatives",
    UNRELATED: "unrelated",
}


def _verdict(expected: str, observed: str) -> Status:
    if expected == IDENTICAL:
        return Status.PASS if observed == IDENTICAL else Status.FAIL
    if observed == IDENTICAL:
        return Status.FAIL
    if expected in (FIRST_DEGREE, SECOND_DEGREE) and observed == NOT_IDENTICAL:
        return Status.WARN  # relatives, but too few sites to confirm it
    if expected == FIRST_DEGREE:
        return {FIRST_DEGREE: Status.PASS, SECOND_DEGREE: Status.WARN}.get(observed, Status.FAIL)
    if expected == SECOND_DEGREE:
        return Status.PASS if observed == SECOND_DEGREE else Status.WARN
    if expected == UNRELATED and observed == FIRST_DEGREE:
        return Status.WARN
    return Status.PASS


def _evidence(stats: PairStats) -> str:
    kinship = "NA" if stats.kinship is None else f"{stats.kinship:.3f}"
    discordance = "NA" if stats.discordance is None else f"{stats.discordance:.2f}"
    return f"kinship {kinship}, discordance {discordance} over {stats.sites} sites"


def check_pair(
    sample_a: str, sample_b: str, pedigree: Pedigree, stats: PairStats, config: IdentityConfig
) -> PairResult:
    """Compare the observed relation of two samples with the one the sheet declares.

    With fewer than ``min_sites`` shared sites nothing is observed: WARN when the two should
    be one person or relatives (it cannot be confirmed), NA otherwise. With fewer than
    ``min_sites_relatedness`` only "the same person or not" is observed.
    """
    expected = pedigree.relation(sample_a, sample_b)
    if stats.sites < config.min_sites or stats.kinship is None:
        related = expected in (IDENTICAL, FIRST_DEGREE, SECOND_DEGREE)
        return PairResult(
            sample_a,
            sample_b,
            expected,
            NOT_ASSESSED,
            Status.WARN if related else Status.NA,
            stats,
            f"{sample_a} and {sample_b}: too few identity sites called in both "
            f"({stats.sites} < {config.min_sites})",
        )
    observed = observed_relation(stats.kinship, config)
    if stats.sites < config.min_sites_relatedness and observed != IDENTICAL:
        observed = NOT_IDENTICAL
    status = _verdict(expected, observed)
    reason = ""
    if status is not Status.PASS:
        patients = (
            f"both of patient {pedigree.patient_of[sample_a]}"
            if expected == IDENTICAL
            else f"of patients {pedigree.patient_of[sample_a]} and {pedigree.patient_of[sample_b]}"
        )
        swap = " (sample swap?)" if IDENTICAL in (expected, observed) else ""
        reason = (
            f"{sample_a} and {sample_b} ({patients}) should be {_WORDS[expected]} but are "
            f"{_WORDS[observed]}{swap}: {_evidence(stats)}"
        )
    return PairResult(sample_a, sample_b, expected, observed, status, stats, reason)


def check_all_pairs(
    samples: Sequence[str],
    genotypes: Mapping[str, Mapping[SiteKey, int]],
    pedigree: Pedigree,
    config: IdentityConfig,
) -> list[PairResult]:
    """Every pair of ``samples`` (in the given order)."""
    return [
        check_pair(a, b, pedigree, compare(genotypes[a], genotypes[b]), config)
        for a, b in itertools.combinations(samples, 2)
    ]


def sample_checks(
    samples: Sequence[str],
    pairs: Iterable[PairResult],
    called: Mapping[str, int] | None = None,
    config: IdentityConfig | None = None,
) -> dict[str, Check]:
    """Each sample's identity check: the worst of its pairs, naming the other sample(s).

    With ``called`` (sites genotyped per sample) a sample with fewer than ``min_sites`` of
    them is WARN on its own: its identity cannot be checked.
    """
    config = config or IdentityConfig()
    involved: dict[str, list[PairResult]] = {sample: [] for sample in samples}
    for pair in pairs:
        involved[pair.sample_a].append(pair)
        involved[pair.sample_b].append(pair)
    checks: dict[str, Check] = {}
    for sample, own in involved.items():
        sites = None if called is None else called.get(sample, 0)
        few = sites is not None and sites < config.min_sites
        status = worst([*(pair.status for pair in own), *([Status.WARN] if few else [])])
        reasons = (
            [
                f"only {sites} identity sites genotyped in {sample} (at least {config.min_sites} "
                f"with depth ≥ {config.min_depth} needed)"
            ]
            if few and status is Status.WARN
            else []
        )
        reasons += [pair.reason for pair in own if pair.status is status and pair.reason]
        others = len(own)
        value = f"{others} comparison{'' if others == 1 else 's'}"
        if sites is not None:
            value = f"{sites} sites, {value}"
        reason = f"identity: {' | '.join(reasons)}" if status is not Status.PASS else ""
        checks[sample] = Check(sample, IDENTITY_CHECK, status, value, _THRESHOLD, reason)
    return checks


_THRESHOLD = "relations in the sheet"


def not_checked(samples: Sequence[str], why: str) -> dict[str, Check]:
    """Identity checks of samples whose identity was not assessed (WARN with ``why``)."""
    return {
        sample: Check(sample, IDENTITY_CHECK, Status.WARN, "", "", f"identity: {why}")
        for sample in samples
    }


# --- the pairs table -------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"


def write_pairs(path: Path, pairs: Sequence[PairResult]) -> None:
    """The pairs table (TSV, :data:`PAIR_COLUMNS`), written atomically."""
    rows = (
        (
            p.sample_a,
            p.sample_b,
            p.expected,
            p.observed,
            p.status.value,
            p.stats.sites,
            _fmt(p.stats.kinship),
            _fmt(p.stats.discordance),
            _fmt(p.stats.ibs0),
            p.reason,
        )
        for p in pairs
    )
    atomic.write_tsv(path, PAIR_COLUMNS, rows)


def _optional(text: str) -> float | None:
    return float(text) if text else None


def read_pairs(path: Path) -> list[PairResult]:
    """The pairs table written by :func:`write_pairs`."""
    _, rows = read_table(path, "identity pairs table", rectangular=True)
    try:
        return [
            PairResult(
                sample_a=row["sample_a"],
                sample_b=row["sample_b"],
                expected=row["expected"],
                observed=row["observed"],
                status=Status(row["status"]),
                stats=PairStats(
                    sites=int(row["sites"]),
                    discordance=_optional(row["discordance"]),
                    ibs0=_optional(row["ibs0"]),
                    kinship=_optional(row["kinship"]),
                ),
                reason=row["reason"],
            )
            for row in rows
        ]
    except (KeyError, ValueError) as err:
        raise GenomflowError(f"{path}: not an identity pairs table ({err})") from None


CHECK_COLUMNS: tuple[str, ...] = ("sample", "check", "status", "value", "threshold", "reason")


def write_checks(path: Path, checks: Mapping[str, Check]) -> None:
    """The per-sample identity checks (TSV), written atomically."""
    rows = (
        (c.sample, c.check, c.status.value, c.value, c.threshold, c.reason) for c in checks.values()
    )
    atomic.write_tsv(path, CHECK_COLUMNS, rows)


def read_checks(path: Path) -> dict[str, Check]:
    """The per-sample identity checks written by :func:`write_checks`."""
    _, rows = read_table(path, "identity checks table", rectangular=True)
    try:
        return {r["sample"]: Check.from_row(r) for r in rows}
    except (KeyError, ValueError) as err:
        raise GenomflowError(f"{path}: not an identity checks table ({err})") from None


def kinship_matrix(samples: Sequence[str], pairs: Iterable[PairResult]) -> list[list[float | None]]:
    """Kinship of every pair as a square matrix in ``samples`` order (0.5 on the diagonal)."""
    index = {sample: i for i, sample in enumerate(samples)}
    matrix: list[list[float | None]] = [
        [0.5 if i == j else None for j in range(len(samples))] for i in range(len(samples))
    ]
    for pair in pairs:
        i, j = index[pair.sample_a], index[pair.sample_b]
        matrix[i][j] = matrix[j][i] = pair.stats.kinship
    return matrix
