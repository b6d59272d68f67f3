"""Steps contrasting deferred SQLite transactions with the library's immediate ones."""

from __future__ import annotations

import sqlite3
import threading
import time

from behave import given, then, when
from behave.runner import Context

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import upgrade_database


@given("two raw connections to a SQLite session database with a {seconds:d} second busy timeout")
def given_raw_connections(context: Context, seconds: int) -> None:
    path = f"{context.work_directory}/lock-{time.monotonic_ns()}.db"
    context.lock_url = f"sqlite:///{path}"
    upgrade_database(context.lock_url)
    with PersistentSessionService.from_url(context.lock_url) as service:
        context.lock_session = service.create("locker")
    context.busy_timeout = seconds
    context.raw = []
    for _ in range(2):
        connection = sqlite3.connect(path, timeout=seconds, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        context.raw.append(connection)
        context.add_cleanup(connection.close)


@when("both begin deferred transactions, read the session and then both update it")
def when_deferred_upgrade(context: Context) -> None:
    first, second = context.raw
    update = "UPDATE sessions SET title = ? WHERE id = ?"
    for connection in (first, second):
        connection.execute("BEGIN DEFERRED")
        connection.execute("SELECT title FROM sessions WHERE id = ?", (context.lock_session.id,))
    first.execute(update, ("first", context.lock_session.id))
    started = time.monotonic()
    try:
        second.execute(update, ("second", context.lock_session.id))
        context.lock_error = None
    except sqlite3.OperationalError as error:
        context.lock_error = error
    context.lock_seconds = time.monotonic() - started
    first.execute("ROLLBACK")
    second.execute("ROLLBACK")


@then('the second update fails with "{message}" in well under the busy timeout')
def then_fails_at_once(context: Context, message: str) -> None:
    assert context.lock_error is not None, "the second writer was not refused"
    assert message in str(context.lock_error), str(context.lock_error)
    # Waiting the busy timeout out would take 5 s; the refusal is immediate by design.
    assert context.lock_seconds < context.busy_timeout / 2, context.lock_seconds


@when("two services append to the session from two threads {count:d} times each")
def when_services_append(context: Context, count: int) -> None:
    errors: list[BaseException] = []

    def append_many() -> None:
        try:
            with PersistentSessionService.from_url(context.lock_url) as service:
                for index in range(count):
                    service.get(context.lock_session.id)
                    service.append_message(context.lock_session.id, "user", f"m{index}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=append_many) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors


@then("the session holds {count:d} messages numbered 0 to {last:d}")
def then_numbered(context: Context, count: int, last: int) -> None:
    with PersistentSessionService.from_url(context.lock_url) as service:
        messages = service.get_messages(context.lock_session.id)
    assert [m.sequence for m in messages] == list(range(last + 1)), len(messages)
    assert len(messages) == count
