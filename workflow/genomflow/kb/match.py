"""Trial matching: which patients' genomic markers meet a trial's inclusion rules.

``genomflow kb match --db URL --trials TRIALS.yaml --out DIR [--date D]`` reads the trials
(schema ``workflow/schemas/trials.schema.yaml``) and looks at the passing calls of the latest
analysis of every sample. A leaf rule finds (patient, sample, variant) hits: gene +
consequence class, VRS id, ``CHROM:POS:REF:ALT``, and a tumour's assessed mutational burden
(``tmb_at_least``: the sample's TMB, not its interval's lower bound, at least the value) and
microsatellite instability (``msi: high``: called MSI-H); a sample whose biomarker could not
be assessed matches no rule on it. ``cnv: {gene, type}`` finds a passing copy-number segment
of the sample's latest analysis over the gene, called ``amplification`` or ``deletion``
(CNVkit's purity-corrected call; a gain or a one-copy loss is not enough). ``gene`` +
``protein`` finds a passing call in the gene whose stored HGVS p. change (report schema 1.2.0)
is that change, written in one- or three-letter amino acids, with or without ``p.`` and the
parentheses of a prediction (``V600E`` is ``p.(Val600Glu)``). ``all`` keeps the patients every
rule matched (in any of their samples), ``any`` those that one rule matched. A trial's
``diseases`` keep only hits of samples whose diagnosis (sample sheet ``diagnosis``, as the
latest analysis carries it) is one of them, compared case-insensitively and exactly; a sample
without a diagnosis matches no trial that names diseases. A trial outside its recruiting window
on ``--date`` (default: today) matches nobody.

Only patients whose consent on ``--date`` allows trial contact are named; the others are
counted per trial and centre. ``DIR/state.json`` keeps the named matches, so the next run
into the same folder reports what is new and what no longer matches. Outputs depend only on
the database, the trials and ``--date``: running twice changes nothing.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, text

from genomflow import atomic
from genomflow.errors import GenomflowError
from genomflow.kb.consent import consents_on
from genomflow.kb.hgvs import protein_change
from genomflow.kb.queries import parse_variant
from genomflow.plan.files import load_yaml

#: Leaf rules that need data the database does not hold yet: they match nobody.
NOT_YET: tuple[str, ...] = ()
MATCH_COLUMNS = (
    "trial",
    "centre",
    "patient",
    "sample",
    "sample_type",
    "collection_date",
    "variant",
    "vrs_id",
    "gene",
    "consequence",
    "rule",
    "matched_since",
)
SUMMARY_COLUMNS = ("trial", "centre", "recruiting", "matched", "not_consented", "new", "no_longer")
CHANGE_COLUMNS = ("trial", "centre", "patient", "change")
STATE = "state.json"

#: Who a hit is about: the columns every leaf query selects first (see :func:`_hit`).
WHO = (
    "s.centre_id AS centre, p.pseudonym AS patient, s.name AS sample, "
    "s.type AS sample_type, s.collection_date, a.diagnosis"
)


def _of_latest(table: str, alias: str) -> str:
    """FROM ``table`` rows of each sample's latest analysis, with the sample and patient."""
    return (
        f"FROM {table} {alias}\n"
        f"JOIN latest_analyses a ON a.id = {alias}.analysis_id\n"
        "JOIN samples s ON s.id = a.sample_id\n"
        "JOIN patients p ON p.id = s.patient_id\n"
    )


HITS_SQL = (
    f"SELECT {WHO}, v.chrom, v.pos, v.ref, v.alt, v.vrs_id, c.gene, c.consequence, c.hgvs_p\n"
    + _of_latest("calls", "c")
    + "JOIN variants v ON v.id = c.variant_id\nWHERE c.filters = 'PASS' AND\n"
)
BIOMARKER_SQL = (
    f"SELECT {WHO}, b.value, b.ci_low, b.ci_high, b.unit, b.call\n"
    + _of_latest("biomarkers", "b")
    + "WHERE b.status = 'assessed' AND\n"
)
CNV_SQL = (
    f"SELECT {WHO}, x.chrom, x.start, x.stop, x.copy_number, x.genes\n"
    + _of_latest("structural_calls", "x")
    + "WHERE x.source = 'cnv' AND x.filters = 'PASS' AND x.cn_call = :call\n"
    "ORDER BY s.centre_id, s.name, x.chrom, x.start\n"
)
#: The MSI call of each ``msi`` rule value.
MSI_CALLS = {"high": "MSI-H"}


