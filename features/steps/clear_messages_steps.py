"""Steps for clear_messages."""

from __future__ import annotations

from behave import then, when
from behave.runner import Context

from cleveragents import domain


@when("I clear the messages of that session")
def when_clear(context: Context) -> None:
    context.error, context.result = None, context.service.clear_messages(context.session.id)


@when('I try to clear the messages of session "{session_id}"')
def when_try_clear_unknown(context: Context, session_id: str) -> None:
    context.fingerprint = context.database_fingerprint()
    context.result, context.error = None, None
    try:
        context.result = context.service.clear_messages(session_id)
    except domain.SessionPersistenceError as error:
        context.error = error


@when(
    "{appenders:d} threads append {count:d} messages each while another thread clears the "
    "session {times:d} times"
)
def when_append_and_clear(context: Context, appenders: int, count: int, times: int) -> None:
    service, session_id = context.service, context.session.id
    context.appended_count = context.service.get(session_id).message_count
    context.cleared: list[int] = []

    def append(writer: int) -> None:
        for index in range(count):
            service.append_message(session_id, "user", f"writer {writer} #{index}")

    def clear() -> None:
        for _ in range(times):
            context.cleared.append(service.clear_messages(session_id))

    errors = context.run_together([clear, *(lambda n=n: append(n) for n in range(appenders))])
    assert not errors, errors
    context.appended_count += appenders * count


@then("the call returned {count:d}")
def then_returned(context: Context, count: int) -> None:
    assert context.error is None, context.error
    assert context.result == count, context.result


@then("the messages the clears deleted and the messages left add up to every message appended")
def then_accounted(context: Context) -> None:
    left = len(context.service.get_messages(context.session.id))
    deleted = sum(context.cleared)
    assert deleted + left == context.appended_count, (
        f"{deleted} deleted + {left} left != {context.appended_count} appended"
    )
