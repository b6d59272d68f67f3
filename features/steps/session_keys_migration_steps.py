"""Steps that carry caller-sized session ids and exact keys through a7_003_session_keys."""

from __future__ import annotations

from datetime import UTC, datetime

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import insert

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import downgrade_database
from cleveragents.infrastructure.database.tables import session_messages, sessions


def session_id_of_length(length: int) -> str:
    # Two-byte characters, so a backend counting bytes instead of characters would show.
    return ("conversation-é-" * 10)[:length]


@given(
    "the scratch database stores a session whose id is {length:d} characters long, "
    "with {count:d} messages"
)
@when(
    "the scratch database stores a session whose id is {length:d} characters long, "
    "with {count:d} messages"
)
def given_long_session_id(context: Context, length: int, count: int) -> None:
    # Written as rows: which ids the service accepts is the service's business, not this
    # migration's; here the columns themselves must hold the id.
    session_id = session_id_of_length(length)
    assert len(session_id) == length, len(session_id)
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    with context.scratch.engine.begin() as connection:
        connection.execute(
            insert(sessions),
            {
                "id": session_id,
                "actor_name": "keeper",
                "title": None,
                "metadata": {},
                "message_count": count,
                "input_tokens": 0,
                "output_tokens": 0,
                "created_at": moment,
                "updated_at": moment,
            },
        )
        connection.execute(
            insert(session_messages),
            [
                {
                    "id": f"01JKEYS{index:019d}",
                    "session_id": session_id,
                    "sequence": index,
                    "role": "user",
                    "content": f"message {index}",
                    "metadata": {},
                    "token_count": None,
                    "created_at": moment,
                }
                for index in range(count)
            ],
        )
    context.long_session_id = session_id


@then("a service on the scratch database reads that session and its {count:d} messages")
def then_reads_long_id(context: Context, count: int) -> None:
    with PersistentSessionService.from_engine(context.scratch.engine) as service:
        session = service.get(context.long_session_id)
        messages = service.get_messages(context.long_session_id)
    assert session.id == context.long_session_id, session.id
    assert [m.sequence for m in messages] == list(range(count)), messages
    assert {m.session_id for m in messages} == {context.long_session_id}


@then("a service on the scratch database finds no session under that id with a space after it")
def then_no_padded_match(context: Context) -> None:
    with PersistentSessionService.from_engine(context.scratch.engine) as service:
        found = service.get(context.long_session_id + " ")
    assert found is None, found


@when('I try to downgrade the scratch database to "{revision}"')
def when_try_downgrade(context: Context, revision: str) -> None:
    context.scratch_fingerprint = context.fingerprint_of(context.scratch.engine)
    context.error = None
    try:
        downgrade_database(context.scratch.engine, revision)
    except domain.SessionPersistenceError as error:
        context.error = error


@then("the scratch database is unchanged")
def then_scratch_unchanged(context: Context) -> None:
    now = context.fingerprint_of(context.scratch.engine)
    assert now == context.scratch_fingerprint, f"before {context.scratch_fingerprint}, now {now}"
