"""``cleveragents sessions ...``: look at, move and clean up stored sessions."""

from __future__ import annotations

import os
import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress

from cleveragents.cli.exit_codes import BadInputError, reports_errors
from cleveragents.cli.output import (
    console,
    message_data,
    print_json,
    progress_console,
    session_data,
    sessions_table,
    show_session,
)
from cleveragents.cli.settings import settings_of
from cleveragents.domain.errors import SessionNotFoundError

sessions_app = typer.Typer(help="List, show, export, import, delete and purge sessions.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SigningKeyOption = Annotated[
    str | None,
    typer.Option(
        "--signing-key-env",
        metavar="VAR",
        help="Environment variable holding the HMAC signing key (never passed on the line).",
    ),
]

DURATION_PATTERN = re.compile(r"(\d+)([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """``90m``, ``12h``, ``30d`` or ``2w`` as a timedelta."""
    match = DURATION_PATTERN.fullmatch(text.strip())
    if match is None:
        raise BadInputError(f"bad duration {text!r}: use a number and m, h, d or w, like 30d")
    return timedelta(**{DURATION_UNITS[match.group(2)]: int(match.group(1))})


def signing_key(variable: str | None) -> bytes | None:
    if variable is None:
        return None
    value = os.environ.get(variable)
    if not value:
        raise BadInputError(f"environment variable {variable} holding the signing key is not set")
    return value.encode("utf-8")


class Order(StrEnum):
    """What ``sessions list`` orders by, newest first."""

    CREATED = "created"
    UPDATED = "updated"


@sessions_app.command("list")
@reports_errors
def list_sessions(
    context: typer.Context,
    *,
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's.")] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many.")] = 50,
    offset: Annotated[int, typer.Option("--offset", help="Skip this many.")] = 0,
    order: Annotated[
        Order, typer.Option("--order", help="Newest created, or most recently active, first.")
    ] = Order.CREATED,
    cursor: Annotated[
        str | None,
        typer.Option("--cursor", help="Continue after the page that printed this cursor."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List sessions, newest first; a full page prints the --cursor of the next one."""
    with settings_of(context).open_service() as service:
        sessions = service.list(
            limit=limit,
            offset=offset,
            actor_name=actor,
            order_by="created_at" if order is Order.CREATED else "updated_at",
            cursor=cursor,
        )
    if json_output:
        print_json([session_data(session) for session in sessions])
    else:
        console().print(sessions_table(sessions))
    if sessions.next_cursor is not None:
        # On stderr, so the JSON on stdout stays a plain list for scripts.
        typer.echo(f"next page: --cursor {sessions.next_cursor}", err=True)


@sessions_app.command("show")
@reports_errors
def show(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    json_output: JsonOption = False,
) -> None:
    """Show a session: its header, token totals and every message in order."""
    with settings_of(context).open_service() as service:
        session = service.get(session_id)
        if session is None:
            raise SessionNotFoundError(session_id)
        messages = service.get_messages(session_id)
    if json_output:
        print_json({**session_data(session), "messages": [message_data(m) for m in messages]})
    else:
        show_session(session, messages)


@sessions_app.command("export")
@reports_errors
def export(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    output: Annotated[Path, typer.Option("--output", "-o", help="File to write.")],
    signing_key_env: SigningKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the session's export document (checksummed JSON) to a file.

    The document is streamed into a temporary file beside the target, which replaces the
    target only once complete: a failed export never leaves a half-written file.
    """
    key = signing_key(signing_key_env)
    with settings_of(context).open_service() as service:
        session = service.get(session_id)
        if session is None:
            raise SessionNotFoundError(session_id)
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as file:
                service.export_session_to_file(session_id, file, signing_key=key)
            partial.replace(output)
        except OSError as error:
            raise BadInputError(f"cannot write {output}: {error.strerror}") from error
        finally:
            partial.unlink(missing_ok=True)
    summary = {"id": session_id, "file": str(output), "messages": session.message_count}
    if json_output:
        print_json(summary)
    else:
        typer.echo(f"exported session {session_id} ({summary['messages']} messages) to {output}")


@sessions_app.command("import")
@reports_errors
def import_(
    context: typer.Context,
    file: Annotated[Path, typer.Argument(help="An export document.")],
    signing_key_env: SigningKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Store the session of an export document under a new id, and print that id.

    The file is streamed, with a progress bar on a terminal, so large sessions import with
    flat memory.
    """
    key = signing_key(signing_key_env)
    try:
        document = file.open("rb")
        size = os.fstat(document.fileno()).st_size
    except OSError as error:
        raise BadInputError(f"cannot read {file}: {error.strerror}") from error
    with (
        document,
        settings_of(context).open_service() as service,
        Progress(console=progress_console(), transient=True) as progress,
    ):
        reading = progress.wrap_file(document, total=size, description=f"importing {file.name}")
        session = service.import_session_from_file(reading, signing_key=key)
    if json_output:
        print_json(session_data(session))
    else:
        typer.echo(session.id)


@sessions_app.command("delete")
@reports_errors
def delete(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete a session and all its messages, after confirmation unless --yes."""
    with settings_of(context).open_service() as service:
        session = service.get(session_id)
        if session is None:
            raise SessionNotFoundError(session_id)
        confirmed = yes or typer.confirm(
            f"Delete session {session_id} of {session.actor_name!r} "
            f"with {session.message_count} messages?"
        )
        deleted = confirmed and service.delete(session_id)
    if json_output:
        print_json({"id": session_id, "deleted": deleted})
    else:
        typer.echo(f"deleted session {session_id}" if deleted else "nothing deleted")


@sessions_app.command("purge")
@reports_errors
def purge(
    context: typer.Context,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Inactive for longer than this: 90m, 12h, 30d, 2w.")
    ],
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete whole sessions whose last activity is older than --older-than."""
    age = parse_duration(older_than)
    with settings_of(context).open_service() as service:
        count = service.purge_sessions(age, actor_name=actor, dry_run=dry_run)
    if json_output:
        print_json({"dry_run": dry_run, "count": count, "older_than": older_than, "actor": actor})
    else:
        typer.echo(f"{'would purge' if dry_run else 'purged'} {count} sessions")
