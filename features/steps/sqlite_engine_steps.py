"""Steps of sqlite_engine.feature: the settings, locking and default file of the embedded engine."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from behave import given, then, when
from behave.runner import Context
from injected_driver_errors import (
    new_service,
    run_call,
    stored_messages,
    succeeded,
    watch_database_log,
)
from library_error import capture_library_error
from scratch_databases import (
    fresh_sqlite_file,
    in_work_directory,
)
from sqlalchemy import create_engine, event, func, select

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import (
    VERSION_TABLE,
    Database,
    SessionModel,
    create_database_engine,
    default_database_url,
    head_revision,
    upgrade_database,
)


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


@given("a SQLite file in rollback-journal mode that another connection is writing to")
def given_rollback_file_being_written(context: Context) -> None:
    context.scratch = fresh_sqlite_file(context)
    with contextlib.closing(sqlite3.connect(context.scratch.path)) as setup:
        setup.execute("CREATE TABLE app_notes (note TEXT)")  # an application's own table
        setup.commit()
    context.locker = other_connection(context)
    context.locker.execute("BEGIN IMMEDIATE")
    context.locker.execute("INSERT INTO app_notes VALUES ('written beside the upgrade')")


@given("that connection commits {seconds:g} seconds later")
def given_commit_later(context: Context, seconds: float) -> None:
    def commit() -> None:
        time.sleep(seconds)
        context.committed_at = time.monotonic()  # taken before COMMIT frees the lock
        context.locker.execute("COMMIT")

    committer = threading.Thread(target=commit)
    committer.start()
    context.add_cleanup(committer.join)


@when("I upgrade that SQLite file to the newest revision")
def when_upgrade_scratch_file(context: Context) -> None:
    capture_library_error(context, lambda: upgrade_database(context.scratch.url))
    context.finished_at = time.monotonic()


@then("the upgrade succeeded, finishing after the other connection committed")
def then_upgrade_after_commit(context: Context) -> None:
    assert context.error is None, f"the upgrade failed: {context.error}"
    assert context.committed_at <= context.finished_at, "the upgrade ended before the commit"


@then("the SQLite file journals with WAL and keeps the other connection's row")
def then_wal_with_row(context: Context) -> None:
    with contextlib.closing(sqlite3.connect(context.scratch.path)) as connection:
        journal = connection.execute("PRAGMA journal_mode").fetchone()[0]
        notes = connection.execute("SELECT note FROM app_notes").fetchall()
        revisions = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
    assert journal == "wal", journal
    assert notes == [("written beside the upgrade",)], notes
    assert revisions == [(head_revision(),)], revisions


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
