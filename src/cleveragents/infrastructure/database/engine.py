"""Engine construction: where the database lives and the connection settings it needs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, exc
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.pool import ConnectionPoolEntry

from cleveragents.domain.errors import DatabaseConfigurationError

DATABASE_URL_VARIABLE = "CLEVERAGENTS_DATABASE_URL"
DEFAULT_DATABASE_FILE = Path("~/.local/share/cleveragents/sessions.db")
SQLITE_BUSY_TIMEOUT_MS = 5_000

# Execution option a write transaction sets so SQLite takes the write lock at BEGIN.
WRITE_TRANSACTION_OPTION = "cleveragents_write"


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


def create_database_engine(url: str | URL | None = None, **engine_options: Any) -> Engine:
    """Build an engine for ``url`` (default: :func:`default_database_url`).

    SQL parameters are hidden from error messages so message contents never leak into logs.
    SQLite connections get foreign keys (without them ON DELETE CASCADE does nothing),
    WAL journaling for files, a busy timeout, full synchronous commits, and transactions that
    the library begins itself so writers can take the lock up front.
    """
    try:
        parsed = make_url(url if url is not None else default_database_url())
    except exc.ArgumentError:
        raise _unusable_url() from None
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
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError):
        raise _unusable_url() from None
    _configure_sqlite(engine, file_backed=_is_sqlite_file(parsed))
    return engine


def displayable_url(url: str | URL) -> str:
    """The URL as it may be shown to people and logs: never with its password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "(an invalid database URL)"


def _unusable_url() -> DatabaseConfigurationError:
    # The URL itself is not repeated: it may hold a password.
    return DatabaseConfigurationError(
        "the database URL is not valid, or the driver it names is not installed"
    )


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
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A writer that read first and upgraded its lock later could deadlock with another
        # writer and fail at once whatever the busy timeout; taking the lock at BEGIN queues it.
        if connection.get_execution_options().get(WRITE_TRANSACTION_OPTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


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
