"""How results are shown: Rich tables for people, JSON (ISO 8601 timestamps) for scripts.

Rich and the library's document format are imported inside the functions that use them, so
commands that print neither (``--help``, ``--version``, usage errors) start without them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TextIO

import typer

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from cleveragents.domain.session import ActorStatistics, Session, SessionMessage

PIPE_WIDTH = 200


def console() -> Console:
    """A console on the current stdout, so test runners that swap stdout capture it.

    Output to a pipe or file gets wide lines, so ids and timestamps are never cut short.
    """
    from rich.console import Console

    width = None if Console().is_terminal else PIPE_WIDTH
    return Console(soft_wrap=False, width=width)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def session_data(session: Session) -> dict[str, Any]:
    """A session as the export document shows it, plus its token total."""
    from cleveragents.application.services.export_document import session_fields

    fields = session_fields(session, message_count=session.message_count)
    return {**fields, "total_tokens": session.total_tokens}


def message_data(message: SessionMessage) -> dict[str, Any]:
    """A message as the export document shows it, so the CLI and the documents agree."""
    from cleveragents.application.services.export_document import message_fields

    return message_fields(message)


def statistics_data(statistics: Iterable[ActorStatistics]) -> list[dict[str, Any]]:
    return [
        {
            "actor_name": actor.actor_name,
            "session_count": actor.session_count,
            "message_count": actor.message_count,
            "input_tokens": actor.input_tokens,
            "output_tokens": actor.output_tokens,
            "total_tokens": actor.total_tokens,
        }
        for actor in statistics
    ]


def sessions_table(sessions: Iterable[Session]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Sessions")
    table.add_column("id", no_wrap=True)
    table.add_column("actor")
    table.add_column("title")
    table.add_column("messages", justify="right")
    table.add_column("tokens", justify="right")
    table.add_column("created")
    table.add_column("updated")
    for session in sessions:
        # Text() keeps user data from being read as Rich markup.
        table.add_row(
            session.id,
            Text(session.actor_name),
            Text(session.title or ""),
            str(session.message_count),
            str(session.total_tokens),
            session.created_at.isoformat(timespec="seconds"),
            session.updated_at.isoformat(timespec="seconds"),
        )
    return table


def write_session_text(out: TextIO, session: Session, messages: Iterable[SessionMessage]) -> None:
    """A session's header, then one block per message, written as the messages arrive.

    Plain lines instead of a table: a table is laid out only once every row is known, which
    for a long session means holding all of it in memory before printing anything.
    """
    out.write(
        f"Session {session.id}\n"
        f"actor:    {session.actor_name}\n"
        f"title:    {session.title or ''}\n"
        f"created:  {session.created_at.isoformat()}\n"
        f"updated:  {session.updated_at.isoformat()}\n"
        f"tokens:   {session.input_tokens} in + {session.output_tokens} out = "
        f"{session.total_tokens}\n"
        f"messages: {session.message_count}\n"
    )
    for message in messages:
        # Continuation lines are indented, so every message starts at "#SEQUENCE ROLE:".
        content = message.content.replace("\n", "\n    ")
        out.write(f"#{message.sequence} {message.role}: {content}\n")


def write_session_json(out: TextIO, session: Session, messages: Iterable[SessionMessage]) -> None:
    """The session as one JSON object whose ``messages`` list is written message by message."""
    header = json.dumps(session_data(session), ensure_ascii=False, indent=2)
    out.write(header[:-2] + ',\n  "messages": [')
    separator = "\n    "
    for message in messages:
        out.write(separator + json.dumps(message_data(message), ensure_ascii=False))
        separator = ",\n    "
    out.write("\n  ]\n}\n")


def statistics_table(statistics: list[dict[str, Any]]) -> Table:
    from rich.table import Table
    from rich.text import Text

    table = Table(title="Statistics by actor")
    for name in ("actor", "sessions", "messages", "input", "output", "total"):
        table.add_column(name, justify="left" if name == "actor" else "right")
    for actor in statistics:
        table.add_row(
            Text(actor["actor_name"]),
            *(
                str(actor[key])
                for key in (
                    "session_count",
                    "message_count",
                    "input_tokens",
                    "output_tokens",
                    "total_tokens",
                )
            ),
        )
    return table
