"""Questions to the knowledge database: who carries a variant, and one patient's timeline.

Counts are over passing calls of the latest analysis version of each sample. Without
sample-level access, counts come from the ``variant_counts_public`` view, where a count of 1
to 4 is suppressed (shown as ``<5``); on PostgreSQL that view is the only way a centre's role
sees other centres' data. With sample-level access (``--sample-level``) the exact counts and
the carriers are shown, of the rows the caller may see (on PostgreSQL: its own centre's, or
all for the owner).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, text

from genomflow.errors import GenomflowError
from genomflow.kb.hgvs import HgvsQuery, parse_hgvs_query

COUNT_NAMES: tuple[str, ...] = ("carriers", "het", "hom", "hemi", "somatic")
SUPPRESSED = "<5"
TOTAL = "*"

#: The largest position the database holds (a signed 64-bit integer).
MAX_POSITION = 2**63 - 1
_SPEC = re.compile(r"(?P<chrom>[^:\s]+):(?P<pos>[0-9]+):(?P<ref>[ACGTNacgtn]+):(?P<alt>[^:\s]+)")
_VRS = re.compile(r"ga4gh:VA\.[0-9A-Za-z_-]{32}")


@dataclass(frozen=True)
class VariantSpec:
    """A variant asked for: by position and alleles, or by VRS id."""

    chrom: str | None = None
    pos: int | None = None
    ref: str | None = None
    alt: str | None = None
    vrs_id: str | None = None


def parse_variant(spec: str) -> VariantSpec:
    """Parse ``CHROM:POS:REF:ALT`` or a VRS id.

    >>> parse_variant("chr1:515:t:G")
    VariantSpec(chrom='chr1', pos=515, ref='T', alt='G', vrs_id=None)
    >>> parse_variant("chr1:99999999999999999999:A:G")
    Traceback (most recent call last):
    genomflow.errors.GenomflowError: 'chr1:99999999999999999999:A:G': position \
