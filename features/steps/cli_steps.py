"""Steps for the operator CLI: run ``cleveragents`` in-process (Typer's CliRunner) or as a
real subprocess, against the scenario's database, and check exit codes and parsed JSON.

Arguments may name ``{run}`` (the run's database URL), ``{fresh}`` (an empty SQLite file in
the work directory), ``{id}`` (the scenario's session id) and ``{work}`` (the work directory).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import text
from typer.testing import CliRunner

from cleveragents.cli.app import app
from cleveragents.infrastructure.database import head_revision


@dataclass(frozen=True)
class CliOutcome:
    exit_code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.exit_code}\n--- stdout:\n{self.stdout}\n--- stderr:\n{self.stderr}"


def expand(context: Context, arguments: str) -> list[str]:
    values = {
        "{run}": context.database_url,
        "{fresh}": getattr(context, "cli_fresh_url", ""),
        "{id}": getattr(getattr(context, "session", None), "id", ""),
        "{work}": context.work_directory,
        "{cursor}": getattr(context, "cli_cursor", ""),
    }
    words = shlex.split(arguments)
    for placeholder, value in values.items():
        words = [word.replace(placeholder, value) for word in words]
    return words


def run_in_process(context: Context, arguments: str, answer: str | None = None) -> None:
    result = CliRunner().invoke(app, expand(context, arguments), input=answer)
    context.cli = CliOutcome(result.exit_code, result.stdout, result.stderr)


def parsed_json(context: Context) -> Any:
    try:
        return json.loads(context.cli.stdout)
    except ValueError as error:
        raise AssertionError(f"output is not JSON ({error}):\n{context.cli}") from error


def json_field(document: Any, path: str) -> Any:
    for key in path.split("."):
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


# --- Given ------------------------------------------------------------------------------


@given("an empty SQLite database file for the operator")
def given_fresh_file(context: Context) -> None:
    context.cli_fresh_url = f"sqlite:///{context.work_directory}/cli-{uuid.uuid4().hex}.db"


@given("the stored message count of that session is off by one")
def given_corrupt_count(context: Context) -> None:
    with context.inspection_engine.begin() as connection:
        connection.execute(
            text("UPDATE sessions SET message_count = message_count + 1 WHERE id = :id"),
            {"id": context.session.id},
        )


@given('the operator\'s environment variable {name} holds "{value}"')
def given_environment_variable(context: Context, name: str, value: str) -> None:
    previous = os.environ.get(name)
    os.environ[name] = " ".join(expand(context, value))

    def restore() -> None:
        if previous is None:
            os.environ.pop(name, None)
        else:  # pragma: no cover - the variables set are the scenario's own
            os.environ[name] = previous

    context.add_cleanup(restore)


@given('the work directory holds a file "{name}" reading "{content}"')
def given_work_file(context: Context, name: str, content: str) -> None:
    with open(os.path.join(context.work_directory, name), "w", encoding="utf-8") as file:
        file.write(content)


# --- When -------------------------------------------------------------------------------


@when('the operator runs "{arguments}"')
def when_operator_runs(context: Context, arguments: str) -> None:
    run_in_process(context, arguments)


@when('the operator answers "{answer}" when running "{arguments}"')
def when_operator_answers(context: Context, answer: str, arguments: str) -> None:
    run_in_process(context, arguments, answer=f"{answer}\n")


@when('the operator runs "{arguments}" as a separate process')
def when_operator_runs_process(context: Context, arguments: str) -> None:
    environment = dict(os.environ)
    if "coverage" in sys.modules and sys.modules["coverage"].Coverage.current() is not None:
        # Measure the subprocess too, through the coverage .pth hook.
        environment["COVERAGE_PROCESS_START"] = os.path.abspath("pyproject.toml")
    completed = subprocess.run(
        [sys.executable, "-m", "cleveragents", *expand(context, arguments)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    context.cli = CliOutcome(completed.returncode, completed.stdout, completed.stderr)


# --- Then -------------------------------------------------------------------------------


@then("the CLI exits with code {code:d}")
def then_exit_code(context: Context, code: int) -> None:
    assert context.cli.exit_code == code, f"expected exit {code}, got:\n{context.cli}"


@then('the CLI output mentions "{text_}"')
def then_output_mentions(context: Context, text_: str) -> None:
    wanted = " ".join(expand(context, text_))
    assert wanted in context.cli.stdout, f"no {wanted!r} in:\n{context.cli}"


@then('the CLI error is one line mentioning "{text_}"')
def then_error_line(context: Context, text_: str) -> None:
    lines = context.cli.stderr.strip().splitlines()
    assert len(lines) == 1 and text_ in lines[0], (
        f"expected one line with {text_!r}:\n{context.cli}"
    )


@then('the CLI error mentions "{text_}"')
def then_error_mentions(context: Context, text_: str) -> None:
    assert text_ in context.cli.stderr, f"no {text_!r} in stderr:\n{context.cli}"


@then('neither CLI output nor error contains "{secret}"')
def then_no_secret(context: Context, secret: str) -> None:
    assert secret not in context.cli.stdout + context.cli.stderr, str(context.cli)


@then("the CLI printed the cursor of the next page")
def then_cursor_printed(context: Context) -> None:
    lines = [line for line in context.cli.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("next page: --cursor "), str(context.cli)
    context.cli_cursor = lines[0].removeprefix("next page: --cursor ")


@then("the CLI printed no cursor")
def then_no_cursor(context: Context) -> None:
    assert "--cursor" not in context.cli.stderr, str(context.cli)


@then("the CLI JSON output is a list of {count:d} sessions")
def then_json_sessions(context: Context, count: int) -> None:
    sessions = parsed_json(context)
    assert isinstance(sessions, list) and len(sessions) == count, f"{count} wanted:\n{context.cli}"
    for session in sessions:
        datetime.fromisoformat(session["created_at"])
        datetime.fromisoformat(session["updated_at"])


@then('the CLI JSON field "{path}" equals {value}')
def then_json_field(context: Context, path: str, value: str) -> None:
    seen = json_field(parsed_json(context), path)
    assert seen == json.loads(value), f"{path} is {seen!r}, wanted {value}:\n{context.cli}"


@then('the CLI JSON field "{path}" is an ISO 8601 timestamp')
def then_json_timestamp(context: Context, path: str) -> None:
    seen = json_field(parsed_json(context), path)
    assert datetime.fromisoformat(seen).tzinfo is not None, f"{path} is {seen!r}"


@then('the CLI JSON field "{path}" is the newest revision')
def then_json_head(context: Context, path: str) -> None:
    seen = json_field(parsed_json(context), path)
    assert seen == head_revision(), f"{path} is {seen!r}, newest is {head_revision()}"


@then("the session is still stored")
def then_session_kept(context: Context) -> None:
    assert context.service.get(context.session.id) is not None, "the session is gone"


@then("the session printed by the CLI holds the same messages as the original")
def then_imported_copy(context: Context) -> None:
    new_id = context.cli.stdout.strip()
    assert new_id != context.session.id, f"same id:\n{context.cli}"
    original = [(m.role, m.content) for m in context.service.get_messages(context.session.id)]
    copy = [(m.role, m.content) for m in context.service.get_messages(new_id)]
    assert copy == original and copy, f"{copy} != {original}"


@then('the work directory holds "{name}" with format "{format_}"')
def then_export_file(context: Context, name: str, format_: str) -> None:
    with open(os.path.join(context.work_directory, name), encoding="utf-8") as file:
        document = json.load(file)
    assert document["format"] == format_, document.get("format")
