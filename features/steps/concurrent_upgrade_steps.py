"""Steps that race migration runners against one fresh database."""

from __future__ import annotations

import multiprocessing
import traceback
import uuid
from multiprocessing.connection import Connection as Pipe

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from behave import given, then, when
from behave.runner import Context
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import VERSION_TABLE, head_revision, upgrade_database
from cleveragents.infrastructure.database.base import Base


def upgrade_in_child(url: str, start: object, pipe: Pipe) -> None:
    try:
        start.wait(timeout=30)  # type: ignore[attr-defined]
        upgrade_database(url)
        pipe.send(None)
    except Exception:
        pipe.send(traceback.format_exc())
    pipe.close()


@given("a fresh empty database on the run's backend")
def given_fresh_database(context: Context) -> None:
    if context.backend == "sqlite":
        context.fresh_url = f"sqlite:///{context.work_directory}/fresh-{uuid.uuid4().hex}.db"
        return
    name = f"fresh_{uuid.uuid4().hex[:12]}"
    server = create_engine(context.database_url, isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))

    def drop() -> None:
        with server.connect() as connection:
            connection.execute(text(f"DROP DATABASE {name}"))
        server.dispose()

    context.add_cleanup(drop)
    url = make_url(context.database_url).set(database=name)
    context.fresh_url = url.render_as_string(hide_password=False)


@when("{count:d} processes upgrade it to the newest revision at once")
def when_processes_upgrade(context: Context, count: int) -> None:
    fork = multiprocessing.get_context("fork")
    start = fork.Event()
    pipes, workers = [], []
    for _ in range(count):
        receiver, sender = fork.Pipe(duplex=False)
        worker = fork.Process(target=upgrade_in_child, args=(context.fresh_url, start, sender))
        worker.start()
        pipes.append(receiver)
        workers.append(worker)
    start.set()
    context.upgrade_errors = [pipe.recv() for pipe in pipes]
    for worker in workers:
        worker.join(timeout=60)
    context.upgrade_exit_codes = [worker.exitcode for worker in workers]


@then("every process finished without an error")
def then_no_upgrade_errors(context: Context) -> None:
    errors = [error for error in context.upgrade_errors if error]
    assert not errors, "\n".join(errors)
    assert context.upgrade_exit_codes == [0] * len(context.upgrade_exit_codes)


@then("the database is at the newest revision with exactly the schema the models describe")
def then_schema_current(context: Context) -> None:
    engine = create_engine(context.fresh_url)
    context.add_cleanup(engine.dispose)
    with engine.connect() as connection:
        revisions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        assert revisions == [(head_revision(),)], revisions
        migration = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE}
        )
        differences = compare_metadata(migration, Base.metadata)
        assert differences == [], differences


@then("a service on it stores and reads back a message")
def then_service_works(context: Context) -> None:
    with PersistentSessionService.from_url(context.fresh_url) as service:
        session = service.create("after-the-race")
        service.append_message(session.id, "user", "hello")
        assert [m.content for m in service.get_messages(session.id)] == ["hello"]