99999999999999999999 is out of range (1 to 9,223,372,036,854,775,807)
    >>> parse_variant("ga4gh:VA.28YcY9IloZVGYY_y8HhDBr-4X9ULkgGw").vrs_id
    'ga4gh:VA.28YcY9IloZVGYY_y8HhDBr-4X9ULkgGw'
    """
    if _VRS.fullmatch(spec):
        return VariantSpec(vrs_id=spec)
    match = _SPEC.fullmatch(spec)
    if match is None:
        raise GenomflowError(
            f"{spec!r}: expected CHROM:POS:REF:ALT, a VRS id (ga4gh:VA.…), GENE:c.… or GENE:p.…"
        )
    pos = int(match["pos"])
    if not 1 <= pos <= MAX_POSITION:
        raise GenomflowError(
            f"{spec!r}: position {match['pos']} is out of range (1 to {MAX_POSITION:,})"
        )
    return VariantSpec(match["chrom"], pos, match["ref"].upper(), match["alt"].upper())


def shown(count: int | None) -> str:
    """A count as shown: suppressed counts (None, or 1-4) as ``<5``.

    >>> shown(None), shown(3), shown(0), shown(12)
    ('<5', '<5', '0', '12')
    """
    if count is None or 1 <= count <= 4:
        return SUPPRESSED
    return str(count)


@dataclass(frozen=True)
class CountRow:
    """Carriers of a variant in one centre and assay (``*``: all); None = suppressed."""

    centre: str
    assay: str
    counts: dict[str, int | None]


@dataclass(frozen=True)
class VariantReport:
    """The counts (and, with sample-level access, the carriers) of one variant."""

    variant_id: int
    build: str
    chrom: str
    pos: int
    ref: str
    alt: str
    vrs_id: str | None
    rows: list[CountRow]
    carriers: list[dict[str, Any]] = field(default_factory=list)


_VARIANT_ROWS = (
    "SELECT v.id, b.name AS build, v.chrom, v.pos, v.ref, v.alt, v.vrs_id "
    "FROM variants v JOIN builds b ON b.id = v.build_id WHERE "
)
#: The alleles annotated with a gene and HGVS change (``variant_annotations``, migration 0007:
#: allele-level, readable by every centre), in allele order.
_BY_HGVS = (
    _VARIANT_ROWS
    + "v.id IN (SELECT variant_id FROM variant_annotations WHERE gene = :gene AND {column} IN "
    "({forms})) ORDER BY b.name, v.chrom, v.pos, v.ref, v.alt"
)


def _find_by_hgvs(connection: Connection, wanted: HgvsQuery) -> list[Any]:
    column = "hgvs_p" if wanted.kind == "p" else "hgvs_c"
    names = [f"f{i}" for i in range(len(wanted.forms))]
    query = _BY_HGVS.format(column=column, forms=", ".join(f":{n}" for n in names))
    values = {"gene": wanted.gene, **dict(zip(names, wanted.forms, strict=True))}
    return list(connection.execute(text(query), values))


def _find_variants(connection: Connection, spec: VariantSpec) -> list[Any]:
    query = _VARIANT_ROWS
    if spec.vrs_id is not None:
        return list(connection.execute(text(query + "v.vrs_id = :vrs"), {"vrs": spec.vrs_id}))
    return list(
        connection.execute(
            text(query + "v.chrom = :chrom AND v.pos = :pos AND v.ref = :ref AND v.alt = :alt"),
            {"chrom": spec.chrom, "pos": spec.pos, "ref": spec.ref, "alt": spec.alt},
        )
    )


def _public_rows(connection: Connection, variant_id: int) -> list[CountRow]:
    result = connection.execute(
        text(
            f"SELECT centre_id, assay, {', '.join(COUNT_NAMES)} FROM variant_counts_public "
            "WHERE variant_id = :id ORDER BY centre_id = '*', centre_id, assay"
        ),
        {"id": variant_id},
    )
    return [
        CountRow(row.centre_id, row.assay, {name: getattr(row, name) for name in COUNT_NAMES})
        for row in result
    ]


def _exact_rows(connection: Connection, variant_id: int) -> list[CountRow]:
    result = connection.execute(
        text(
            f"SELECT centre_id, assay, {', '.join(COUNT_NAMES)} FROM variant_counts "
            "WHERE variant_id = :id ORDER BY centre_id, assay"
        ),
        {"id": variant_id},
    )
    rows = [
        CountRow(row.centre_id, row.assay, {name: int(getattr(row, name)) for name in COUNT_NAMES})
        for row in result
    ]
    total = {name: sum(int(r.counts[name] or 0) for r in rows) for name in COUNT_NAMES}
    return [*rows, CountRow(TOTAL, TOTAL, dict(total))]


def _carriers(connection: Connection, variant_id: int) -> list[dict[str, Any]]:
    result = connection.execute(
        text(
            "SELECT s.centre_id AS centre, s.name AS sample, p.pseudonym AS patient, "
            "s.assay, s.type, c.origin, c.genotype, c.zygosity, c.vaf, c.depth, c.filters, "
            "a.version FROM calls c JOIN latest_analyses a ON a.id = c.analysis_id "
            "JOIN samples s ON s.id = a.sample_id JOIN patients p ON p.id = s.patient_id "
            "WHERE c.variant_id = :id ORDER BY s.centre_id, s.name"
        ),
        {"id": variant_id},
    )
    return [dict(row._mapping) for row in result]


def variant_report(engine: Engine, spec: str, sample_level: bool = False) -> list[VariantReport]:
    """Counts for the variant(s) matching ``spec``: ``CHROM:POS:REF:ALT``, a VRS id (which
    may match on several builds) or ``GENE:c.…`` / ``GENE:p.…`` (every allele annotated so;
    :mod:`genomflow.kb.hgvs`)."""
    by_hgvs = parse_hgvs_query(spec)
    wanted = parse_variant(spec) if by_hgvs is None else None
    with engine.connect() as connection:
        if by_hgvs is not None:
            found = _find_by_hgvs(connection, by_hgvs)
        else:
            assert wanted is not None
            found = _find_variants(connection, wanted)
        reports = []
        for v in found:
            rows = (_exact_rows if sample_level else _public_rows)(connection, int(v.id))
            carriers = _carriers(connection, int(v.id)) if sample_level else []
            reports.append(
                VariantReport(
                    int(v.id), v.build, v.chrom, int(v.pos), v.ref, v.alt, v.vrs_id, rows, carriers
                )
            )
    return reports


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Rows as a plain text table, columns left-aligned.

    >>> print(format_table(["a", "bb"], [[1, "x"]]))
    a  bb
    1  x
    """
    cells = [[str(h) for h in header]] + [["" if c is None else str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    )


def format_variant(report: VariantReport, sample_level: bool) -> str:
    title = (
        f"{report.chrom}:{report.pos}:{report.ref}:{report.alt} on {report.build}"
        f" ({report.vrs_id or 'no VRS id'})"
    )
    counts = format_table(
        ["centre", "assay", *COUNT_NAMES],
        [
            [r.centre if r.centre != TOTAL else "all", r.assay if r.assay != TOTAL else "all"]
            + [str(r.counts[n]) if sample_level else shown(r.counts[n]) for n in COUNT_NAMES]
            for r in report.rows
        ],
    )
    parts = [title, counts]
    if sample_level and report.carriers:
        columns = list(report.carriers[0])
        parts += ["carriers:", format_table(columns, [list(c.values()) for c in report.carriers])]
    elif not sample_level:
        parts.append(f"counts of 1 to 4 are shown as {SUPPRESSED} (sample-level access lifts it)")
    return "\n".join(parts)


# --- regions: structural variants and copy number ---------------------------------------------

_REGION = re.compile(r"(?P<chrom>[^:\s]+):(?P<start>[0-9][0-9,]*)-(?P<end>[0-9][0-9,]*)")
REGION_COLUMNS: tuple[str, ...] = ("source", "chrom", "start", "stop", "svtype", "cn_call")


def parse_region(spec: str) -> tuple[str, int, int]:
    """``CHROM:START-END`` (1-based, inclusive; commas allowed) as (chrom, start, end).

    >>> parse_region("chr1:90,000-120000")
    ('chr1', 90000, 120000)
    """
    match = _REGION.fullmatch(spec.strip())
    if match is None:
        raise GenomflowError(f"{spec!r} is not a region (CHROM:START-END, e.g. chr1:1000-2000)")
    start, end = (int(match[k].replace(",", "")) for k in ("start", "end"))
    if start < 1 or end < start or end > MAX_POSITION:
        raise GenomflowError(f"{spec!r}: the region must have 1 <= START <= END")
    return match["chrom"], start, end


@dataclass(frozen=True)
class RegionEvent:
    """A structural variant or copy-number segment overlapping the region, with its carriers
    (None: 1 to 4, suppressed) and, with sample-level access, the samples."""

    source: str
    chrom: str
    start: int
    stop: int
    svtype: str
    call: str
    carriers: int | None
    samples: list[dict[str, Any]] = field(default_factory=list)


def region_report(engine: Engine, spec: str, sample_level: bool = False) -> list[RegionEvent]:
    """The SVs and CNV segments overlapping ``spec`` (passing calls of latest analyses)."""
    chrom, start, end = parse_region(spec)
    where = {"chrom": chrom, "start": start, "end": end}
    events: list[RegionEvent] = []
    with engine.connect() as connection:
        if not sample_level:
            rows = connection.execute(
                text(
                    f"SELECT {', '.join(REGION_COLUMNS)}, carriers FROM structural_counts_public "
                    "WHERE chrom = :chrom AND start <= :end AND stop >= :start "
                    "ORDER BY start, stop, source, svtype"
                ),
                where,
            )
            return [
                RegionEvent(r.source, r.chrom, int(r.start), int(r.stop), r.svtype, r.cn_call,
                            None if r.carriers is None else int(r.carriers))
                for r in rows
            ]  # fmt: skip
        rows = connection.execute(
            text(
                "SELECT sc.source, sc.chrom, sc.start, sc.stop, sc.svtype, "
                "coalesce(sc.cn_call, '') AS cn_call, s.centre_id AS centre, s.name AS sample, "
                "p.pseudonym AS patient, s.type, sc.genotype, sc.copy_number, sc.log2, "
                "sc.genes FROM structural_calls sc "
                "JOIN latest_analyses a ON a.id = sc.analysis_id "
                "JOIN samples s ON s.id = a.sample_id JOIN patients p ON p.id = s.patient_id "
                "WHERE sc.filters = 'PASS' AND sc.chrom = :chrom AND sc.start <= :end "
                "AND sc.stop >= :start ORDER BY sc.start, sc.stop, sc.source, sc.svtype, s.name"
            ),
            where,
        )
        grouped: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        for row in rows:
            mapping = dict(row._mapping)
            key = tuple(mapping.pop(c) for c in REGION_COLUMNS)
            grouped.setdefault(key, []).append(mapping)
        for key, samples in grouped.items():
            source, chrom_, first, last, svtype, call = key
            events.append(
                RegionEvent(source, chrom_, int(first), int(last), svtype, call,
                            len({(s["centre"], s["sample"]) for s in samples}), samples)
            )  # fmt: skip
    return events


def format_region(spec: str, events: Sequence[RegionEvent], sample_level: bool) -> str:
    if not events:
        return f"{spec}: no structural variant or copy-number segment in the database"
    table = format_table(
        ["source", "chrom", "start", "end", "type", "call", "carriers"],
        [
            [e.source, e.chrom, e.start, e.stop, e.svtype, e.call or "-",
             str(e.carriers) if sample_level else shown(e.carriers)]
            for e in events
        ],
    )  # fmt: skip
    parts = [f"{spec}: {len(events)} structural variant(s) and copy-number segment(s)", table]
    if sample_level:
        rows = [
            [f"{e.chrom}:{e.start}-{e.stop}:{e.svtype}", *s.values()]
            for e in events
            for s in e.samples
        ]
        if rows:
            columns = ["event", *events[0].samples[0]]
            parts += ["carriers:", format_table(columns, rows)]
    else:
        parts.append(f"counts of 1 to 4 are shown as {SUPPRESSED} (sample-level access lifts it)")
    return "\n".join(parts)


# --- patients ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PatientTimeline:
    """A patient's samples (latest analyses) in collection order, with QC and ctDNA."""

    pseudonym: str
    samples: list[dict[str, Any]]
    metrics: dict[str, dict[str, float]]


def patient_timeline(engine: Engine, pseudonym: str) -> PatientTimeline:
    with engine.connect() as connection:
        samples = [
            dict(row._mapping)
            for row in connection.execute(
                text(
                    "SELECT s.centre_id AS centre, s.name AS sample, s.type, s.assay, s.panel, "
                    "s.collection_date, a.id AS analysis_id, a.version, a.qc_status, a.run_date, "
                    "a.n_calls AS calls, a.diagnosis, "
                    "m.tumour_fraction, m.ci_low, m.ci_high, m.detected, m.status AS ctdna_status, "
                    "b.value AS tmb, b.ci_low AS tmb_low, b.ci_high AS tmb_high, "
                    "b.status AS tmb_status, "
                    "i.call AS msi_call, i.value AS msi_share, i.status AS msi_status "
                    "FROM patients p JOIN samples s ON s.patient_id = p.id "
                    "JOIN latest_analyses a ON a.sample_id = s.id "
                    "LEFT JOIN ctdna_measurements m ON m.analysis_id = a.id "
                    "LEFT JOIN biomarkers b ON b.analysis_id = a.id AND b.name = 'tmb' "
                    "LEFT JOIN biomarkers i ON i.analysis_id = a.id AND i.name = 'msi' "
                    "WHERE p.pseudonym = :p ORDER BY s.collection_date, s.name"
                ),
                {"p": pseudonym},
            )
        ]
        metrics: dict[str, dict[str, float]] = {}
        for row in connection.execute(
            text(
                "SELECT a.sample_id, s.name AS sample, q.name, q.value FROM qc_metrics q "
                "JOIN latest_analyses a ON a.id = q.analysis_id "
                "JOIN samples s ON s.id = a.sample_id JOIN patients p ON p.id = s.patient_id "
                "WHERE p.pseudonym = :p ORDER BY q.name"
            ),
            {"p": pseudonym},
        ):
            metrics.setdefault(row.sample, {})[row.name] = float(row.value)
    return PatientTimeline(pseudonym, samples, metrics)


def _number(value: Any, digits: int = 4) -> str:
    return "" if value is None else f"{float(value):.{digits}g}"


def _depth(metrics: dict[str, float]) -> float | None:
    """A sample's depth as a person reads it: over the panel's targets for a panel sample,
    over the genome otherwise.

    >>> _depth({"mean_depth": 19.3, "mean_target_depth": 431.5}), _depth({"mean_depth": 30.0})
    (431.5, 30.0)
    """
    return metrics.get("mean_target_depth", metrics.get("mean_depth"))


PATIENT_COLUMNS = (
    "collected",
    "sample",
    "centre",
    "type",
    "assay",
    "version",
    "qc",
    "depth",
    "calls",
    "diagnosis",
)


def format_patient(timeline: PatientTimeline) -> str:
    if not timeline.samples:
        return f"patient {timeline.pseudonym}: no samples (or none you may see)"
    rows = [
        [
            s["collection_date"] or "",
            s["sample"],
            s["centre"],
            s["type"],
            s["assay"] + (f" ({s['panel']})" if s["panel"] else ""),
            s["version"],
            s["qc_status"],
            _number(_depth(timeline.metrics.get(s["sample"], {}))),
            s["calls"],
            s["diagnosis"] or "",
        ]
        for s in timeline.samples
    ]
    parts = [
        f"patient {timeline.pseudonym}: {len(rows)} sample(s)",
        format_table(
            PATIENT_COLUMNS,
            rows,
        ),
    ]
    ctdna = [s for s in timeline.samples if s["ctdna_status"] is not None]
    if ctdna:
        parts += [
            "ctDNA:",
            format_table(
                ["collected", "sample", "tumour fraction", "95% CI", "detected", "status"],
                [
                    [
                        s["collection_date"] or "",
                        s["sample"],
                        _number(s["tumour_fraction"]),
                        f"{_number(s['ci_low'])}-{_number(s['ci_high'])}",
                        "yes" if s["detected"] else "no",
                        s["ctdna_status"],
                    ]
                    for s in ctdna
                ],
            ),
        ]
    tmb = [
        s
        for s in timeline.samples
        if s.get("tmb_status") is not None or s.get("msi_status") is not None
    ]
    if tmb:
        parts += [
            "tumour biomarkers:",
            format_table(
                ["collected", "sample", "TMB (/Mb)", "95% CI", "TMB status", "MSI", "unstable"],
                [
                    [
                        s["collection_date"] or "",
                        s["sample"],
                        _number(s["tmb"]),
                        f"{_number(s['tmb_low'])}-{_number(s['tmb_high'])}"
                        if s["tmb"] is not None
                        else "",
                        s["tmb_status"] or "",
                        s["msi_call"] or s["msi_status"] or "",
                        _number(s["msi_share"]),
                    ]
                    for s in tmb
                ],
            ),
        ]
    return "\n".join(parts)
