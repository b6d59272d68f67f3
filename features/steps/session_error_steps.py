"""Steps for the error features: bad input is refused with a specific error and writes nothing.

Values in these steps are written as Python literals (``"a" * 256``, ``-1``, ``True``,
``None``, ``{"k": float("nan")}``, ``object()``), so a scenario can hand the service exactly the
wrong thing it means to test. Document edits address a field by a path such as
``session.actor_name`` or ``messages[1].sequence``.

The checks reuse the session persistence steps: ``the call fails with ... mentioning ...``
reads ``context.error``, ``the database is unchanged`` compares ``context.fingerprint`` and
``the original session is unchanged`` compares ``context.session`` and
``context.original_messages``. Behave loads this file before those steps, so every pattern
here starts with words no existing step uses ("I try to", "I set the document's", ...).
"""

from __future__ import annotations

import ast
import copy
import hashlib
import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error

from cleveragents.application.services import PersistentSessionService
from cleveragents.application.services.export_document import ImportLimits, in_mib
from cleveragents.domain import Session, SessionMessage

PLACEHOLDER = "\u2063placeholder\u2063"
PATH_PART = re.compile(r"(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?:\[(?P<index>\d+)\])?")


# --- Helpers ----------------------------------------------------------------------------


def python_value(text: str) -> Any:
    """Evaluate the small Python subset the features use for values; nothing else runs."""
    return _evaluate(ast.parse(text.strip(), mode="eval").body)


BINARY_OPERATORS: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Pow: lambda a, b: a**b,
}


def _evaluate(node: ast.expr) -> Any:  # noqa: PLR0911 - one return per accepted form
    match node:
        case ast.Constant(value=value):
            return value
        case ast.List(elts=items):
            return [_evaluate(item) for item in items]
        case ast.Tuple(elts=items):
            return tuple(_evaluate(item) for item in items)
        case ast.Set(elts=items):
            return {_evaluate(item) for item in items}
        case ast.Dict(keys=keys, values=values) if None not in keys:
            return {_evaluate(k): _evaluate(v) for k, v in zip(keys, values, strict=True)}
        case ast.UnaryOp(op=ast.USub(), operand=operand):
            return -_evaluate(operand)
        case ast.BinOp(left=left, op=op, right=right) if type(op) in BINARY_OPERATORS:
            return BINARY_OPERATORS[type(op)](_evaluate(left), _evaluate(right))
        case ast.Call(func=ast.Name(id="object"), args=[], keywords=[]):
            return object()
        case ast.Call(func=ast.Name(id="float"), args=[ast.Constant(value=str(name))], keywords=[]):
            return float(name)
    raise ValueError(f"unsupported value in feature text: {ast.unparse(node)}")


def locate(document: Any, path: str) -> tuple[Any, str | int]:
    """The container holding the last part of ``path``, and that part's key or index."""
    parts: list[str | int] = []
    for piece in path.split("."):
        match = PATH_PART.fullmatch(piece)
        assert match, f"bad document path {path!r}"
        parts.append(match["key"])
        if match["index"] is not None:
            parts.append(int(match["index"]))
    container = document
    for part in parts[:-1]:
        container = container[part]
    return container, parts[-1]


def checksum_of(document: dict[str, Any]) -> str:
    """The checksum as the export format defines it, computed independently of the library."""
    payload = {k: v for k, v in document.items() if k not in ("exported_at", "checksum")}
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def json_text(document: Any) -> str:
    """The document as JSON text, non-ASCII characters kept as they are."""
    return json.dumps(document, ensure_ascii=False)


def text_with_raw_value(context: Context, path: str, raw: str) -> str:
    """The document's JSON text with the value at ``path`` replaced by ``raw`` verbatim."""
    document = copy.deepcopy(context.document)
    container, key = locate(document, path)
    container[key] = PLACEHOLDER
    text = json_text(document)
    assert text.count(json.dumps(PLACEHOLDER, ensure_ascii=False)) == 1, text
    return text.replace(json.dumps(PLACEHOLDER, ensure_ascii=False), raw)


def importer(context: Context) -> PersistentSessionService:
    return getattr(context, "importer", None) or context.service


def try_import(context: Context, document: Any) -> None:
    capture_library_error(context, lambda: importer(context).import_session(document))


def limited_importer(context: Context, limits: ImportLimits) -> None:
    context.importer = PersistentSessionService.from_url(context.database_url, import_limits=limits)
    context.add_cleanup(context.importer.close)


# --- Given ------------------------------------------------------------------------------