@dataclass(frozen=True, order=True)
class Hit:
    """A sample's call that met a leaf rule."""

    centre: str
    patient: str
    sample: str
    sample_type: str
    collection_date: str
    variant: str
    vrs_id: str
    gene: str
    consequence: str
    rule: str
    #: The diagnosis of the sample's latest analysis ("" when none); not an output column.
    diagnosis: str = ""


Patient = tuple[str, str]  # (centre, pseudonym)
Hits = dict[Patient, set[Hit]]


@dataclass(frozen=True)
class Trial:
    """A trial as read from the trials file."""

    id: str
    title: str
    centres: tuple[str, ...]
    recruiting_from: datetime.date | None
    recruiting_until: datetime.date | None
    sample_types: tuple[str, ...]
    diseases: tuple[str, ...]
    inclusion: dict[str, Any]

    def recruiting(self, day: datetime.date) -> bool:
        return (self.recruiting_from is None or self.recruiting_from <= day) and (
            self.recruiting_until is None or day <= self.recruiting_until
        )


def _day(value: str | None) -> datetime.date | None:
    return None if value is None else datetime.date.fromisoformat(value)


def load_trials(path: Path) -> list[Trial]:
    """The trials of ``path``; faults name the file, the line and the key."""
    document = load_yaml(path, "trials")
    trials = []
    seen: set[str] = set()
    for index, raw in enumerate(document.data["trials"]):
        if raw["id"] in seen:
            raise document.fault(["trials", index, "id"], f"trial {raw['id']!r} appears twice")
        seen.add(raw["id"])
        window = raw["recruiting"]
        try:
            start, end = _day(window.get("from")), _day(window.get("until"))
        except ValueError as err:
            raise document.fault(["trials", index, "recruiting"], str(err)) from None
        _check_proteins(document, raw["inclusion"], ["trials", index, "inclusion"])
        trials.append(
            Trial(
                raw["id"],
                raw["title"],
                tuple(raw["centres"]),
                start,
                end,
                tuple(raw["sample_types"]),
                tuple(raw["diseases"]),
                raw["inclusion"],
            )
        )
    return trials


def _check_proteins(document: Any, rule: Mapping[str, Any], where: list[str | int]) -> None:
    """Every ``protein`` of a rule (and its nested rules) is an HGVS p. change."""
    for key in ("all", "any"):
        for index, part in enumerate(rule.get(key, [])):
            _check_proteins(document, part, [*where, key, index])
    if "protein" in rule:
        try:
            protein_change(str(rule["protein"]))
        except GenomflowError as err:
            raise document.fault([*where, "protein"], str(err)) from None


def consequence_classes(value: str | None) -> set[str]:
    """Classes of a stored consequence (Sequence Ontology terms as snpEff writes them; the
    words of reports made before snpEff are read too), without the ``_variant`` suffix.

    >>> sorted(consequence_classes("missense_variant&splice_region_variant"))
    ['missense', 'splice_region']
    >>> sorted(consequence_classes("*missense&stop_gained"))
    ['missense', 'stop_gained']
    """
    if not value:
        return set()
    parts = (part.lstrip("*@").strip() for part in value.split("&"))
    return {part.removesuffix("_variant") for part in parts if part}


def wanted_class(value: str) -> str:
    """A Sequence Ontology term as a class of :func:`consequence_classes` (no ``_variant``).

    >>> wanted_class("missense_variant"), wanted_class("stop_gained")
    ('missense', 'stop_gained')
    """
    return value.removesuffix("_variant")


def has_diagnosis(diagnosis: str, diseases: Iterable[str]) -> bool:
    """Whether a sample's diagnosis is one of a trial's diseases (case-insensitive, exact).

    >>> has_diagnosis("luad", ["LUAD", "C34.1"]), has_diagnosis("LUAD", ["LUSC"])
    (True, False)
    >>> has_diagnosis("", ["LUAD"])
    False
    """
    wanted = diagnosis.strip().casefold()
    return bool(wanted) and any(wanted == d.strip().casefold() for d in diseases)


def describe(rule: Mapping[str, Any]) -> str:
    """A leaf rule in a few words (the ``rule`` column).

    >>> describe({"gene": "GFB2", "consequence": "missense"})
    'gene GFB2 consequence missense'
    """
    return " ".join(f"{key} {value}" for key, value in rule.items())


def _hit(row: Any, rule: str, marker: str, vrs_id: str = "", gene: str = "", what: str = "") -> Hit:
    """A hit of ``row`` (selected with :data:`WHO` first): ``marker`` is what matched (an
    allele, a biomarker value, a segment)."""
    return Hit(
        str(row.centre),
        str(row.patient),
        str(row.sample),
        str(row.sample_type),
        "" if row.collection_date is None else str(row.collection_date),
        marker,
        vrs_id,
        gene,
        what,
        rule,
        row.diagnosis or "",
    )


