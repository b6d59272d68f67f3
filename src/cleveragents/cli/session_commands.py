"""``cleveragents sessions ...``: look at, move and clean up stored sessions."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from cleveragents.cli.confirmation import confirmed
from cleveragents.cli.exit_codes import BadInputError, reports_errors
from cleveragents.cli.output import (
    console,
    print_json,
    session_data,
    sessions_table,
    write_session_json,
    write_session_text,
)
from cleveragents.cli.progress import (
    PROGRESS_MIN_BYTES,
    PROGRESS_MIN_MESSAGES,
    PROGRESS_MIN_SESSIONS,
    CountingReader,
    CountingWriter,
    progress_bar,
    watched,
)
from cleveragents.cli.settings import settings_of
from cleveragents.domain.errors import SessionIntegrityError, SessionNotFoundError

if TYPE_CHECKING:
    from cleveragents.application.services import PersistentSessionService
    from cleveragents.domain.session import Session, SessionMessage

sessions_app = typer.Typer(help="List, show, export, import, delete and purge sessions.")

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
YesOption = Annotated[
    bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (needed in scripts).")
]
SigningKeyOption = Annotated[
    str | None,
    typer.Option(
        "--signing-key-env",
        metavar="VAR",
        help="Environment variable holding the HMAC signing key (never passed on the line).",
    ),
]
# The file name that means standard input or standard output.
STANDARD_STREAM = "-"

DURATION_PATTERN = re.compile(r"(\d+)([mhdw])")
DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
# Messages fetched per query by `sessions show`: memory stays flat however long the session.
SHOW_BATCH = 1_000


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


def existing_session(service: PersistentSessionService, session_id: str) -> Session:
    session = service.get(session_id)
    if session is None:
        raise SessionNotFoundError(session_id)
    return session


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
    """List sessions, newest first; a full page gives the --cursor of the next one.

    With --json the answer is one object: {"sessions": [...], "next_cursor": CURSOR or null}.
    """
    with settings_of(context).open_service() as service:
        sessions = service.list(
            limit=limit,
            offset=offset,
            actor_name=actor,
            order_by="created_at" if order is Order.CREATED else "updated_at",
            cursor=cursor,
        )
    if json_output:
        print_json(
            {
                "sessions": [session_data(session) for session in sessions],
                "next_cursor": sessions.next_cursor,
            }
        )
        return
    console().print(sessions_table(sessions))
    if sessions.next_cursor is not None:
        # On stderr, so the table on stdout holds only sessions.
        typer.echo(f"next page: --cursor {sessions.next_cursor}", err=True)


def message_window(
    service: PersistentSessionService, session: Session, *, first: int, count: int | None
) -> Iterator[SessionMessage]:
    """The session's messages from position ``first`` on (``count`` of them, or all), fetched
    a batch at a time: each batch continues after the last sequence of the one before.

    Each batch is checked for gaps by the service; a history that ends before the session's
    own count is reported too, as the whole-history read would, after what was shown.
    """
    wanted_end = session.message_count if count is None else first + count
    position = first

    def batch_size() -> int:
        return SHOW_BATCH if count is None else min(SHOW_BATCH, wanted_end - position)

    batch = service.get_messages(session.id, offset=first, limit=batch_size())
    while batch:
        yield from batch
        position += len(batch)
        if len(batch) < SHOW_BATCH or batch_size() == 0:
            break
        batch = service.get_messages(
            session.id, after_sequence=batch[-1].sequence, limit=batch_size()
        )
    if position < min(wanted_end, session.message_count):
        raise SessionIntegrityError(
            f"session {session.id!r} counts {session.message_count} messages but its history "
            f"ends at {position}"
        )


@sessions_app.command("show")
@reports_errors
def show(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    *,
    last: Annotated[
        int | None, typer.Option("--last", min=0, help="Only the latest N messages.")
    ] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="At most N messages.")] = None,
    offset: Annotated[int, typer.Option("--offset", min=0, help="Skip the first N messages.")] = 0,
    json_output: JsonOption = False,
) -> None:
    """Show a session: its header, token totals and its messages in order.

    Messages are printed as they are read, a batch at a time, so memory stays flat whatever
    the session's length; --last N, or --limit N with --offset N, show part of it.
    """
    if last is not None and (limit is not None or offset):
        raise BadInputError("--last cannot be combined with --limit or --offset")
    with settings_of(context).open_service() as service:
        session = existing_session(service, session_id)
        first = offset if last is None else max(0, session.message_count - last)
        count = limit if last is None else min(last, session.message_count)
        messages = message_window(service, session, first=first, count=count)
        write = write_session_json if json_output else write_session_text
        write(sys.stdout, session, messages)


@sessions_app.command("export")
@reports_errors
def export(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="File to write; - for standard output.")
    ],
    signing_key_env: SigningKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Write the session's export document (checksummed JSON) to a file, or to stdout.

    The document is streamed into a temporary file beside the target, which replaces the
    target only once complete: a failed export never leaves a half-written file.
    """
    key = signing_key(signing_key_env)
    to_stdout = str(output) == STANDARD_STREAM
    with settings_of(context).open_service() as service:
        session = existing_session(service, session_id)
        if to_stdout:
            export_to(service, session, sys.stdout.buffer, key)
            return
        partial = output.with_name(f".{output.name}.partial")
        try:
            with partial.open("wb") as file:
                export_to(service, session, file, key)
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


