"""``genomflow load`` and ``genomflow kb``: the knowledge database from the command line.

    genomflow load [--db URL] [--build NAME] [--jobs N] [--summary TSV] REPORT.json...
    genomflow kb init [--db URL]
    genomflow kb grant --db URL --centre ID --role ROLE [--name NAME] [--region REGION]
    genomflow kb variant CHROM:POS:REF:ALT|VRS_ID|GENE:c.…|GENE:p.… [--db URL] [--sample-level]
                         [--json]
    genomflow kb patient PSEUDONYM [--db URL] [--json]
    genomflow kb stats [--db URL]
    genomflow kb consent --db URL --file CONSENT.tsv
    genomflow kb match --db URL --trials TRIALS.yaml --out DIR [--date YYYY-MM-DD]
    genomflow kb export --db URL --project NAME --out DIR [--secret-file F] [--date YYYY-MM-DD]
    genomflow kb token add|list|revoke --db URL ...
    genomflow kb serve --db URL [--host H] [--port P] [--rate-limit N] [--rate-window S]

The default URL is ``$GENOMFLOW_DB``, else ``sqlite:///results/genomflow.sqlite``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from genomflow import atomic
from genomflow.argtypes import at_least
from genomflow.errors import GenomflowError

if TYPE_CHECKING:  # the database modules are imported when a command runs
    from sqlalchemy import Engine

    from genomflow.kb.loader import LoadResult

DEFAULT_URL_HELP = "database URL (default: $GENOMFLOW_DB or sqlite:///results/genomflow.sqlite)"

SUMMARY_COLUMNS: tuple[str, ...] = ("report", "sample", "status", "analysis_id", "version", "calls")


def _engine(args: argparse.Namespace) -> Engine:
    """The database to write (loads, init, grant): one that will persist."""
    from genomflow.kb.db import default_url, open_for_writing

    return open_for_writing(args.db or default_url())


def _reader(args: argparse.Namespace) -> Engine:
    """The database to query: it must exist; it is never created or changed."""
    from genomflow.kb.db import default_url, open_for_reading

    return open_for_reading(args.db or default_url())


def _database_errors(
    command: Callable[[argparse.Namespace], int],
) -> Callable[[argparse.Namespace], int]:
    """Run a sub-command; a database that cannot be reached or used is a one-line error."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        from sqlalchemy.exc import DBAPIError

        try:
            return command(args)
        except DBAPIError as err:
            detail = str(err.orig).strip().splitlines()[0] if str(err.orig).strip() else err
            raise GenomflowError(f"--db {args.db or 'default'}: {detail}") from None

    return run


def write_summary(results: list[LoadResult], out: Path) -> None:
    rows = ((r.path, r.sample, r.status, r.analysis_id, r.version, r.calls) for r in results)
    atomic.write_tsv(out, SUMMARY_COLUMNS, rows)


#: Reports loaded at once on PostgreSQL (bench/load measures 2 on 2 cores).
DEFAULT_JOBS = 2
#: Connections the Beacon keeps open to PostgreSQL: one per concurrent request served.
BEACON_POOL = 8


@_database_errors
def _cmd_load(args: argparse.Namespace) -> int:
    from genomflow.kb.loader import load_reports

    engine = _engine(args)
    try:
        results = load_reports(
            engine, args.reports, build=args.build, jobs=args.jobs, reference=args.reference
        )
    finally:
        engine.dispose()
    for r in results:
        what = "loaded as" if r.status == "loaded" else "unchanged, already"
        print(
            f"{r.path}: {what} analysis {r.analysis_id} ({r.sample} version {r.version}, "
            f"{r.calls} calls)"
        )
    if args.summary:
        write_summary(results, args.summary)
    return 0


@_database_errors
def _cmd_init(args: argparse.Namespace) -> int:
    from genomflow.kb.db import upgrade

    engine = _engine(args)
    upgrade(engine)
    print(f"{engine.url.render_as_string()}: schema up to date")
    return 0


@_database_errors
def _cmd_grant(args: argparse.Namespace) -> int:
    from genomflow.kb.db import default_url, grant_centre, sqlite_path, upgrade

    if sqlite_path(args.db or default_url()) is not None:
        raise GenomflowError("centre roles exist only on PostgreSQL; --db must be postgresql://")
    engine = _engine(args)
    upgrade(engine)
    grant_centre(engine, args.centre, args.role, args.name or args.centre, args.region)
    print(f"role {args.role} now loads and reads centre {args.centre}")
    return 0