@given("a stored session with a title, metadata and {count:d} messages, exported as a document")
def given_exported_session(context: Context, count: int) -> None:
    service = context.service
    session = service.create(
        "exporter",
        title="Checked export",
        metadata={"project": "atlas", "tags": ["a", "ü"], "depth": {"n": [1, 2.5, None, True]}},
    )
    roles = ("system", "user", "assistant")
    for index in range(count):
        service.append_message(
            session.id,
            roles[index % len(roles)],
            f"message {index}: héllo 🙂",
            metadata={"index": index},
            token_count=10 + index,
        )
    service.update_token_usage(session.id, input_tokens=120, output_tokens=45)
    context.session = service.get(session.id)
    context.original_messages = service.get_messages(session.id)
    context.document = service.export_session(session.id)
    context.fingerprint = context.database_fingerprint()


@given("an importer whose size limit is one byte below the document's UTF-8 size")
def given_importer_below_size(context: Context) -> None:
    size = len(json_text(context.document).encode("utf-8"))
    limited_importer(context, ImportLimits(max_document_bytes=size - 1))


@given("an importer whose size limit is exactly the document's UTF-8 size")
def given_importer_at_size(context: Context) -> None:
    size = len(json_text(context.document).encode("utf-8"))
    limited_importer(context, ImportLimits(max_document_bytes=size))


@given("an importer whose size limit is the document's length in characters, below its UTF-8 size")
def given_importer_at_characters(context: Context) -> None:
    text = json_text(context.document)
    assert len(text) < len(text.encode("utf-8")), "the document is all ASCII"
    limited_importer(context, ImportLimits(max_document_bytes=len(text)))


@given("an importer that accepts at most {count:d} messages per document")
def given_importer_few_messages(context: Context, count: int) -> None:
    limited_importer(context, ImportLimits(max_messages=count))


# --- When: session calls ----------------------------------------------------------------

SESSION_ID_CALLS: dict[str, Callable[[PersistentSessionService, Any], Any]] = {
    "read": lambda service, session_id: service.get(session_id),
    "delete": lambda service, session_id: service.delete(session_id),
    "append a message to": lambda service, session_id: service.append_message(
        session_id, "user", "hello"
    ),
    "add token usage to": lambda service, session_id: service.update_token_usage(
        session_id, input_tokens=1, output_tokens=1
    ),
    "export": lambda service, session_id: service.export_session(session_id),
    "read the messages of": lambda service, session_id: service.get_messages(session_id),
}


@when("I try to create a session with actor_name {value}")
def when_try_create_actor(context: Context, value: str) -> None:
    context.value = python_value(value)
    capture_library_error(context, lambda: context.service.create(context.value))


@when("I try to create a session with title {value}")
def when_try_create_title(context: Context, value: str) -> None:
    capture_library_error(
        context, lambda: context.service.create("writer", title=python_value(value))
    )


@when("I try to create a session with metadata {value}")
def when_try_create_metadata(context: Context, value: str) -> None:
    capture_library_error(
        context, lambda: context.service.create("writer", metadata=python_value(value))
    )


@when("I try to append a message with {field:w} {value}")
def when_try_append(context: Context, field: str, value: str) -> None:
    arguments: dict[str, Any] = {"role": "user", "content": "hello"}
    assert field in ("role", "content", "metadata", "token_count"), field
    arguments[field] = python_value(value)
    role, content = arguments.pop("role"), arguments.pop("content")
    capture_library_error(
        context,
        lambda: context.service.append_message(context.session.id, role, content, **arguments),
    )


@when("I try to add token usage with {field:w} {value}")
def when_try_add_usage(context: Context, field: str, value: str) -> None:
    assert field in ("input_tokens", "output_tokens"), field
    arguments = {field: python_value(value)}
    capture_library_error(
        context, lambda: context.service.update_token_usage(context.session.id, **arguments)
    )


@when("I try to list sessions with {field:w} {value}")
def when_try_list(context: Context, field: str, value: str) -> None:
    assert field in ("limit", "offset", "actor_name"), field
    arguments = {field: python_value(value)}
    capture_library_error(context, lambda: context.service.list(**arguments))


@when("I try to read the messages with {field:w} {value}")
def when_try_read_messages(context: Context, field: str, value: str) -> None:
    assert field in ("limit", "offset"), field
    arguments = {field: python_value(value)}
    capture_library_error(
        context, lambda: context.service.get_messages(context.session.id, **arguments)
    )


@when("I try to {operation} session id {value}")
def when_try_session_id(context: Context, operation: str, value: str) -> None:
    assert operation in SESSION_ID_CALLS, f"{operation!r} is none of {sorted(SESSION_ID_CALLS)}"
    session_id = python_value(value)
    capture_library_error(context, lambda: SESSION_ID_CALLS[operation](context.service, session_id))


