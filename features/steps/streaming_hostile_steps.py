"""Steps that hand a stream import odd files: broken JSON, odd readers, tiny reads."""

from __future__ import annotations

import io
import json
from typing import Any

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error

HEADER_KEYS = ("format", "schema_version", "exported_at", "session")


class Trickle:
    """A binary reader that hands out at most ``step`` bytes per read, as a pipe may."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data, self._position, self._step = data, 0, step

    def read(self, size: int = -1) -> bytes:
        size = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._position : self._position + size]
        self._position += len(chunk)
        return chunk


class TextTrickle:
    """A text reader that hands out at most ``step`` characters per read."""

    def __init__(self, text: str, step: int) -> None:
        self._text, self._position, self._step = text, 0, step

    def read(self, size: int = -1) -> str:
        size = self._step if size < 0 else min(size, self._step)
        chunk = self._text[self._position : self._position + size]
        self._position += len(chunk)
        return chunk


class NoneReader:
    def read(self, size: int = -1) -> None:
        return None


def header_text(document: dict[str, Any]) -> str:
    """The document's header members as JSON text without the closing brace."""
    return json.dumps({key: document[key] for key in HEADER_KEYS})[:-1]


def hostile_text(context: Context, case: str) -> str:
    document = context.document
    text = json.dumps(document)
    messages = json.dumps(document["messages"])
    cases = {
        "nothing at all": "",
        "an object cut off after a key": '{"format":',
        "an empty object": "{}",
        "a number as an object key": "{1: 2}",
        "two members without a comma": '{"format": "x" "schema_version": 1}',
        "a key without a colon": '{"format" "x"}',
        "a duplicate key inside the session": text.replace(
            '"title":', '"title": "again", "title":', 1
        ),
        "NaN as the session's input tokens": text.replace(
            f'"input_tokens": {document["session"]["input_tokens"]}', '"input_tokens": NaN', 1
        ),
        "a message nested 100000 levels deep": header_text(document)
        + ', "messages": ['
        + "[" * 100_000
        + "]" * 100_000
        + "]}",
        "no messages member": json.dumps({k: v for k, v in document.items() if k != "messages"}),
        "messages but no session member": json.dumps(
            {k: v for k, v in document.items() if k != "session"}
        ),
        "messages twice": '{"messages": '
        + messages
        + ', "messages": '
        + messages
        + ", "
        + header_text(document)[1:]
        + "}",
        "a list instead of a document": "[1, 2, 3]",
    }
    hostile = cases[case]
    assert hostile != text, f"{case}: the document was not changed"
    return hostile


@when("I try to stream-import a file holding {case}")
def when_stream_import_hostile(context: Context, case: str) -> None:
    data = hostile_text(context, case).encode("utf-8")
    capture_library_error(
        context, lambda: context.service.import_session_from_file(io.BytesIO(data))
    )


@when("I try to stream-import from a reader whose read() returns None")
def when_none_reader(context: Context) -> None:
    capture_library_error(context, lambda: context.service.import_session_from_file(NoneReader()))


@when("I try to stream-import the document with the limited importer")
def when_limited_stream(context: Context) -> None:
    data = json.dumps(context.document, ensure_ascii=False).encode("utf-8")
    capture_library_error(
        context, lambda: context.importer.import_session_from_file(io.BytesIO(data))
    )


@when("I try to stream-import the document with its messages first with the limited importer")
def when_limited_messages_first(context: Context) -> None:
    document = {"messages": context.document["messages"]}
    document.update({k: v for k, v in context.document.items() if k != "messages"})
    data = json.dumps(document).encode("utf-8")
    capture_library_error(
        context, lambda: context.importer.import_session_from_file(io.BytesIO(data))
    )


@when("I stream-import the document {delivery}")
def when_stream_delivery(context: Context, delivery: str) -> None:
    text = json.dumps(context.document, ensure_ascii=False, indent=1)
    reader: Any
    if delivery == "from a file that hands out 7 bytes per read":
        reader = Trickle(text.encode("utf-8"), 7)
    elif delivery == "from a text file":
        reader = io.StringIO(text)
    else:
        assert delivery == "from a text file that hands out 5 characters per read", delivery
        reader = TextTrickle(text, 5)
    context.streamed = context.service.import_session_from_file(reader)


@then("the streamed import holds the same {count:d} messages as the document")
def then_streamed_same(context: Context, count: int) -> None:
    stored = context.service.get_messages(context.streamed.id)
    expected = context.document["messages"]
    assert len(stored) == len(expected) == count
    for message, raw in zip(stored, expected, strict=True):
        assert (message.sequence, message.role, message.content, message.metadata) == (
            raw["sequence"],
            raw["role"],
            raw["content"],
            raw["metadata"],
        )
    assert context.streamed.title == context.document["session"]["title"]


@given('a session for actor "{actor}" whose {count:d} messages hold {size:d} KiB each')
def given_verbose_session(context: Context, actor: str, count: int, size: int) -> None:
    session = context.service.create(actor)
    context.service.append_messages(
        session.id,
        [
            {"role": "tool", "content": f"{index:04d} " + "é😀x" * (size * 1024 // 8)}
            for index in range(count)
        ],
    )
    context.verbose = context.service.get(session.id)


@when("I export that session to a binary file and stream it back in")
def when_verbose_round_trip(context: Context) -> None:
    buffer = io.BytesIO()
    context.service.export_session_to_file(context.verbose.id, buffer)
    context.written_size = len(buffer.getvalue())
    buffer.seek(0)
    context.verbose_copy = context.service.import_session_from_file(buffer)


@then("the copy holds the same {count:d} messages, byte for byte")
def then_verbose_same(context: Context, count: int) -> None:
    assert context.written_size > 4 * 64 * 1024, context.written_size
    original = context.service.get_messages(context.verbose.id)
    copy = context.service.get_messages(context.verbose_copy.id)
    assert len(original) == len(copy) == count
    assert [m.content for m in original] == [m.content for m in copy]
