"""Steps for batch appends: ``append_messages`` with NewMessage items and mappings."""

from __future__ import annotations

import json
import re
import threading
from typing import Any

from behave import then, when
from behave.runner import Context
from library_error import capture_library_error
from sqlalchemy import event
from ulid import ULID

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.domain import NewMessage
from cleveragents.infrastructure.database import create_database_engine


def unescape(text: str) -> str:
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), text)


def batch_of(count: int, tag: str = "batch") -> list[NewMessage]:
    return [NewMessage("tool", f"{tag} item {index}", {"index": index}) for index in range(count)]


@when("I append a batch of these messages:")
def when_append_table(context: Context) -> None:
    context.batch_input = [
        {
            "role": row["role"],
            "content": unescape(row["content"]),
            "metadata": json.loads(row["metadata"]),
            "token_count": int(row["token_count"]) if row["token_count"] else None,
        }
        for row in context.table
    ]
    context.batch = context.service.append_messages(context.session.id, context.batch_input)


@when("I append a batch of 1 NewMessage and 1 mapping")
def when_append_mixed(context: Context) -> None:
    context.batch = context.service.append_messages(
        context.session.id,
        [NewMessage("user", "as an object"), {"role": "assistant", "content": "as a mapping"}],
    )


@when("I append an empty batch")
def when_append_empty(context: Context) -> None:
    context.batch = context.service.append_messages(context.session.id, [])


@when("I try to append a batch whose third item has {defect}")
def when_append_defective(context: Context, defect: str) -> None:
    bad: dict[str, Any] = {"role": "tool", "content": "fine"}
    item: object
    if defect == "a blank role":
        item = {**bad, "role": "  "}
    elif defect == "content that is no text":
        item = {**bad, "content": 42}
    elif defect == "a negative token count":
        item = NewMessage("tool", "fine", token_count=-1)
    elif defect == "an unknown field":
        item = {**bad, "colour": "red"}
    elif defect == "no content":
        item = {"role": "tool"}
    elif defect == "metadata that is a list":
        item = {**bad, "metadata": [1, 2]}
    elif defect == "content under the row limit that its metadata takes over it":
        item = {**bad, "content": "c" * 8_000_000, "metadata": {"pad": "m" * 400_000}}
    else:
        assert defect == "the wrong type", defect
        item = ("tool", "fine")
    items = [{"role": "user", "content": "first"}, NewMessage("assistant", "second"), item]
    capture_library_error(
        context, lambda: context.service.append_messages(context.session.id, items)
    )


@when("I try to append {batch} as a batch")
def when_append_not_a_batch(context: Context, batch: str) -> None:
    values = {
        "a string": "user: hello",
        "a single mapping": {"role": "user", "content": "hello"},
        "a number": 3,
    }
    capture_library_error(
        context, lambda: context.service.append_messages(context.session.id, values[batch])
    )


@when('I try to append a batch of {count:d} messages to the session "{session_id}"')
def when_append_unknown(context: Context, count: int, session_id: str) -> None:
    capture_library_error(
        context, lambda: context.service.append_messages(session_id, batch_of(count))
    )


@when("I try to append a batch of {count:d} messages expecting next sequence {expected:d}")
def when_append_expecting(context: Context, count: int, expected: int) -> None:
    context.batch = capture_library_error(
        context,
        lambda: context.service.append_messages(
            context.session.id, batch_of(count), expected_sequence=expected
        ),
    )


@when("I append a batch of {count:d} messages while counting the statements sent")
def when_append_counted(context: Context, count: int) -> None:
    engine = create_database_engine(context.database_url)
    context.add_cleanup(engine.dispose)
    service = PersistentSessionService.from_engine(engine)
    context.counted_dialect = engine.dialect
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement.lstrip().split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", record)
    try:
        context.batch = service.append_messages(context.session.id, batch_of(count))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    context.statements = [s for s in statements if s not in ("BEGIN", "COMMIT")]