# --- When: document edits ---------------------------------------------------------------


@when("I set the document's {path} to lists nested {depth:d} levels deep")
def when_set_deep(context: Context, path: str, depth: int) -> None:
    nested: list[Any] = []
    for _ in range(depth - 1):
        nested = [nested]
    container, key = locate(context.document, path)
    container[key] = nested


@when("I set the document's {path} to {value}")
def when_set_field(context: Context, path: str, value: str) -> None:
    container, key = locate(context.document, path)
    container[key] = python_value(value)


@when("I remove the document's {path}")
def when_remove_field(context: Context, path: str) -> None:
    container, key = locate(context.document, path)
    del container[key]


@when("I swap the document's messages {first:d} and {second:d}")
def when_swap_messages(context: Context, first: int, second: int) -> None:
    messages = context.document["messages"]
    messages[first], messages[second] = messages[second], messages[first]


@when("I change the last character of the document's {path}")
def when_flip_character(context: Context, path: str) -> None:
    container, key = locate(context.document, path)
    text: str = container[key]
    container[key] = text[:-1] + ("X" if text[-1] != "X" else "Y")


@when("I write the document's checksum in uppercase")
def when_uppercase_checksum(context: Context) -> None:
    context.document["checksum"] = context.document["checksum"].upper()


@when("I recompute the document's checksum")
def when_recompute_checksum(context: Context) -> None:
    context.document["checksum"] = checksum_of(context.document)


# --- When: imports ----------------------------------------------------------------------


@when("I try to import the document as UTF-8 bytes with the bytes {hex_bytes} inside {path}")
def when_import_bad_bytes(context: Context, hex_bytes: str, path: str) -> None:
    text = text_with_raw_value(context, path, '"before' + PLACEHOLDER + 'after"')
    raw = text.encode("utf-8").replace(PLACEHOLDER.encode("utf-8"), bytes.fromhex(hex_bytes))
    try_import(context, raw)


@when("I try to import the document as UTF-8 bytes")
def when_import_bytes(context: Context) -> None:
    try_import(context, json_text(context.document).encode("utf-8"))


@when("I try to import the document as a binary file")
def when_import_binary_file(context: Context) -> None:
    try_import(context, io.BytesIO(json_text(context.document).encode("utf-8")))


