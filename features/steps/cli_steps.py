"""Steps for the operator CLI: run the installed ``cleveragents`` command as a real process
against the scenario's database, and check exit codes and parsed JSON.

Arguments may name ``{run}`` (the run's database URL), ``{fresh}`` (a SQLite file in the
work directory that does not exist yet), ``{id}`` (the scenario's session id), ``{work}``
(the work directory) and ``{cursor}`` (the last cursor the CLI gave). Each run notes the
database's fingerprint first, so "the database is unchanged" compares with the state the
command found. Standard input is empty, not a terminal, unless the operator answers a
question, which happens on a pseudo-terminal.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import text

from cleveragents.infrastructure.database import head_revision

# The console script installed beside the interpreter running the tests.
COMMAND = str(Path(sys.executable).parent / "cleveragents")
CLI_TIMEOUT_SECONDS = 300


@dataclass(frozen=True)
class CliOutcome:
    exit_code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:
        return f"exit {self.exit_code}\n--- stdout:\n{self.stdout}\n--- stderr:\n{self.stderr}"


def placeholders(context: Context) -> dict[str, str]:
    return {
        "{run}": context.database_url,
        "{fresh}": getattr(context, "cli_fresh_url", ""),
        "{id}": getattr(getattr(context, "session", None), "id", ""),
        "{work}": context.work_directory,
        "{cursor}": getattr(context, "cli_cursor", ""),
    }


def expand_text(context: Context, text_: str) -> str:
    """``text_`` with its placeholders filled in, quotes and spaces kept."""
    for placeholder, value in placeholders(context).items():
        text_ = text_.replace(placeholder, value)
    return text_


def expand(context: Context, arguments: str) -> list[str]:
    """The command line's words, split as a shell would, with placeholders filled in."""
    return [expand_text(context, word) for word in shlex.split(arguments)]


def cli_environment(context: Context) -> dict[str, str]:
    """The test process's environment, with the demo's data directory in the work directory
    and, on SQLite, coverage measuring the command too (through coverage's .pth hook).

    The command's own code is the same whatever the database, and the library under it is
    measured in-process on every backend; measuring each command again on the servers would
    add about two thirds to every command's start-up and nothing to the combined report.
    """
    environment = dict(os.environ)
    environment["XDG_DATA_HOME"] = os.path.join(context.work_directory, "data-home")
    measured = "coverage" in sys.modules and sys.modules["coverage"].Coverage.current()
    if measured and context.backend == "sqlite":
        environment["COVERAGE_PROCESS_START"] = os.path.abspath("pyproject.toml")
    return environment


def run_command(
    context: Context, arguments: str, *, answer: str | None = None, stdin_file: str | None = None
) -> None:
    """Run ``cleveragents ARGUMENTS``; with ``answer``, on a terminal that types it; with
    ``stdin_file``, reading that file of the work directory on standard input."""
    context.fingerprint = context.database_fingerprint()
    words = [COMMAND, *expand(context, arguments)]
    environment = cli_environment(context)
    if answer is None:
        with open(os.path.join(context.work_directory, stdin_file or os.devnull), "rb") as stdin:
            completed = subprocess.run(
                words,
                stdin=stdin,
                capture_output=True,
                text=True,
                env=environment,
                timeout=CLI_TIMEOUT_SECONDS,
                check=False,
            )
    else:
        controller, terminal = os.openpty()
        try:
            # The terminal's line discipline holds the answer until the command reads it.
            os.write(controller, answer.encode())
            completed = subprocess.run(
                words,
                stdin=terminal,
                capture_output=True,
                text=True,
                env=environment,
                timeout=CLI_TIMEOUT_SECONDS,
                check=False,
            )
        finally:
            os.close(terminal)
            os.close(controller)
    context.cli = CliOutcome(completed.returncode, completed.stdout, completed.stderr)


