"""How results are shown: Rich tables for people, JSON (ISO 8601 timestamps) for scripts."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cleveragents.application.services.export_document import message_fields, session_fields
from cleveragents.domain.session import ActorStatistics, Session, SessionMessage

PIPE_WIDTH = 200


def console() -> Console:
    """A console on the current stdout, so test runners that swap stdout capture it.

    Output to a pipe or file gets wide lines, so ids and timestamps are never cut short.
    """
    width = None if Console().is_terminal else PIPE_WIDTH
    return Console(soft_wrap=False, width=width)


def progress_console() -> Console:
    """A console on stderr for progress bars: stdout stays the command's answer, which
    scripts capture (``ID=$(cleveragents sessions import FILE)``)."""
    return Console(stderr=True)


def print_json(value: Any) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False, indent=2))


def session_data(session: Session) -> dict[str, Any]:
    """A session as the export document shows it, plus its token total."""
    fields = session_fields(session, message_count=session.message_count)
    return {**fields, "total_tokens": session.total_tokens}


# A message as the export document shows it, so the CLI and the documents agree.
message_data = message_fields


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


def show_session(session: Session, messages: Iterable[SessionMessage]) -> None:
    out = console()
    out.print(Text(f"Session {session.id}", style="bold"))
    out.print(Text(f"actor:   {session.actor_name}"))
    out.print(Text(f"title:   {session.title or ''}"))
    out.print(f"created: {session.created_at.isoformat()}")
    out.print(f"updated: {session.updated_at.isoformat()}")
    out.print(
        f"tokens:  {session.input_tokens} in + {session.output_tokens} out = {session.total_tokens}"
    )
    table = Table(title=f"{session.message_count} messages")
    table.add_column("seq", justify="right")
    table.add_column("role")
    table.add_column("content")
    for message in messages:
        table.add_row(str(message.sequence), Text(message.role), Text(message.content))
    out.print(table)


def statistics_table(statistics: list[dict[str, Any]]) -> Table:
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