class OneByteAtATime:
    """A binary file that gives at most one byte a read, as a slow pipe may: every value
    ends where the data read so far ends."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def read(self, size: int = -1, /) -> bytes:
        piece = self._data[self._position : self._position + 1]
        self._position += len(piece)
        return piece


@when("I try to import the document as a binary file that gives one byte a read")
def when_import_trickle(context: Context) -> None:
    try_import(context, OneByteAtATime(json_text(context.document).encode("utf-8")))


@when("I try to import the document as a file on disk")
def when_import_disk_file(context: Context) -> None:
    path = Path(context.work_directory) / "import-validation-document.json"
    path.write_bytes(json_text(context.document).encode("utf-8"))
    with path.open("rb") as file:
        try_import(context, file)


@when("I try to import the document as a file on disk read from where the document starts")
def when_import_after_preamble(context: Context) -> None:
    preamble = b"# exported by a nightly job\n"
    path = Path(context.work_directory) / "import-validation-document.json"
    path.write_bytes(preamble + json_text(context.document).encode("utf-8"))
    with path.open("rb") as file:
        file.seek(len(preamble))
        try_import(context, file)


@when("I try to import the document with a second, empty messages field at its end as {form}")
def when_import_second_messages(context: Context, form: str) -> None:
    text = json_text(context.document)
    assert text.endswith("}"), text[-20:]
    doubled = text[:-1] + ', "messages": []}'
    try_import(context, doubled if form == "JSON text" else io.BytesIO(doubled.encode("utf-8")))


class NoPosition:
    """A file on disk whose position cannot be asked, as with some wrapped streams."""

    def __init__(self, file: BinaryIO) -> None:
        self._file = file

    def fileno(self) -> int:
        return self._file.fileno()

    def tell(self) -> int:
        raise OSError("this stream does not report its position")

    def read(self, size: int = -1, /) -> bytes:
        return self._file.read(size)


@when("I try to import the document as a file on disk that cannot tell its place")
def when_import_without_position(context: Context) -> None:
    path = Path(context.work_directory) / "import-validation-document.json"
    path.write_bytes(json_text(context.document).encode("utf-8"))
    with path.open("rb") as file:
        try_import(context, NoPosition(file))


@when("I try to import the document as a binary file with its messages first")
def when_import_messages_first(context: Context) -> None:
    document = {"messages": context.document["messages"], **context.document}
    try_import(context, io.BytesIO(json_text(document).encode("utf-8")))


@when("I try to import the document as JSON text")
def when_import_text(context: Context) -> None:
    try_import(context, json_text(context.document))


@when("I try to import the document as a dict")
@when("I try to import the document")
def when_import_dict(context: Context) -> None:
    try_import(context, context.document)


@when("I try to import the document's JSON text cut after {length:d} characters")
def when_import_truncated(context: Context, length: int) -> None:
    text = json_text(context.document)
    assert length < len(text), f"the text is only {len(text)} characters"
    try_import(context, text[:length])


@when("I try to import the document's JSON text with {path} written as a {digits:d}-digit number")
def when_import_huge_number(context: Context, path: str, digits: int) -> None:
    try_import(context, text_with_raw_value(context, path, "9" * digits))


@when("I try to import the document's JSON text with {path} nested {depth:d} levels deep")
def when_import_deep_value(context: Context, path: str, depth: int) -> None:
    try_import(context, text_with_raw_value(context, path, "[" * depth + "]" * depth))


@when("I try to import the document's JSON text with {path} written as {raw}")
def when_import_raw_value(context: Context, path: str, raw: str) -> None:
    try_import(context, text_with_raw_value(context, path, raw))


@when("I try to import the document's JSON text with {path} written twice")
def when_import_duplicate_key(context: Context, path: str) -> None:
    container, key = locate(context.document, path)
    pair = f"{json.dumps(key)}: {json_text(container[key])}"
    text = text_with_raw_value(context, path, json_text(container[key]) + ", " + pair)
    try_import(context, text)


@when("I try to import the raw JSON text of {depth:d} opening brackets")
def when_import_brackets(context: Context, depth: int) -> None:
    try_import(context, "[" * depth)


@when("I try to import the raw JSON text {raw}")
def when_import_raw_text(context: Context, raw: str) -> None:
    try_import(context, raw)


@when("I try to import the Python value {value}")
def when_import_python_value(context: Context, value: str) -> None:
    try_import(context, python_value(value))


# --- Then -------------------------------------------------------------------------------


@then("the call succeeds")
def then_succeeds(context: Context) -> None:
    error = context.error
    assert error is None, f"the call failed with {type(error).__name__}: {error}"


@then("the call returns an empty list")
def then_empty_list(context: Context) -> None:
    then_succeeds(context)
    assert context.result == [], f"the call returned {context.result!r}"


@then("the result reads back the same from the database")
def then_result_stored(context: Context) -> None:
    result = context.result
    if isinstance(result, Session):
        stored = context.service.get(result.id)
        assert stored == result, f"stored {stored}, returned {result}"
    else:
        assert isinstance(result, SessionMessage), f"unexpected result {result!r}"
        stored_messages = context.service.get_messages(result.session_id)
        assert result in stored_messages, f"{result} not among {stored_messages}"


@then("the created session's actor_name is the {length:d} characters given")
def then_actor_length(context: Context, length: int) -> None:
    actor = context.result.actor_name
    assert actor == context.value and len(actor) == length, f"actor_name of {len(actor)}"


@then("the mismatch error gives the document's checksum and the hash of its payload")
def then_mismatch_details(context: Context) -> None:
    error = raised_error(context)
    expected, actual = context.document["checksum"], checksum_of(context.document)
    seen = (getattr(error, "expected", None), getattr(error, "actual", None))
    assert seen == (expected, actual), f"error reports {seen}, want {(expected, actual)}"
    assert expected in str(error) and actual in str(error), str(error)


@then("the error gives the document's UTF-8 size and a limit one byte below it")
def then_size_details(context: Context) -> None:
    size = len(json_text(context.document).encode("utf-8"))
    wanted = f"export document is {size} bytes ({in_mib(size)}); the limit is {in_mib(size - 1)}"
    message = str(raised_error(context))
    assert message == wanted, f"message {message!r}, want {wanted!r}"


@then("the import gives a new session with {count:d} messages")
def then_imported(context: Context, count: int) -> None:
    then_succeeds(context)
    imported = context.result
    assert imported.id != context.session.id, imported
    assert imported.message_count == count, imported
    messages = context.service.get_messages(imported.id)
    assert [m.sequence for m in messages] == list(range(count)), messages


@then("the imported messages' metadata are {first}, {second} and {third}")
def then_imported_metadata(context: Context, first: str, second: str, third: str) -> None:
    then_succeeds(context)
    stored = [message.metadata for message in context.service.get_messages(context.result.id)]
    wanted = [ast.literal_eval(value) for value in (first, second, third)]
    assert stored == wanted, stored
