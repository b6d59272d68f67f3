"""Steps that pin down what differs between backends, dialect by dialect."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone

import psycopg
import pymysql
from behave import given, then, when
from behave.runner import Context
from psycopg import errors as pg_errors
from sqlalchemy import exc
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import Dialect

from cleveragents.infrastructure.database.column_types import UTCDateTime
from cleveragents.infrastructure.database.error_translation import is_transient, translate

DIALECTS: dict[str, Dialect] = {
    "sqlite": sqlite_dialect.dialect(),
    "postgresql": postgresql.psycopg.dialect(),
    "mysql": mysql.pymysql.dialect(),
}
LOCAL_TIME = datetime(2026, 3, 1, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=2)))
UTC_TIME = datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)


def mysql_error(
    kind: type[pymysql.err.MySQLError], code: int, message: str, sqlstate: str | None
) -> pymysql.err.MySQLError:
    """A PyMySQL error as the driver raises it: server errors also carry their SQLSTATE."""
    error = kind(code, message)
    if sqlstate is not None:
        error.sqlstate = sqlstate  # type: ignore[attr-defined]
    return error


def sqlite_error(kind: type[sqlite3.Error], message: str, code: int) -> sqlite3.Error:
    error = kind(message)
    error.sqlite_errorcode = code  # type: ignore[attr-defined]
    error.sqlite_errorname = ""  # type: ignore[attr-defined]
    return error


DRIVER_ERRORS = {
    ("sqlite3", "OperationalError SQLITE_BUSY"): lambda: sqlite_error(
        sqlite3.OperationalError, "database is locked", 5
    ),
    ("sqlite3", "OperationalError SQLITE_LOCKED"): lambda: sqlite_error(
        sqlite3.OperationalError, "database is locked", 6
    ),
    ("sqlite3", "OperationalError no such column"): lambda: sqlite_error(
        sqlite3.OperationalError, "no such column: sessions.archived", 1
    ),
    ("sqlite3", "IntegrityError"): lambda: sqlite_error(
        sqlite3.IntegrityError, "UNIQUE constraint failed: sessions.id", 2067
    ),
    ("psycopg", "SerializationFailure"): pg_errors.SerializationFailure,
    ("psycopg", "DeadlockDetected"): pg_errors.DeadlockDetected,
    ("psycopg", "LockNotAvailable"): pg_errors.LockNotAvailable,
    ("psycopg", "AdminShutdown"): pg_errors.AdminShutdown,
    ("psycopg", "ConnectionFailure"): pg_errors.ConnectionFailure,
    ("psycopg", "OperationalError without SQLSTATE"): lambda: psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 1 failed: connection refused'
    ),
    ("psycopg", "OperationalError for a missing database"): lambda: psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  database "agents" does not exist'
    ),
    ("psycopg", "OperationalError for a bad password"): lambda: psycopg.OperationalError(
        'connection failed: connection to server at "127.0.0.1", port 5432 failed: '
        'FATAL:  password authentication failed for user "agent"'
    ),
    ("psycopg", "OperationalError for an unknown host"): lambda: psycopg.OperationalError(
        "failed to resolve host 'db.invalid': [Errno -2] Name or service not known"
    ),
    ("psycopg", "UndefinedTable"): pg_errors.UndefinedTable,
    ("psycopg", "UndefinedColumn"): pg_errors.UndefinedColumn,
    ("psycopg", "UniqueViolation"): pg_errors.UniqueViolation,
    ("pymysql", "OperationalError 1213 deadlock"): lambda: mysql_error(
        pymysql.err.OperationalError,
        1213,
        "Deadlock found when trying to get lock; try restarting transaction",
        "40001",
    ),
    ("pymysql", "OperationalError 1205 lock wait timeout"): lambda: mysql_error(
        pymysql.err.OperationalError,
        1205,
        "Lock wait timeout exceeded; try restarting transaction",
        "HY000",
    ),
    ("pymysql", "OperationalError 2003 connection refused"): lambda: mysql_error(
        pymysql.err.OperationalError,
        2003,
        "Can't connect to MySQL server on '127.0.0.1' ([Errno 111] Connection refused)",
        None,
    ),
    ("pymysql", "OperationalError 2003 unknown host"): lambda: mysql_error(
        pymysql.err.OperationalError,
        2003,
        "Can't connect to MySQL server on 'db.invalid' ([Errno -2] Name or service not known)",
        None,
    ),
    ("pymysql", "OperationalError 1049 unknown database"): lambda: mysql_error(
        pymysql.err.OperationalError, 1049, "Unknown database 'agents'", "42000"
    ),
    ("pymysql", "OperationalError 1045 access denied"): lambda: mysql_error(
        pymysql.err.OperationalError,
        1045,
        "Access denied for user 'agent'@'127.0.0.1' (using password: YES)",
        "28000",
    ),
    ("pymysql", "OperationalError 1142 command denied"): lambda: mysql_error(
        pymysql.err.OperationalError,
        1142,
        "DELETE command denied to user 'agent'@'localhost' for table 'sessions'",
        "42000",
    ),
    ("pymysql", "ProgrammingError 1146 no such table"): lambda: mysql_error(
        pymysql.err.ProgrammingError, 1146, "Table 'app.sessions' doesn't exist", "42S02"
    ),
    ("pymysql", "IntegrityError 1062 duplicate entry"): lambda: mysql_error(
        pymysql.err.IntegrityError,
        1062,
        "Duplicate entry 'secret-content' for key 'PRIMARY'",
        "23000",
    ),
}
DBAPI_BASES = {"sqlite3": sqlite3.Error, "psycopg": psycopg.Error, "pymysql": pymysql.err.Error}


def timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text)


@given("the UTC timestamp column type as {dialect} sees it")
def given_column_type(context: Context, dialect: str) -> None:
    context.dialect = DIALECTS[dialect]
    context.column_type = UTCDateTime()


@when("a timestamp of {moment} at {offset} is bound for storage")
def when_bind(context: Context, moment: str, offset: str) -> None:
    context.bound = context.column_type.process_bind_param(
        timestamp(f"{moment}{offset}"), context.dialect
    )


@then("{dialect} is given {moment} without zone")
def then_bound_naive(context: Context, dialect: str, moment: str) -> None:
    assert context.bound == timestamp(moment), context.bound
    assert context.bound.tzinfo is None, context.bound


@then("{dialect} is given {moment} at UTC")
def then_bound_aware(context: Context, dialect: str, moment: str) -> None:
    assert context.bound == UTC_TIME, context.bound
    assert context.bound.utcoffset() == timedelta(0), context.bound


@then("a stored value of {moment} without zone reads back as {expected} UTC")
def then_read_naive(context: Context, moment: str, expected: str) -> None:
    value = context.column_type.process_result_value(timestamp(moment), context.dialect)
    assert value == UTC_TIME, value
    assert value.tzinfo is UTC, value.tzinfo


@then("a stored value of {moment} at {offset} reads back as {expected} UTC")
def then_read_offset(context: Context, moment: str, offset: str, expected: str) -> None:
    stored = timestamp(moment).replace(tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    value = context.column_type.process_result_value(stored, context.dialect)
    assert value == UTC_TIME, value
    assert value.utcoffset() == timedelta(0), value


@then("a timestamp without a timezone is refused before it reaches {dialect}")
def then_naive_refused(context: Context, dialect: str) -> None:
    try:
        context.column_type.process_bind_param(datetime(2026, 3, 1, 8, 30), context.dialect)
    except ValueError as error:
        assert "naive datetime refused" in str(error), error
    else:
        raise AssertionError("a naive datetime was accepted")


@then("its storage type is DATETIME(6)")
def then_datetime6(context: Context) -> None:
    implementation = context.column_type.load_dialect_impl(context.dialect)
    assert isinstance(implementation, mysql.DATETIME), implementation
    assert implementation.fsp == 6, implementation.fsp


@when("the {driver} driver raises {error}")
def when_driver_raises(context: Context, driver: str, error: str) -> None:
    original = DRIVER_ERRORS[(driver, error.strip())]()
    context.raised = exc.DBAPIError.instance(
        "UPDATE sessions SET title = ?", ("secret-content",), original, DBAPI_BASES[driver]
    )


@when("the connection pool times out")
def when_pool_times_out(context: Context) -> None:
    context.raised = exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached")


@then("the library calls it {verdict}")
def then_verdict(context: Context, verdict: str) -> None:
    assert is_transient(context.raised) is (verdict == "transient"), repr(context.raised)


@then('once retries are over it is reported as {reported} mentioning "{text}"')
def then_reported(context: Context, reported: str, text: str) -> None:
    translated = translate(context.raised, attempts=5)
    assert type(translated).__name__ == reported, f"{type(translated).__name__}: {translated}"
    assert text in str(translated), str(translated)
    assert "UPDATE sessions" not in str(translated), str(translated)


@then('once retries are over the message does not contain "{secret}"')
def then_no_value(context: Context, secret: str) -> None:
    translated = translate(context.raised, attempts=1)
    assert secret not in str(translated), str(translated)


@given("the run's database is used as if it had no UPDATE ... RETURNING")
def given_no_returning(context: Context) -> None:
    dialect = context.service._database.engine.dialect
    context.add_cleanup(setattr, dialect, "update_returning", dialect.update_returning)
    dialect.update_returning = False
