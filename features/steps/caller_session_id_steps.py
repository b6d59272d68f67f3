"""Steps for sessions created under ids the caller chose."""

from __future__ import annotations

import ast
import re
from typing import Any

from behave import given, then, when
from behave.runner import Context

from cleveragents import domain

ULID = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


REPEATED = re.compile(r'(\d+) times "(.)"')


def id_value(text: str) -> Any:
    """A Python string literal as written in the feature, ``N times "c"``, or a number."""
    repeated = REPEATED.fullmatch(text)
    if repeated:
        return repeated.group(2) * int(repeated.group(1))
    if text == "the number 42":
        return 42
    return ast.literal_eval(text)


def attempt(context: Context, call: Any) -> None:
    context.result, context.error = None, None
    try:
        context.result = call()
    except domain.SessionPersistenceError as error:
        context.error = error


@given('a session for actor "{actor}" created with the id {session_id} and {count:d} messages')
def given_session_with_id(context: Context, actor: str, session_id: str, count: int) -> None:
    context.session = context.service.create(actor, session_id=id_value(session_id))
    for index in range(count):
        context.service.append_message(context.session.id, "user", f"message {index}")
    context.session = context.service.get(context.session.id)
    context.fingerprint = context.database_fingerprint()


@when('I create a session for actor "{actor}" with the id {session_id}')
def when_create_with_id(context: Context, actor: str, session_id: str) -> None:
    context.session = context.service.create(actor, session_id=id_value(session_id))


@when('I try to create a session for actor "{actor}" with the id {session_id}')
def when_try_create_with_id(context: Context, actor: str, session_id: str) -> None:
    context.fingerprint = context.database_fingerprint()
    attempt(context, lambda: context.service.create(actor, session_id=id_value(session_id)))


@when('I create a session for actor "{actor}" without an id')
def when_create_without_id(context: Context, actor: str) -> None:
    context.session = context.service.create(actor, session_id=None)


@when("I delete the session with the id {session_id}")
def when_delete_by_id(context: Context, session_id: str) -> None:
    assert context.service.delete(id_value(session_id)) is True


@then("the created session has the id {session_id}")
def then_created_id(context: Context, session_id: str) -> None:
    assert context.session.id == id_value(session_id), context.session


@then("the session with the id {session_id} can be read, appended to and listed")
def then_usable(context: Context, session_id: str) -> None:
    wanted = id_value(session_id)
    service = context.service
    assert service.get(wanted) == context.session, service.get(wanted)
    message = service.append_message(wanted, "user", "hello")
    assert (message.session_id, message.sequence) == (wanted, 0), message
    assert [m.id for m in service.get_messages(wanted)] == [message.id]
    assert [s.id for s in service.list(actor_name=context.session.actor_name)] == [wanted]
    assert service.pop_last_message(wanted) == message
    exported = service.export_session(wanted)
    assert exported["session"]["id"] == wanted, exported["session"]


@then('the session with the id {session_id} belongs to actor "{actor}" with {count:d} messages')
def then_belongs(context: Context, session_id: str, actor: str, count: int) -> None:
    stored = context.service.get(id_value(session_id))
    assert stored is not None, "no such session"
    assert (stored.actor_name, stored.message_count) == (actor, count), stored
    assert len(context.service.get_messages(stored.id)) == count


@then("the created session's id is a 26-character ULID")
def then_ulid(context: Context) -> None:
    assert ULID.fullmatch(context.session.id), context.session.id


@when('I create sessions for actor "{actor}" with the ids {first} and {second}')
def when_create_two(context: Context, actor: str, first: str, second: str) -> None:
    if not hasattr(context, "pairs"):
        context.pairs = []
    context.pairs.append(
        (
            context.service.create(actor, session_id=id_value(first)),
            context.service.create(actor, session_id=id_value(second)),
        )
    )


@then("each of them is found under its own id only")
def then_found_apart(context: Context) -> None:
    for first, second in context.pairs:
        assert first.id != second.id
        for session in (first, second):
            assert context.service.get(session.id) == session, session.id
        listed = sorted(s.id for s in context.service.list(actor_name=first.actor_name))
        assert listed == sorted([first.id, second.id]), listed
