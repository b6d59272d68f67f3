"""Steps that open services on databases at the wrong revision."""

from __future__ import annotations

import uuid

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import create_engine, text

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import VERSION_TABLE, upgrade_database


@given("a SQLite file whose library schema is at {state}")
def given_schema_state(context: Context, state: str) -> None:
    context.file_url = f"sqlite:///{context.work_directory}/state-{uuid.uuid4().hex}.db"
    if state == "revision b1_001 only":
        upgrade_database(context.file_url, "b1_001_resource_registry")
    elif state == "revision a7_001 only":
        upgrade_database(context.file_url, "a7_001_session_persistence")
    elif state == "an unknown newer revision":
        upgrade_database(context.file_url)
        engine = create_engine(context.file_url)
        with engine.begin() as connection:
            connection.execute(
                text(f"UPDATE {VERSION_TABLE} SET version_num = 'zz_from_the_future'")
            )
        engine.dispose()
    else:
        create_engine(context.file_url).dispose()


@when("I try to open a service on that file")
def when_open_file(context: Context) -> None:
    context.error = None
    try:
        PersistentSessionService.from_url(context.file_url).close()
    except domain.SessionPersistenceError as error:
        context.error = error


@when("the file is upgraded and a service is opened on it")
def when_upgrade_and_open(context: Context) -> None:
    upgrade_database(context.file_url)
    context.file_service = PersistentSessionService.from_url(context.file_url)
    context.add_cleanup(context.file_service.close)


@then("the service works on the file")
def then_service_works(context: Context) -> None:
    session = context.file_service.create("after-upgrade")
    assert context.file_service.get(session.id) == session
