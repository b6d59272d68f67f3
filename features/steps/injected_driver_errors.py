"""Driver errors injected into a service's statements, and the service calls that meet them.

Driver errors are injected by listeners on the dialect's ``do_execute``, ``do_executemany``
and ``do_execute_no_params`` events of the engine of a service built here. SQLAlchemy runs
those in place of the DBAPI cursor call, inside the ``try`` that guards it on every
SQLAlchemy version the floor admits, so an exception raised there is handled exactly like
one the driver raised while executing (wrapped in the matching ``DBAPIError`` subclass,
checked for a disconnect, the connection invalidated if so) before the library classifies
it. (``before_cursor_execute`` is not used for this: on SQLAlchemy 2.0.30, the floor, it
runs outside that ``try``, and an error raised there escapes raw.) The exceptions are the
drivers' own classes: ``sqlite3`` errors carrying ``sqlite_errorcode``, psycopg errors
looked up by SQLSTATE, and PyMySQL errors built the way PyMySQL builds them: server errors
by its own error-packet parser (class, error number and SQLSTATE as MariaDB sends them),
client errors for a broken connection as it raises them (no SQLSTATE). A run on MySQL uses
the MariaDB errors too.
"""

from __future__ import annotations

import logging
import sqlite3
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from behave.runner import Context
from library_error import capture_library_error
from sqlalchemy import Engine, event, func, select

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import (
    Database,
    RetryPolicy,
    SessionMessageModel,
)

DATABASE_LOGGER = "cleveragents.database"
# The dialect events that stand in for the DBAPI cursor calls, with the statement second.
DRIVER_CALL_EVENTS = ("do_execute", "do_executemany", "do_execute_no_params")


# --- Driver errors --------------------------------------------------------------------


ErrorFactory = Callable[[], BaseException]


def sqlite_error(
    kind: type[sqlite3.Error], message: str, code: int | None, name: str | None
) -> ErrorFactory:
    def build() -> sqlite3.Error:
        error = kind(message)
        if code is not None:  # what _sqlite3 sets on errors raised by the library
            error.sqlite_errorcode = code  # type: ignore[attr-defined]
            error.sqlite_errorname = name  # type: ignore[attr-defined]
        return error

    return build


SQLITE_ERRORS: dict[str, ErrorFactory] = {
    "SQLITE_BUSY": sqlite_error(sqlite3.OperationalError, "database is locked", 5, "SQLITE_BUSY"),
    "SQLITE_BUSY_SNAPSHOT": sqlite_error(
        sqlite3.OperationalError, "database is locked", 517, "SQLITE_BUSY_SNAPSHOT"
    ),
    "SQLITE_LOCKED": sqlite_error(
        sqlite3.OperationalError, "database table is locked", 6, "SQLITE_LOCKED"
    ),
    # pysqlite's is_disconnect() recognises this message: the connection is invalidated.
    "a closed connection": sqlite_error(
        sqlite3.ProgrammingError, "Cannot operate on a closed database.", None, None
    ),
    "SQLITE_CONSTRAINT_UNIQUE": sqlite_error(
        sqlite3.IntegrityError,
        "UNIQUE constraint failed: session_messages.id",
        2067,
        "SQLITE_CONSTRAINT_UNIQUE",
    ),
    "SQLITE_CONSTRAINT_FOREIGNKEY": sqlite_error(
        sqlite3.IntegrityError,
        "FOREIGN KEY constraint failed",
        787,
        "SQLITE_CONSTRAINT_FOREIGNKEY",
    ),
    "SQLITE_IOERR": sqlite_error(sqlite3.OperationalError, "disk I/O error", 10, "SQLITE_IOERR"),
    "a binding ProgrammingError": sqlite_error(
        sqlite3.ProgrammingError,
        "Incorrect number of bindings supplied. The current statement uses 3, "
        "and there are 2 supplied.",
        None,
        None,
    ),
}


