"""Steps that hand the library an engine or sessionmaker the application built."""

from __future__ import annotations

import uuid
from typing import Any

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.orm import sessionmaker

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import SessionModel, upgrade_database


@given("the application's own engine on the run's database")
def given_app_engine(context: Context) -> None:
    context.app_engine = create_engine(context.database_url)
    context.add_cleanup(context.app_engine.dispose)
    if context.backend == "sqlite":
        event.listen(context.app_engine, "connect", turn_on_foreign_keys)


def turn_on_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=ON")


def migrated_sqlite_file(context: Context) -> str:
    url = f"sqlite:///{context.work_directory}/own-{uuid.uuid4().hex}.db"
    upgrade_database(url)
    return url


@given("a plain SQLite engine without the foreign-keys pragma on a migrated file")
def given_plain_sqlite(context: Context) -> None:
    context.app_engine = create_engine(migrated_sqlite_file(context))
    context.add_cleanup(context.app_engine.dispose)


@given("a plain SQLite engine that turns foreign keys on in a connect listener on a migrated file")
def given_listening_sqlite(context: Context) -> None:
    given_plain_sqlite(context)
    event.listen(context.app_engine, "connect", turn_on_foreign_keys)


def use(context: Context, service: PersistentSessionService) -> None:
    session = service.create("host-app")
    service.append_message(session.id, "user", "through the host's pool")
    context.stored_id = session.id
    service.close()


@when("I open a service on that engine and use it")
def when_open_on_engine(context: Context) -> None:
    use(context, PersistentSessionService.from_engine(context.app_engine))


@when("I open a service on a sessionmaker bound to that engine and use it")
def when_open_on_sessionmaker(context: Context) -> None:
    use(context, PersistentSessionService.from_sessionmaker(sessionmaker(context.app_engine)))


def try_open(context: Context, opener: Any) -> None:
    capture_library_error(context, lambda: opener().close())


@when("I try to open a service on a sessionmaker bound to nothing")
def when_open_unbound(context: Context) -> None:
    try_open(context, lambda: PersistentSessionService.from_sessionmaker(sessionmaker()))


@when("I try to open a service on that engine")
def when_try_open_engine(context: Context) -> None:
    try_open(context, lambda: PersistentSessionService.from_engine(context.app_engine))


@then('the opening fails with {error_name} mentioning "{text_part}"')
def then_opening_fails(context: Context, error_name: str, text_part: str) -> None:
    error = raised_error(context)
    assert type(error).__name__ == error_name, f"{type(error).__name__}: {error}"
    assert text_part in str(error), str(error)


@then("the session it stored is read back through the application's engine")
def then_read_through_app(context: Context) -> None:
    with context.app_engine.connect() as connection:
        actor = connection.execute(
            select(SessionModel.actor_name).where(SessionModel.id == context.stored_id)
        ).scalar_one()
        messages = connection.execute(
            text("SELECT count(*) FROM session_messages WHERE session_id = :id"),
            {"id": context.stored_id},
        ).scalar_one()
    assert (actor, messages) == ("host-app", 1), (actor, messages)


@then("after the service is closed the application's engine still works")
def then_engine_alive(context: Context) -> None:
    # A disposed pool would hold no connection; the service's ones are still pooled.
    assert context.app_engine.pool.checkedin() >= 1, context.app_engine.pool.status()
    with context.app_engine.connect() as connection:
        assert connection.execute(text("SELECT 1")).scalar_one() == 1
