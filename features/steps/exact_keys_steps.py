"""Steps for keys that compare exactly: words translated into public API calls."""

from __future__ import annotations

import re

from behave import then
from behave.runner import Context

from cleveragents import domain


@then("the statistics name the actors {actors} with {counts} messages")
def then_statistics_actors(context: Context, actors: str, counts: str) -> None:
    # A table cell would lose the trailing spaces these names differ by, hence quotes.
    seen = [(s.actor_name, s.message_count) for s in context.statistics]
    expected = list(
        zip(re.findall(r'"([^"]*)"', actors), map(int, re.findall(r"\d+", counts)), strict=True)
    )
    assert seen == expected, f"saw {seen}"


@then('only the sessions of actor "{actor}" remain')
def then_only_actor_remains(context: Context, actor: str) -> None:
    remaining = context.service.list(limit=100)
    assert remaining and {s.actor_name for s in remaining} == {actor}, remaining


SPELLINGS = {
    "followed by a space": lambda session_id: session_id + " ",
    "in lower case": str.lower,
}


@then("reading the session by its id {spelling} finds none")
def then_no_session(context: Context, spelling: str) -> None:
    found = context.service.get(SPELLINGS[spelling](context.session.id))
    assert found is None, found


@then("appending to the session by its id {spelling} fails with SessionNotFoundError")
def then_append_refused(context: Context, spelling: str) -> None:
    session_id = SPELLINGS[spelling](context.session.id)
    try:
        context.service.append_message(session_id, "user", "hello")
    except domain.SessionNotFoundError as error:
        assert repr(session_id) in str(error), str(error)
        return
    raise AssertionError(f"appended to {session_id!r}")
