"""Steps of migrations.feature: upgrades, downgrades and drift checks, on scratch databases
where they destroy, and the ORM's raw resource rows where a scenario inspects them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic.script import ScriptDirectory
from behave import given, then, when
from behave.runner import Context
from scratch_databases import (
    quoted,
    schema_differences,
    scratch_on_run_backend,
    table_names,
    version_rows,
)
from sqlalchemy import Engine, select, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session as OrmSession

from cleveragents.infrastructure.database import (
    VERSION_TABLE,
    ResourceModel,
    create_database_engine,
    downgrade_database,
    head_revision,
    upgrade_database,
)
from cleveragents.infrastructure.database.schema_migrations import (
    alembic_config,
    migrations_directory,
)


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
