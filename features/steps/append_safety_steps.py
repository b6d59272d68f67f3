"""Steps for optimistic appends and retried writes whose first commit was not acknowledged."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error
from sqlalchemy import Connection, exc

from cleveragents import domain
from cleveragents.infrastructure.database import Database, RetryPolicy, create_database_engine
from cleveragents.infrastructure.database.retry import Attempt


class AcknowledgementLosingDatabase(Database):
    """A real database whose first write commits and then fails as if the connection dropped.

    That is what a client sees when the server committed but the reply never arrived.
    """

    def __init__(self, url: str) -> None:
        super().__init__(
            create_database_engine(url), retry_policy=RetryPolicy(attempts=3, base_delay=0)
        )
        self.lost = 0

    @contextmanager
    def transaction(
        self, *, write: bool, snapshot: bool = False, attempt: Attempt | None = None
    ) -> Iterator[Connection]:
        with super().transaction(write=write, snapshot=snapshot, attempt=attempt) as connection:
            yield connection
        if write:
            self.lose_first_reply(attempt)

    @contextmanager
    def single_statement(
        self, *, write: bool = False, attempt: Attempt | None = None
    ) -> Iterator[Connection]:
        """A write of one statement (PostgreSQL) commits as it runs: its reply is lost after."""
        with super().single_statement(write=write, attempt=attempt) as connection:
            yield connection
        if write:
            self.lose_first_reply(attempt)

    def lose_first_reply(self, attempt: Attempt | None) -> None:
        if self.lost == 0:
            self.lost += 1
            if attempt is not None:
                attempt.commit_unknown = True  # as the transaction records a failed COMMIT
            raise exc.OperationalError(
                "COMMIT", None, ConnectionResetError("reply lost"), connection_invalidated=True
            )


@when('I append "{content}" to session "{session_id}" expecting the next sequence to be {n:d}')
def when_append_unknown_expecting(context: Context, content: str, session_id: str, n: int) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(
        context,
        lambda: context.service.append_message(session_id, "user", content, expected_sequence=n),
    )


@when("I append {content} expecting the next sequence to be {expected:d}")
def when_append_expecting(context: Context, content: str, expected: int) -> None:
    context.fingerprint = context.database_fingerprint()
    session_id = context.session.id
    capture_library_error(
        context,
        lambda: context.service.append_message(
            session_id, "user", content.strip('"'), expected_sequence=expected
        ),
    )


@then("the optimistic message was stored at sequence {sequence:d}")
def then_optimistic_stored(context: Context, sequence: int) -> None:
    assert context.error is None, f"the append failed: {context.error!r}"
    assert context.result.sequence == sequence, context.result
    stored = context.service.get_messages(context.session.id)
    assert stored[-1] == context.result, stored[-1]


@then("the conflict says the next sequence is {actual:d}")
def then_conflict_actual(context: Context, actual: int) -> None:
    error = raised_error(context)
    assert isinstance(error, domain.SequenceConflictError), repr(error)
    assert (error.session_id, error.expected, error.actual) == (context.session.id, 2, actual)


@given("a service whose first commit succeeds but loses its acknowledgement")
def given_flaky_service(context: Context) -> None:
    context.flaky_database = AcknowledgementLosingDatabase(context.database_url)
    context.flaky_service = context.open_service(context.flaky_database)


@when('that service appends "{content}"')
def when_flaky_append(context: Context, content: str) -> None:
    context.result = context.flaky_service.append_message(context.session.id, "user", content)
    assert context.flaky_database.lost == 1, "no acknowledgement was lost"


@when("that service imports an export of the session")
def when_flaky_import(context: Context) -> None:
    document = context.service.export_session(context.session.id)
    context.result = context.flaky_service.import_session(document)
    assert context.flaky_database.lost == 1, "no acknowledgement was lost"


@then('the session\'s messages end with exactly one "{content}" at sequence {sequence:d}')
def then_one_copy(context: Context, content: str, sequence: int) -> None:
    stored = context.service.get_messages(context.session.id)
    copies = [message for message in stored if message.content == content]
    assert len(copies) == 1, f"{len(copies)} copies: {copies}"
    assert copies[0].sequence == sequence, copies[0]
    assert copies[0] == context.result, (copies[0], context.result)