def postgresql_error(spec: str) -> ErrorFactory:
    """``"40001 SerializationFailure"``: the psycopg class for that SQLSTATE, checked by name;
    ``"a lost connection"``: a bare psycopg OperationalError, as libpq reports one."""
    import psycopg
    from psycopg import errors

    if spec == "a lost connection":
        return lambda: psycopg.OperationalError("server closed the connection unexpectedly")
    sqlstate, class_name = spec.split()
    kind = errors.lookup(sqlstate)
    assert kind.__name__ == class_name, f"SQLSTATE {sqlstate} is {kind.__name__}, not {class_name}"
    return lambda: kind(f"injected {class_name}")


MYSQL_BACKENDS = ("mysql", "mariadb")

# What MariaDB 10.11 sends for these server errors: SQLSTATE and message (the statement's
# own text elided where the server would quote it).
MARIADB_SERVER_ERRORS: dict[str, tuple[str, str]] = {
    "1213 ER_LOCK_DEADLOCK": (
        "40001",
        "Deadlock found when trying to get lock; try restarting transaction",
    ),
    # What a connection killed with KILL CONNECTION is told (MariaDB only, so not among
    # PyMySQL's constants); SQLAlchemy counts it as a disconnect.
    "1927 ER_CONNECTION_KILLED": ("70100", "Connection was killed"),
    "1062 ER_DUP_ENTRY": ("23000", "Duplicate entry '0' for key 'PRIMARY'"),
    "1452 ER_NO_REFERENCED_ROW_2": (
        "23000",
        "Cannot add or update a child row: a foreign key constraint fails",
    ),
    "1064 ER_PARSE_ERROR": (
        "42000",
        "You have an error in your SQL syntax; check the manual that corresponds to your "
        "MariaDB server version for the right syntax to use near '' at line 1",
    ),
    "1021 ER_DISK_FULL": (
        "HY000",
        "Disk full (./cleveragents/sessions.ibd); waiting for someone to free some space... "
        '(errno: 28 "No space left on device")',
    ),
}
# Raised by PyMySQL itself when the socket fails, with no SQLSTATE.
MARIADB_CLIENT_ERRORS: dict[str, str] = {
    "2006 CR_SERVER_GONE_ERROR": "MySQL server has gone away (BrokenPipeError(32, 'Broken pipe'))",
    "2013 CR_SERVER_LOST": "Lost connection to MySQL server during query",
}


def mariadb_error(spec: str) -> ErrorFactory:
    """``"1213 ER_LOCK_DEADLOCK"``: the error PyMySQL raises for that server error packet;
    ``"2013 CR_SERVER_LOST"``: the OperationalError PyMySQL raises for that client error.
    Names PyMySQL knows are checked against its constants."""
    import pymysql
    from pymysql.constants import CR, ER

    number, name = spec.split()
    known = getattr(CR, name, None) if name.startswith("CR_") else getattr(ER, name[3:], None)
    assert known in (None, int(number)), f"{name} is {known}, not {number}"
    if spec in MARIADB_CLIENT_ERRORS:
        message = MARIADB_CLIENT_ERRORS[spec]
        return lambda: pymysql.err.OperationalError(int(number), message)
    sqlstate, message = MARIADB_SERVER_ERRORS[spec]
    packet = b"\xff" + struct.pack("<H", int(number)) + b"#" + sqlstate.encode() + message.encode()

    def build() -> BaseException:
        try:
            pymysql.err.raise_mysql_exception(packet)
        except pymysql.err.Error as error:
            return error.with_traceback(None)
        raise AssertionError(f"PyMySQL raised nothing for {spec}")

    return build


