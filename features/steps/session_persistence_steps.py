"""Steps for the session persistence feature: words translated into public API calls.

SQL appears only where a scenario checks what is really stored (orphans, ORM round trip).
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import selectinload

from cleveragents.domain import Session, SessionMessage
from cleveragents.infrastructure.database import SessionMessageModel, SessionModel

ULID_PATTERN = re.compile(r"[0-9A-HJKMNP-TV-Z]{26}")


def unescape(text: str) -> str:
    """Turn ``\\uXXXX`` in feature text into the character, leaving other text alone."""
    return re.sub(r"\\u([0-9a-fA-F]{4})", lambda match: chr(int(match.group(1), 16)), text)


def quoted(text: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text)


def numbers(text: str) -> list[int]:
    return [int(value) for value in re.findall(r"\d+", text)]


def fill_session(context: Context, actor: str, count: int) -> Session:
    session = context.service.create(actor)
    roles = ("user", "assistant", "tool", "system")
    for index in range(count):
        context.service.append_message(
            session.id, roles[index % 4], f"message {index} of {actor}", token_count=index
        )
    return context.service.get(session.id)


def stored_message_count(context: Context, session_id: str) -> int:
    with context.inspection_engine.connect() as connection:
        statement = select(func.count()).where(SessionMessageModel.session_id == session_id)
        return int(connection.execute(statement).scalar_one())


# --- Given ------------------------------------------------------------------------------


@given('a session for actor "{actor}" with {count:d} messages and token usage {i:d} in, {o:d} out')
def given_session_with_usage(context: Context, actor: str, count: int, i: int, o: int) -> None:
    session = fill_session(context, actor, count)
    context.session = context.service.update_token_usage(
        session.id, input_tokens=i, output_tokens=o
    )


@given('a session for actor "{actor}" with token usage {i:d} in, {o:d} out')
def given_session_usage_only(context: Context, actor: str, i: int, o: int) -> None:
    given_session_with_usage(context, actor, 0, i, o)


@given('a session for actor "{actor}" with {count:d} messages')
def given_session_with_messages(context: Context, actor: str, count: int) -> None:
    context.session = fill_session(context, actor, count)
    context.sessions = [context.session]
    context.fingerprint = context.database_fingerprint()


@given('a session for actor "{actor}"')
def given_session(context: Context, actor: str) -> None:
    context.session = context.service.create(actor)
    context.fingerprint = context.database_fingerprint()


@given('another session for actor "{actor}" with {count:d} messages')
def given_another_session(context: Context, actor: str, count: int) -> None:
    context.other_session = fill_session(context, actor, count)


@given("sessions were created for actors {actors} in that order")
def given_sessions_in_order(context: Context, actors: str) -> None:
    context.sessions = [context.service.create(actor) for actor in quoted(actors)]


@given('{count:d} sessions for actor "{actor}" share one creation time')
def given_twin_sessions(context: Context, count: int, actor: str) -> None:
    document = context.service.export_session(context.service.create(actor).id)
    context.service.delete(document["session"]["id"])
    context.sessions = [context.service.import_session(document) for _ in range(count)]


@given('{count:d} sessions for actor "{actor}" under the ids "{prefix}1" upward')
def given_sessions_with_ids(context: Context, count: int, actor: str, prefix: str) -> None:
    context.sessions = [
        context.service.create(actor, session_id=f"{prefix}{number}")
        for number in range(1, count + 1)
    ]


@given('{count:d} sessions for actor "{actor}"')
def given_many_sessions(context: Context, count: int, actor: str) -> None:
    context.sessions = [context.service.create(actor) for _ in range(count)]


# --- When -------------------------------------------------------------------------------


@when('I create a session for actor "{actor}" titled "{title}" with metadata:')
def when_create_with_metadata(context: Context, actor: str, title: str) -> None:
    context.metadata = json.loads(context.text)
    context.session = context.service.create(actor, title=title, metadata=context.metadata)


@when('I create a session for actor "{actor}"')
def when_create(context: Context, actor: str) -> None:
    context.session = context.service.create(actor)


@when('I create {count:d} sessions for actor "{actor}"')
def when_create_many(context: Context, count: int, actor: str) -> None:
    context.sessions = [context.service.create(actor) for _ in range(count)]


@when('I list sessions of actor "{actor}"')
def when_list_actor(context: Context, actor: str) -> None:
    context.listed = context.service.list(actor_name=actor)


@when("I list sessions in pages of {size:d}")
def when_list_pages(context: Context, size: int) -> None:
    context.pages = []
    offset = 0
    while page := context.service.list(limit=size, offset=offset):
        context.pages.append(page)
        offset += size


@when("I list sessions")
def when_list(context: Context) -> None:
    context.listed = context.service.list()


@when("I delete that session")
@when("I delete the first session")
def when_delete_session(context: Context) -> None:
    context.deleted = context.service.delete(context.session.id)


@when('I delete the session "{session_id}"')
def when_delete_unknown(context: Context, session_id: str) -> None:
    context.deleted = context.service.delete(session_id)


@when("I append these messages:")
def when_append_table(context: Context) -> None:
    context.rows = [(row["role"], row["content"]) for row in context.table]
    context.appended = [
        context.service.append_message(context.session.id, role, content)
        for role, content in context.rows
    ]


@when('I append a "{role}" message "{content}" to session "{session_id}"')
def when_append_unknown(context: Context, role: str, content: str, session_id: str) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(
        context, lambda: context.service.append_message(session_id, role, content)
    )


@when(
    'I append a "{role}" message with content "{content}" metadata {metadata} and {tokens:d} tokens'
)
def when_append_full(context: Context, role: str, content: str, metadata: str, tokens: int) -> None:
    context.content = unescape(content)
    context.metadata = json.loads(metadata)
    context.message = context.service.append_message(
        context.session.id, role, context.content, metadata=context.metadata, token_count=tokens
    )


@when('I append a "{role}" message "{content}"')
def when_append_one(context: Context, role: str, content: str) -> None:
    context.message = context.service.append_message(context.session.id, role, content)


@when("I read messages with limit {limit:d} and offset {offset:d}")
def when_read_page(context: Context, limit: int, offset: int) -> None:
    context.messages = context.service.get_messages(context.session.id, limit=limit, offset=offset)


@when("I export the session")
def when_export(context: Context) -> None:
    context.document = context.service.export_session(context.session.id)


@when("I export the session twice")
def when_export_twice(context: Context) -> None:
    context.documents = [context.service.export_session(context.session.id) for _ in range(2)]


@when("I export the session and import the document as JSON text")
def when_round_trip_text(context: Context) -> None:
    context.before = context.database_fingerprint()
    context.document = context.service.export_session(context.session.id)
    context.original_messages = context.service.get_messages(context.session.id)
    context.imported = context.service.import_session(json.dumps(context.document))


@when("I export the session and import the document as bytes")
def when_round_trip_bytes(context: Context) -> None:
    document = context.service.export_session(context.session.id)
    context.imported = context.service.import_session(json.dumps(document).encode("utf-8"))


@when("I export the session and import the document twice")
def when_import_twice(context: Context) -> None:
    document = context.service.export_session(context.session.id)
    context.imports = [context.service.import_session(document) for _ in range(2)]


@when('I add token usage {i:d} in, {o:d} out to session "{session_id}"')
def when_add_usage_unknown(context: Context, i: int, o: int, session_id: str) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(
        context,
        lambda: context.service.update_token_usage(session_id, input_tokens=i, output_tokens=o),
    )


@when("I try to add token usage {i:d} in, {o:d} out")
def when_try_add_usage(context: Context, i: int, o: int) -> None:
    context.fingerprint = context.database_fingerprint()
    session_id = context.session.id
    capture_library_error(
        context,
        lambda: context.service.update_token_usage(session_id, input_tokens=i, output_tokens=o),
    )


@when("I add token usage {i:d} in, {o:d} out")
def when_add_usage(context: Context, i: int, o: int) -> None:
    context.session = context.service.update_token_usage(
        context.session.id, input_tokens=i, output_tokens=o
    )


@when("I load the session through SessionModel")
def when_load_model(context: Context) -> None:
    with OrmSession(context.inspection_engine) as orm:
        statement = (
            select(SessionModel)
            .where(SessionModel.id == context.session.id)
            .options(selectinload(SessionModel.messages))
        )
        context.model = orm.scalars(statement).one()
        orm.expunge_all()


@when("I add a SessionModel with {count:d} SessionMessageModels through an ORM session")
def when_add_models(context: Context, count: int) -> None:
    now = datetime.now(UTC)
    model = SessionModel(
        id="01HZZZZZZZZZZZZZZZZZZZZZZZ",
        actor_name="orm-writer",
        title="written by the ORM",
        metadata_={"source": "orm"},
        message_count=count,
        input_tokens=3,
        output_tokens=4,
        created_at=now,
        updated_at=now,
        messages=[
            SessionMessageModel(
                id=f"01HZZZZZZZZZZZZZZZZZZZZZ{index:02d}",
                sequence=index,
                role="user",
                content=f"orm message {index}",
                metadata_={},
                token_count=None,
                created_at=now,
            )
            for index in range(count)
        ],
    )
    context.model_id = model.id
    with OrmSession(context.inspection_engine) as orm, orm.begin():
        orm.add(model)
    context.model_count = count


# --- Then -------------------------------------------------------------------------------


@then("the session has a 26-character ULID id")
def then_ulid(context: Context) -> None:
    assert ULID_PATTERN.fullmatch(context.session.id), f"not a ULID: {context.session.id!r}"


@then('the session has actor "{actor}", {count:d} messages and {tokens:d} total tokens')
def then_session_counts(context: Context, actor: str, count: int, tokens: int) -> None:
    session = context.session
    seen = (session.actor_name, session.message_count, session.total_tokens)
    assert seen == (actor, count, tokens), f"saw {seen}"


@then("the session's created_at and updated_at are equal UTC timestamps")
def then_timestamps(context: Context) -> None:
    session = context.session
    assert session.created_at.utcoffset() is not None, session.created_at
    assert session.created_at.utcoffset().total_seconds() == 0, session.created_at
    assert session.created_at == session.updated_at, (session.created_at, session.updated_at)


@then("reading the session back gives the same session")
def then_read_back(context: Context) -> None:
    stored = context.service.get(context.session.id)
    assert stored == context.session, f"stored {stored} != created {context.session}"


@then('reading the session back gives title "{title}" and that metadata')
def then_title_metadata(context: Context, title: str) -> None:
    stored = context.service.get(context.session.id)
    assert stored.title == title, stored.title
    assert stored.metadata == context.metadata, stored.metadata


@then("the {count:d} sessions have {distinct:d} distinct ids")
def then_distinct_ids(context: Context, count: int, distinct: int) -> None:
    ids = {session.id for session in context.sessions}
    assert len(context.sessions) == count and len(ids) == distinct, ids


@then("the listed actors are {actors}")
def then_listed_actors(context: Context, actors: str) -> None:
    seen = [session.actor_name for session in context.listed]
    assert seen == quoted(actors), f"saw {seen}"


@then('{count:d} sessions are listed, all of actor "{actor}", newest first')
def then_listed_filtered(context: Context, count: int, actor: str) -> None:
    listed = context.listed
    assert len(listed) == count, f"listed {len(listed)}"
    assert {session.actor_name for session in listed} == {actor}
    expected = sorted(listed, key=lambda s: (s.created_at, s.id), reverse=True)
    assert listed == expected, "not newest first"


@then("the listed sessions are ordered by id, highest first")
def then_listed_by_id(context: Context) -> None:
    ids = [session.id for session in context.listed]
    assert len(ids) == len(context.sessions), ids
    assert len({s.created_at for s in context.listed}) == 1, "creation times differ"
    assert ids == sorted(ids, reverse=True), ids


@then("{count:d} sessions are listed")
def then_listed_count(context: Context, count: int) -> None:
    assert len(context.listed) == count, f"listed {len(context.listed)}"


@then("the deletion reports {answer}")
def then_deletion_answer(context: Context, answer: str) -> None:
    assert context.deleted is (answer == "true"), f"delete returned {context.deleted}"


@then("the session can no longer be read")
def then_session_gone(context: Context) -> None:
    assert context.service.get(context.session.id) is None
    assert context.service.get_messages(context.session.id) == []


@then("no message of that session remains in the database")
def then_no_orphans(context: Context) -> None:
    remaining = stored_message_count(context, context.session.id)
    assert remaining == 0, f"{remaining} orphaned messages"


@then("the database is unchanged")
def then_unchanged(context: Context) -> None:
    now = context.database_fingerprint()
    assert now == context.fingerprint, f"before {context.fingerprint}, after {now}"


@then("the second session still has {count:d} messages in order")
def then_other_intact(context: Context, count: int) -> None:
    messages = context.service.get_messages(context.other_session.id)
    assert [m.sequence for m in messages] == list(range(count)), messages
    assert context.service.get(context.other_session.id).message_count == count


@then("the messages have sequences {sequences}")
def then_sequences(context: Context, sequences: str) -> None:
    seen = [message.sequence for message in context.appended]
    assert seen == numbers(sequences), f"saw {seen}"


@then("reading the messages back gives the same roles and contents in order")
def then_same_messages(context: Context) -> None:
    stored = context.service.get_messages(context.session.id)
    assert stored == context.appended, f"stored {stored}"
    assert [(m.role, m.content) for m in stored] == context.rows


@then("the session has {count:d} messages")
def then_message_count(context: Context, count: int) -> None:
    session = context.service.get(context.session.id)
    assert session.message_count == count, session.message_count
    with context.inspection_engine.connect() as connection:
        stored = connection.execute(
            text("SELECT count(*) FROM session_messages WHERE session_id = :id"),
            {"id": session.id},
        ).scalar_one()
    assert stored == count, f"{stored} rows stored"


@then("the session's updated_at equals the message's created_at")
def then_activity(context: Context) -> None:
    context.session_now = context.service.get(context.session.id)
    assert context.session_now.updated_at == context.message.created_at


@then("the session's updated_at is later than its created_at")
def then_later(context: Context) -> None:
    assert context.session_now.updated_at > context.session_now.created_at


@then("reading the message back gives that content, metadata and {tokens:d} tokens")
def then_message_fields(context: Context, tokens: int) -> None:
    (stored,) = context.service.get_messages(context.session.id)
    assert stored.content == context.content, repr(stored.content)
    assert stored.content.encode("utf-8") == context.content.encode("utf-8")
    assert stored.metadata == context.metadata, stored.metadata
    assert stored.token_count == tokens, stored.token_count


@then('the call fails with {error_name} mentioning "{text}"')
def then_fails(context: Context, error_name: str, text: str) -> None:
    error = raised_error(context)
    assert type(error).__name__ == error_name, f"{type(error).__name__}: {error}"
    assert text in str(error), f"message {str(error)!r} lacks {text!r}"


@then("the pages hold {sizes}")
def then_page_sizes(context: Context, sizes: str) -> None:
    seen = [len(page) for page in context.pages]
    assert seen == numbers(sizes), f"saw {seen}"


@then("together the pages hold all {count:d} sessions exactly once, newest first")
def then_pages_cover(context: Context, count: int) -> None:
    flattened = [session for page in context.pages for session in page]
    ids = [session.id for session in flattened]
    assert len(ids) == count and set(ids) == {s.id for s in context.sessions}, ids
    assert flattened == sorted(flattened, key=lambda s: (s.created_at, s.id), reverse=True)


@then("I get the messages with sequences {sequences}")
def then_page_sequences(context: Context, sequences: str) -> None:
    seen = [message.sequence for message in context.messages]
    assert seen == numbers(sequences), f"saw {seen}"


@then("I get no messages")
def then_no_messages(context: Context) -> None:
    assert context.messages == [], context.messages


@then('the document has format "{name}" and schema_version {version:d}')
def then_document_header(context: Context, name: str, version: int) -> None:
    document = context.document
    assert document["format"] == name, document["format"]
    assert document["schema_version"] == version, document["schema_version"]
    assert datetime.fromisoformat(document["exported_at"]).utcoffset() is not None


@then("the document's session and messages match what is stored")
def then_document_matches(context: Context) -> None:
    document = context.document
    session = context.service.get(context.session.id)
    assert document["session"]["id"] == session.id
    assert document["session"]["actor_name"] == session.actor_name
    assert document["session"]["input_tokens"] == session.input_tokens
    assert document["session"]["output_tokens"] == session.output_tokens
    assert document["session"]["message_count"] == session.message_count
    messages = context.service.get_messages(session.id)
    assert [m["id"] for m in document["messages"]] == [m.id for m in messages]
    assert [m["sequence"] for m in document["messages"]] == list(range(len(messages)))
    assert [m["content"] for m in document["messages"]] == [m.content for m in messages]


@then("the document survives a JSON round trip unchanged")
def then_document_json(context: Context) -> None:
    assert json.loads(json.dumps(context.document)) == context.document


@then("the document's checksum is the SHA-256 of its canonical payload")
def then_checksum(context: Context) -> None:
    payload = {
        key: value
        for key, value in context.document.items()
        if key not in ("exported_at", "checksum")
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    expected = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    assert context.document["checksum"] == expected, (context.document["checksum"], expected)


@then("both documents have the same checksum")
def then_same_checksum(context: Context) -> None:
    first, second = context.documents
    assert first["checksum"] == second["checksum"], (first["checksum"], second["checksum"])


@then("the imported session has a new id and the same actor, title, metadata and tokens")
def then_imported_session(context: Context) -> None:
    original, imported = context.session, context.imported
    assert imported.id != original.id and ULID_PATTERN.fullmatch(imported.id)
    for field in ("actor_name", "title", "metadata", "input_tokens", "output_tokens"):
        assert getattr(imported, field) == getattr(original, field), field
    assert context.service.get(imported.id) == imported


@then(
    "the imported messages have new ids and the same sequences, roles, contents, metadata, "
    "token counts and timestamps"
)
def then_imported_messages(context: Context) -> None:
    imported: list[SessionMessage] = context.service.get_messages(context.imported.id)
    original: list[SessionMessage] = context.original_messages
    assert len(imported) == len(original), (len(imported), len(original))
    assert not {m.id for m in imported} & {m.id for m in original}, "message ids reused"
    for old, new in zip(original, imported, strict=True):
        assert new.session_id == context.imported.id
        for field in ("sequence", "role", "content", "metadata", "token_count", "created_at"):
            assert getattr(new, field) == getattr(old, field), (field, old, new)


@then("the original session is unchanged")
def then_original_unchanged(context: Context) -> None:
    assert context.service.get(context.session.id) == context.session
    assert context.service.get_messages(context.session.id) == context.original_messages


@then('there are {count:d} sessions of actor "{actor}" with {messages:d} messages each')
def then_import_copies(context: Context, count: int, actor: str, messages: int) -> None:
    sessions = context.service.list(actor_name=actor)
    assert len(sessions) == count, len(sessions)
    assert len({s.id for s in sessions}) == count
    for session in sessions:
        stored = context.service.get_messages(session.id)
        assert [m.sequence for m in stored] == list(range(messages)), stored


@then("the imported session has {count:d} messages")
def then_imported_count(context: Context, count: int) -> None:
    assert context.imported.message_count == count
    assert len(context.service.get_messages(context.imported.id)) == count


@then("the session has {i:d} input tokens, {o:d} output tokens and {total:d} total tokens")
def then_tokens(context: Context, i: int, o: int, total: int) -> None:
    for session in (context.session, context.service.get(context.session.id)):
        seen = (session.input_tokens, session.output_tokens, session.total_tokens)
        assert seen == (i, o, total), f"saw {seen}"
        usage = session.token_usage
        assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == seen, usage


@then("the model's messages are ordered by sequence and match the service's")
def then_model_messages(context: Context) -> None:
    service_messages = context.service.get_messages(context.session.id)
    model_messages = context.model.messages
    assert [m.sequence for m in model_messages] == [m.sequence for m in service_messages]
    assert [(m.id, m.content) for m in model_messages] == [
        (m.id, m.content) for m in service_messages
    ]
    assert context.model.message_count == len(service_messages)


@then("the model's timestamps are timezone-aware UTC")
def then_model_utc(context: Context) -> None:
    stamps = [context.model.created_at, context.model.updated_at]
    stamps += [message.created_at for message in context.model.messages]
    for stamp in stamps:
        assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0, stamp


@then("the service reads that session with its {count:d} messages in order")
def then_service_reads_models(context: Context, count: int) -> None:
    session = context.service.get(context.model_id)
    assert session is not None and session.metadata == {"source": "orm"}, session
    assert session.total_tokens == 7
    messages = context.service.get_messages(context.model_id)
    assert [m.content for m in messages] == [f"orm message {i}" for i in range(count)]


@then("reading the message back gives the same created_at to the microsecond")
def then_microseconds(context: Context) -> None:
    (stored,) = context.service.get_messages(context.session.id)
    assert stored.created_at == context.message.created_at, (
        stored.created_at,
        context.message.created_at,
    )
    assert stored.created_at.tzinfo is not None
