"""Connecting to the knowledge database and keeping its schema at the newest migration.

URLs are SQLAlchemy URLs: ``sqlite:///path/to/file.sqlite`` (the default is
:data:`DEFAULT_URL`, or ``$GENOMFLOW_DB``) or ``postgresql://role@host:port/db`` (psycopg 3
is used whatever driver the URL names). SQLite connections start every transaction with
``BEGIN IMMEDIATE`` so that concurrent loaders queue instead of failing, and wait up to
:data:`SQLITE_BUSY_TIMEOUT` seconds for the lock.
"""

from __future__ import annotations

import os
import zlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from genomflow.errors import GenomflowError
from genomflow.kb.models import CENTRE_TABLES

DEFAULT_URL = "sqlite:///results/genomflow.sqlite"
URL_ENV = "GENOMFLOW_DB"
SQLITE_BUSY_TIMEOUT = 300.0
MIGRATIONS = "genomflow.kb:migrations"
#: Key of the PostgreSQL advisory lock taken while the schema is checked or migrated.
MIGRATION_LOCK = zlib.crc32(b"genomflow.kb.migrations")

#: Privileges of a centre's role (besides its own rows under row-level security).
SHARED_READ = (
    "centres",
    "centre_roles",
    "builds",
    "variants",
    "variant_counts_public",
    "variant_annotations",
)
SHARED_WRITE = ("builds", "variants")
OWN_VIEWS = ("latest_analyses", "variant_counts")


def default_url() -> str:
    """``$GENOMFLOW_DB`` if set, else :data:`DEFAULT_URL`."""
    return os.environ.get(URL_ENV) or DEFAULT_URL


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL whatever the URL says.

    >>> normalise_url("postgresql://kb@127.0.0.1:5433/kb")
    'postgresql+psycopg://kb@127.0.0.1:5433/kb'
    >>> normalise_url("sqlite:///x.sqlite")
    'sqlite:///x.sqlite'
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise GenomflowError(f"--db {url!r}: not a database URL") from None
    if parsed.get_backend_name() == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    elif parsed.get_backend_name() != "sqlite":
        raise GenomflowError(f"--db {url!r}: only SQLite and PostgreSQL are supported")
    return parsed.render_as_string(hide_password=False)


