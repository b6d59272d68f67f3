"""Steps for purging inactive sessions."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error
from sqlalchemy import event, func, select

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import SessionMessageModel, SessionModel


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rechecksum(document: dict[str, Any]) -> None:
    payload = {k: v for k, v in document.items() if k not in ("exported_at", "checksum")}
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    document["checksum"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@given(
    '{count:d} sessions of actor "{actor}" last active {days:d} days ago with '
    "{messages:d} messages each"
)
def given_aged_sessions(context: Context, count: int, actor: str, days: int, messages: int) -> None:
    template = context.service.create(actor)
    for index in range(messages):
        context.service.append_message(template.id, "user", f"old message {index}")
    document = context.service.export_session(template.id)
    context.service.delete(template.id)
    moment = datetime.now(UTC) - timedelta(days=days)
    document["session"]["created_at"] = stamp(moment - timedelta(hours=1))
    document["session"]["updated_at"] = stamp(moment)
    rechecksum(document)
    for _ in range(count):
        context.service.import_session(document)
    context.fingerprint = context.database_fingerprint()


@given("the service purges at most {size:d} sessions per transaction")
def given_batch_size(context: Context, size: int) -> None:
    context.service = PersistentSessionService.from_url(context.database_url, purge_batch_size=size)
    context.add_cleanup(context.service.close)


@when("I try to open a service that purges at most {size:d} sessions per transaction")
def when_open_with_batch_size(context: Context, size: int) -> None:
    service = capture_library_error(
        context,
        lambda: PersistentSessionService.from_url(context.database_url, purge_batch_size=size),
    )
    if service is not None:
        context.add_cleanup(service.close)


def count_deletes(context: Context) -> None:
    context.delete_statements = 0

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("DELETE FROM SESSIONS"):
            context.delete_statements += 1

    engine = context.service._database.engine
    event.listen(engine, "before_cursor_execute", seen)
    context.add_cleanup(event.remove, engine, "before_cursor_execute", seen)


@when("I purge sessions older than {days:d} days")
def when_purge(context: Context, days: int) -> None:
    count_deletes(context)
    context.purge_batches = []
    context.purged = context.service.purge_sessions(
        timedelta(days=days), on_batch=context.purge_batches.append
    )


@when('I purge sessions of actor "{actor}" older than {days:d} days')
def when_purge_actor(context: Context, actor: str, days: int) -> None:
    context.purged = context.service.purge_sessions(timedelta(days=days), actor_name=actor)


@when("I take a dry run of purging sessions older than {days:d} days")
def when_purge_dry(context: Context, days: int) -> None:
    context.purged = context.service.purge_sessions(timedelta(days=days), dry_run=True)


@when("I purge sessions last active before {days:d} days ago as a timezone-aware moment")
def when_purge_moment(context: Context, days: int) -> None:
    moment = datetime.now(UTC) - timedelta(days=days)
    context.purged = context.service.purge_sessions(moment)


@when("I try to purge sessions older than {limit}")
def when_try_purge(context: Context, limit: str) -> None:
    value = {
        "a negative age": timedelta(days=-1),
        "a naive datetime": datetime(2026, 1, 1),
        "the number 30": 30,
    }[limit]
    capture_library_error(context, lambda: context.service.purge_sessions(value))


@then("{count:d} sessions were purged")
def then_purged(context: Context, count: int) -> None:
    assert context.purged == count, f"purged {context.purged}"


@then("{count:d} sessions remain, all active {days:d} days ago")
def then_remaining_recent(context: Context, count: int, days: int) -> None:
    remaining = context.service.list(limit=100)
    assert len(remaining) == count, len(remaining)
    horizon = datetime.now(UTC) - timedelta(days=days + 1)
    assert all(session.updated_at > horizon for session in remaining), remaining


@then("{count:d} sessions remain")
def then_remaining(context: Context, count: int) -> None:
    remaining = context.service.list(limit=100)
    assert len(remaining) == count, len(remaining)


@then("no message is left without its session")
def then_no_orphans(context: Context) -> None:
    orphans = (
        select(func.count())
        .select_from(SessionMessageModel)
        .where(~SessionMessageModel.session_id.in_(select(SessionModel.id)))
    )
    with context.inspection_engine.connect() as connection:
        assert connection.execute(orphans).scalar_one() == 0


@then("the purge took {count:d} delete transactions")
def then_delete_transactions(context: Context, count: int) -> None:
    assert context.delete_statements == count, context.delete_statements


@then("the purge reported batches of {sizes}")
def then_reported_batches(context: Context, sizes: str) -> None:
    expected = [int(size) for size in sizes.replace(" and ", ", ").split(", ")]
    assert context.purge_batches == expected, context.purge_batches