def driver_error(
    context: Context, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> ErrorFactory:
    if context.backend == "sqlite":
        return SQLITE_ERRORS[sqlite_name]
    if context.backend in MYSQL_BACKENDS:
        return mariadb_error(mariadb_spec)
    assert context.backend == "postgresql", f"no injected errors for {context.backend}"
    return postgresql_error(postgresql_spec)


@dataclass(eq=False)  # hashed by identity: SQLAlchemy keeps its listeners in a dict
class StatementTrap:
    """Counts the statements that contain ``prefix`` (on PostgreSQL one statement both takes
    a sequence and inserts a message); fails the first ``failures`` of them (``None``: all)
    with a fresh ``error()``."""

    engine: Engine
    prefix: str
    error: ErrorFactory | None = None
    failures: int | None = 0
    seen: int = 0
    raised: list[BaseException] = field(default_factory=list)
    armed: bool = False

    def __call__(self, _cursor: Any, statement: str, *_: Any) -> None:
        """A driver call about to run ``statement``; returns ``None`` so the driver runs it."""
        if self.prefix not in statement:
            return
        self.seen += 1
        if self.error is not None and (self.failures is None or self.seen <= self.failures):
            self.raised.append(self.error())
            raise self.raised[-1]

    def arm(self) -> None:
        for driver_call in DRIVER_CALL_EVENTS:
            event.listen(self.engine, driver_call, self)
        self.armed = True

    def disarm(self) -> None:
        if self.armed:
            for driver_call in DRIVER_CALL_EVENTS:
                event.remove(self.engine, driver_call, self)
            self.armed = False


@dataclass
class LostCommitAcknowledgement:
    """Once a statement containing ``prefix`` has run, the next COMMIT reaches the database
    and then fails with ``error()``: the write is stored, its answer is lost. A statement run
    in autocommit (a PostgreSQL write of one statement) is its own commit: it runs, then
    fails so."""

    engine: Engine
    prefix: str
    error: ErrorFactory
    pending: bool = False
    lost: int = 0
    before_loss: Callable[[], object] | None = None

    def watch(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.lost == 0 and self.prefix in statement:
            self.pending = True

    def run_then_lose(self, cursor: Any, statement: str, parameters: Any, context: Any) -> None:
        """A driver call about to run ``statement``: one in autocommit runs here, and then
        its answer is lost; any other is left to the driver (``None``)."""
        if self.pending and context.execution_options.get("isolation_level") == "AUTOCOMMIT":
            cursor.execute(statement, parameters)
            self.pending = False
            self.lose()

    def lose(self) -> None:
        self.lost += 1
        if self.before_loss is not None:
            self.before_loss()
        raise self.error()

    def install(self, context: Context) -> None:
        dialect = self.engine.dialect
        real_commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            real_commit(dbapi_connection)
            if self.pending:
                self.pending = False
                self.lose()

        dialect.do_commit = do_commit  # type: ignore[method-assign]  # this engine only
        event.listen(self.engine, "before_cursor_execute", self.watch)
        event.listen(self.engine, "do_execute", self.run_then_lose)

        def uninstall() -> None:
            event.remove(self.engine, "before_cursor_execute", self.watch)
            event.remove(self.engine, "do_execute", self.run_then_lose)
            del dialect.do_commit

        context.add_cleanup(uninstall)


def set_trap(context: Context, trap: StatementTrap) -> None:
    trap.arm()
    context.add_cleanup(trap.disarm)
    context.trap = trap


class RecordList(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def watch_database_log(context: Context) -> None:
    logger = logging.getLogger(DATABASE_LOGGER)
    handler, level = RecordList(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)

    def restore() -> None:
        logger.removeHandler(handler)
        logger.setLevel(level)

    context.add_cleanup(restore)
    context.database_log = handler


def retry_warnings(context: Context) -> list[logging.LogRecord]:
    return [r for r in context.database_log.records if r.levelno == logging.WARNING]


def run_call(context: Context, call: Callable[[], Any]) -> None:
    """Run one service call; keep its result or library error; stop injecting afterwards."""
    try:
        capture_library_error(context, call)
    finally:
        context.finished_at = time.monotonic()
        trap = getattr(context, "trap", None)
        if trap is not None:
            trap.disarm()


def succeeded(context: Context) -> Any:
    assert context.error is None, (
        f"the call failed: {type(context.error).__name__}: {context.error}"
    )
    return context.result


def stored_messages(engine: Engine, session_id: str) -> int:
    with engine.connect() as connection:
        statement = select(func.count()).where(SessionMessageModel.session_id == session_id)
        return int(connection.execute(statement).scalar_one())


def new_service(context: Context, engine: Engine, attempts: int) -> PersistentSessionService:
    policy = RetryPolicy(attempts=attempts, base_delay=0.001, max_delay=0.01)
    service: PersistentSessionService = context.open_service(Database(engine, retry_policy=policy))
    return service