def _call_hit(row: Any, rule: str) -> Hit:
    allele = f"{row.chrom}:{row.pos}:{row.ref}:{row.alt}"
    if row.hgvs_p:
        allele += f" {row.hgvs_p}"
    return _hit(row, rule, allele, row.vrs_id or "", row.gene or "", row.consequence or "")


def _biomarker_hit(row: Any, rule: str) -> Hit:
    if row.call is not None:  # MSI: the call and the share of unstable sites
        marker = f"{row.call} ({row.value:.0%} of microsatellites unstable)"
    else:
        marker = f"TMB {row.value:g} {row.unit} (95% CI {row.ci_low:g}-{row.ci_high:g})"
    return _hit(row, rule, marker)


def _biomarker_rows(connection: Connection, rule: Mapping[str, Any]) -> list[Any]:
    if "tmb_at_least" in rule:
        condition, values = "b.name = 'tmb' AND b.value >= :least", {"least": rule["tmb_at_least"]}
    else:
        condition, values = "b.name = 'msi' AND b.call = :call", {"call": MSI_CALLS[rule["msi"]]}
    return list(connection.execute(text(BIOMARKER_SQL + condition), values))


def _cnv_hits(connection: Connection, rule: Mapping[str, Any]) -> list[Hit]:
    gene, call = rule["cnv"]["gene"], rule["cnv"]["type"]
    rows = connection.execute(text(CNV_SQL), {"call": call})
    return [
        _hit(
            row,
            describe(rule),
            f"{row.chrom}:{row.start}-{row.stop} {call}, copy number {row.copy_number}",
            gene=gene,
            what=call,
        )
        for row in rows
        if gene in str(row.genes).split(",")
    ]


def _leaf_hits(connection: Connection, rule: Mapping[str, Any]) -> list[Hit]:
    if "cnv" in rule:
        return _cnv_hits(connection, rule)
    if "tmb_at_least" in rule or "msi" in rule:
        return [_biomarker_hit(row, describe(rule)) for row in _biomarker_rows(connection, rule)]
    return [_call_hit(row, describe(rule)) for row in _leaf_rows(connection, rule)]


def _stored_protein(value: str) -> str | None:
    """A stored p. change in the form rules are compared in; None when the parser cannot read
    it (an annotator's notation it does not know): such a call matches no protein rule.

    >>> _stored_protein("p.(Arg49Ter)"), _stored_protein("p.?fs"), _stored_protein("p.?")
    ('Arg49Ter', None, None)
    """
    try:
        return protein_change(value)
    except GenomflowError:
        return None


def _leaf_rows(connection: Connection, rule: Mapping[str, Any]) -> list[Any]:
    if "protein" in rule:
        wanted = protein_change(str(rule["protein"]))
        query = HITS_SQL + "c.gene = :gene AND c.hgvs_p IS NOT NULL"
        rows = connection.execute(text(query), {"gene": rule["gene"]})
        return [r for r in rows if _stored_protein(r.hgvs_p) == wanted]
    if "consequence" in rule:
        rows = connection.execute(text(HITS_SQL + "c.gene = :gene"), {"gene": rule["gene"]})
        wanted = wanted_class(rule["consequence"])
        return [r for r in rows if wanted in consequence_classes(r.consequence)]
    if "vrs_id" in rule:
        return list(connection.execute(text(HITS_SQL + "v.vrs_id = :vrs"), {"vrs": rule["vrs_id"]}))
    spec = parse_variant(rule["variant"])
    return list(
        connection.execute(
            text(HITS_SQL + "v.chrom = :chrom AND v.pos = :pos AND v.ref = :ref AND v.alt = :alt"),
            {"chrom": spec.chrom, "pos": spec.pos, "ref": spec.ref, "alt": spec.alt},
        )
    )


def evaluate(connection: Connection, rule: Mapping[str, Any], trial: Trial) -> Hits:
    """Patients meeting ``rule``, with the hits that show it."""
    if "all" in rule or "any" in rule:
        parts = [evaluate(connection, r, trial) for r in rule.get("all", rule.get("any", []))]
        keep = set.intersection(*map(set, parts)) if "all" in rule else set.union(*map(set, parts))
        return {who: set.union(*(p.get(who, set()) for p in parts)) for who in keep}
    if any(key in rule for key in NOT_YET):
        return {}
    found: Hits = {}
    for hit in _leaf_hits(connection, rule):
        if trial.centres and hit.centre not in trial.centres:
            continue
        if trial.sample_types and hit.sample_type not in trial.sample_types:
            continue
        if trial.diseases and not has_diagnosis(hit.diagnosis, trial.diseases):
            continue
        found.setdefault((hit.centre, hit.patient), set()).add(hit)
    return found


