"""The ``cleveragents`` command: the Typer app, its global options and ``main()``.

Exit codes: 0 ok; 1 generic failure; 2 usage or bad input (including Typer's own usage
errors, bad durations and unreadable or invalid export files); 3 session not found;
4 database unavailable; 5 schema out of date (``db check`` failed, or the database needs
``cleveragents db upgrade``). See :mod:`cleveragents.cli.exit_codes`.
"""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from cleveragents import __version__
from cleveragents.cli.database_commands import database_app
from cleveragents.cli.exit_codes import EXIT_CODES_HELP, reports_errors
from cleveragents.cli.output import console, print_json, statistics_data, statistics_table
from cleveragents.cli.session_commands import sessions_app
from cleveragents.cli.settings import (
    DATABASE_SCHEMA_VARIABLE,
    DATABASE_URL_VARIABLE,
    CliSettings,
    settings_of,
)

app = typer.Typer(
    help=f"Operate cleveragents session databases. {EXIT_CODES_HELP}",
    epilog=EXIT_CODES_HELP,
    no_args_is_help=True,
    # Locals in tracebacks could show a database URL with its password.
    pretty_exceptions_show_locals=False,
)
app.add_typer(database_app, name="db")
app.add_typer(sessions_app, name="sessions")


def print_version(requested: bool) -> None:
    """``--version``: print the installed version and stop before any subcommand runs."""
    if requested:
        typer.echo(f"cleveragents-core {__version__}")
        raise typer.Exit()


@app.callback()
def configure(
    context: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help=f"Database URL; default ${DATABASE_URL_VARIABLE}, else the embedded SQLite file.",
            show_default=False,
        ),
    ] = None,
    schema: Annotated[
        str | None,
        typer.Option(
            "--schema",
            envvar=DATABASE_SCHEMA_VARIABLE,
            help=(
                "PostgreSQL schema holding the library's tables; default "
                f"${DATABASE_SCHEMA_VARIABLE}, else the database's default schema."
            ),
            show_default=False,
            show_envvar=False,
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show the library's retry warnings.")
    ] = False,
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print the version and exit.",
            callback=print_version,
            is_eager=True,
            expose_value=False,
        ),
    ] = False,
) -> None:
    """Keep the global options for the subcommands."""
    context.obj = CliSettings(database_url, schema or None)
    logging.getLogger("cleveragents").addHandler(
        # Retry warnings would bury the one-line error; -v shows them on stderr.
        logging.StreamHandler() if verbose else logging.NullHandler()
    )


@app.command("stats")
@reports_errors
def stats(
    context: typer.Context,
    json_output: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Sessions, messages and tokens per actor, with totals."""
    with settings_of(context).open_service() as service:
        actors = statistics_data(service.statistics())
    totals = {
        key: sum(actor[key] for actor in actors)
        for key in ("session_count", "message_count", "input_tokens", "output_tokens")
    }
    totals["total_tokens"] = totals["input_tokens"] + totals["output_tokens"]
    if json_output:
        print_json({"actors": actors, "totals": totals})
    else:
        console().print(statistics_table(actors))
        typer.echo(
            f"{totals['session_count']} sessions, {totals['message_count']} messages, "
            f"{totals['total_tokens']} tokens"
        )


@app.command("demo")
@reports_errors
def demo(context: typer.Context) -> None:
    """Run the library's short tour on a database of its own, or on --database-url."""
    from cleveragents import demo as tour

    settings = settings_of(context)
    tour.main(settings.database_url, schema=settings.schema)


def main() -> None:
    """The console script's entry point."""
    app(prog_name="cleveragents")