def export_to(
    service: PersistentSessionService, session: Session, file: BinaryIO, key: bytes | None
) -> None:
    """Stream the export document into ``file``, with a bar on a terminal for long sessions."""
    if not watched() or session.message_count < PROGRESS_MIN_MESSAGES:
        service.export_session_to_file(session.id, file, signing_key=key)
        return
    description = f"exporting {session.message_count} messages"
    with progress_bar(description, total=None, unit_bytes=True) as advance:
        service.export_session_to_file(session.id, CountingWriter(file, advance), signing_key=key)


@sessions_app.command("import")
@reports_errors
def import_(
    context: typer.Context,
    file: Annotated[Path, typer.Argument(help="An export document; - for standard input.")],
    signing_key_env: SigningKeyOption = None,
    json_output: JsonOption = False,
) -> None:
    """Store the session of an export document under a new id, and print that id.

    The file is streamed, with a progress bar on a terminal, so large sessions import with
    flat memory; its size is checked against the import limit before anything is read.
    """
    key = signing_key(signing_key_env)
    with ExitStack() as stack:
        if str(file) == STANDARD_STREAM:
            document: BinaryIO = sys.stdin.buffer
            size = None
        else:
            try:
                document = stack.enter_context(file.open("rb"))
                size = os.fstat(document.fileno()).st_size
            except OSError as error:
                raise BadInputError(f"cannot read {file}: {error.strerror}") from error
        service = stack.enter_context(settings_of(context).open_service())
        if watched() and size is not None and size >= PROGRESS_MIN_BYTES:
            advance = stack.enter_context(
                progress_bar(f"importing {file.name}", total=size, unit_bytes=True)
            )
            session = service.import_session_from_file(
                CountingReader(document, advance), signing_key=key
            )
        else:
            session = service.import_session_from_file(document, signing_key=key)
    if json_output:
        print_json(session_data(session))
    else:
        typer.echo(session.id)


@sessions_app.command("delete")
@reports_errors
def delete(
    context: typer.Context,
    session_id: Annotated[str, typer.Argument(metavar="ID")],
    yes: YesOption = False,
    json_output: JsonOption = False,
) -> None:
    """Delete a session and all its messages, after confirmation unless --yes."""
    with settings_of(context).open_service() as service:
        session = existing_session(service, session_id)
        question = (
            f"Delete session {session_id} of {session.actor_name!r} "
            f"with {session.message_count} messages?"
        )
        deleted = confirmed("sessions delete", question, yes=yes) and service.delete(session_id)
    if json_output:
        print_json({"id": session_id, "deleted": deleted})
    else:
        typer.echo(f"deleted session {session_id}" if deleted else "nothing deleted")


@sessions_app.command("purge")
@reports_errors
def purge(
    context: typer.Context,
    *,
    older_than: Annotated[
        str, typer.Option("--older-than", help="Inactive for longer than this: 90m, 12h, 30d, 2w.")
    ],
    actor: Annotated[str | None, typer.Option("--actor", help="Only this actor's.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, delete nothing.")] = False,
    yes: YesOption = False,
    json_output: JsonOption = False,
) -> None:
    """Delete whole sessions whose last activity is older than --older-than, after
    confirmation unless --yes; --dry-run prints the count and deletes nothing."""
    age = parse_duration(older_than)
    whose = f" of {actor!r}" if actor is not None else ""
    with settings_of(context).open_service() as service:
        count = service.purge_sessions(age, actor_name=actor, dry_run=True)
        described = f"{count} sessions{whose} inactive for more than {older_than}"
        if dry_run:
            outcome = f"would purge {described}"
        elif count and confirmed("sessions purge", f"Purge {described}?", yes=yes):
            count = purge_watched(service, age, actor, expected=count)
            outcome = f"purged {count} sessions{whose} inactive for more than {older_than}"
        else:
            outcome, count = "nothing purged", 0
    if json_output:
        print_json({"dry_run": dry_run, "count": count, "older_than": older_than, "actor": actor})
    else:
        typer.echo(outcome)


def purge_watched(
    service: PersistentSessionService, age: timedelta, actor: str | None, *, expected: int
) -> int:
    """Purge, with a bar on a terminal when the dry run counted many sessions."""
    if not watched() or expected < PROGRESS_MIN_SESSIONS:
        return service.purge_sessions(age, actor_name=actor)
    with progress_bar(f"purging {expected} sessions", total=expected, unit_bytes=False) as advance:
        return service.purge_sessions(age, actor_name=actor, on_batch=advance)
