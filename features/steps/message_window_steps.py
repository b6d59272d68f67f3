"""Steps for sequence cursors and latest-N windows of ``get_messages``."""

from __future__ import annotations

import ast
import re
from typing import Any

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error
from sqlalchemy import event

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.domain import NewMessage
from cleveragents.infrastructure.database import create_database_engine

_RANGE_WORDS = {
    "after sequence": "after_sequence",
    "before sequence": "before_sequence",
    "with limit": "limit",
    "offset": "offset",
    "the latest": "last",
}


def range_arguments(text: str) -> dict[str, int]:
    """``after sequence 2 with limit 2 offset 1`` -> ``{after_sequence: 2, limit: 2, ...}``."""
    arguments = {}
    for words, name in _RANGE_WORDS.items():
        match = re.search(rf"{words} (\d+)", text)
        if match:
            arguments[name] = int(match.group(1))
    return arguments


@when("I read the messages {range_}")
def when_read_range(context: Context, range_: str) -> None:
    context.messages = context.service.get_messages(context.session.id, **range_arguments(range_))


@when("I page forward through the messages {size:d} at a time by after_sequence")
def when_page_forward(context: Context, size: int) -> None:
    pages: list[list[domain.SessionMessage]] = []
    after: int | None = None
    while True:
        page = context.service.get_messages(context.session.id, after_sequence=after, limit=size)
        pages.append(page)
        if not page:
            break
        after = page[-1].sequence
    context.message_pages = pages


@when("I page backward through the messages {size:d} at a time from the latest window")
def when_page_backward(context: Context, size: int) -> None:
    pages: list[list[domain.SessionMessage]] = []
    before: int | None = None
    while True:
        page = context.service.get_messages(context.session.id, last=size, before_sequence=before)
        pages.append(page)
        if not page:
            break
        before = page[0].sequence
    context.message_pages = pages


@given('a session for actor "{actor}" with {count:d} messages appended in batches')
def given_batched_session(context: Context, actor: str, count: int) -> None:
    session = context.service.create(actor)
    for start in range(0, count, 64):
        context.service.append_messages(
            session.id,
            [NewMessage("user", f"turn {n}") for n in range(start, min(start + 64, count))],
        )
    context.session = context.service.get(session.id)


@when("I read the latest {count:d} messages of that session")
def when_read_latest(context: Context, count: int) -> None:
    engine = create_database_engine(context.database_url)
    context.add_cleanup(engine.dispose)
    service = PersistentSessionService.from_engine(engine)
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        context.messages = service.get_messages(context.session.id, last=count)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    context.statements = [s for s in statements if s not in ("BEGIN", "COMMIT")]


@when("I ask for a message window with {arguments}")
def when_bad_window(context: Context, arguments: str) -> None:
    keywords: dict[str, Any] = {}
    for argument in arguments.split(" and "):
        name, value = argument.split(" ", 1)
        keywords[name] = ast.literal_eval(value)
    capture_library_error(
        context, lambda: context.service.get_messages(context.session.id, **keywords)
    )


@then("the forward pages hold {sizes} messages and then none")
def then_forward_sizes(context: Context, sizes: str) -> None:
    seen = [len(page) for page in context.message_pages]
    assert seen == [int(n) for n in sizes.split(", ")] + [0], seen


@then("together the pages hold sequences 0 to {last:d} once each, in order")
def then_pages_cover_sequences(context: Context, last: int) -> None:
    sequences = [m.sequence for page in context.message_pages for m in page]
    assert sequences == list(range(last + 1)), sequences


@then("the backward pages hold sequences {ranges} and then none")
def then_backward_pages(context: Context, ranges: str) -> None:
    expected = []
    for first, last in re.findall(r'"(\d+)-(\d+)"', ranges):
        expected.append(list(range(int(first), int(last) + 1)))
    seen = [[m.sequence for m in page] for page in context.message_pages]
    assert seen == [*expected, []], seen


@then("they are the last {count:d} messages of its full history, in chronological order")
def then_latest_is_tail(context: Context, count: int) -> None:
    history = context.service.get_messages(context.session.id)
    assert context.messages == history[-count:], [m.sequence for m in context.messages]


@then("the latest-window read sent one SELECT")
def then_one_select(context: Context) -> None:
    assert context.statements == ["SELECT"], context.statements


@then("the latest {count:d} messages of that session are none")
def then_latest_empty(context: Context, count: int) -> None:
    assert context.service.get_messages(context.session.id, last=count) == []


@then('the latest {count:d} messages of session "{session_id}" are none')
def then_latest_unknown(context: Context, count: int, session_id: str) -> None:
    assert context.service.get_messages(session_id, last=count) == []
