"""Engine construction: where the database lives and the connection settings it needs."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from cleveragents.domain.errors import DatabaseConfigurationError
from cleveragents.infrastructure.database.url_parsing import parse_database_url, usable_dialect

DATABASE_URL_VARIABLE = "CLEVERAGENTS_DATABASE_URL"
# Read by the command-line tools (``cleveragents``, ``alembic``); code passes ``schema=``.
DATABASE_SCHEMA_VARIABLE = "CLEVERAGENTS_DATABASE_SCHEMA"
DEFAULT_DATABASE_FILE = Path("~/.local/share/cleveragents/sessions.db")
SQLITE_BUSY_TIMEOUT_MS = 5_000
# How often a connection asks again to switch a busy file to WAL (see _switch_to_wal).
SQLITE_WAL_SWITCH_PAUSE_S = 0.01

# Execution option a write transaction sets so SQLite takes the write lock at BEGIN.
WRITE_TRANSACTION_OPTION = "cleveragents_write"
# Execution option of a connection that runs one read statement with no BEGIN before it.
SINGLE_READ_OPTION = "cleveragents_single_read"


def default_database_url() -> str:
    """The URL used when none is given: ``CLEVERAGENTS_DATABASE_URL``, else the embedded file.

    The embedded default is a SQLite file under ``$XDG_DATA_HOME/cleveragents/`` (by default
    ``~/.local/share/cleveragents/sessions.db``).
    """
    configured = os.environ.get(DATABASE_URL_VARIABLE)
    if configured:
        return configured
    data_home = Path(os.environ.get("XDG_DATA_HOME") or "")
    # The XDG specification says a relative XDG_DATA_HOME is to be ignored.
    path = (
        data_home / "cleveragents" / "sessions.db"
        if data_home.is_absolute()
        else DEFAULT_DATABASE_FILE.expanduser()
    )
    return URL.create("sqlite", database=str(path)).render_as_string()


# What PostgreSQL accepts unquoted, at most NAMEDATALEN - 1 bytes: nothing needs quoting or
# can be truncated into another schema's name.
_PLAIN_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_SCHEMA_BACKENDS = ("postgresql",)


def check_schema_option(schema: str | None, backend: str) -> None:
    """Refuse a schema the library cannot use, before anything touches the database.

    ``backend`` is the dialect name (``engine.dialect.name`` or the URL's backend).
    """
    if schema is None:
        return
    if not isinstance(schema, str) or not _PLAIN_IDENTIFIER.fullmatch(schema):
        shown = repr(schema) if len(repr(schema)) <= 80 else repr(schema)[:77] + "..."
        raise DatabaseConfigurationError(
            f"the schema name {shown} is not a plain identifier: use letters, digits and "
            "underscores, not starting with a digit, at most 63 characters"
        )
    if schema.lower().startswith("pg_"):
        raise DatabaseConfigurationError(
            f"the schema name {schema!r} starts with pg_, which PostgreSQL reserves for itself"
        )
    if backend in _SCHEMA_BACKENDS:
        return
    if backend in ("mysql", "mariadb"):
        advice = (
            "on MySQL and MariaDB a schema is a separate database: name it in the URL "
            "instead (mysql+pymysql://user@host/DATABASE) and leave the schema out"
        )
    else:
        name = {"sqlite": "SQLite"}.get(backend, backend)
        advice = f"{name} has no schemas: leave the schema out (or use another database)"
    raise DatabaseConfigurationError(f"a schema is a PostgreSQL option; {advice}")


def url_backend(url: str | URL | None) -> str:
    """The backend a URL names (default: :func:`default_database_url`), without connecting."""
    return parse_database_url(url if url is not None else default_database_url()).get_backend_name()


def schema_options(schema: str | None) -> dict[str, Any]:
    """Execution options that put every library table in ``schema`` (none: the default)."""
    return {} if schema is None else {"schema_translate_map": {None: schema}}


def in_schema(engine: Engine, schema: str | None) -> Engine:
    """``engine`` with its statements aimed at ``schema``, sharing the engine's pool.

    The library's tables are defined without a schema, so SQLAlchemy's schema translation
    qualifies each of them at execution time; the caller's engine itself is not changed.
    """
    check_schema_option(schema, engine.dialect.name)
    return engine if schema is None else engine.execution_options(**schema_options(schema))


def single_read_engine(engine: Engine) -> Engine:
    """``engine`` for reads of exactly one statement, sharing its pool: no BEGIN, no COMMIT.

    A single statement is atomic and reads one consistent snapshot on its own, so a
    transaction around it only adds work: on PostgreSQL two round trips (``BEGIN`` and
    ``COMMIT`` besides the query, which the driver's autocommit mode leaves out, switched
    without a round trip), on SQLite the ``BEGIN`` the begin hook sends. MySQL and MariaDB
    keep the plain engine: PyMySQL's autocommit switch is itself a round trip each way.
    """
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    if engine.dialect.name == "sqlite":
        return engine.execution_options(**{SINGLE_READ_OPTION: True})
    return engine


# The most connections a service's pool holds: SQLAlchemy's default cap (5 kept, 10 more on
# demand), but all 15 kept once opened. Connections opened on demand beyond the kept ones are
# closed again as soon as they are returned, so a runtime running more than 5 calls at once
# opened and closed a server connection (several milliseconds) for most of its calls: through
# the async service on PostgreSQL, 32 concurrent conversations appended at half the rate of
# one sequential loop, and at its rate or better with the connections kept.
POOL_OPTIONS: dict[str, Any] = {"pool_size": 15, "max_overflow": 0}


def pool_options(url: URL, engine_options: dict[str, Any]) -> dict[str, Any]:
    """``engine_options`` with :data:`POOL_OPTIONS` unless the caller chose the pool or the
    URL gets none to size (an in-memory SQLite database keeps one connection)."""
    chosen = {"poolclass", "pool_size", "max_overflow"} & engine_options.keys()
    if chosen or (url.get_backend_name() == "sqlite" and not _is_sqlite_file(url)):
        return engine_options
    return {**POOL_OPTIONS, **engine_options}


def create_database_engine(url: str | URL | None = None, **engine_options: Any) -> Engine:
    """Build an engine for ``url`` (default: :func:`default_database_url`).

    SQL parameters are hidden from error messages so message contents never leak into logs.
    SQLite connections get foreign keys (without them ON DELETE CASCADE does nothing),
    WAL journaling for files, a busy timeout, full synchronous commits, and transactions that
    the library begins itself so writers can take the lock up front.
    """
    parsed = parse_database_url(url if url is not None else default_database_url())
    usable_dialect(parsed)
    engine_options = pool_options(parsed, engine_options)
    engine_options.setdefault("hide_parameters", True)
    backend = parsed.get_backend_name()
    if backend in ("mysql", "mariadb") and "charset" not in parsed.query:
        # Without utf8mb4 the driver cannot carry emoji and other 4-byte characters.
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    try:
        if backend != "sqlite":
            return create_engine(parsed, **engine_options)
        _ensure_sqlite_directory(parsed)
        engine = create_engine(parsed, **engine_options)
    except (exc.ArgumentError, TypeError) as error:
        # SQLAlchemy names the engine options it does not take, never the URL.
        raise DatabaseConfigurationError(f"the engine options were refused: {error}") from None
    _configure_sqlite(engine, file_backed=_is_sqlite_file(parsed))
    return engine


def displayable_url(url: str | URL) -> str:
    """The URL as it may be shown to people and logs: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (exc.ArgumentError, ValueError):
        return "(an invalid database URL)"


def _is_sqlite_file(url: URL) -> bool:
    database = url.database or ""
    return database not in ("", ":memory:") and not database.startswith("file::memory:")


def _ensure_sqlite_directory(url: URL) -> None:
    if _is_sqlite_file(url) and str(url.query.get("uri", "")).lower() != "true":
        Path(url.database or "").expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, file_backed: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Leave transaction control to the "begin" hook below instead of pysqlite's own.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            if file_backed:
                _switch_to_wal(cursor)
                cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer that read first and upgraded its lock later could deadlock with another
        # writer and fail at once whatever the busy timeout; taking the lock at BEGIN queues it.
        options = connection.get_execution_options()
        if options.get(WRITE_TRANSACTION_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        elif not options.get(SINGLE_READ_OPTION):
            connection.exec_driver_sql("BEGIN")


def _switch_to_wal(cursor: Any) -> None:
    """Put the file in WAL mode, waiting as the busy timeout would for a writer to finish.

    Leaving rollback-journal mode needs the file to itself, and SQLite refuses at once, without
    its busy handler, while another connection holds the write lock: several processes opening
    a fresh file together (workers that upgrade at start-up) would otherwise fail at random.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            busy = error.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY  # extended codes too
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(SQLITE_WAL_SWITCH_PAUSE_S)


def require_foreign_keys(engine: Engine) -> None:
    """Refuse a SQLite engine whose connections leave foreign keys off.

    Without ``PRAGMA foreign_keys=ON`` deleting a session silently leaves its messages behind,
    so an engine the caller built is checked once instead of trusted.
    """
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as connection:
        enabled = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if enabled != 1:
        raise DatabaseConfigurationError(
            "foreign keys are off on this SQLite engine, so deleting a session would leave its "
            "messages behind: run PRAGMA foreign_keys=ON in a 'connect' event listener, or "
            "build the engine with cleveragents.infrastructure.database.create_database_engine"
        )