@when(
    "{threads:d} threads each append {batches:d} batches of {size:d} messages and "
    "{singles:d} single messages to that session"
)
def when_concurrent_batches(
    context: Context, threads: int, batches: int, size: int, singles: int
) -> None:
    errors: list[BaseException] = []
    context.batch_size = size

    def work(worker: int) -> None:
        try:
            for index in range(batches):
                context.service.append_messages(
                    context.session.id, batch_of(size, f"w{worker} b{index}")
                )
                if index < singles:
                    context.service.append_message(
                        context.session.id, "user", f"w{worker} single {index}"
                    )
        except BaseException as error:  # reported by the Then step
            errors.append(error)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors


@then("the batch came back with sequences {sequences}")
def then_batch_sequences(context: Context, sequences: str) -> None:
    assert getattr(context, "error", None) is None, context.error
    seen = [message.sequence for message in context.batch]
    assert seen == [int(s) for s in sequences.split(", ")], seen


@then("the batch came back with {count:d} contiguous sequences from {first:d}")
def then_batch_range(context: Context, count: int, first: int) -> None:
    assert [m.sequence for m in context.batch] == list(range(first, first + count))
    stored = context.service.get_messages(context.session.id, after_sequence=first - 1)
    assert [m.content for m in stored] == [m.content for m in context.batch]


@then("the batch came back empty")
def then_batch_empty(context: Context) -> None:
    assert context.batch == [], context.batch


@then("reading the session's history gives the batch back exactly after the first {n:d} messages")
def then_history_has_batch(context: Context, n: int) -> None:
    stored = context.service.get_messages(context.session.id)[n:]
    assert stored and stored == context.batch, (stored, context.batch)
    for message, given in zip(stored, context.batch_input, strict=True):
        assert (message.role, message.content, message.metadata, message.token_count) == (
            given["role"],
            given["content"],
            given["metadata"],
            given["token_count"],
        )
        assert message.session_id == context.session.id


@then("the session's updated_at equals the batch's created_at")
def then_updated_at_batch(context: Context) -> None:
    session = context.service.get(context.session.id)
    assert {m.created_at for m in context.batch} == {session.updated_at}


@then("the batch sent one counter update and one insert")
def then_batch_statements(context: Context) -> None:
    dialect = context.counted_dialect
    expected = ["UPDATE", "INSERT"] if dialect.update_returning else ["UPDATE", "SELECT", "INSERT"]
    assert context.statements == expected, context.statements


@then("the session holds {count:d} messages with sequences 0 to {last:d} and no gaps")
def then_dense(context: Context, count: int, last: int) -> None:
    messages = context.service.get_messages(context.session.id)
    assert [m.sequence for m in messages] == list(range(last + 1)) and len(messages) == count
    assert context.service.get(context.session.id).message_count == count
    context.all_messages = messages


@then("every batch's {size:d} messages sit at contiguous sequences in their order")
def then_batches_contiguous(context: Context, size: int) -> None:
    by_batch: dict[str, list[domain.SessionMessage]] = {}
    for message in context.all_messages:
        if " item " in message.content:
            by_batch.setdefault(message.content.split(" item ")[0], []).append(message)
    assert len(by_batch) == 4 * 25, len(by_batch)
    for tag, messages in by_batch.items():
        sequences = [m.sequence for m in messages]
        assert sequences == list(range(sequences[0], sequences[0] + size)), (tag, sequences)
        assert [m.content for m in messages] == [f"{tag} item {i}" for i in range(size)]


@when(
    "I alternate {singles:d} single appends with {batches:d} batches of {size:d} messages "
    "as fast as I can"
)
def when_alternate(context: Context, singles: int, batches: int, size: int) -> None:
    for index in range(max(singles, batches)):
        if index < singles:
            context.service.append_message(context.session.id, "user", f"single {index}")
        if index < batches:
            context.service.append_messages(context.session.id, batch_of(size, f"b{index}"))


@then("all {count:d} message ids are distinct ULIDs")
def then_distinct_ids(context: Context, count: int) -> None:
    ids = [message.id for message in context.all_messages]
    assert len(set(ids)) == count == len(ids)
    assert all(str(ULID.from_str(message_id)) == message_id for message_id in ids)