def _json_default(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


@_database_errors
def _cmd_variant(args: argparse.Namespace) -> int:
    from genomflow.kb.queries import format_variant, variant_report

    reports = variant_report(_reader(args), args.variant, sample_level=args.sample_level)
    if args.json:
        print(json.dumps([dataclasses.asdict(r) for r in reports], indent=1, default=_json_default))
    elif not reports:
        print(f"{args.variant}: not in the database")
    else:
        print("\n\n".join(format_variant(r, args.sample_level) for r in reports))
    return 0


@_database_errors
def _cmd_region(args: argparse.Namespace) -> int:
    from genomflow.kb.queries import format_region, region_report

    events = region_report(_reader(args), args.region, sample_level=args.sample_level)
    if args.json:
        print(json.dumps([dataclasses.asdict(e) for e in events], indent=1, default=_json_default))
    else:
        print(format_region(args.region, events, args.sample_level))
    return 0


@_database_errors
def _cmd_patient(args: argparse.Namespace) -> int:
    from genomflow.kb.queries import format_patient, patient_timeline

    timeline = patient_timeline(_reader(args), args.pseudonym)
    if args.json:
        print(json.dumps(dataclasses.asdict(timeline), indent=1, default=_json_default))
    else:
        print(format_patient(timeline))
    return 0


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows per table (the rows the caller may see)."""
    from sqlalchemy import text

    from genomflow.kb.models import Base

    with engine.connect() as connection:
        return {
            name: int(connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one())
            for name in Base.metadata.tables
        }


@_database_errors
def _cmd_stats(args: argparse.Namespace) -> int:
    for name, count in table_counts(_reader(args)).items():
        print(f"{name}\t{count}")
    return 0


def _day(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _upgraded(args: argparse.Namespace) -> Engine:
    """The database to write platform records to (consent, tokens), at the newest schema."""
    from genomflow.kb.db import upgrade

    engine = _engine(args)
    upgrade(engine)
    return engine


def _existing(args: argparse.Namespace) -> Engine:
    """A database that must already exist with the genomflow schema (a mistyped path is an
    error, never a new empty database), opened for writing (match state, export records,
    the Beacon's query log)."""
    _reader(args).dispose()
    return _upgraded(args)


@_database_errors
def _cmd_consent(args: argparse.Namespace) -> int:
    from genomflow.kb.consent import load_consents

    added, known = load_consents(_upgraded(args), args.file)
    print(f"{args.file}: {added} consent statement(s) added, {known} already loaded")
    return 0


@_database_errors
def _cmd_match(args: argparse.Namespace) -> int:
    from genomflow.kb.match import load_trials, run_match, write_match

    trials = load_trials(args.trials)
    result = run_match(_existing(args), trials, args.out, args.date)
    write_match(result, trials, args.out)
    for trial, centre, recruiting, named, hidden, new, gone in result.summary:
        if named or hidden or new or gone:
            print(
                f"{trial} at {centre}: {named} patient(s) to contact, {hidden} more without "
                f"consent to contact; {new} new, {gone} no longer matching"
                + ("" if recruiting == "yes" else " (not recruiting)")
            )
    print(f"trial matches in {args.out} ({len(result.changes)} change(s) since the last run)")
    return 0


@_database_errors
def _cmd_export(args: argparse.Namespace) -> int:
    from genomflow.kb.export import export_project, read_secret

    secret = read_secret(args.secret_file)
    done = export_project(_existing(args), args.project, args.out, secret, args.date)
    print(
        f"{args.out}: {done.patients} patient(s), {done.samples} sample(s), {done.variants} "
        f"call(s) exported; {done.excluded_patients} patient(s) without research consent left out"
    )
    return 0


@_database_errors
def _cmd_token(args: argparse.Namespace) -> int:
    from genomflow.kb.queries import format_table
    from genomflow.kb.tokens import add_token, list_tokens, revoke_token

    engine = _reader(args) if args.token_command == "list" else _existing(args)
    if args.token_command == "add":
        print(add_token(engine, args.name, args.centre, args.days))
    elif args.token_command == "revoke":
        revoke_token(engine, args.name)
        print(f"token {args.name} revoked")
    else:
        rows = list_tokens(engine)
        columns = ["name", "centre", "created_at", "expires_at", "revoked_at", "state"]
        print(format_table(columns, [[r[c] for c in columns] for r in rows]))
    return 0


@_database_errors
def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from genomflow.kb.db import default_url, open_for_reading
    from genomflow.kb.serve import ServeSettings, create_app

    writer = _existing(args)
    reader = open_for_reading(args.db or default_url(), pool_size=BEACON_POOL)
    settings = ServeSettings(rate_limit=args.rate_limit, rate_window=args.rate_window)
    app = create_app(reader, writer, settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None, metavar="URL", help=DEFAULT_URL_HELP)


def add_cli(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    load = subparsers.add_parser(
        "load",
        help="load sample reports into the knowledge database",
        description="Check sample reports (schema, files, checksums, build) and load each in "
        "one transaction. Nothing is loaded if any report fails its checks.",
    )
    _add_db(load)
    load.add_argument("--build", help="reference build the reports must come from")
    load.add_argument(
        "--jobs",
        type=at_least(1),
        default=DEFAULT_JOBS,
        metavar="N",
        help="PostgreSQL: load up to N reports at once, each in its own transaction; one "
        "sample's reports still load in the order given. SQLite loads one at a time. "
        f"[{DEFAULT_JOBS}]",
    )
    load.add_argument("--summary", type=Path, help="also write a TSV of what was loaded")
    load.add_argument(
        "--reference",
        type=Path,
        metavar="FASTA",
        help="the reports' reference FASTA (indexed): recompute the VRS ids of indels too "
        "(those of substitutions are always recomputed)",
    )
    load.add_argument("reports", type=Path, nargs="+", metavar="REPORT.json")
    load.set_defaults(func=_cmd_load)

    kb = subparsers.add_parser(
        "kb",
        help="query and administer the knowledge database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = kb.add_subparsers(dest="kb_command", required=True)

    init = commands.add_parser("init", help="create or migrate the database schema")
    _add_db(init)
    init.set_defaults(func=_cmd_init)

    grant = commands.add_parser("grant", help="PostgreSQL: let a role load one centre's samples")
    _add_db(grant)
    grant.add_argument("--centre", required=True)
    grant.add_argument("--role", required=True)
    grant.add_argument("--name", help="name of the centre (default: its id)")
    grant.add_argument("--region", default="")
    grant.set_defaults(func=_cmd_grant)

    variant = commands.add_parser("variant", help="observation counts of a variant")
    variant.add_argument("variant", metavar="CHROM:POS:REF:ALT|VRS_ID|GENE:c.…|GENE:p.…")
    _add_db(variant)
    variant.add_argument(
        "--sample-level",
        action="store_true",
        help="exact counts and carriers (of the samples you may see)",
    )
    variant.add_argument("--json", action="store_true")
    variant.set_defaults(func=_cmd_variant)

    region = commands.add_parser(
        "region", help="structural variants and copy-number segments overlapping a region"
    )
    region.add_argument("region", metavar="CHROM:START-END")
    _add_db(region)
    region.add_argument(
        "--sample-level",
        action="store_true",
        help="exact counts and carriers (of the samples you may see)",
    )
    region.add_argument("--json", action="store_true")
    region.set_defaults(func=_cmd_region)

    patient = commands.add_parser("patient", help="a patient's samples, QC and ctDNA timeline")
    patient.add_argument("pseudonym")
    _add_db(patient)
    patient.add_argument("--json", action="store_true")
    patient.set_defaults(func=_cmd_patient)

    stats = commands.add_parser("stats", help="rows per table")
    _add_db(stats)
    stats.set_defaults(func=_cmd_stats)
    _add_platform(commands)


def _add_platform(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    today = datetime.date.today()
    consent = commands.add_parser("consent", help="load per-patient consent (versioned)")
    _add_db(consent)
    consent.add_argument("--file", type=Path, required=True, metavar="CONSENT.tsv")
    consent.set_defaults(func=_cmd_consent)

    match = commands.add_parser("match", help="match patients to clinical trials")
    _add_db(match)
    match.add_argument("--trials", type=Path, required=True, metavar="TRIALS.yaml")
    match.add_argument("--out", type=Path, required=True, metavar="DIR")
    match.add_argument("--date", type=_day, default=today, help="day of the match [today]")
    match.set_defaults(func=_cmd_match)

    export = commands.add_parser("export", help="consented, pseudonymised research export")
    _add_db(export)
    export.add_argument("--project", required=True)
    export.add_argument("--out", type=Path, required=True, metavar="DIR")
    export.add_argument(
        "--secret-file", type=Path, help="project secret (default: $GENOMFLOW_EXPORT_SECRET)"
    )
    export.add_argument("--date", type=_day, default=today, help="consent as of [today]")
    export.set_defaults(func=_cmd_export)

    token = commands.add_parser("token", help="Beacon API bearer tokens")
    tokens = token.add_subparsers(dest="token_command", required=True)
    add = tokens.add_parser("add", help="create a token for a centre (printed once)")
    _add_db(add)
    add.add_argument("--name", required=True)
    add.add_argument("--centre", required=True)
    add.add_argument("--days", type=at_least(1), default=90, help="valid for [90] days")
    listed = tokens.add_parser("list", help="tokens and their state")
    _add_db(listed)
    revoke = tokens.add_parser("revoke", help="revoke a token")
    _add_db(revoke)
    revoke.add_argument("--name", required=True)
    for parser in (add, listed, revoke):
        parser.set_defaults(func=_cmd_token)

    serve = commands.add_parser("serve", help="serve the GA4GH Beacon v2 API")
    _add_db(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=at_least(1), default=8080)
    serve.add_argument("--rate-limit", type=at_least(1), default=120, help="requests per window")
    serve.add_argument("--rate-window", type=float, default=60.0, help="seconds [60]")
    serve.set_defaults(func=_cmd_serve)
