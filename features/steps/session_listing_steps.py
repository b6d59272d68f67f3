"""Steps for listing sessions by actor and activity with cursor pages."""

from __future__ import annotations

import base64
import json
import random
from typing import Any

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error

from cleveragents import domain


def forged_cursor(genuine: str, misuse: str) -> str:
    """The genuine cursor's fields, altered as ``misuse`` says, encoded the same way."""
    fields = json.loads(base64.urlsafe_b64decode(genuine + "=" * (-len(genuine) % 4)))
    if misuse == "a cursor of another version":
        fields["v"] = 2
    elif misuse == "a forged cursor without an id":
        del fields["i"]
    elif misuse == "a forged cursor with a bad time":
        fields["k"] = "yesterday"
    else:
        assert misuse == "a forged cursor with a naive time", misuse
        fields["k"] = "2026-01-01T00:00:00"
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def list_in_pages(
    context: Context, size: int, *, actor: str, order_by: str = "created_at"
) -> list[domain.SessionPage]:
    pages = [context.service.list(limit=size, actor_name=actor, order_by=order_by)]
    while pages[-1].next_cursor is not None:
        pages.append(
            context.service.list(
                limit=size, actor_name=actor, order_by=order_by, cursor=pages[-1].next_cursor
            )
        )
        assert len(pages) < 1000, "the cursor never ran out"
    return pages


def actor_sessions(context: Context, actor: str) -> list[domain.Session]:
    return [s for s in context.service.list(limit=1000) if s.actor_name == actor]


@given('{count:d} sessions for actor "{actor}" created after them')
def given_later_sessions(context: Context, count: int, actor: str) -> None:
    for _ in range(count):
        context.service.create(actor)


@given('each session of actor "{actor}" gets a message in a shuffled order')
def given_shuffled_activity(context: Context, actor: str) -> None:
    sessions = actor_sessions(context, actor)
    random.Random(7).shuffle(sessions)
    for session in sessions:
        context.service.append_message(session.id, "user", "activity")


@when('a message is appended to the session of "{actor}"')
def when_append_to_actor(context: Context, actor: str) -> None:
    (session,) = actor_sessions(context, actor)
    context.service.append_message(session.id, "user", "still here")


@when('token usage is added to the session of "{actor}"')
def when_tokens_to_actor(context: Context, actor: str) -> None:
    (session,) = actor_sessions(context, actor)
    context.service.update_token_usage(session.id, input_tokens=5)


@when("I list the sessions by last activity")
def when_list_by_activity(context: Context) -> None:
    context.listed = context.service.list(order_by="updated_at")


@when('I list the sessions of actor "{actor}" in cursor pages of {size:d}')
def when_cursor_pages(context: Context, actor: str, size: int) -> None:
    context.cursor_pages = list_in_pages(context, size, actor=actor)


@when('I list the sessions of actor "{actor}" by last activity in cursor pages of {size:d}')
def when_cursor_pages_activity(context: Context, actor: str, size: int) -> None:
    context.cursor_pages = list_in_pages(context, size, actor=actor, order_by="updated_at")


@when('I take the first cursor page of {size:d} sessions of actor "{actor}"')
def when_first_page(context: Context, size: int, actor: str) -> None:
    context.cursor_pages = [context.service.list(limit=size, actor_name=actor)]
    context.paging = {"limit": size, "actor_name": actor}
    context.originals = {s.id for s in actor_sessions(context, actor)}


@when('{count:d} more sessions of actor "{actor}" are created')
def when_more_sessions(context: Context, count: int, actor: str) -> None:
    for _ in range(count):
        context.service.create(actor)


@when("I take the next cursor page")
def when_next_page(context: Context) -> None:
    cursor = context.cursor_pages[-1].next_cursor
    context.cursor_pages.append(context.service.list(cursor=cursor, **context.paging))


@given('the next cursor of the first page of {size:d} sessions of actor "{actor}"')
def given_first_cursor(context: Context, size: int, actor: str) -> None:
    context.cursor = context.service.list(limit=size, actor_name=actor).next_cursor
    assert context.cursor is not None


@when("I try to continue the listing with {misuse}")
def when_misuse_cursor(context: Context, misuse: str) -> None:
    arguments: dict[str, Any] = {"limit": 2, "actor_name": "zeta", "cursor": context.cursor}
    if misuse == "another actor":
        arguments["actor_name"] = "eta"
    elif misuse == "another order":
        arguments["order_by"] = "updated_at"
    elif misuse == "a cursor cut short":
        arguments["cursor"] = context.cursor[: len(context.cursor) // 2]
    elif misuse == "a garbled cursor":
        arguments["cursor"] = "not-a-cursor!"
    elif misuse == "a number":
        arguments["cursor"] = 42
    elif misuse == "an empty cursor":
        arguments["cursor"] = ""
    elif misuse.startswith(("a cursor of another version", "a forged cursor")):
        arguments["cursor"] = forged_cursor(context.cursor, misuse)
    else:
        assert misuse == "an unknown order", misuse
        arguments["order_by"] = "title"
    capture_library_error(context, lambda: context.service.list(**arguments))


@then("the cursor pages hold {sizes} sessions and the last page has no next cursor")
def then_cursor_page_sizes(context: Context, sizes: str) -> None:
    seen = [len(page) for page in context.cursor_pages]
    assert seen == [int(n) for n in sizes.split(", ")], seen
    assert context.cursor_pages[-1].next_cursor is None
    assert all(page.next_cursor for page in context.cursor_pages[:-1])


@then('together the cursor pages hold every session of actor "{actor}" once, newest created first')
def then_cover_by_creation(context: Context, actor: str) -> None:
    flattened = [s for page in context.cursor_pages for s in page]
    assert len({s.id for s in flattened}) == len(flattened)
    assert {s.id for s in flattened} == {s.id for s in actor_sessions(context, actor)}
    assert flattened == sorted(flattened, key=lambda s: (s.created_at, s.id), reverse=True)


@then(
    'together the cursor pages hold every session of actor "{actor}" once, '
    "most recently active first"
)
def then_cover_by_activity(context: Context, actor: str) -> None:
    flattened = [s for page in context.cursor_pages for s in page]
    assert len({s.id for s in flattened}) == len(flattened)
    assert {s.id for s in flattened} == {s.id for s in actor_sessions(context, actor)}
    assert flattened == sorted(flattened, key=lambda s: (s.updated_at, s.id), reverse=True)


@then("the sessions come in the actor order {actors}")
def then_actor_order(context: Context, actors: str) -> None:
    seen = [s.actor_name for s in context.listed]
    assert seen == [a.strip('"') for a in actors.split(", ")], seen


@then("listing them by creation gives the actor order {actors}")
def then_creation_order(context: Context, actors: str) -> None:
    seen = [s.actor_name for s in context.service.list(order_by="created_at")]
    assert seen == [a.strip('"') for a in actors.split(", ")], seen


@then("the two pages hold the {count:d} original sessions once each")
def then_pages_stable(context: Context, count: int) -> None:
    ids = [s.id for page in context.cursor_pages for s in page]
    assert len(ids) == count and set(ids) == context.originals, ids
