"""Steps for the infrastructure features: retries, the embedded SQLite engine, migrations.

Driver errors are injected by a ``before_cursor_execute`` listener on the engine of a
service built here. SQLAlchemy calls that hook inside the same ``try`` as the DBAPI
``cursor.execute``, so an exception raised there is handled exactly like one the driver
raised while executing (wrapped in the matching ``DBAPIError`` subclass, checked for a
disconnect, the connection invalidated if so) before the library classifies it. The
exceptions are the drivers' own classes: ``sqlite3`` errors carrying ``sqlite_errorcode``,
psycopg errors looked up by SQLSTATE, and PyMySQL errors built the way PyMySQL builds them:
server errors by its own error-packet parser (class, error number and SQLSTATE as MariaDB
sends them), client errors for a broken connection as it raises them (no SQLSTATE). A run
on MySQL uses the MariaDB errors too.

"Scratch" databases are private to one scenario: a fresh SQLite file in the run's work
directory, on PostgreSQL a fresh schema reached through ``search_path``, on MariaDB/MySQL
a fresh database on the run's server. Destructive migration checks run there; the run's
shared database is only read or upgraded in place.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sqlite3
import struct
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error
from sqlalchemy import Engine, create_engine, event, func, inspect, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session as OrmSession

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import (
    VERSION_TABLE,
    Database,
    ResourceModel,
    RetryPolicy,
    SessionMessageModel,
    SessionModel,
    create_database_engine,
    default_database_url,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.schema_migrations import (
    alembic_config,
    migrations_directory,
)

DATABASE_LOGGER = "cleveragents.database"
# Trust authentication ignores it; it is only there to prove no log line carries it.
FAKE_PASSWORD = "hunter2-not-a-real-secret"  # noqa: S105
LIBRARY_TABLES = frozenset(Base.metadata.tables)


def quoted(text_: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text_)


def in_work_directory(context: Context, value: str) -> str:
    return value.replace("$WORK", context.work_directory)


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


@dataclass
class StatementTrap:
    """Counts the statements that start with ``prefix``; fails the first ``failures`` of
    them (``None``: all) with a fresh ``error()``."""

    engine: Engine
    prefix: str
    error: ErrorFactory | None = None
    failures: int | None = 0
    seen: int = 0
    raised: list[BaseException] = field(default_factory=list)
    armed: bool = False

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not statement.lstrip().startswith(self.prefix):
            return
        self.seen += 1
        if self.error is not None and (self.failures is None or self.seen <= self.failures):
            self.raised.append(self.error())
            raise self.raised[-1]

    def arm(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self)
        self.armed = True

    def disarm(self) -> None:
        if self.armed:
            event.remove(self.engine, "before_cursor_execute", self)
            self.armed = False


@dataclass
class LostCommitAcknowledgement:
    """Once a statement starting with ``prefix`` has run, the next COMMIT reaches the
    database and then fails with ``error()``: the write is stored, its answer is lost."""

    engine: Engine
    prefix: str
    error: ErrorFactory
    pending: bool = False
    lost: int = 0
    before_loss: Callable[[], object] | None = None

    def watch(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.lost == 0 and statement.lstrip().startswith(self.prefix):
            self.pending = True

    def install(self, context: Context) -> None:
        dialect = self.engine.dialect
        real_commit = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            real_commit(dbapi_connection)
            if self.pending:
                self.pending = False
                self.lost += 1
                if self.before_loss is not None:
                    self.before_loss()
                raise self.error()

        dialect.do_commit = do_commit  # type: ignore[method-assign]  # this engine only
        event.listen(self.engine, "before_cursor_execute", self.watch)

        def uninstall() -> None:
            event.remove(self.engine, "before_cursor_execute", self.watch)
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
    service = PersistentSessionService(Database(engine, retry_policy=policy))
    context.add_cleanup(service.close)
    return service


# --- Scratch databases ----------------------------------------------------------------


@dataclass
class ScratchDatabase:
    url: URL
    engine: Engine
    path: Path | None = None


def fresh_sqlite_file(context: Context) -> ScratchDatabase:
    path = Path(context.work_directory) / f"scratch-{uuid.uuid4().hex[:12]}.db"
    url = URL.create("sqlite", database=str(path))
    engine = create_database_engine(url)
    context.add_cleanup(engine.dispose)
    return ScratchDatabase(url, engine, path)


def scratch_on_run_backend(context: Context) -> ScratchDatabase:
    if context.backend == "sqlite":
        return fresh_sqlite_file(context)
    if context.backend in MYSQL_BACKENDS:
        return scratch_mysql_database(context)
    assert context.backend == "postgresql", f"no scratch databases on {context.backend}"
    schema = f"behave_scratch_{uuid.uuid4().hex[:12]}"
    with context.inspection_engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(context.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = create_database_engine(url)

    def drop() -> None:
        engine.dispose()
        with context.inspection_engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    context.add_cleanup(drop)
    return ScratchDatabase(url, engine)


def scratch_mysql_database(context: Context) -> ScratchDatabase:
    """A fresh database on the run's MariaDB/MySQL server, dropped when the scenario ends."""
    name = f"behave_scratch_{uuid.uuid4().hex[:12]}"
    with context.inspection_engine.begin() as connection:
        connection.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        )
    url = make_url(context.database_url).set(database=name)
    engine = create_database_engine(url)

    def drop() -> None:
        engine.dispose()
        with context.inspection_engine.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))

    context.add_cleanup(drop)
    return ScratchDatabase(url, engine)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def schema_differences(engine: Engine, *, only_library_tables: bool) -> list[Any]:
    def include_name(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or not only_library_tables or name in LIBRARY_TABLES

    with engine.connect() as connection:
        migration_context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        return compare_metadata(migration_context, Base.metadata)


def version_rows(engine: Engine, table: str) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT version_num FROM {table}")).scalars())


# === database_retry.feature =============================================================


@given("a service on the run's database that makes at most {attempts:d} attempts per call")
def given_retrying_service(context: Context, attempts: int) -> None:
    url = make_url(context.database_url)
    context.secret = url.password or None  # MariaDB checks passwords: only the URL's own
    if context.backend == "postgresql":
        context.secret = FAKE_PASSWORD
        url = url.set(password=FAKE_PASSWORD)
    context.retry_engine = create_database_engine(url)
    context.add_cleanup(context.retry_engine.dispose)
    context.service = new_service(context, context.retry_engine, attempts)
    watch_database_log(context)


@given(
    'the next "{prefix}" statement fails with {sqlite_name} on SQLite, '
    "{postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_next_statement_fails(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    set_trap(context, StatementTrap(context.retry_engine, prefix, error, failures=1))


@given(
    'every "{prefix}" statement fails with {sqlite_name} on SQLite, '
    "{postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_every_statement_fails(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    set_trap(context, StatementTrap(context.retry_engine, prefix, error, failures=None))


@given(
    'the commit after the next "{prefix}" statement succeeds but its acknowledgement is lost '
    "with {sqlite_name} on SQLite, {postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_lost_acknowledgement(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    context.lost_commit = LostCommitAcknowledgement(context.retry_engine, prefix, error)
    context.lost_commit.install(context)


@given("another writer appends to the session between that commit and its lost answer")
def given_writer_before_loss(context: Context) -> None:
    other = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(other.close)
    session_id = context.session.id
    context.lost_commit.before_loss = lambda: other.append_message(session_id, "user", "between")


@then("the session holds the tokens of exactly one update")
def then_tokens_once(context: Context) -> None:
    session = context.service.get(context.session.id)
    seen = (session.input_tokens, session.output_tokens)
    assert seen == (7, 5), f"tokens {seen}"


@then("{count:d} commit acknowledgement was lost")
def then_acknowledgements_lost(context: Context, count: int) -> None:
    assert context.lost_commit.lost == count, f"{context.lost_commit.lost} lost"


@given('"{prefix}" statements are counted')
def given_statements_counted(context: Context, prefix: str) -> None:
    set_trap(context, StatementTrap(context.retry_engine, prefix))


@when('the service appends a "{role}" message "{content}" to that session')
def when_service_appends(context: Context, role: str, content: str) -> None:
    context.content = content
    run_call(context, lambda: context.service.append_message(context.session.id, role, content))


@when('the service appends a "{role}" message "{content}" to session "{session_id}"')
def when_service_appends_to(context: Context, role: str, content: str, session_id: str) -> None:
    context.content = content
    run_call(context, lambda: context.service.append_message(session_id, role, content))


OPERATIONS: dict[str, Callable[[Context], Any]] = {
    "create a session": lambda c: c.service.create("fresh"),
    "get the session": lambda c: c.service.get(c.session.id),
    "list the sessions": lambda c: c.service.list(),
    "delete the session": lambda c: c.service.delete(c.session.id),
    "add token usage": lambda c: c.service.update_token_usage(
        c.session.id, input_tokens=7, output_tokens=5
    ),
    "import an export of the session": lambda c: c.service.import_session(
        c.service.export_session(c.session.id)
    ),
    "read the session's messages": lambda c: c.service.get_messages(c.session.id),
    "export the session": lambda c: c.service.export_session(c.session.id),
    "append a message": lambda c: c.service.append_message(c.session.id, "user", "one more"),
    "stream the session to a file": lambda c: c.service.export_session_to_file(
        c.session.id, io.BytesIO()
    ),
    "import a streamed export of the session": lambda c: c.service.import_session_from_file(
        io.BytesIO(json.dumps(c.service.export_session(c.session.id)).encode())
    ),
}


@when("the service is asked to {operation}")
def when_service_asked(context: Context, operation: str) -> None:
    run_call(context, lambda: OPERATIONS[operation](context))


def check_created(context: Context, created: domain.Session) -> None:
    assert context.service.get(created.id) == created, created
    listed = [s.id for s in context.service.list(actor_name="fresh")]
    assert listed == [created.id], f"sessions of actor fresh: {listed}"


def check_deleted(context: Context, deleted: bool) -> None:
    assert deleted is True, f"delete returned {deleted!r}"
    assert context.service.get(context.session.id) is None
    remaining = stored_messages(context.inspection_engine, context.session.id)
    assert remaining == 0, f"{remaining} messages left"


def check_usage(context: Context, updated: domain.Session) -> None:
    stored = context.service.get(context.session.id)
    for session in (updated, stored):
        seen = (session.input_tokens, session.output_tokens)
        assert seen == (7, 5), f"tokens {seen}: added more than once?"


def check_imported(context: Context, imported: domain.Session) -> None:
    assert imported.id != context.session.id and imported.message_count == 2, imported
    sequences = [m.sequence for m in context.service.get_messages(imported.id)]
    assert sequences == [0, 1], sequences
    copies = context.service.list(actor_name=context.session.actor_name)
    assert len(copies) == 2, f"{len(copies)} sessions of the actor: {copies}"


def check_messages(context: Context, messages: list[domain.SessionMessage]) -> None:
    seen = [(m.sequence, m.content) for m in messages]
    expected = [(i, f"message {i} of {context.session.actor_name}") for i in range(2)]
    assert seen == expected, seen


def check_exported(context: Context, document: dict[str, Any]) -> None:
    assert document["session"]["id"] == context.session.id, document["session"]
    assert [m["sequence"] for m in document["messages"]] == [0, 1], document["messages"]


def check_appended(context: Context, message: domain.SessionMessage) -> None:
    assert message.sequence == 2, message
    stored = [(m.id, m.sequence) for m in context.service.get_messages(context.session.id)]
    assert stored[2:] == [(message.id, 2)] and len(stored) == 3, stored
    assert context.service.get(context.session.id).message_count == 3


CHECKS: dict[str, Callable[[Context, Any], None]] = {
    "create a session": check_created,
    "get the session": lambda c, got: _equal(got, c.session),
    "list the sessions": lambda c, listed: _equal([s.id for s in listed], [c.session.id]),
    "delete the session": check_deleted,
    "add token usage": check_usage,
    "import an export of the session": check_imported,
    "read the session's messages": check_messages,
    "export the session": check_exported,
    "append a message": check_appended,
}


def _equal(seen: object, expected: object) -> None:
    assert seen == expected, f"saw {seen!r}, expected {expected!r}"


@then('the call gave the right answer to "{operation}"')
def then_right_answer(context: Context, operation: str) -> None:
    CHECKS[operation](context, succeeded(context))


@then("the appended message has sequence {sequence:d} and the session's message_count is {count:d}")
def then_appended(context: Context, sequence: int, count: int) -> None:
    message = succeeded(context)
    stored = context.service.get(context.session.id)
    seen = (message.sequence, stored.message_count)
    assert seen == (sequence, count), f"sequence, message_count: {seen}"


@then("exactly one message is stored for the session, with that content")
def then_one_message(context: Context) -> None:
    messages = context.service.get_messages(context.session.id)
    assert [(m.sequence, m.content) for m in messages] == [(0, context.content)], messages
    assert stored_messages(context.inspection_engine, context.session.id) == 1


@then("the watched statement ran {count:d} times")
@then("the watched statement ran {count:d} time")
def then_statement_ran(context: Context, count: int) -> None:
    trap = context.trap
    assert trap.seen == count, f'"{trap.prefix}" ran {trap.seen} times, raised {trap.raised}'


@then("the database log holds {count:d} retry warnings")
@then("the database log holds {count:d} retry warning")
def then_warning_count(context: Context, count: int) -> None:
    warnings = retry_warnings(context)
    assert len(warnings) == count, [r.getMessage() for r in context.database_log.records]


@then("each retry warning names the driver error but not the content, the SQL or a password")
def then_warning_text(context: Context) -> None:
    warnings = retry_warnings(context)
    assert warnings, "no retry warning"
    driver_class = type(context.trap.raised[0]).__name__
    for record in warnings:
        line = record.getMessage()
        assert record.name == DATABASE_LOGGER, record.name
        assert driver_class in line, f"{driver_class} missing from {line!r}"
        assert context.content not in line, f"content leaked: {line!r}"
        assert context.trap.prefix not in line and "INSERT" not in line, f"SQL leaked: {line!r}"
        assert context.secret is None or context.secret not in line, f"password leaked: {line!r}"
        assert record.exc_info is None and record.exc_text is None, "traceback logged"


@then("the library error wraps the injected driver error and shows no SQL")
def then_error_wraps(context: Context) -> None:
    error = raised_error(context)
    assert isinstance(error, domain.DatabaseError), f"{type(error).__name__}: {error}"
    assert not isinstance(error, sa_exc.SQLAlchemyError), type(error).__mro__
    cause = error.__cause__
    assert isinstance(cause, sa_exc.DBAPIError), repr(cause)
    assert cause.orig is context.trap.raised[-1], (cause.orig, context.trap.raised)
    assert context.trap.prefix not in str(error), f"SQL in {error}"


@when("I build a retry policy with {arguments}")
def when_build_policy(context: Context, arguments: str) -> None:
    values = {
        name: float(value) if "." in value else int(value)
        for name, value in (pair.split("=") for pair in arguments.split(", "))
    }
    context.policy_error = None
    try:
        context.policy = RetryPolicy(**values)
    except ValueError as error:
        context.policy_error = error


@then('the policy is refused with ValueError mentioning "{text_}"')
def then_policy_refused(context: Context, text_: str) -> None:
    error = context.policy_error
    assert error is not None, f"accepted: {context.policy}"
    assert text_ in str(error), str(error)


@then(
    "{count:d} delays drawn before retry {retry:d} lie between 0 and {ceiling:g} seconds "
    "and are not all equal"
)
def then_delays(context: Context, count: int, retry: int, ceiling: float) -> None:
    delays = [context.policy.delay_before(retry) for _ in range(count)]
    assert all(0 <= d <= ceiling for d in delays), (min(delays), max(delays))
    assert len(set(delays)) > 1, delays[:5]
    assert max(delays) > ceiling / 2, f"max {max(delays)}: ceiling {ceiling} never approached"


# === sqlite_engine.feature ==============================================================


@given("a fresh SQLite file upgraded to the library's schema")
def given_upgraded_sqlite_file(context: Context) -> None:
    context.scratch = fresh_sqlite_file(context)
    upgrade_database(context.scratch.url)


@given("a fresh SQLite file in the work directory")
def given_fresh_sqlite_file(context: Context) -> None:
    context.scratch = fresh_sqlite_file(context)


def read_pragmas(connection: Any) -> tuple[Any, ...]:
    return tuple(
        connection.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("foreign_keys", "journal_mode", "busy_timeout", "synchronous")
    )


@when(
    "{threads:d} threads each hold a connection of the SQLite engine at once and read its pragmas"
)
def when_threads_read_pragmas(context: Context, threads: int) -> None:
    barrier = threading.Barrier(threads, timeout=10)
    seen: list[tuple[int, tuple[Any, ...]]] = []
    failures: list[BaseException] = []

    def read() -> None:
        try:
            with context.scratch.engine.connect() as connection:
                pragmas = read_pragmas(connection)
                seen.append((id(connection.connection.driver_connection), pragmas))
                barrier.wait()  # hold the connection until every thread has its own
        except BaseException as error:  # reported by the Then steps
            failures.append(error)

    workers = [threading.Thread(target=read) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not failures, failures
    context.pragmas = seen


@when('I open a library engine on "{url}" and read its pragmas')
def when_memory_pragmas(context: Context, url: str) -> None:
    engine = create_database_engine(url)
    context.add_cleanup(engine.dispose)
    with engine.connect() as connection:
        context.pragmas = [(id(connection), read_pragmas(connection))]


@then("the {threads:d} threads used {distinct:d} distinct DBAPI connections")
def then_distinct_connections(context: Context, threads: int, distinct: int) -> None:
    assert len(context.pragmas) == threads, context.pragmas
    assert len({key for key, _ in context.pragmas}) == distinct, context.pragmas


@then(
    'every connection reports foreign_keys {fk:d}, journal_mode "{journal}", '
    "busy_timeout {busy:d} and synchronous {sync:d}"
)
def then_pragmas(context: Context, fk: int, journal: str, busy: int, sync: int) -> None:
    assert context.pragmas, "no connection reported its settings"
    for _, pragmas in context.pragmas:
        assert pragmas == (fk, journal, busy, sync), f"saw {pragmas}"


@given("a service on the SQLite file that makes at most {attempts:d} attempts per call")
@given("a service on the SQLite file that makes at most {attempts:d} attempt per call")
def given_file_service(context: Context, attempts: int) -> None:
    context.service = new_service(context, context.scratch.engine, attempts)
    watch_database_log(context)


@given("that service holds a session with {count:d} messages")
def given_file_session(context: Context, count: int) -> None:
    context.session = context.service.create("file-keeper")
    for index in range(count):
        context.service.append_message(context.session.id, "user", f"message {index}")
    assert stored_messages(context.scratch.engine, context.session.id) == count


@when("the library deletes that session from the SQLite file")
def when_library_deletes(context: Context) -> None:
    run_call(context, lambda: context.service.delete(context.session.id))
    assert succeeded(context) is True, context.result


@when("a plain SQLAlchemy engine without the library's settings deletes that session row")
def when_plain_engine_deletes(context: Context) -> None:
    engine = create_engine(context.scratch.url)
    context.add_cleanup(engine.dispose)
    with engine.begin() as connection:
        context.control_foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
        deleted = connection.execute(
            SessionModel.__table__.delete().where(SessionModel.id == context.session.id)
        ).rowcount
    assert deleted == 1, f"deleted {deleted} session rows"


@then("the control engine's connection had foreign_keys {value:d}")
def then_control_foreign_keys(context: Context, value: int) -> None:
    assert context.control_foreign_keys == value, context.control_foreign_keys


@then("the SQLite file holds {count:d} messages of that session")
@then("the SQLite file holds {count:d} message of that session")
def then_file_messages(context: Context, count: int) -> None:
    stored = stored_messages(context.scratch.engine, context.session.id)
    assert stored == count, f"{stored} messages stored"


@then("the SQLite file holds no session row for it")
def then_no_session_row(context: Context) -> None:
    with context.scratch.engine.connect() as connection:
        rows = connection.execute(
            select(SessionModel.id).where(SessionModel.id == context.session.id)
        )
        assert rows.all() == [], "the session row is still there"


def set_environment(context: Context, name: str, value: str | None) -> None:
    previous = os.environ.get(name)

    def restore() -> None:
        if previous is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = previous

    context.add_cleanup(restore)
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = in_work_directory(context, value)


@given('the environment variable {name} is "{value}"')
def given_environment_set(context: Context, name: str, value: str) -> None:
    set_environment(context, name, value)


@given("the environment variable {name} is unset")
def given_environment_unset(context: Context, name: str) -> None:
    set_environment(context, name, None)


@given("the environment variable {name} is empty")
def given_environment_empty(context: Context, name: str) -> None:
    set_environment(context, name, "")


@given('the directory "{path}" does not exist')
def given_no_directory(context: Context, path: str) -> None:
    directory = Path(in_work_directory(context, path))
    assert not directory.exists(), f"{directory} already exists"


@when("I ask for the default database URL")
def when_default_url(context: Context) -> None:
    context.default_url = default_database_url()


@then('the default database URL is "{expected}"')
def then_default_url(context: Context, expected: str) -> None:
    expected = in_work_directory(context, expected)
    assert context.default_url == expected, f"saw {context.default_url!r}"


@when('I create a library engine for "{url}" without connecting')
def when_engine_without_connecting(context: Context, url: str) -> None:
    engine = create_database_engine(in_work_directory(context, url))
    context.add_cleanup(engine.dispose)


@when(
    'I upgrade the default database and create a session for actor "{actor}" '
    "with a service given no URL"
)
def when_default_database_session(context: Context, actor: str) -> None:
    upgrade_database()
    with PersistentSessionService.from_url() as service:
        context.session = service.create(actor)


@then('the directory "{path}" exists')
def then_directory_exists(context: Context, path: str) -> None:
    directory = Path(in_work_directory(context, path))
    beside = sorted(p.name for p in directory.parent.iterdir()) if directory.parent.is_dir() else []
    assert directory.is_dir(), f"{directory} missing; beside it: {beside}"


@when('I run upgrade_database on "{url}"')
def when_upgrade_url(context: Context, url: str) -> None:
    run_call(context, lambda: upgrade_database(in_work_directory(context, url)))


@then('the directory "{path}" was not created')
def then_directory_not_created(context: Context, path: str) -> None:
    directory = Path(in_work_directory(context, path))
    assert not directory.exists(), f"{directory} was created"


@then('the file "{path}" holds that session')
def then_file_holds_session(context: Context, path: str) -> None:
    database = Path(in_work_directory(context, path))
    assert database.is_file(), f"{database} missing"
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT id, actor_name FROM sessions").fetchall()
    connection.close()
    assert rows == [(context.session.id, context.session.actor_name)], rows


def other_connection(context: Context) -> sqlite3.Connection:
    connection = sqlite3.connect(
        context.scratch.path, timeout=0, isolation_level=None, check_same_thread=False
    )

    def close() -> None:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        connection.close()

    context.add_cleanup(close)
    return connection


@when(
    "another connection tries BEGIN IMMEDIATE without waiting while the library holds "
    "a {kind} transaction on the SQLite file"
)
def when_other_tries_lock(context: Context, kind: str) -> None:
    assert kind in ("write", "read"), kind
    database = Database(context.scratch.engine)
    other = other_connection(context)
    with database.transaction(write=kind == "write") as connection:
        connection.execute(select(func.count()).select_from(SessionModel)).scalar_one()
        try:
            other.execute("BEGIN IMMEDIATE")
            context.other_outcome = "got the write lock"
            other.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            context.other_outcome = f"refused: {error} (code {error.sqlite_errorcode})"


@then("the other connection was {outcome}")
def then_other_outcome(context: Context, outcome: str) -> None:
    assert context.other_outcome == outcome, f"saw {context.other_outcome!r}"


@given("another connection holds the write lock on the SQLite file")
def given_other_holds_lock(context: Context) -> None:
    context.locker = other_connection(context)
    context.locker.execute("BEGIN IMMEDIATE")
    context.released_at = None


@given("that connection releases the lock {seconds:g} seconds after the service asks for it")
def given_release_later(context: Context, seconds: float) -> None:
    engine, asked = context.scratch.engine, threading.Event()

    def notice(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.strip().upper() == "BEGIN IMMEDIATE":
            context.asked_at = time.monotonic()
            asked.set()

    def release() -> None:
        if asked.wait(timeout=30):
            time.sleep(seconds)
        context.released_at = time.monotonic()  # taken before COMMIT frees the lock
        context.locker.execute("COMMIT")

    event.listen(engine, "before_cursor_execute", notice)
    releaser = threading.Thread(target=release)
    releaser.start()
    context.add_cleanup(lambda: event.remove(engine, "before_cursor_execute", notice))
    context.add_cleanup(releaser.join)


@given("connections of that service wait at most {milliseconds:d} ms for a lock")
def given_short_busy_timeout(context: Context, milliseconds: int) -> None:
    engine = context.scratch.engine

    def shorten(dbapi_connection: Any, _record: Any) -> None:  # runs after the library's
        dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")

    event.listen(engine, "connect", shorten)
    context.add_cleanup(lambda: event.remove(engine, "connect", shorten))
    engine.dispose()  # connections already pooled keep the library's 5000 ms


@then("the append asked for the lock while it was held and succeeded only after its release")
def then_after_release(context: Context) -> None:
    message = succeeded(context)
    assert message.sequence == 0, message
    assert getattr(context, "asked_at", None) is not None, "the service never asked for the lock"
    moments = (context.asked_at, context.released_at, context.finished_at)
    assert moments == tuple(sorted(moments)), f"asked, released, finished at {moments}"


@when("a service on the scratch database tries to {action}")
def when_scratch_service_tries(context: Context, action: str) -> None:
    calls: dict[str, Callable[[PersistentSessionService], Any]] = {
        "create a session": lambda service: service.create("early"),
        "read a session": lambda service: service.get("01ARZ3NDEKTSV4RRFFQ69G5FAV"),
        "list sessions": lambda service: service.list(),
        "append a message": lambda service: service.append_message(
            "01ARZ3NDEKTSV4RRFFQ69G5FAV", "user", "hello"
        ),
    }
    # Opening the service already checks the schema, so the call itself is never reached.
    run_call(context, lambda: calls[action](new_service(context, context.scratch.engine, 3)))


# === migrations.feature =================================================================


@given("a scratch database on the run's backend")
def given_scratch_database(context: Context) -> None:
    context.scratch = scratch_on_run_backend(context)


@given('the scratch database is upgraded to "{revision}"')
@when('I upgrade the scratch database to "{revision}"')
def upgrade_scratch(context: Context, revision: str) -> None:
    upgrade_database(context.scratch.url, revision)


@when('I downgrade the scratch database to "{revision}"')
def downgrade_scratch(context: Context, revision: str) -> None:
    downgrade_database(context.scratch.engine, revision)


@then("comparing the run's database with the models finds no difference")
def then_run_database_matches(context: Context) -> None:
    engine = create_database_engine(context.database_url)
    context.add_cleanup(engine.dispose)
    differences = schema_differences(engine, only_library_tables=True)
    assert differences == [], differences


@then("comparing the scratch database with the models finds no difference")
def then_scratch_matches(context: Context) -> None:
    differences = schema_differences(context.scratch.engine, only_library_tables=False)
    assert differences == [], differences


@then("comparing the scratch database with the models reports only the missing tables {tables}")
def then_scratch_missing(context: Context, tables: str) -> None:
    differences = schema_differences(context.scratch.engine, only_library_tables=False)
    missing = sorted(d[1].name for d in differences if d[0] == "add_table")
    others = [d for d in differences if d[0] not in ("add_table", "add_index")]
    assert missing == sorted(quoted(tables)) and not others, differences


@then("the scratch database holds exactly the tables {tables}")
def then_scratch_tables(context: Context, tables: str) -> None:
    seen = table_names(context.scratch.engine)
    assert seen == set(quoted(tables)), f"saw {sorted(seen)}"


@then('the scratch database\'s version table holds "{revision}"')
def then_scratch_version(context: Context, revision: str) -> None:
    rows = version_rows(context.scratch.engine, VERSION_TABLE)
    assert rows == [revision], rows


@then("the scratch database's version table holds no revision")
def then_scratch_no_version(context: Context) -> None:
    if VERSION_TABLE in table_names(context.scratch.engine):
        rows = version_rows(context.scratch.engine, VERSION_TABLE)
        assert rows == [], rows


@then('the head revision is "{revision}"')
def then_head(context: Context, revision: str) -> None:
    assert head_revision() == revision, head_revision()


@then("the migration chain from base to head is {revisions}")
def then_chain(context: Context, revisions: str) -> None:
    scripts = ScriptDirectory.from_config(alembic_config())
    assert scripts.get_heads() == [head_revision()], scripts.get_heads()
    assert scripts.get_bases() == [quoted(revisions)[0]], scripts.get_bases()
    chain = [script.revision for script in scripts.walk_revisions("base", "heads")]
    assert chain[::-1] == quoted(revisions), chain
    downs = [scripts.get_revision(name).down_revision for name in quoted(revisions)]
    assert downs == [None, *quoted(revisions)[:-1]], downs


@when("I upgrade the run's database to head again, passing {form}")
def when_upgrade_again(context: Context, form: str) -> None:
    if form == "its URL as a string":
        upgrade_database(context.database_url)
    elif form == "its URL as a URL object":
        upgrade_database(make_url(context.database_url))
    else:
        assert form == "a library engine", form
        engine = create_database_engine(context.database_url)
        context.add_cleanup(engine.dispose)
        upgrade_database(engine)
        with engine.connect() as connection:  # the caller's engine is still usable
            assert connection.execute(text("SELECT 1")).scalar() == 1


def repository_root() -> Path:
    root = migrations_directory().parent
    assert (root / "alembic.ini").is_file(), f"no alembic.ini in {root}"
    return root


@when('I run "alembic {arguments}" from the repository root on the scratch database')
def when_run_alembic(context: Context, arguments: str) -> None:
    environment = dict(os.environ)
    environment["CLEVERAGENTS_DATABASE_URL"] = context.scratch.url.render_as_string(
        hide_password=False
    )
    context.scratch.engine.dispose()  # let the command line have the file to itself
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", *arguments.split()],
        cwd=repository_root(),
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    context.cli = completed


@then('alembic exits with {code:d} and its output mentions "{text_}"')
def then_cli_output(context: Context, code: int, text_: str) -> None:
    completed = context.cli
    output = completed.stdout + completed.stderr
    assert completed.returncode == code, f"exit {completed.returncode}: {output}"
    assert text_ in output, output


@then('alembic exits with {code:d} and its output does not mention "{text_}"')
def then_cli_output_lacks(context: Context, code: int, text_: str) -> None:
    completed = context.cli
    output = completed.stdout + completed.stderr
    assert completed.returncode == code, f"exit {completed.returncode}: {output}"
    assert text_ not in output, output


@given('the scratch database has a host table "alembic_version" holding "{revision}"')
def given_host_version_table(context: Context, revision: str) -> None:
    with context.scratch.engine.begin() as connection:
        connection.execute(
            text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
        )
        connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})


@then('the host table "alembic_version" still holds only "{revision}"')
def then_host_version_table(context: Context, revision: str) -> None:
    rows = version_rows(context.scratch.engine, "alembic_version")
    assert rows == [revision], rows


def resource(kind: str, name: str) -> ResourceModel:
    now = datetime.now(UTC)
    return ResourceModel(
        id=uuid.uuid4().hex[:26].upper(),
        kind=kind,
        name=name,
        metadata_={"registered_by": "behave"},
        created_at=now,
        updated_at=now,
    )


def target_engine(context: Context, where: str) -> Engine:
    if where == "the scratch database":
        return context.scratch.engine
    assert where == "the run's database", where
    engine = getattr(context, "run_library_engine", None)
    if engine is None:
        engine = context.run_library_engine = create_database_engine(context.database_url)
        context.add_cleanup(engine.dispose)
    return engine


@given('ResourceModel registers a "{kind}" resource "{name}" in {where}')
def given_register_resource(context: Context, kind: str, name: str, where: str) -> None:
    with OrmSession(target_engine(context, where)) as orm, orm.begin():
        orm.add(resource(kind, name))


@when('ResourceModel registers a "{kind}" resource "{name}" in {where} once more')
def when_register_again(context: Context, kind: str, name: str, where: str) -> None:
    context.orm_error = None
    try:
        with OrmSession(target_engine(context, where)) as orm, orm.begin():
            orm.add(resource(kind, name))
    except sa_exc.IntegrityError as error:
        context.orm_error = error


@then("the ORM refused it with an IntegrityError")
def then_orm_refused(context: Context) -> None:
    assert isinstance(context.orm_error, sa_exc.IntegrityError), "the duplicate was accepted"


@then("the ORM accepted it")
def then_orm_accepted(context: Context) -> None:
    assert context.orm_error is None, context.orm_error


@then('{where} registers {count:d} "{kind}" resource named "{name}"')
def then_resource_count(context: Context, where: str, count: int, kind: str, name: str) -> None:
    with OrmSession(target_engine(context, where)) as orm:
        rows = orm.scalars(
            select(ResourceModel).where(ResourceModel.kind == kind, ResourceModel.name == name)
        ).all()
    assert len(rows) == count, [(r.id, r.kind, r.name) for r in rows]
