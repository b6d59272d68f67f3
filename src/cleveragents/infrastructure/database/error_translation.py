"""The one place SQLAlchemy errors become the library's errors.

Messages name the kind of failure and the driver's code, never the SQL text or its
parameters, so neither message contents nor credentials reach a log.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from cleveragents.domain.errors import (
    DatabaseError,
    DatabaseUnavailableError,
    SchemaOutOfDateError,
)

# PostgreSQL: serialization failure, deadlock, lock timeout, and the server shutting down.
_TRANSIENT_SQLSTATES = frozenset({"40001", "40P01", "55P03", "57P01", "57P02", "57P03"})
# MySQL/MariaDB: deadlock, lock wait timeout, server gone away, connection lost.
_TRANSIENT_MYSQL_CODES = frozenset({1205, 1213, 2002, 2003, 2006, 2013})
# MySQL/MariaDB connection failures, whose texts name the server, the user or the database,
# never data or passwords.
_MYSQL_CONNECTION_CODES = frozenset({1044, 1045, 1049, 2002, 2003, 2005, 2006, 2013})
# A failed connection no retry can mend: the server answered and refused (no such database
# or role, bad credentials), or the host name has no address. Drivers give these no code of
# their own (psycopg none at all, PyMySQL the same 2003 as a refused connection).
_PERMANENT_CONNECTION_TEXTS = (
    "does not exist",
    "authentication failed",
    "no pg_hba.conf entry",
    "failed to resolve host",
    "could not translate host name",
    "name or service not known",
    "nodename nor servname",
)
# MySQL/MariaDB permission refusals: PyMySQL raises them as OperationalError, but the
# database is there, it said no.
_MYSQL_PERMISSION_CODES = frozenset({1142, 1143, 1227})
_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_SQLITE_CONSTRAINT_PRIMARYKEY, _SQLITE_CONSTRAINT_UNIQUE = 1555, 2067
_MYSQL_DUPLICATE_ENTRY = 1062
_UNIQUE_VIOLATION = "23505"


def is_transient(error: exc.SQLAlchemyError) -> bool:
    """True when re-running the whole transaction may succeed."""
    if isinstance(error, exc.TimeoutError):
        return True  # every pooled connection was busy
    if not isinstance(error, exc.DBAPIError):
        return False
    return error.connection_invalidated or _is_transient_driver_error(error)


def _is_transient_driver_error(error: exc.DBAPIError) -> bool:
    original = error.orig
    if isinstance(original, sqlite3.OperationalError):
        return _sqlite_primary_code(original) in (_SQLITE_BUSY, _SQLITE_LOCKED)
    if _is_permanent_connection_failure(original):
        return False
    mysql_code = _mysql_code(original)
    if mysql_code is not None:
        # PyMySQL also sets a SQLSTATE, but a lock wait timeout's is the generic HY000.
        return mysql_code in _TRANSIENT_MYSQL_CODES
    sqlstate = _sqlstate(original)
    if sqlstate is not None:
        return sqlstate in _TRANSIENT_SQLSTATES or sqlstate.startswith("08")
    # psycopg gives no SQLSTATE when the connection itself failed
    return isinstance(error, exc.OperationalError) and _is_psycopg(original)


def is_duplicate_key(error: exc.IntegrityError) -> bool:
    """True when a row was refused because its primary or unique key is taken."""
    original = error.orig
    if isinstance(original, sqlite3.IntegrityError):
        code = getattr(original, "sqlite_errorcode", None)
        return code in (_SQLITE_CONSTRAINT_PRIMARYKEY, _SQLITE_CONSTRAINT_UNIQUE)
    mysql_code = _mysql_code(original)
    if mysql_code is not None:
        return mysql_code == _MYSQL_DUPLICATE_ENTRY
    return _sqlstate(original) == _UNIQUE_VIOLATION


def _is_permanent_connection_failure(original: object) -> bool:
    if not (_is_psycopg(original) and _sqlstate(original) is None) and _mysql_code(
        original
    ) not in (2003, 2005):
        return False
    text = str(original).lower()
    return any(permanent in text for permanent in _PERMANENT_CONNECTION_TEXTS)


def describe(error: exc.SQLAlchemyError) -> str:
    """A short, parameter-free description: driver error class, code and primary message."""
    original = getattr(error, "orig", None)
    if original is None:
        return type(error).__name__
    parts = [type(original).__name__]
    code = _mysql_code(original) or _sqlstate(original)
    if code is not None:
        parts.append(f"code {code}")
    message = _primary_message(original)
    if message:
        parts.append(message)
    return ": ".join(parts)


@contextmanager
def translated_errors(*, server: str | None) -> Iterator[None]:
    """The library's errors for database failures of work that is never re-run (a stream
    that may be half consumed), as ``database_retry`` gives them to work that is."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        raise translate(error, attempts=1, server=server) from error


def translate(
    error: exc.SQLAlchemyError, *, attempts: int, server: str | None = None
) -> DatabaseError:
    """The library error for a SQLAlchemy error that will not be retried (again).

    ``server`` (``host:port``) is added to unavailable-database messages, since not every
    driver names the server it failed to reach.
    """
    at = f" (server {server})" if server is not None else ""
    if is_transient(error):
        return DatabaseUnavailableError(
            f"database unavailable after {attempts} attempt(s): {describe(error)}{at}"
        )
    if _is_missing_table(error):
        return SchemaOutOfDateError(
            f"the database schema is missing or out of date ({describe(error)}); upgrade it "
            "with `alembic upgrade head` or cleveragents.infrastructure.database."
            "upgrade_database(url)"
        )
    if _mysql_code(getattr(error, "orig", None)) in _MYSQL_PERMISSION_CODES:
        return DatabaseError(f"database error: {describe(error)}")
    if isinstance(error, exc.OperationalError | exc.TimeoutError):
        return DatabaseUnavailableError(f"database unavailable: {describe(error)}{at}")
    return DatabaseError(f"database error: {describe(error)}")


def _is_missing_table(error: exc.SQLAlchemyError) -> bool:
    """A missing table or column: the schema is older than the code."""
    original = getattr(error, "orig", None)
    if isinstance(original, sqlite3.OperationalError):
        return (_primary_message(original) or "").startswith(("no such table", "no such column"))
    return _sqlstate(original) in ("42P01", "42703") or _mysql_code(original) in (1054, 1146)


def _sqlite_primary_code(error: sqlite3.Error) -> int | None:
    code = getattr(error, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def _sqlstate(original: object) -> str | None:
    sqlstate = getattr(original, "sqlstate", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _mysql_code(original: object) -> int | None:
    if not type(original).__module__.startswith(("pymysql", "MySQLdb")):
        return None
    args = getattr(original, "args", ())
    if args and isinstance(args[0], int) and not isinstance(args[0], bool):
        return args[0]
    return None


def _is_psycopg(original: object) -> bool:
    return type(original).__module__.startswith("psycopg")


def _primary_message(original: object) -> str | None:
    if original is None:
        return None
    diagnostic = getattr(original, "diag", None)
    primary = getattr(diagnostic, "message_primary", None)
    if isinstance(primary, str):
        return primary
    if isinstance(original, sqlite3.Error) and original.args:
        return str(original.args[0])
    if _is_psycopg(original) and _sqlstate(original) is None:
        # A failed connection: psycopg's text names host and port, never the password.
        return str(original).strip().splitlines()[0] if str(original).strip() else None
    if _mysql_code(original) in _MYSQL_CONNECTION_CODES:
        return str(getattr(original, "args", ("", ""))[-1])
    return None
