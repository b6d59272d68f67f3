"""Exit codes the CLI promises scripts, and the mapping from the library's errors to them.

=====  ===================================================================================
code   meaning
=====  ===================================================================================
0      success
1      generic failure (stored data contradicts itself, an unexpected database error)
2      usage or bad input: unknown option, invalid argument, bad duration, unreadable or
       invalid export file, bad database URL
3      not found: no session has that id
4      database unavailable: unreachable, or busy through every retry
5      schema out of date: ``db check`` found differences, or the database needs
       ``cleveragents db upgrade``
=====  ===================================================================================
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import IntEnum
from typing import ParamSpec

import typer

from cleveragents.domain.errors import (
    DatabaseConfigurationError,
    DatabaseUnavailableError,
    InvalidSessionDataError,
    SchemaOutOfDateError,
    SessionNotFoundError,
    SessionPersistenceError,
)

P = ParamSpec("P")


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1
    USAGE = 2
    NOT_FOUND = 3
    DATABASE_UNAVAILABLE = 4
    SCHEMA_OUT_OF_DATE = 5


EXIT_CODES_HELP = (
    "Exit codes: 0 ok; 1 failure; 2 usage or bad input; 3 session not found; "
    "4 database unavailable; 5 schema out of date (run `cleveragents db upgrade`)."
)


class BadInputError(Exception):
    """Input the CLI itself rejected (a duration, a file, an environment variable)."""


def exit_code_for(error: Exception) -> ExitCode:
    """The documented exit code for an error a command reports."""
    if isinstance(error, BadInputError | InvalidSessionDataError | DatabaseConfigurationError):
        return ExitCode.USAGE
    if isinstance(error, SessionNotFoundError):
        return ExitCode.NOT_FOUND
    if isinstance(error, DatabaseUnavailableError):
        return ExitCode.DATABASE_UNAVAILABLE
    if isinstance(error, SchemaOutOfDateError):
        return ExitCode.SCHEMA_OUT_OF_DATE
    return ExitCode.FAILURE


def error_message(error: Exception) -> str:
    """One line for stderr."""
    return " ".join(str(error).split())


def reports_errors(command: Callable[P, None]) -> Callable[P, None]:
    """Turn the errors a command expects into one stderr line and the documented exit code."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            command(*args, **kwargs)
        except (SessionPersistenceError, BadInputError) as error:
            typer.echo(f"error: {error_message(error)}", err=True)
            raise typer.Exit(exit_code_for(error)) from None

    return run
