"""Steps that run a table-rebuilding revision through the library's migration environment."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from pathlib import Path

from alembic import command
from alembic.migration import MigrationContext
from alembic.operations import Operations
from behave import given, then, when
from behave.runner import Context
from sqlalchemy import create_engine, text

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import create_database_engine, upgrade_database
from cleveragents.infrastructure.database.schema_migrations import (
    alembic_config,
    head_revision,
    migrations_directory,
)

REBUILD_REVISION = '''"""Rebuild the sessions table (test only)."""

from alembic import op

revision = "zz_rebuild_sessions"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sessions", recreate="always"):
        pass


def downgrade() -> None:
    with op.batch_alter_table("sessions", recreate="always"):
        pass
'''


@given("a SQLite database with {sessions:d} sessions of {messages:d} messages each")
def given_populated_sqlite(context: Context, sessions: int, messages: int) -> None:
    context.safety_path = Path(context.work_directory) / f"safety-{uuid.uuid4().hex}.db"
    context.safety_url = f"sqlite:///{context.safety_path}"
    upgrade_database(context.safety_url)
    with PersistentSessionService.from_url(context.safety_url) as service:
        first = service.create("keeper", title="template", metadata={"n": 0})
        for index in range(messages):
            service.append_message(first.id, "user", f"message {index} 😀", token_count=index)
        document = service.export_session(first.id)
        for _ in range(sessions - 1):
            service.import_session(document)
        context.safety_ids = [session.id for session in service.list(limit=sessions + 1)]
        context.exports_before = {
            session_id: strip_time(service.export_session(session_id))
            for session_id in context.safety_ids
        }
    assert len(context.safety_ids) == sessions, len(context.safety_ids)


def strip_time(document: dict) -> dict:
    return {key: value for key, value in document.items() if key != "exported_at"}


@given("a migration after the newest one that rebuilds the sessions table both ways")
def given_rebuild_revision(context: Context) -> None:
    scripts = Path(context.work_directory) / f"scripts-{uuid.uuid4().hex}"
    shutil.copytree(migrations_directory(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    (scripts / "versions" / "zz_rebuild_sessions.py").write_text(
        REBUILD_REVISION.format(head=head_revision()), encoding="utf-8"
    )
    context.rebuild_scripts = scripts


@when("I upgrade through the rebuild and downgrade below it, twice")
def when_round_trip_migrations(context: Context) -> None:
    config = alembic_config()
    config.set_main_option("script_location", str(context.rebuild_scripts))
    engine = create_database_engine(context.safety_url)
    context.add_cleanup(engine.dispose)
    for step, revision in (
        ("upgrade", "zz_rebuild_sessions"),
        ("downgrade", head_revision()),
        ("upgrade", "zz_rebuild_sessions"),
        ("downgrade", head_revision()),
    ):
        with engine.connect() as connection:
            config.attributes["connection"] = connection
            getattr(command, step)(config, revision)


@then("every session's export is identical to its export before the migrations")
def then_exports_identical(context: Context) -> None:
    with PersistentSessionService.from_url(context.safety_url) as service:
        for session_id, before in context.exports_before.items():
            after = strip_time(service.export_session(session_id))
            assert after == before, f"session {session_id} changed"


@then("the database's integrity and foreign key checks are clean")
def then_integrity_clean(context: Context) -> None:
    connection = sqlite3.connect(context.safety_path)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


@then("connections opened afterwards still enforce foreign keys")
def then_foreign_keys_on(context: Context) -> None:
    engine = create_database_engine(context.safety_url)
    context.add_cleanup(engine.dispose)
    with engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


@when("the sessions table is rebuilt the same way with foreign keys on")
def when_rebuild_with_foreign_keys(context: Context) -> None:
    engine = create_engine(context.safety_url)
    context.add_cleanup(engine.dispose)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        operations = Operations(MigrationContext.configure(connection))
        with operations.batch_alter_table("sessions", recreate="always"):
            pass
        connection.commit()


@then("no message is left in the database")
def then_messages_gone(context: Context) -> None:
    engine = create_engine(context.safety_url)
    context.add_cleanup(engine.dispose)
    with engine.connect() as connection:
        remaining = connection.execute(text("SELECT count(*) FROM session_messages")).scalar()
    assert remaining == 0, f"{remaining} messages survived"
