"""``cleveragents db ...``: the schema's migrations, on the command line.

The migration functions are imported inside the commands, so ``--help`` starts without them.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from cleveragents.cli.confirmation import confirmed
from cleveragents.cli.exit_codes import ExitCode, reports_errors
from cleveragents.cli.output import print_json
from cleveragents.cli.settings import CliSettings, settings_of
from cleveragents.domain.errors import SchemaOutOfDateError

database_app = typer.Typer(help="Upgrade, downgrade and check the database schema.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@database_app.command("upgrade")
@reports_errors
def upgrade(
    context: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    json_output: JsonOption = False,
) -> None:
    """Bring the schema to REVISION (default: the newest), creating the database and its
    tables as needed; the only command that creates a database."""
    from cleveragents.infrastructure.database import upgrade_database

    settings = settings_of(context)
    upgrade_database(settings.resolved_url, revision, schema=settings.schema)
    report_revision(settings, json_output)


@database_app.command("downgrade")
@reports_errors
def downgrade(
    context: typer.Context,
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops every table.")],
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed in scripts).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Take the schema back to REVISION, after confirmation unless --yes; REVISION is
    required, since `base` drops every table and every session with it."""
    from cleveragents.infrastructure.database import current_revision, downgrade_database

    settings = settings_of(context)
    url = settings.existing_url()
    found = current_revision(url, schema=settings.schema) or "none"
    question = (
        f"Downgrade {settings.displayed_url} from {found} to {revision}? "
        f"It holds {stored_contents(settings)}; a downgrade below the session tables' "
        "revision deletes them."
    )
    if not confirmed("db downgrade", question, yes=yes):
        typer.echo("nothing changed")
        return
    downgrade_database(url, revision, schema=settings.schema)
    report_revision(settings, json_output)


def stored_contents(settings: CliSettings) -> str:
    """How many sessions and messages the database holds, as the question names them."""
    try:
        with settings.open_service() as service:
            statistics = service.statistics()
    except SchemaOutOfDateError:
        return "tables of an older schema, whose sessions cannot be counted"
    sessions = sum(actor.session_count for actor in statistics)
    messages = sum(actor.message_count for actor in statistics)
    return f"{sessions} sessions and {messages} messages"


@database_app.command("current")
@reports_errors
def current(context: typer.Context, json_output: JsonOption = False) -> None:
    """Print the schema's revision, or `none` for a database never upgraded."""
    from cleveragents.infrastructure.database import current_revision, head_revision

    settings = settings_of(context)
    revision = current_revision(settings.existing_url(), schema=settings.schema)
    if json_output:
        print_json({"revision": revision, "head": head_revision()})
    else:
        typer.echo(revision or "none")


@database_app.command("check")
@reports_errors
def check(context: typer.Context, json_output: JsonOption = False) -> None:
    """Exit 0 when the schema is at the newest revision and equals the models, else 5."""
    from cleveragents.infrastructure.database import (
        current_revision,
        head_revision,
        schema_differences,
    )

    settings = settings_of(context)
    url, schema = settings.existing_url(), settings.schema
    revision, head = current_revision(url, schema=schema), head_revision()
    differences = [
        describe_difference(item)
        for difference in schema_differences(url, schema=schema)
        # column modifications come grouped in lists
        for item in (difference if isinstance(difference, list) else [difference])
    ]
    up_to_date = revision == head and not differences
    if json_output:
        print_json(
            {
                "up_to_date": up_to_date,
                "revision": revision,
                "head": head,
                "differences": differences,
            }
        )
    elif up_to_date:
        typer.echo(f"schema is up to date at {head}")
    else:
        typer.echo(f"schema is at {revision or 'none'}, newest is {head}", err=True)
        for difference in differences:
            typer.echo(f"  {difference}", err=True)
    if not up_to_date:
        raise typer.Exit(ExitCode.SCHEMA_OUT_OF_DATE)


def report_revision(settings: CliSettings, json_output: bool) -> None:
    from cleveragents.infrastructure.database import current_revision

    revision = current_revision(settings.resolved_url, schema=settings.schema)
    if json_output:
        print_json(
            {"database": settings.displayed_url, "schema": settings.schema, "revision": revision}
        )
    else:
        where = settings.displayed_url
        if settings.schema is not None:
            where += f" (schema {settings.schema})"
        typer.echo(f"{where} is at revision {revision or 'none'}")


def describe_difference(difference: Any) -> str:
    """One line for an Alembic difference: the operation and the object it names."""
    operation, *details = difference
    names = [
        getattr(detail, "name", None) or str(detail) for detail in details if detail is not None
    ]
    return " ".join([operation, *names[:2]])
