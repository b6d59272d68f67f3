"""Steps that carry stored conversations through the listing-index migration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from behave import given, then
from behave.runner import Context
from sqlalchemy import insert, select

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database.tables import session_messages, sessions


def stored_rows(context: Context) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    with context.scratch.engine.connect() as connection:
        session_rows = connection.execute(select(sessions).order_by(sessions.c.id)).all()
        message_rows = connection.execute(
            select(session_messages).order_by(session_messages.c.id)
        ).all()
    return [tuple(row) for row in session_rows], [tuple(row) for row in message_rows]


@given(
    "the scratch database holds {count:d} sessions of {messages:d} messages each, "
    "written at that revision"
)
def given_rows_at_a7_001(context: Context, count: int, messages: int) -> None:
    # The service refuses a schema behind its head, so the rows go in as plain inserts.
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with context.scratch.engine.begin() as connection:
        for number in range(count):
            session_id = f"01JMIGRATE{number:016d}"
            created = start + timedelta(minutes=number)
            connection.execute(
                insert(sessions),
                {
                    "id": session_id,
                    "actor_name": f"actor-{number % 3}",
                    "title": f"conversation {number}",
                    "metadata": {"n": number},
                    "message_count": messages,
                    "input_tokens": number,
                    "output_tokens": 2 * number,
                    "created_at": created,
                    # Activity in another order than creation, so the two listings differ.
                    "updated_at": created + timedelta(hours=(number * 7) % count),
                },
            )
            connection.execute(
                insert(session_messages),
                [
                    {
                        "id": f"01JMSG{number:04d}{index:016d}",
                        "session_id": session_id,
                        "sequence": index,
                        "role": ("user", "assistant", "tool")[index % 3],
                        "content": f"message {index} of {number} ✓",
                        "metadata": {"index": index},
                        "token_count": index,
                        "created_at": created + timedelta(seconds=index),
                    }
                    for index in range(messages)
                ],
            )
    context.rows_as_written = stored_rows(context)
    assert len(context.rows_as_written[1]) == count * messages


@then("the scratch database's sessions and messages are exactly as written")
def then_rows_unchanged(context: Context) -> None:
    assert stored_rows(context) == context.rows_as_written


@then("a service on the scratch database pages through all {count:d} sessions by last activity")
def then_pages_by_activity(context: Context, count: int) -> None:
    with PersistentSessionService.from_engine(context.scratch.engine) as service:
        seen = []
        page = service.list(limit=7, order_by="updated_at")
        seen.extend(page)
        while page.next_cursor is not None:
            page = service.list(limit=7, order_by="updated_at", cursor=page.next_cursor)
            seen.extend(page)
        for session in seen:
            assert len(service.get_messages(session.id, last=5)) == 5
    assert len({s.id for s in seen}) == count == len(seen)
    assert seen == sorted(seen, key=lambda s: (s.updated_at, s.id), reverse=True)
