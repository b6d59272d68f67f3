"""Steps that open services on databases at the wrong revision."""

from __future__ import annotations

import subprocess
import sys
import uuid

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error
from sqlalchemy import create_engine, text

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import VERSION_TABLE, head_revision, upgrade_database
from cleveragents.infrastructure.database.schema_revision import REQUIRED_REVISION


@given("a SQLite file whose library schema is at {state}")
def given_schema_state(context: Context, state: str) -> None:
    context.file_url = f"sqlite:///{context.work_directory}/state-{uuid.uuid4().hex}.db"
    if state == "revision b1_001 only":
        upgrade_database(context.file_url, "b1_001_resource_registry")
    elif state == "the newest revision":
        upgrade_database(context.file_url)
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
    capture_library_error(
        context, lambda: PersistentSessionService.from_url(context.file_url).close()
    )


@when("the file is upgraded and a service is opened on it")
def when_upgrade_and_open(context: Context) -> None:
    upgrade_database(context.file_url)
    context.file_service = PersistentSessionService.from_url(context.file_url)
    context.add_cleanup(context.file_service.close)


@then("the service works on the file")
def then_service_works(context: Context) -> None:
    session = context.file_service.create("after-upgrade")
    assert context.file_service.get(session.id) == session


@then("the revision a service requires at start-up is the head revision")
def then_required_is_head(context: Context) -> None:
    assert head_revision() == REQUIRED_REVISION, (REQUIRED_REVISION, head_revision())


@when("a fresh process opens a service on that file, appends and reads a message")
def when_fresh_process(context: Context) -> None:
    program = (
        "import sys\n"
        "from cleveragents.application.services import PersistentSessionService\n"
        "with PersistentSessionService.from_url(sys.argv[1]) as service:\n"
        "    session = service.create('light')\n"
        "    service.append_message(session.id, 'user', 'hello')\n"
        "    assert [m.content for m in service.get_messages(session.id, last=1)] == ['hello']\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] == 'alembic'))\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", program, context.file_url],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    context.loaded_alembic_modules = completed.stdout.strip()


@then("that process never imported Alembic")
def then_no_alembic(context: Context) -> None:
    assert context.loaded_alembic_modules == "[]", context.loaded_alembic_modules
