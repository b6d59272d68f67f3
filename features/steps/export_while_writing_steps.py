"""Steps that let another writer act between the two reads of an export."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from behave import given, then
from behave.runner import Context
from sqlalchemy import event

from cleveragents.application.services import PersistentSessionService


def after_first_session_read(context: Context, action: Callable[[], None]) -> None:
    """Run ``action`` once, right after the service's next read of the sessions table."""
    engine = context.service._database.engine
    done: list[bool] = []

    def listener(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not done and "FROM sessions" in statement:
            done.append(True)
            action()

    event.listen(engine, "after_cursor_execute", listener)
    context.add_cleanup(event.remove, engine, "after_cursor_execute", listener)


@given("another writer appends {count:d} messages just after the export has read the session")
def given_append_during_export(context: Context, count: int) -> None:
    other = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(other.close)
    session_id = context.session.id

    def append() -> None:
        for index in range(count):
            other.append_message(session_id, "assistant", f"late {index}")

    after_first_session_read(context, append)


@given("another writer deletes the session just after the export has read it")
def given_delete_during_export(context: Context) -> None:
    other = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(other.close)
    session_id = context.session.id
    after_first_session_read(context, lambda: other.delete(session_id) and None)


@then("the document holds {count:d} messages with sequences 0 to {last:d} and says so")
def then_document_consistent(context: Context, count: int, last: int) -> None:
    document = context.document
    sequences = [message["sequence"] for message in document["messages"]]
    assert sequences == list(range(last + 1)), sequences
    assert document["session"]["message_count"] == count, document["session"]


@then("the session now has {count:d} messages")
def then_session_now(context: Context, count: int) -> None:
    assert context.service.get(context.session.id).message_count == count
