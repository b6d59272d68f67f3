"""Steps for pop_last_message, and the checks on a history that pops and clears share."""

from __future__ import annotations

from collections import Counter

from behave import then, when
from behave.runner import Context

from cleveragents import domain


def attempt(context: Context, call: object) -> None:
    context.result, context.error = None, None
    try:
        context.result = call()  # type: ignore[operator]
    except domain.SessionPersistenceError as error:
        context.error = error


@when("I pop the last message of that session")
def when_pop(context: Context) -> None:
    context.popped = context.service.pop_last_message(context.session.id)


@when("I pop the last message of that session {times:d} times")
def when_pop_times(context: Context, times: int) -> None:
    context.pops = [context.service.pop_last_message(context.session.id) for _ in range(times)]


@when("I try to pop the last message of that session")
def when_try_pop(context: Context) -> None:
    context.fingerprint = context.database_fingerprint()
    attempt(context, lambda: context.service.pop_last_message(context.session.id))


@when('I try to pop the last message of session "{session_id}"')
def when_try_pop_unknown(context: Context, session_id: str) -> None:
    context.fingerprint = context.database_fingerprint()
    attempt(context, lambda: context.service.pop_last_message(session_id))


@when(
    "{threads:d} threads sharing the scenario's service each pop the last message {times:d} times"
)
def when_threads_pop(context: Context, threads: int, times: int) -> None:
    service, session_id = context.service, context.session.id
    context.pops_by_thread = [[] for _ in range(threads)]

    def pop(popped: list[domain.SessionMessage | None]) -> None:
        for _ in range(times):
            popped.append(service.pop_last_message(session_id))

    errors = context.run_together([lambda p=p: pop(p) for p in context.pops_by_thread])
    assert not errors, errors
    context.pops = [message for popped in context.pops_by_thread for message in popped]


@when(
    "{poppers:d} threads pop the last message {times:d} times each while {appenders:d} threads "
    "append {count:d} messages each"
)
def when_pop_and_append(
    context: Context, poppers: int, times: int, appenders: int, count: int
) -> None:
    service, session_id = context.service, context.session.id
    context.pops, context.appended = [], list(service.get_messages(session_id))

    def pop() -> None:
        for _ in range(times):
            context.pops.append(service.pop_last_message(session_id))

    def append(writer: int) -> None:
        for index in range(count):
            context.appended.append(
                service.append_message(session_id, "user", f"writer {writer} #{index}")
            )

    jobs = [pop] * poppers + [lambda n=n: append(n) for n in range(appenders)]
    errors = context.run_together(jobs)
    assert not errors, errors


@then('the popped message is sequence {sequence:d} with content "{content}"')
def then_popped(context: Context, sequence: int, content: str) -> None:
    popped = context.popped
    assert popped is not None, "nothing was popped"
    assert (popped.session_id, popped.sequence, popped.content) == (
        context.session.id,
        sequence,
        content,
    ), popped


@then("the session holds sequences 0 to {last:d} with message_count {count:d}")
def then_holds_sequences(context: Context, last: int, count: int) -> None:
    messages = context.service.get_messages(context.session.id)
    assert [m.sequence for m in messages] == list(range(last + 1)), messages
    assert context.service.get(context.session.id).message_count == count


@then("the session holds no messages with message_count 0")
def then_empty(context: Context) -> None:
    assert context.service.get_messages(context.session.id) == []
    assert context.service.get(context.session.id).message_count == 0


@then("the next append to that session gets sequence {sequence:d}")
def then_next_append(context: Context, sequence: int) -> None:
    message = context.service.append_message(context.session.id, "user", "afterwards")
    assert message.sequence == sequence, message
    stored = context.service.get_messages(context.session.id)
    assert [m.sequence for m in stored] == list(range(sequence + 1)), stored


@then("the pops returned sequences {sequences} and then nothing")
def then_pops_returned(context: Context, sequences: str) -> None:
    expected = [int(part) for part in sequences.split(", ")]
    seen = [None if m is None else m.sequence for m in context.pops]
    assert seen == [*expected, None], seen


@then("the session's title, metadata and token totals are as before")
def then_session_kept(context: Context) -> None:
    before = context.session
    now = context.service.get(before.id)
    kept = ("actor_name", "title", "metadata", "input_tokens", "output_tokens", "created_at")
    for name in kept:
        assert getattr(now, name) == getattr(before, name), f"{name}: {now} vs {before}"


@then("the call returned nothing")
def then_returned_nothing(context: Context) -> None:
    assert context.error is None, context.error
    assert context.result is None, context.result


@then("every one of the {count:d} messages was popped by exactly one thread")
def then_each_popped_once(context: Context, count: int) -> None:
    popped = Counter(message.id for message in context.pops if message is not None)
    assert len(popped) == count, f"{len(popped)} distinct messages popped"
    twice = [message_id for message_id, times in popped.items() if times > 1]
    assert not twice, f"popped more than once: {twice}"
    for popped_by_one in context.pops_by_thread:
        sequences = [m.sequence for m in popped_by_one if m is not None]
        assert sequences == sorted(sequences, reverse=True), f"one thread saw {sequences}"


@then("{count:d} pops returned nothing")
def then_empty_pops(context: Context, count: int) -> None:
    assert sum(message is None for message in context.pops) == count


@then("no message was popped twice")
def then_not_popped_twice(context: Context) -> None:
    popped = Counter(message.id for message in context.pops if message is not None)
    assert all(times == 1 for times in popped.values()), popped.most_common(3)


@then("the session's messages have sequences 0 upward with no gap, matching its message_count")
def then_gap_free(context: Context) -> None:
    messages = context.service.get_messages(context.session.id)
    assert [m.sequence for m in messages] == list(range(len(messages))), messages
    assert context.service.get(context.session.id).message_count == len(messages)


@then("the stored messages are exactly the appended ones that were not popped")
def then_stored_is_appended_minus_popped(context: Context) -> None:
    stored = {m.id for m in context.service.get_messages(context.session.id)}
    popped = {m.id for m in context.pops if m is not None}
    appended = {m.id for m in context.appended}
    assert not stored & popped, f"popped yet stored: {stored & popped}"
    assert stored | popped == appended, (
        f"lost {appended - stored - popped}, unknown {(stored | popped) - appended}"
    )
