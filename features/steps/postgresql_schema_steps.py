"""Steps for the library's tables in a PostgreSQL schema of the caller's choice.

The scenarios that use a schema are tagged ``postgresql_only`` and skipped elsewhere (see
``features/environment.py``); the refusal on backends without schemas is a scenario of its own.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import shlex
import subprocess
import sys
import traceback
import uuid
from collections.abc import Callable
from multiprocessing.connection import Connection as Pipe
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import MetaData, Table, create_engine, func, inspect, select, text
from sqlalchemy.orm import sessionmaker
from typer.testing import CliRunner

from cleveragents.application.services import PersistentSessionService
from cleveragents.cli.app import app
from cleveragents.domain.errors import DatabaseConfigurationError, SchemaOutOfDateError
from cleveragents.infrastructure.database import (
    VERSION_TABLE,
    Database,
    current_revision,
    downgrade_database,
    head_revision,
    schema_differences,
    upgrade_database,
)
from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.schema_migrations import migrations_directory

SCHEMA_VARIABLE = "CLEVERAGENTS_DATABASE_SCHEMA"


def on_postgresql(context: Context) -> bool:
    return bool(context.backend == "postgresql")


def default_schema_state(context: Context) -> tuple[list[str], Any]:
    """The default schema's table names and the library's rows there."""
    return sorted(inspect(context.inspection_engine).get_table_names()), (
        context.database_fingerprint()
    )


def schema_names(context: Context) -> list[str]:
    if not on_postgresql(context):
        return []
    return sorted(inspect(context.inspection_engine).get_schema_names())


def new_schema_name(context: Context) -> str:
    """A fresh schema name, dropped with everything in it when the scenario ends."""
    name = f"agents_{uuid.uuid4().hex[:12]}"
    if on_postgresql(context):

        def drop() -> None:
            with context.inspection_engine.begin() as connection:
                connection.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))

        context.add_cleanup(drop)
    return name


def schema_table(context: Context, schema: str, name: str) -> Table:
    return Table(name, MetaData(), schema=schema, autoload_with=context.inspection_engine)


def count_rows(context: Context, schema: str, name: str) -> int:
    with context.inspection_engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).select_from(schema_table(context, schema, name))
            ).scalar_one()
        )


def open_service(context: Context, schema: str) -> PersistentSessionService:
    service = PersistentSessionService.from_url(context.database_url, schema=schema)
    context.add_cleanup(service.close)
    return service


# --- Given ------------------------------------------------------------------------------


@given("a schema named for this scenario")
def given_schema(context: Context) -> None:
    context.schema = new_schema_name(context)
    context.default_before = default_schema_state(context)
    context.schemas_before = schema_names(context)


@given("a schema named for this scenario, upgraded")
def given_upgraded_schema(context: Context) -> None:
    given_schema(context)
    upgrade_database(context.database_url, schema=context.schema)


@given("a second schema named for this scenario, upgraded")
def given_second_schema(context: Context) -> None:
    context.second_schema = new_schema_name(context)
    upgrade_database(context.database_url, schema=context.second_schema)


@given('the host application\'s own alembic_version table holding "{revision}"')
def given_host_alembic_version(context: Context, revision: str) -> None:
    engine = context.inspection_engine
    created = not inspect(engine).has_table("alembic_version")
    with engine.begin() as connection:
        if created:
            connection.execute(
                text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)")
            )
        connection.execute(text("INSERT INTO alembic_version VALUES (:v)"), {"v": revision})

    def remove() -> None:
        with engine.begin() as connection:
            if created:
                connection.execute(text("DROP TABLE alembic_version"))
            else:  # pragma: no cover - the run's database normally has no host table
                connection.execute(
                    text("DELETE FROM alembic_version WHERE version_num = :v"), {"v": revision}
                )

    context.add_cleanup(remove)
    context.host_revisions = [revision]


# --- When -------------------------------------------------------------------------------


@when("the run's database is upgraded into that schema")
def when_upgrade_schema(context: Context) -> None:
    upgrade_database(context.database_url, schema=context.schema)


@when("a service opened on that schema stores a session with two messages and imports its export")
def when_service_round_trip(context: Context) -> None:
    service = open_service(context, context.schema)
    session = service.create("schema-bot", title="In its own schema", metadata={"tenant": "a"})
    service.append_message(session.id, "user", "Where are my tables?")
    service.append_message(session.id, "assistant", "In their own schema.", token_count=5)
    copy = service.import_session(service.export_session(session.id))
    context.stored_ids = (session.id, copy.id)


@when(
    "services in that schema are opened on the application's engine and on a sessionmaker "
    "bound to it"
)
def when_services_on_app_engine(context: Context) -> None:
    engine = create_engine(context.database_url)
    context.add_cleanup(engine.dispose)
    context.app_engine = engine
    context.app_options_before = dict(engine.get_execution_options())
    on_engine = PersistentSessionService.from_engine(engine, schema=context.schema)
    on_factory = PersistentSessionService.from_sessionmaker(
        sessionmaker(engine), schema=context.schema
    )
    context.add_cleanup(on_engine.close)
    context.add_cleanup(on_factory.close)
    context.pair = (on_engine, on_factory)
    context.pair_ids = (on_engine.create("via-engine").id, on_factory.create("via-factory").id)


@when("a session is stored in the first schema and the second schema is downgraded to base")
def when_store_and_downgrade(context: Context) -> None:
    context.stored_ids = (open_service(context, context.schema).create("first-schema").id,)
    downgrade_database(context.database_url, schema=context.second_schema)


@when("a service is opened on that schema before anything created it")
def when_open_missing_schema(context: Context) -> None:
    open_refused(context)


@when('that schema is upgraded to "{revision}" only and a service is opened on it')
def when_open_behind_schema(context: Context, revision: str) -> None:
    upgrade_database(context.database_url, revision, schema=context.schema)
    open_refused(context)


def open_refused(context: Context) -> None:
    context.opening_error = None
    try:
        open_service(context, context.schema)
    except SchemaOutOfDateError as error:
        context.opening_error = error


def upgrade_schema_in_child(url: str, schema: str, start: Any, pipe: Pipe) -> None:
    """One upgrader in its own process (Alembic's context is one per process)."""
    try:
        start.wait(timeout=30)
        upgrade_database(url, schema=schema)
        pipe.send(None)
    except Exception:  # any failure, reported whole by the Then step
        pipe.send(traceback.format_exc())
    pipe.close()


@when("{count:d} upgraders upgrade that schema at the same moment")
def when_concurrent_upgraders(context: Context, count: int) -> None:
    fork = multiprocessing.get_context("fork")
    start = fork.Event()
    pipes, workers = [], []
    for _ in range(count):
        receiver, sender = fork.Pipe(duplex=False)
        arguments = (context.database_url, context.schema, start, sender)
        worker = fork.Process(target=upgrade_schema_in_child, args=arguments)
        worker.start()
        pipes.append(receiver)
        workers.append(worker)
    start.set()
    context.upgrade_outcomes = [pipe.recv() for pipe in pipes]
    for worker in workers:
        worker.join(timeout=60)


def expand_schema(context: Context, words: str) -> str:
    return words.replace("{schema}", context.schema).replace("{head}", head_revision())


def run_cli(context: Context, arguments: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["--database-url", context.database_url, *arguments])
    return result.exit_code, result.stdout, result.stderr


@when("the operator runs these commands with --schema naming that schema")
def when_cli_commands(context: Context) -> None:
    context.cli_runs = []
    for row in context.table:
        arguments = ["--schema", context.schema, *shlex.split(row["arguments"])]
        outcome = run_cli(context, arguments)
        expected = expand_schema(context, row["on PostgreSQL the output holds"])
        context.cli_runs.append((row["arguments"], outcome, expected))


@when('the operator runs "{arguments}" with CLEVERAGENTS_DATABASE_SCHEMA naming that schema')
def when_cli_environment_schema(context: Context, arguments: str) -> None:
    previous = os.environ.get(SCHEMA_VARIABLE)
    os.environ[SCHEMA_VARIABLE] = context.schema
    try:
        outcome = run_cli(context, shlex.split(arguments))
    finally:
        if previous is None:
            os.environ.pop(SCHEMA_VARIABLE, None)
        else:  # pragma: no cover - the test run does not set it
            os.environ[SCHEMA_VARIABLE] = previous
    runs = getattr(context, "cli_runs", [])
    runs.append((f"{arguments} (from the environment)", outcome, head_revision()))
    context.cli_runs = runs


def run_alembic(context: Context, arguments: str, environment_schema: str | None) -> None:
    environment = dict(os.environ)
    environment["CLEVERAGENTS_DATABASE_URL"] = context.database_url
    environment.pop(SCHEMA_VARIABLE, None)
    if environment_schema is not None:
        environment[SCHEMA_VARIABLE] = environment_schema
    completed = subprocess.run(
        [sys.executable, "-m", "alembic", *shlex.split(expand_schema(context, arguments))],
        cwd=migrations_directory().parent,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    runs = getattr(context, "alembic_runs", [])
    runs.append((arguments, completed))
    context.alembic_runs = runs


@when('alembic runs from the repository root with "{arguments}"')
def when_alembic(context: Context, arguments: str) -> None:
    run_alembic(context, arguments, environment_schema=None)


@when(
    'alembic runs from the repository root with "{arguments}" and '
    "CLEVERAGENTS_DATABASE_SCHEMA naming that schema"
)
def when_alembic_environment(context: Context, arguments: str) -> None:
    run_alembic(context, arguments, environment_schema=context.schema)


@when(
    "the README's example for tables in a PostgreSQL schema runs on the run's database in "
    "that schema"
)
def when_readme_schema_example(context: Context) -> None:
    readme = (migrations_directory().parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Tables in a PostgreSQL schema", 1)[1].split("\n## ", 1)[0]
    example = re.search(r"```text\n(.*?)```", section, flags=re.DOTALL)
    assert example is not None, "the README section has no example"
    url = re.search(r'url = "([^"]+)"', example.group(1))
    assert url is not None, "the example names no URL"
    code = example.group(1).replace(url.group(1), context.database_url)
    code = code.replace('"agent_sessions"', repr(context.schema))
    exec(compile(code, "README.md", "exec"), {})  # noqa: S102


@when('every entry point is given the schema name "{name}"')
def when_every_entry_point(context: Context, name: str) -> None:
    url = context.database_url
    engine = create_engine(url)
    context.add_cleanup(engine.dispose)
    entry_points: dict[str, Callable[[], object]] = {
        "upgrade_database": lambda: upgrade_database(url, schema=name),
        "upgrade_database(engine)": lambda: upgrade_database(engine, schema=name),
        "downgrade_database": lambda: downgrade_database(url, schema=name),
        "current_revision": lambda: current_revision(url, schema=name),
        "schema_differences": lambda: schema_differences(url, schema=name),
        "Database.from_url": lambda: Database.from_url(url, schema=name),
        "from_url": lambda: PersistentSessionService.from_url(url, schema=name),
        "from_engine": lambda: PersistentSessionService.from_engine(engine, schema=name),
        "from_sessionmaker": lambda: PersistentSessionService.from_sessionmaker(
            sessionmaker(engine), schema=name
        ),
    }
    context.entry_errors = {}
    for label, call in entry_points.items():
        try:
            call()
        except DatabaseConfigurationError as error:
            context.entry_errors[label] = str(error)
        else:
            raise AssertionError(f"{label} accepted the schema name {name!r}")
    exit_code, _, stderr = run_cli(context, ["--schema", name, "db", "upgrade"])
    assert exit_code == 2, f"the CLI exited {exit_code}: {stderr}"
    context.entry_errors["cleveragents --schema"] = stderr


# --- Then -------------------------------------------------------------------------------


@then(
    "that schema holds the library's tables, indexes, foreign key and version table at the "
    "newest revision"
)
def then_schema_holds_everything(context: Context) -> None:
    schema, inspector = context.schema, inspect(context.inspection_engine)
    tables = set(inspector.get_table_names(schema=schema))
    assert tables == {*Base.metadata.tables, VERSION_TABLE}, tables
    for name, table in Base.metadata.tables.items():
        reflected = {index["name"] for index in inspector.get_indexes(name, schema=schema)}
        reflected |= {
            unique["name"] for unique in inspector.get_unique_constraints(name, schema=schema)
        }
        wanted = {index.name for index in table.indexes}
        assert wanted <= reflected, f"{name}: {wanted - reflected} missing from {schema}"
        primary_key = inspector.get_pk_constraint(name, schema=schema)
        assert primary_key["name"] == table.primary_key.name, primary_key
    foreign_keys = inspector.get_foreign_keys("session_messages", schema=schema)
    assert [key["referred_schema"] for key in foreign_keys] == [schema], foreign_keys
    assert current_revision(context.database_url, schema=schema) == head_revision()
    assert schema_differences(context.database_url, schema=schema) == []


@then("the default schema holds the same tables and rows as before")
def then_default_schema_untouched(context: Context) -> None:
    assert default_schema_state(context) == context.default_before, "the default schema changed"
    assert current_revision(context.database_url) == head_revision()


@then("a service opened on that schema again reads both sessions with the same messages")
def then_service_reads_back(context: Context) -> None:
    service = open_service(context, context.schema)
    original, copy = (service.get_messages(session_id) for session_id in context.stored_ids)
    assert [(m.role, m.content) for m in original] == [(m.role, m.content) for m in copy]
    assert [m.sequence for m in original] == [0, 1], original
    assert {s.id for s in service.list()} == set(context.stored_ids)


@then("that schema's tables hold {sessions:d} sessions and {messages:d} messages")
def then_schema_counts(context: Context, sessions: int, messages: int) -> None:
    assert count_rows(context, context.schema, "sessions") == sessions
    assert count_rows(context, context.schema, "session_messages") == messages


@then("each service reads the session the other stored")
def then_pair_shares(context: Context) -> None:
    on_engine, on_factory = context.pair
    engine_id, factory_id = context.pair_ids
    assert on_engine.get(factory_id) is not None and on_factory.get(engine_id) is not None
    assert count_rows(context, context.schema, "sessions") == 2


@then("the application's engine still works on its default schema with its own execution options")
def then_app_engine_unchanged(context: Context) -> None:
    engine = context.app_engine
    assert dict(engine.get_execution_options()) == context.app_options_before
    with engine.connect() as connection:
        in_default = connection.execute(text("SELECT COUNT(*) FROM sessions")).scalar_one()
    assert in_default == 0, f"{in_default} sessions landed in the default schema"


@then("the first schema still holds its session at the newest revision")
def then_first_schema_kept(context: Context) -> None:
    assert current_revision(context.database_url, schema=context.schema) == head_revision()
    service = open_service(context, context.schema)
    assert [s.id for s in service.list()] == list(context.stored_ids)


@then("the second schema holds no library table and no revision")
def then_second_schema_empty(context: Context) -> None:
    schema = context.second_schema
    assert current_revision(context.database_url, schema=schema) is None
    tables = inspect(context.inspection_engine).get_table_names(schema=schema)
    assert tables == [VERSION_TABLE], tables


@then('the host application\'s alembic_version table still holds only "{revision}"')
def then_host_version_kept(context: Context, revision: str) -> None:
    with context.inspection_engine.connect() as connection:
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        assert list(rows) == [revision]


@then("opening was refused with SchemaOutOfDateError naming the upgrade command with that schema")
def then_opening_refused(context: Context) -> None:
    error = context.opening_error
    assert error is not None, "the service opened on a schema that is not upgraded"
    message = str(error)
    for part in (
        f"PostgreSQL schema {context.schema!r}",
        f"cleveragents --schema {context.schema} db upgrade",
        f"alembic -x schema={context.schema} upgrade head",
    ):
        assert part in message, f"no {part!r} in: {message}"


@then("that schema still does not exist")
def then_schema_absent(context: Context) -> None:
    assert context.schema not in schema_names(context), "opening a service created the schema"


@then("every upgrader finished and that schema is at the newest revision")
def then_upgraders_finished(context: Context) -> None:
    outcomes = context.upgrade_outcomes
    assert outcomes == [None] * len(outcomes), outcomes
    assert current_revision(context.database_url, schema=context.schema) == head_revision()
    assert schema_differences(context.database_url, schema=context.schema) == []


@then("every command succeeded with that output")
def then_cli_outcomes(context: Context) -> None:
    assert context.cli_runs, "no command ran"
    for arguments, (exit_code, stdout, stderr), expected in context.cli_runs:
        assert exit_code == 0 and expected in stdout, (
            f"{arguments}: exit {exit_code}\n{stdout}\n{stderr}"
        )


@then('every command exited 2 saying "{reason}"')
def then_cli_refused(context: Context, reason: str) -> None:
    assert context.cli_runs, "no command ran"
    for arguments, (exit_code, stdout, stderr), _ in context.cli_runs:
        assert exit_code == 2 and reason in stderr, (
            f"{arguments}: exit {exit_code}\n{stdout}\n{stderr}"
        )


@then("each alembic run succeeded and the last printed the newest revision")
def then_alembic_outcomes(context: Context) -> None:
    assert context.alembic_runs, "alembic never ran"
    for arguments, completed in context.alembic_runs:
        output = completed.stdout + completed.stderr
        assert completed.returncode == 0, (
            f"alembic {arguments}: exit {completed.returncode}\n{output}"
        )
    assert head_revision() in context.alembic_runs[-1][1].stdout, context.alembic_runs[-1]
    assert current_revision(context.database_url, schema=context.schema) == head_revision()


@then('each alembic run failed saying "{reason}"')
def then_alembic_refused(context: Context, reason: str) -> None:
    assert context.alembic_runs, "alembic never ran"
    for arguments, completed in context.alembic_runs:
        output = completed.stdout + completed.stderr
        report = f"alembic {arguments}: exit {completed.returncode}\n{output}"
        assert completed.returncode != 0 and f"FAILED: {reason}" in output, report


@then('each refused it with DatabaseConfigurationError saying "{reason}"')
def then_each_refused(context: Context, reason: str) -> None:
    assert context.entry_errors, "no entry point was tried"
    for label, message in context.entry_errors.items():
        assert reason in message, f"{label}: {message}"


@then("the database is exactly as it was, with no new schema")
def then_database_unchanged(context: Context) -> None:
    assert default_schema_state(context) == context.default_before
    assert schema_names(context) == context.schemas_before
