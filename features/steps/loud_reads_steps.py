"""Steps that damage stored rows with SQL, as a broken tool or disk would, and read them back."""

from __future__ import annotations

import io
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import delete, text, update

from cleveragents import domain
from cleveragents.infrastructure.database import SessionMessageModel, SessionModel


def damage(context: Context, statement: Any) -> None:
    with context.inspection_engine.begin() as connection:
        assert connection.execute(statement).rowcount == 1, "nothing was damaged"


def try_read(context: Context, call: Any) -> None:
    context.error = None
    try:
        call()
    except domain.SessionPersistenceError as error:
        context.error = error


@given("the stored message at sequence {sequence:d} has been removed behind the library's back")
def given_gap(context: Context, sequence: int) -> None:
    damage(
        context,
        delete(SessionMessageModel).where(
            SessionMessageModel.session_id == context.session.id,
            SessionMessageModel.sequence == sequence,
        ),
    )


@given("the stored message_count has been set to {count:d} behind the library's back")
def given_counter(context: Context, count: int) -> None:
    damage(
        context,
        update(SessionModel)
        .where(SessionModel.id == context.session.id)
        .values(message_count=count),
    )


@given(
    'the stored metadata of the message at sequence {sequence:d} has been overwritten with "{raw}"'
)
def given_undecodable(context: Context, sequence: int, raw: str) -> None:
    if context.backend != "sqlite":
        # PostgreSQL and MariaDB refuse invalid JSON in a JSON column, so store the text as a
        # JSON string instead: valid JSON, but not the JSON object every metadata must be.
        raw = '"' + raw + '"'
    context.raw = raw
    with context.inspection_engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE session_messages SET metadata = :raw "
                "WHERE session_id = :id AND sequence = :s"
            ),
            {"raw": raw, "id": context.session.id, "s": sequence},
        )


@given('the stored metadata of the session has been overwritten with "{raw}"')
def given_session_undecodable(context: Context, raw: str) -> None:
    with context.inspection_engine.begin() as connection:
        connection.execute(
            text("UPDATE sessions SET metadata = :raw WHERE id = :id"),
            {"raw": raw, "id": context.session.id},
        )


@when("I try to read the session")
def when_read_session(context: Context) -> None:
    try_read(context, lambda: context.service.get(context.session.id))


@when("I try to list the sessions")
def when_list_sessions(context: Context) -> None:
    try_read(context, context.service.list)


@when("I try to read the whole history")
def when_read_history(context: Context) -> None:
    try_read(context, lambda: context.service.get_messages(context.session.id))


@when("I try to read {limit:d} messages from offset {offset:d}")
def when_read_page(context: Context, limit: int, offset: int) -> None:
    try_read(
        context,
        lambda: context.service.get_messages(context.session.id, limit=limit, offset=offset),
    )


@when("I try to export the session for the record")
def when_export_for_record(context: Context) -> None:
    try_read(context, lambda: context.service.export_session(context.session.id))


@when("I try to pop the last message for the record")
def when_pop_for_record(context: Context) -> None:
    context.fingerprint = context.database_fingerprint()
    try_read(context, lambda: context.service.pop_last_message(context.session.id))


@when("I try to stream the session to a file for the record")
def when_stream_for_record(context: Context) -> None:
    try_read(
        context, lambda: context.service.export_session_to_file(context.session.id, io.BytesIO())
    )


@when("I try to read the latest {count:d} messages")
def when_read_latest_window(context: Context, count: int) -> None:
    try_read(context, lambda: context.service.get_messages(context.session.id, last=count))


@then('the read fails with {error_name} mentioning "{text_part}"')
def then_read_fails(context: Context, error_name: str, text_part: str) -> None:
    error = context.error
    assert error is not None, "the read did not fail"
    assert type(error).__name__ == error_name, f"{type(error).__name__}: {error}"
    assert text_part in str(error), str(error)
    if "session row" not in text_part:
        assert context.session.id in str(error), str(error)


@then("the error does not show the stored text")
def then_no_stored_text(context: Context) -> None:
    assert "not json" not in str(context.error), str(context.error)
