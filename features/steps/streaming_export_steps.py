"""Steps for streaming export documents to and from file objects."""

from __future__ import annotations

import io
import json

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error


def new_file(mode: str) -> io.IOBase:
    return io.BytesIO() if mode == "binary" else io.StringIO()


def file_bytes(context: Context) -> bytes:
    value = context.stream_file.getvalue()
    return value if isinstance(value, bytes) else value.encode("utf-8")


def reopen(context: Context) -> io.BytesIO:
    return io.BytesIO(file_bytes(context))


@when("I export the session to a {mode} file")
def when_export_to_file(context: Context, mode: str) -> None:
    context.stream_file = new_file(mode)
    context.returned_checksum = context.service.export_session_to_file(
        context.session.id, context.stream_file
    )


@when('I export the session to a binary file signed with key "{key}"')
def when_export_signed(context: Context, key: str) -> None:
    context.stream_file = io.BytesIO()
    context.service.export_session_to_file(
        context.session.id, context.stream_file, signing_key=key.encode()
    )


@given('an empty session for actor "{actor}" exported to a binary file')
def given_empty_export(context: Context, actor: str) -> None:
    session = context.service.create(actor)
    context.stream_file = io.BytesIO()
    context.service.export_session_to_file(session.id, context.stream_file)


@when("I write the dict document to a file with its messages first")
def when_reordered(context: Context) -> None:
    document = {"messages": context.document["messages"]}
    document.update({k: v for k, v in context.document.items() if k != "messages"})
    context.stream_file = io.BytesIO(json.dumps(document).encode("utf-8"))


@when(
    "I write the dict document to a file with its messages first and a lone surrogate in "
    "message {index:d}"
)
def when_reordered_broken(context: Context, index: int) -> None:
    document = {"messages": context.document["messages"]}
    document.update({k: v for k, v in context.document.items() if k != "messages"})
    text = json.dumps(document)  # ASCII, so the surrogate can be written as an escape
    original = json.dumps(context.document["messages"][index]["content"])
    text = text.replace(original, '"\\ud800"', 1)
    context.stream_file = io.BytesIO(text.encode("ascii"))


@when("I import that file as a stream")
def when_import_stream(context: Context) -> None:
    context.imported = context.service.import_session_from_file(reopen(context))


@when('I import that file as a stream with key "{key}"')
def when_import_stream_key(context: Context, key: str) -> None:
    context.imported = context.service.import_session_from_file(
        reopen(context), signing_key=key.encode()
    )


@when('I try to import that file as a stream with key "{key}"')
def when_try_import_key(context: Context, key: str) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(
        context,
        lambda: context.service.import_session_from_file(reopen(context), signing_key=key.encode()),
    )


@when("I try to import that file as a stream")
def when_try_import(context: Context) -> None:
    capture_library_error(
        context, lambda: context.service.import_session_from_file(reopen(context))
    )


@when("I try to import that file as a stream with the limited importer")
def when_try_import_limited(context: Context) -> None:
    capture_library_error(
        context, lambda: context.importer.import_session_from_file(reopen(context))
    )


@when("I import the dict document the usual way")
def when_import_dict(context: Context) -> None:
    context.dict_imported = context.service.import_session(context.document)


@when("I hand the open file to import_session")
def when_import_open_file(context: Context) -> None:
    context.imported = context.service.import_session(reopen(context))


@when("I damage the file: {fault}")
def when_damage(context: Context, fault: str) -> None:
    data = file_bytes(context)
    text = data.decode("utf-8")
    lines = text.split("\n")  # header, one line per message, trailer
    if fault == "the content of message 120 is changed":
        lines[121] = lines[121].replace("message 120", "message 12O")
        data = "\n".join(lines).encode("utf-8")
    elif fault == "it is cut off inside message 100":
        data = "\n".join(lines[:101]).encode("utf-8") + lines[101][:40].encode("utf-8")
    elif fault == "it is cut off after the last message":
        data = "\n".join(lines[:151]).encode("utf-8")
    elif fault == "message 140 loses its role":
        lines[141] = lines[141].replace('"role":"user",', "").replace('"role":"assistant",', "")
        lines[141] = lines[141].replace('"role":"system",', "")
        data = "\n".join(lines).encode("utf-8")
    elif fault == "message 70 has sequence 71":
        lines[71] = lines[71].replace('"sequence":70', '"sequence":71')
        data = "\n".join(lines).encode("utf-8")
    elif fault == "the session declares 151 messages":
        data = text.replace('"message_count":150', '"message_count":151', 1).encode("utf-8")
    elif fault == "schema_version is 2":
        data = text.replace('"schema_version":1', '"schema_version":2', 1).encode("utf-8")
    elif fault == "a second checksum key follows":
        data = text.rstrip().rstrip("}").encode("utf-8") + b',"checksum":"00"}'
    elif fault == "text follows the document":
        data += b'{"again": true}'
    elif fault == "message 30's metadata has a lone surrogate":
        lines[31] = lines[31].replace('"metadata":{"index":30}', '"metadata":{"index":"\\ud800"}')
        data = "\n".join(lines).encode("utf-8")
    elif fault == "it is not UTF-8":
        data = data.replace("héllo".encode(), b"h\xe9llo", 1)
    else:
        assert fault == "messages is an object", fault
        start = text.index('"messages":[') + len('"messages":')
        end = text.index('],"checksum"') + 1
        data = (text[:start] + '{"a": 1}' + text[end:]).encode("utf-8")
    context.stream_file = io.BytesIO(data)


@when('I try to export the session "{session_id}" to a binary file')
def when_export_unknown(context: Context, session_id: str) -> None:
    context.stream_file = io.BytesIO()
    capture_library_error(
        context, lambda: context.service.export_session_to_file(session_id, context.stream_file)
    )


@then("the file parses to the dict document apart from exported_at")
def then_file_is_document(context: Context) -> None:
    written = json.loads(file_bytes(context))
    expected = dict(context.document)
    assert set(written) == set(expected), sorted(written)
    written.pop("exported_at")
    expected.pop("exported_at")
    assert written == expected


@then("the returned checksum is the dict document's checksum")
def then_same_checksum(context: Context) -> None:
    assert context.returned_checksum == context.document["checksum"]


@then("the two imported sessions hold the same fields and the same {count:d} messages")
def then_same_imports(context: Context, count: int) -> None:
    streamed, plain = context.imported, context.dict_imported
    assert streamed.id != plain.id
    fields = ("actor_name", "title", "metadata", "message_count", "input_tokens", "output_tokens")
    for name in (*fields, "created_at", "updated_at"):
        assert getattr(streamed, name) == getattr(plain, name), name
    assert context.service.get(streamed.id) == streamed
    left = context.service.get_messages(streamed.id)
    right = context.service.get_messages(plain.id)
    assert len(left) == len(right) == count
    for a, b in zip(left, right, strict=True):
        assert (a.sequence, a.role, a.content, a.metadata, a.token_count, a.created_at) == (
            b.sequence,
            b.role,
            b.content,
            b.metadata,
            b.token_count,
            b.created_at,
        )
        assert a.session_id == streamed.id and a.id != b.id


@then("the file is still empty")
def then_file_empty(context: Context) -> None:
    assert context.stream_file.getvalue() == b""
