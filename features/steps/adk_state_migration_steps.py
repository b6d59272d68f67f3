"""Steps that carry sessions with scoped state through the a7_004_adk_state migration."""

from __future__ import annotations

from behave import given, then
from behave.runner import Context
from sqlalchemy import func, inspect, select

from cleveragents.application.services.scoped_state_service import ScopedStateService
from cleveragents.domain import NewMessage
from cleveragents.domain.scoped_state import ScopedState
from cleveragents.infrastructure.database import Database
from cleveragents.infrastructure.database.tables import (
    actor_state,
    session_messages,
    session_state,
    session_users,
    sessions,
    user_state,
)

SCOPED_TABLES = (session_users, actor_state, user_state, session_state)


def scoped_service(context: Context) -> ScopedStateService:
    return ScopedStateService(Database.from_engine(context.scratch.engine))


def conversation_rows(context: Context) -> list[list[tuple[object, ...]]]:
    with context.scratch.engine.connect() as connection:
        return [
            [tuple(row) for row in connection.execute(select(table).order_by(table.c.id))]
            for table in (sessions, session_messages)
        ]


@given(
    "the scratch database holds {count:d} sessions of {messages:d} messages each "
    "with state at every scope"
)
def given_scoped_sessions(context: Context, count: int, messages: int) -> None:
    service = scoped_service(context)
    for number in range(count):
        created = service.create(
            "shop",
            user_id=f"user-{number % 2}",
            session_id=f"adk-session-{number}",
            state=ScopedState(actor={"currency": "EUR"}, user={"n": number}, session={"s": 1}),
        )
        for index in range(messages):
            service.append(
                created.session.id,
                NewMessage("shop_agent", f'{{"event": {index}}}'),
                actor_name="shop",
                user_id=created.user_id,
                delta=ScopedState(user={f"k{index}": index}, session={"last": index}),
            )
    context.conversations = conversation_rows(context)
    assert len(context.conversations[1]) == count * messages


@then("the scratch database still holds the same sessions and messages")
def then_same_conversations(context: Context) -> None:
    assert conversation_rows(context) == context.conversations


@then("the scratch database has none of the scoped state tables")
def then_no_scoped_tables(context: Context) -> None:
    present = set(inspect(context.scratch.engine).get_table_names())
    assert not present & {table.name for table in SCOPED_TABLES}, present


@then("the scratch database's scoped state tables are empty")
def then_scoped_tables_empty(context: Context) -> None:
    with context.scratch.engine.connect() as connection:
        counts = [
            connection.execute(select(func.count()).select_from(t)).scalar() for t in SCOPED_TABLES
        ]
    assert counts == [0, 0, 0, 0], counts


@then("a scoped state service on the scratch database creates and reads a session with state")
def then_scoped_service_works(context: Context) -> None:
    service = scoped_service(context)
    service.create("shop", user_id="ann", session_id="after", state=ScopedState(user={"a": 1}))
    found = service.get("after")
    assert found is not None and found.state.user == {"a": 1}, found