def _sqlite_immediate(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (see the module doc); SQLite files' folders are created."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
        _sqlite_immediate(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for PostgreSQL); an in-memory database is an error:
    whatever it is given is lost when the command ends.

    >>> sqlite_path("sqlite:///results/kb.sqlite"), sqlite_path("postgresql://h/kb")
    (PosixPath('results/kb.sqlite'), None)
    >>> try:
    ...     sqlite_path("sqlite:///")
    ... except GenomflowError as err:
    ...     print(err)
    --db 'sqlite:///': an in-memory database, lost when the command ends; name a file:
    sqlite:///path/to/kb.sqlite
    """
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return None
    if not parsed.database or parsed.database == ":memory:" or parsed.database.startswith("file::"):
        raise GenomflowError(
            f"--db {url!r}: an in-memory database, lost when the command ends; name a file: "
            "sqlite:///path/to/kb.sqlite"
        )
    return Path(parsed.database)


def open_for_writing(url: str) -> Engine:
    """An engine for loading: a SQLite file that will persist, in a folder that can be
    written (created if missing), or a PostgreSQL database."""
    path = sqlite_path(url)
    if path is not None:
        folder = path.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise GenomflowError(
                f"--db {url!r}: cannot create the folder {folder} ({err.strerror})"
            ) from None
        if path.is_dir():
            raise GenomflowError(f"--db {url!r}: {path} is a folder, not a database file")
        writable = os.access(path, os.W_OK) if path.exists() else os.access(folder, os.W_OK)
        # SQLite writes a journal next to the file: the folder must be writable too.
        if not writable or not os.access(folder, os.W_OK | os.X_OK):
            raise GenomflowError(
                f"--db {url!r}: cannot write {path}: the file or its folder {folder} is read-only"
            )
    return make_engine(url)


def open_for_reading(url: str, *, pool_size: int = 5) -> Engine:
    """The one engine for reading (queries, the Beacon): never creates a file, never writes.

    A SQLite file must exist and hold the genomflow schema; it is opened read-only (a
    read-only folder is fine), without ``BEGIN IMMEDIATE``, so readers run side by side and
    never block the writers. ``pool_size`` is the PostgreSQL connection pool (the Beacon's
    concurrent requests).
    """
    path = sqlite_path(url)
    if path is None:
        engine = create_engine(normalise_url(url), pool_pre_ping=True, pool_size=pool_size)
    else:
        if not path.is_file():
            problem = "is a folder" if path.is_dir() else "does not exist"
            raise GenomflowError(
                f"--db {url!r}: {path} {problem}; check the path (queries never create a "
                "database, `genomflow load` does)"
            )
        # In a folder nobody may write, nobody is writing: SQLite need not look for the
        # journal it could not create there (a WAL database would fail to open otherwise).
        frozen = "&immutable=1" if not os.access(path.parent, os.W_OK) else ""
        engine = create_engine(
            f"sqlite:///file:{path.absolute()}?mode=ro{frozen}&uri=true",
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT},
        )
    _check_schema(engine, url)
    return engine


def _check_schema(engine: Engine, url: str) -> None:
    try:
        with engine.connect() as connection:
            revision = current_revision(connection)
    except DBAPIError as err:
        engine.dispose()
        raise GenomflowError(f"--db {url!r}: cannot read the database ({err.orig})") from None
    if revision is None:
        engine.dispose()
        raise GenomflowError(
            f"--db {url!r}: not a genomflow knowledge database (no schema); check the path"
        )
    if revision != head_revision():
        engine.dispose()
        raise GenomflowError(
            f"--db {url!r}: schema revision {revision}, this genomflow needs "
            f"{head_revision()}: run `genomflow kb init --db URL` as the database owner"
        )


def is_postgres(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "postgresql"


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration."""
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:  # pragma: no cover - the package ships migrations
        raise RuntimeError("no migrations")
    return head


def current_revision(connection: Connection) -> str | None:
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration (nothing to do when it is there).

    Runs in one transaction, under a lock (an advisory lock on PostgreSQL, the database
    lock on SQLite), so that loaders started at once migrate exactly once.
    """
    head = head_revision()
    try:
        with engine.begin() as connection:
            if is_postgres(connection):
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
                )
            if current_revision(connection) == head:
                return
            command.upgrade(_alembic_config(connection), "head")
    except DBAPIError as err:
        raise GenomflowError(
            f"{engine.url.render_as_string()}: cannot bring the database schema to "
            f"revision {head} ({err.orig}); run `genomflow kb init` as the database owner"
        ) from None


def grant_centre(engine: Engine, centre: str, role: str, name: str, region: str = "") -> None:
    """Register a centre and map a PostgreSQL role to it, with the privileges a loader needs.

    The role must exist. It may then load and read its own centre's samples only, and read
    the suppressed aggregate counts of all centres.
    """
    if not is_postgres(engine):
        raise GenomflowError("centre roles exist only on PostgreSQL")
    quoted = engine.dialect.identifier_preparer.quote(role)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO centres (id, name, region) VALUES (:id, :name, :region) "
                "ON CONFLICT (id) DO NOTHING"
            ),
            {"id": centre, "name": name, "region": region},
        )
        connection.execute(
            text(
                "INSERT INTO centre_roles (role_name, centre_id) VALUES (:role, :centre) "
                "ON CONFLICT (role_name) DO UPDATE SET centre_id = excluded.centre_id"
            ),
            {"role": role, "centre": centre},
        )
        grants = (
            f"GRANT SELECT, INSERT, UPDATE ON {', '.join(CENTRE_TABLES)} TO {quoted}",
            f"GRANT SELECT ON {', '.join(SHARED_READ + OWN_VIEWS)} TO {quoted}",
            f"GRANT INSERT ON {', '.join(SHARED_WRITE)} TO {quoted}",
            f"GRANT SELECT ON alembic_version TO {quoted}",
            f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO {quoted}",
        )
        for statement in grants:
            connection.execute(text(statement))
