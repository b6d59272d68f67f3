"""Steps of database_retry.feature: transient driver errors re-run the whole unit of work."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from behave import given, then, when
from behave.runner import Context
from injected_driver_errors import (
    DATABASE_LOGGER,
    LostCommitAcknowledgement,
    StatementTrap,
    driver_error,
    new_service,
    retry_warnings,
    run_call,
    set_trap,
    stored_messages,
    succeeded,
    watch_database_log,
)
from library_error import raised_error
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.application.services.scoped_state_service import ScopedStateService
from cleveragents.domain.scoped_state import ScopedState, UserSession
from cleveragents.infrastructure.database import (
    RetryPolicy,
    create_database_engine,
)

# Trust authentication ignores it; it is only there to prove no log line carries it.
FAKE_PASSWORD = "hunter2-not-a-real-secret"  # noqa: S105


@given("a service on the run's database that makes at most {attempts:d} attempts per call")
def given_retrying_service(context: Context, attempts: int) -> None:
    url = make_url(context.database_url)
    context.secret = url.password or None  # MariaDB checks passwords: only the URL's own
    if context.backend == "postgresql":
        context.secret = FAKE_PASSWORD
        url = url.set(password=FAKE_PASSWORD)
    context.retry_engine = create_database_engine(url)
    context.add_cleanup(context.retry_engine.dispose)
    context.service = new_service(context, context.retry_engine, attempts)
    watch_database_log(context)


@given(
    'the next "{prefix}" statement fails with {sqlite_name} on SQLite, '
    "{postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_next_statement_fails(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    set_trap(context, StatementTrap(context.retry_engine, prefix, error, failures=1))


@given(
    'every "{prefix}" statement fails with {sqlite_name} on SQLite, '
    "{postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_every_statement_fails(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    set_trap(context, StatementTrap(context.retry_engine, prefix, error, failures=None))


@given(
    'the commit after the next "{prefix}" statement succeeds but its acknowledgement is lost '
    "with {sqlite_name} on SQLite, {postgresql_spec} on PostgreSQL or {mariadb_spec} on MariaDB"
)
def given_lost_acknowledgement(
    context: Context, prefix: str, sqlite_name: str, postgresql_spec: str, mariadb_spec: str
) -> None:
    error = driver_error(context, sqlite_name, postgresql_spec, mariadb_spec)
    context.lost_commit = LostCommitAcknowledgement(context.retry_engine, prefix, error)
    context.lost_commit.install(context)


@given("another writer appends to the session between that commit and its lost answer")
def given_writer_before_loss(context: Context) -> None:
    other = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(other.close)
    session_id = context.session.id
    context.lost_commit.before_loss = lambda: other.append_message(session_id, "user", "between")


@given(
    "another writer puts a session of its own under that id between that commit and its lost answer"
)
def given_replacement_before_loss(context: Context) -> None:
    other = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(other.close)

    def replace() -> None:
        other.delete("thread-42")
        other.create("theirs", session_id="thread-42")

    context.lost_commit.before_loss = replace


@then("the session holds the tokens of exactly one update")
def then_tokens_once(context: Context) -> None:
    session = context.service.get(context.session.id)
    seen = (session.input_tokens, session.output_tokens)
    assert seen == (7, 5), f"tokens {seen}"


@then("{count:d} commit acknowledgement was lost")
def then_acknowledgements_lost(context: Context, count: int) -> None:
    assert context.lost_commit.lost == count, f"{context.lost_commit.lost} lost"


@given('"{prefix}" statements are counted')
def given_statements_counted(context: Context, prefix: str) -> None:
    set_trap(context, StatementTrap(context.retry_engine, prefix))


@when('the service appends a "{role}" message "{content}" to that session')
def when_service_appends(context: Context, role: str, content: str) -> None:
    context.content = content
    run_call(context, lambda: context.service.append_message(context.session.id, role, content))


@when('the service appends a "{role}" message "{content}" to session "{session_id}"')
def when_service_appends_to(context: Context, role: str, content: str, session_id: str) -> None:
    context.content = content
    run_call(context, lambda: context.service.append_message(session_id, role, content))


def scoped_service(context: Context) -> ScopedStateService:
    """The scoped state service on the database (and retry policy) of ``context.service``."""
    return ScopedStateService(context.service._database)


def append_scoped(context: Context) -> domain.SessionMessage:
    scoped = scoped_service(context)
    scoped.create("fresh", user_id="ann", session_id="scoped-append")
    return scoped.append(
        "scoped-append",
        domain.NewMessage("agent", "one more"),
        actor_name="fresh",
        user_id="ann",
        delta=ScopedState(user={"visits": 2}, session={"n": 1}),
    )


OPERATIONS: dict[str, Callable[[Context], Any]] = {
    "create a session": lambda c: c.service.create("fresh"),
    "create a scoped session": lambda c: scoped_service(c).create(
        "fresh", user_id="ann", state=ScopedState(user={"visits": 1})
    ),
    "append a scoped message": append_scoped,
    "create a session under the caller's id": lambda c: c.service.create(
        "fresh", session_id="thread-42"
    ),
    "pop the last message": lambda c: c.service.pop_last_message(c.session.id),
    "clear the messages": lambda c: c.service.clear_messages(c.session.id),
    "get the session": lambda c: c.service.get(c.session.id),
    "list the sessions": lambda c: c.service.list(),
    "delete the session": lambda c: c.service.delete(c.session.id),
    "add token usage": lambda c: c.service.update_token_usage(
        c.session.id, input_tokens=7, output_tokens=5
    ),
    "import an export of the session": lambda c: c.service.import_session(
        c.service.export_session(c.session.id)
    ),
    "read the session's messages": lambda c: c.service.get_messages(c.session.id),
    "export the session": lambda c: c.service.export_session(c.session.id),
    "append a message": lambda c: c.service.append_message(c.session.id, "user", "one more"),
    "stream the session to a file": lambda c: c.service.export_session_to_file(
        c.session.id, io.BytesIO()
    ),
    "import a streamed export of the session": lambda c: c.service.import_session_from_file(
        io.BytesIO(json.dumps(c.service.export_session(c.session.id)).encode())
    ),
}


@when("the service is asked to {operation}")
def when_service_asked(context: Context, operation: str) -> None:
    run_call(context, lambda: OPERATIONS[operation](context))


def check_created(context: Context, created: domain.Session) -> None:
    assert context.service.get(created.id) == created, created
    listed = [s.id for s in context.service.list(actor_name="fresh")]
    assert listed == [created.id], f"sessions of actor fresh: {listed}"


def check_deleted(context: Context, deleted: bool) -> None:
    assert deleted is True, f"delete returned {deleted!r}"
    assert context.service.get(context.session.id) is None
    remaining = stored_messages(context.inspection_engine, context.session.id)
    assert remaining == 0, f"{remaining} messages left"


def check_usage(context: Context, updated: domain.Session) -> None:
    stored = context.service.get(context.session.id)
    for session in (updated, stored):
        seen = (session.input_tokens, session.output_tokens)
        assert seen == (7, 5), f"tokens {seen}: added more than once?"


def check_imported(context: Context, imported: domain.Session) -> None:
    assert imported.id != context.session.id and imported.message_count == 2, imported
    sequences = [m.sequence for m in context.service.get_messages(imported.id)]
    assert sequences == [0, 1], sequences
    copies = context.service.list(actor_name=context.session.actor_name)
    assert len(copies) == 2, f"{len(copies)} sessions of the actor: {copies}"


def check_messages(context: Context, messages: list[domain.SessionMessage]) -> None:
    seen = [(m.sequence, m.content) for m in messages]
    expected = [(i, f"message {i} of {context.session.actor_name}") for i in range(2)]
    assert seen == expected, seen


def check_exported(context: Context, document: dict[str, Any]) -> None:
    assert document["session"]["id"] == context.session.id, document["session"]
    assert [m["sequence"] for m in document["messages"]] == [0, 1], document["messages"]


def check_appended(context: Context, message: domain.SessionMessage) -> None:
    assert message.sequence == 2, message
    stored = [(m.id, m.sequence) for m in context.service.get_messages(context.session.id)]
    assert stored[2:] == [(message.id, 2)] and len(stored) == 3, stored
    assert context.service.get(context.session.id).message_count == 3


def check_scoped_created(context: Context, created: UserSession) -> None:
    scoped = scoped_service(context)
    assert scoped.get(created.session.id) == created, created
    assert [each.session.id for each in scoped.list("fresh")] == [created.session.id]


def check_scoped_appended(context: Context, message: domain.SessionMessage) -> None:
    found = scoped_service(context).get("scoped-append")
    assert found is not None and found.messages == [message], found
    assert (dict(found.state.user), dict(found.state.session)) == ({"visits": 2}, {"n": 1})


def check_popped(context: Context, popped: domain.SessionMessage) -> None:
    assert (popped.sequence, popped.content) == (1, f"message 1 of {context.session.actor_name}")
    remaining = [m.sequence for m in context.service.get_messages(context.session.id)]
    assert remaining == [0], f"left {remaining}: more than one message popped?"
    assert context.service.get(context.session.id).message_count == 1


def check_cleared(context: Context, cleared: int) -> None:
    assert cleared == 2, f"cleared {cleared}"
    assert context.service.get_messages(context.session.id) == []
    assert context.service.get(context.session.id).message_count == 0


CHECKS: dict[str, Callable[[Context, Any], None]] = {
    "create a session": check_created,
    "create a scoped session": check_scoped_created,
    "append a scoped message": check_scoped_appended,
    "create a session under the caller's id": lambda c, created: _equal(
        (created.id, c.service.get("thread-42")), ("thread-42", created)
    ),
    "pop the last message": check_popped,
    "clear the messages": check_cleared,
    "get the session": lambda c, got: _equal(got, c.session),
    "list the sessions": lambda c, listed: _equal([s.id for s in listed], [c.session.id]),
    "delete the session": check_deleted,
    "add token usage": check_usage,
    "import an export of the session": check_imported,
    "read the session's messages": check_messages,
    "export the session": check_exported,
    "append a message": check_appended,
}


def _equal(seen: object, expected: object) -> None:
    assert seen == expected, f"saw {seen!r}, expected {expected!r}"


@then('the call gave the right answer to "{operation}"')
def then_right_answer(context: Context, operation: str) -> None:
    CHECKS[operation](context, succeeded(context))


@then("the appended message has sequence {sequence:d} and the session's message_count is {count:d}")
def then_appended(context: Context, sequence: int, count: int) -> None:
    message = succeeded(context)
    stored = context.service.get(context.session.id)
    seen = (message.sequence, stored.message_count)
    assert seen == (sequence, count), f"sequence, message_count: {seen}"


@then("exactly one message is stored for the session, with that content")
def then_one_message(context: Context) -> None:
    messages = context.service.get_messages(context.session.id)
    assert [(m.sequence, m.content) for m in messages] == [(0, context.content)], messages
    assert stored_messages(context.inspection_engine, context.session.id) == 1


@then("the watched statement ran {count:d} times")
@then("the watched statement ran {count:d} time")
def then_statement_ran(context: Context, count: int) -> None:
    trap = context.trap
    assert trap.seen == count, f'"{trap.prefix}" ran {trap.seen} times, raised {trap.raised}'


@then("the database log holds {count:d} retry warnings")
@then("the database log holds {count:d} retry warning")
def then_warning_count(context: Context, count: int) -> None:
    warnings = retry_warnings(context)
    assert len(warnings) == count, [r.getMessage() for r in context.database_log.records]


@then("each retry warning names the driver error but not the content, the SQL or a password")
def then_warning_text(context: Context) -> None:
    warnings = retry_warnings(context)
    assert warnings, "no retry warning"
    driver_class = type(context.trap.raised[0]).__name__
    for record in warnings:
        line = record.getMessage()
        assert record.name == DATABASE_LOGGER, record.name
        assert driver_class in line, f"{driver_class} missing from {line!r}"
        assert context.content not in line, f"content leaked: {line!r}"
        assert context.trap.prefix not in line and "INSERT" not in line, f"SQL leaked: {line!r}"
        assert context.secret is None or context.secret not in line, f"password leaked: {line!r}"
        assert record.exc_info is None and record.exc_text is None, "traceback logged"


@then("the library error wraps the injected driver error and shows no SQL")
def then_error_wraps(context: Context) -> None:
    error = raised_error(context)
    assert isinstance(error, domain.DatabaseError), f"{type(error).__name__}: {error}"
    assert not isinstance(error, sa_exc.SQLAlchemyError), type(error).__mro__
    cause = error.__cause__
    assert isinstance(cause, sa_exc.DBAPIError), repr(cause)
    assert cause.orig is context.trap.raised[-1], (cause.orig, context.trap.raised)
    assert context.trap.prefix not in str(error), f"SQL in {error}"


@when("I build a retry policy with {arguments}")
def when_build_policy(context: Context, arguments: str) -> None:
    values = {
        name: float(value) if "." in value else int(value)
        for name, value in (pair.split("=") for pair in arguments.split(", "))
    }
    context.policy_error = None
    try:
        context.policy = RetryPolicy(**values)
    except ValueError as error:
        context.policy_error = error


@then('the policy is refused with ValueError mentioning "{text_}"')
def then_policy_refused(context: Context, text_: str) -> None:
    error = context.policy_error
    assert error is not None, f"accepted: {context.policy}"
    assert text_ in str(error), str(error)


@then(
    "{count:d} delays drawn before retry {retry:d} lie between 0 and {ceiling:g} seconds "
    "and are not all equal"
)
def then_delays(context: Context, count: int, retry: int, ceiling: float) -> None:
    delays = [context.policy.delay_before(retry) for _ in range(count)]
    assert all(0 <= d <= ceiling for d in delays), (min(delays), max(delays))
    assert len(set(delays)) > 1, delays[:5]
    assert max(delays) > ceiling / 2, f"max {max(delays)}: ceiling {ceiling} never approached"