def run_watched(context: Context, arguments: str) -> None:
    """Run ``cleveragents ARGUMENTS`` with stderr on a pseudo-terminal, as a person at a
    terminal runs it; what reached the terminal becomes the outcome's stderr."""
    context.fingerprint = context.database_fingerprint()
    controller, terminal = os.openpty()
    received: list[bytes] = []

    def drain() -> None:
        # Read while the command runs: a full terminal buffer would block its writes.
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal closed
                return
            if not chunk:
                return
            received.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        completed = subprocess.run(
            [COMMAND, *expand(context, arguments)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=terminal,
            text=True,
            env=cli_environment(context),
            timeout=CLI_TIMEOUT_SECONDS,
            check=False,
        )
    finally:
        os.close(terminal)
        reader.join(timeout=30)
        os.close(controller)
    terminal_text = b"".join(received).decode("utf-8", "replace")
    context.cli = CliOutcome(completed.returncode, completed.stdout, terminal_text)


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


@given("an existing but empty SQLite database file for the operator")
def given_existing_empty_file(context: Context) -> None:
    given_fresh_file(context)
    Path(fresh_path(context)).touch()


@given('a SQLite URL for the operator naming "{relative}" in the work directory')
def given_missing_path(context: Context, relative: str) -> None:
    context.cli_fresh_url = f"sqlite:///{context.work_directory}/{relative}"


def fresh_path(context: Context) -> str:
    return context.cli_fresh_url.removeprefix("sqlite:///")


@given('a session for actor "{actor}" with {count:d} messages of {size:d} bytes each')
def given_long_session(context: Context, actor: str, count: int, size: int) -> None:
    session = context.service.create(actor)
    for start in range(0, count, 1000):
        context.service.append_messages(
            session.id,
            [
                {"role": "user", "content": f"{index:06d} " + "x" * (size - 7)}
                for index in range(start, min(count, start + 1000))
            ],
        )
    context.session = context.service.get(session.id)


@given('the work directory holds a file of {size:d} MiB named "{name}"')
def given_large_file(context: Context, size: int, name: str) -> None:
    # Sparse: the size is real to fstat, and nothing is written to disk.
    with open(os.path.join(context.work_directory, name), "wb") as file:
        file.truncate(size * 1024 * 1024)


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
    os.environ[name] = expand_text(context, value)

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
    run_command(context, arguments)


@when('the operator runs "{arguments}" with the file "{name}" on standard input')
def when_operator_pipes(context: Context, arguments: str, name: str) -> None:
    run_command(context, arguments, stdin_file=name)


@when('the operator runs "{arguments}" watching stderr on a terminal')
def when_operator_watches(context: Context, arguments: str) -> None:
    run_watched(context, arguments)


@when('the operator answers "{answer}" when running "{arguments}"')
def when_operator_answers(context: Context, answer: str, arguments: str) -> None:
    run_command(context, arguments, answer=f"{answer}\n")


# --- Then -------------------------------------------------------------------------------


@then("the CLI exits with code {code:d}")
def then_exit_code(context: Context, code: int) -> None:
    assert context.cli.exit_code == code, f"expected exit {code}, got:\n{context.cli}"


@then("the CLI printed nothing on stderr")
def then_stderr_empty(context: Context) -> None:
    assert context.cli.stderr == "", f"stderr is not empty:\n{context.cli}"


@then('the CLI output mentions "{text_}"')
def then_output_mentions(context: Context, text_: str) -> None:
    wanted = expand_text(context, text_)
    assert wanted in context.cli.stdout, f"no {wanted!r} in:\n{context.cli}"


@then('the CLI error is one line mentioning "{text_}"')
def then_error_line(context: Context, text_: str) -> None:
    # Exactly one line: no blank line, progress residue or traceback around the error.
    wanted = expand_text(context, text_)
    lines = context.cli.stderr.splitlines()
    assert len(lines) == 1 and wanted in lines[0] and context.cli.stderr.endswith("\n"), (
        f"expected exactly one line with {wanted!r}:\n{context.cli}"
    )


@then('the CLI error mentions "{text_}"')
def then_error_mentions(context: Context, text_: str) -> None:
    wanted = expand_text(context, text_)
    assert wanted in context.cli.stderr, f"no {wanted!r} in stderr:\n{context.cli}"


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


@then("the CLI JSON gives the cursor of the next page")
def then_json_cursor(context: Context) -> None:
    cursor = parsed_json(context)["next_cursor"]
    assert isinstance(cursor, str) and cursor, str(context.cli)
    assert context.cli.stderr == "", f"stderr is not empty:\n{context.cli}"
    context.cli_cursor = cursor


@then("the CLI JSON gives no next cursor")
def then_json_no_cursor(context: Context) -> None:
    assert parsed_json(context)["next_cursor"] is None, str(context.cli)


@then("the CLI JSON page holds {count:d} sessions")
def then_json_sessions(context: Context, count: int) -> None:
    page = parsed_json(context)
    assert set(page) == {"sessions", "next_cursor"}, f"page keys {sorted(page)}:\n{context.cli}"
    sessions = page["sessions"]
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


@then("the operator's SQLite file does not exist, nor does its directory unless it did before")
def then_no_file_created(context: Context) -> None:
    path = Path(fresh_path(context))
    assert not path.exists(), f"{path} was created:\n{context.cli}"
    work = Path(context.work_directory)
    assert path.parent == work or not path.parent.exists(), f"{path.parent} was created"


@then("the operator's SQLite file exists")
def then_file_created(context: Context) -> None:
    assert Path(fresh_path(context)).is_file(), str(context.cli)


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


@then("the demo's own database file exists under the operator's data directory")
def then_demo_file_in_data_home(context: Context) -> None:
    path = Path(context.work_directory, "data-home", "cleveragents", "demo.db")
    assert path.is_file(), f"no {path}:\n{context.cli}"
    assert f"rm {path}" in context.cli.stdout, str(context.cli)


@then("the session still has {count:d} messages")
def then_session_message_count(context: Context, count: int) -> None:
    assert len(context.service.get_messages(context.session.id)) == count


@given("a database URL for the operator with {failure}")
def given_permanently_failing_url(context: Context, failure: str) -> None:
    from sqlalchemy.engine import make_url

    run = make_url(context.database_url)
    if failure == "a host name that has no address":
        scheme = "mysql+pymysql" if context.backend == "mysql" else "postgresql+psycopg"
        context.cli_fresh_url = f"{scheme}://agent:s3cret-pw@no-such-host.invalid/sessions"
        return
    if context.backend == "sqlite":
        context.scenario.skip(reason="needs a database server; the server runs cover it")
        return
    if failure == "a database the run's server does not have":
        wrong = run.set(database="cleveragents_no_such_database")
    else:
        wrong = run.set(username="cleveragents_no_such_user", password="s3cret-pw")  # noqa: S106
    context.cli_fresh_url = wrong.render_as_string(hide_password=False)


@then("the CLI output is an export document of {count:d} messages")
def then_output_document(context: Context, count: int) -> None:
    document = parsed_json(context)
    assert document["format"] == "cleveragents.session-export", str(context.cli)[:2000]
    assert len(document["messages"]) == count, len(document["messages"])
    assert context.cli.stderr == "", context.cli.stderr


@then('the work directory gets the CLI output as "{name}"')
def then_save_output(context: Context, name: str) -> None:
    with open(os.path.join(context.work_directory, name), "w", encoding="utf-8") as file:
        file.write(context.cli.stdout)


@then("the CLI shows the messages with sequences {first:d} to {last:d}")
def then_shown_sequences(context: Context, first: int, last: int) -> None:
    shown = [message["sequence"] for message in parsed_json(context)["messages"]]
    assert shown == list(range(first, last + 1)), f"{shown}:\n{context.cli}"


@then("the CLI shows no messages")
def then_no_messages_shown(context: Context) -> None:
    assert parsed_json(context)["messages"] == [], str(context.cli)