def match_trial(connection: Connection, trial: Trial, day: datetime.date) -> Hits:
    """Patients matching ``trial`` on ``day`` (whatever their consent)."""
    if not trial.recruiting(day):
        return {}
    return evaluate(connection, trial.inclusion, trial)


@dataclass
class MatchResult:
    """What one run found, per trial and centre."""

    rows: list[tuple[str, ...]]
    summary: list[tuple[object, ...]]
    changes: list[tuple[str, ...]]
    state: dict[str, Any]


def _previous(out: Path) -> dict[str, dict[str, dict[str, str]]]:
    path = out / STATE
    if not path.is_file():
        return {}
    try:
        state = json.loads(path.read_text())
        matches: dict[str, dict[str, dict[str, str]]] = state["matches"]
    except (ValueError, KeyError, TypeError):
        raise GenomflowError(f"{path}: not a state file of genomflow kb match") from None
    return matches


def _centres(connection: Connection) -> list[str]:
    return [
        str(c) for c in connection.execute(text("SELECT id FROM centres ORDER BY id")).scalars()
    ]


def run_match(engine: Engine, trials: list[Trial], out: Path, day: datetime.date) -> MatchResult:
    """Match every trial; compare with the run before in ``out``."""
    before = _previous(out)
    result = MatchResult([], [], [], {"date": day.isoformat(), "matches": {}})
    with engine.connect() as connection:
        consent = consents_on(connection, day)
        centres = _centres(connection)
        for trial in trials:
            found = match_trial(connection, trial, day)
            _collect(result, trial, found, consent, before.get(trial.id, {}), centres, day)
    result.rows.sort()
    result.changes.sort()
    return result


def _collect(
    result: MatchResult,
    trial: Trial,
    found: Hits,
    consent: Mapping[Patient, Any],
    before: Mapping[str, Mapping[str, str]],
    centres: Iterable[str],
    day: datetime.date,
) -> None:
    now: dict[str, dict[str, str]] = {}
    for centre in sorted(set(centres) | set(before) | {c for c, _ in found}):
        named = sorted(p for c, p in found if c == centre and _contact(consent, (c, p)))
        hidden = sum(1 for c, p in found if c == centre and not _contact(consent, (c, p)))
        old = before.get(centre, {})
        since = {p: old.get(p, day.isoformat()) for p in named}
        if since:
            now[centre] = since
        for patient in named:
            for hit in sorted(found[(centre, patient)]):
                result.rows.append((trial.id, *_cells(hit), since[patient]))
        new = [p for p in named if p not in old]
        gone = sorted(p for p in old if p not in since)
        result.changes += [(trial.id, centre, p, "new") for p in new]
        result.changes += [(trial.id, centre, p, "no_longer") for p in gone]
        recruiting = "yes" if trial.recruiting(day) else "no"
        result.summary.append(
            (trial.id, centre, recruiting, len(named), hidden, len(new), len(gone))
        )
    result.state["matches"][trial.id] = now


def _contact(consent: Mapping[Patient, Any], who: Patient) -> bool:
    given = consent.get(who)
    return bool(given is not None and given.trial_contact)


def _cells(hit: Hit) -> tuple[str, ...]:
    return (
        hit.centre,
        hit.patient,
        hit.sample,
        hit.sample_type,
        hit.collection_date,
        hit.variant,
        hit.vrs_id,
        hit.gene,
        hit.consequence,
        hit.rule,
    )


def write_match(result: MatchResult, trials: list[Trial], out: Path) -> None:
    """Per trial, per centre, the summary, the changes and the state, each atomically."""
    for trial in trials:
        rows = [r for r in result.rows if r[0] == trial.id]
        atomic.write_tsv(out / "trials" / f"{trial.id}.tsv", MATCH_COLUMNS, rows)
    for centre in sorted({str(s[1]) for s in result.summary}):
        rows = [r for r in result.rows if r[1] == centre]
        atomic.write_tsv(out / "centres" / f"{centre}.tsv", MATCH_COLUMNS, rows)
    atomic.write_tsv(out / "summary.tsv", SUMMARY_COLUMNS, result.summary)
    atomic.write_tsv(out / "changes.tsv", CHANGE_COLUMNS, result.changes)
    atomic.write_text(out / STATE, json.dumps(result.state, indent=1, sort_keys=True) + "\n")
