"""Steps for AsyncPersistentSessionService used directly from coroutines."""

from __future__ import annotations

import asyncio
import gc
import io
import os
import random
import sqlite3
import sys
import time
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import event, exc, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import sessionmaker

from cleveragents import domain
from cleveragents.application.services import AsyncPersistentSessionService
from cleveragents.domain import NewMessage
from cleveragents.infrastructure.database import (
    RetryPolicy,
    create_database_engine,
    upgrade_database,
)


def scenario_loop(context: Context) -> asyncio.AbstractEventLoop:
    """The scenario's own event loop, which lives as long as the scenario, since an asyncio
    driver's connections belong to the loop that opened them. Cleanups that use it must be
    added after it exists, so that they run before it is closed."""
    if getattr(context, "scenario_loop", None) is None:
        context.scenario_loop = asyncio.new_event_loop()
        context.add_cleanup(context.scenario_loop.close)
    loop: asyncio.AbstractEventLoop = context.scenario_loop
    return loop


def run(context: Context, coroutine: Coroutine[Any, Any, Any]) -> Any:
    return scenario_loop(context).run_until_complete(coroutine)


def close_later(context: Context, closing: Any) -> None:
    """Run ``closing()`` (a coroutine function) on the scenario's loop when it ends."""
    scenario_loop(context)
    context.add_cleanup(lambda: run(context, closing()))


def report(line: str) -> None:
    print(f"    [async] {line}", file=sys.__stderr__, flush=True)


def open_async(context: Context, **options: Any) -> AsyncPersistentSessionService:
    return AsyncPersistentSessionService.from_url(context.database_url, **options)


# --- The whole contract -----------------------------------------------------------------


async def use_every_method(service: AsyncPersistentSessionService) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    created = await service.create("runtime", title="Trip", metadata={"k": 1}, session_id="conv-1")
    answers["created"] = created
    answers["got"] = await service.get(created.id)
    answers["listed"] = await service.list(actor_name="runtime", limit=10)
    answers["first"] = await service.append_message(created.id, "user", "hi", token_count=2)
    answers["batch"] = await service.append_messages(
        created.id, [NewMessage("assistant", "on it"), {"role": "tool", "content": "{}"}]
    )
    answers["window"] = await service.get_messages(created.id, last=2)
    answers["popped"] = await service.pop_last_message(created.id)
    answers["updated"] = await service.update_token_usage(
        created.id, input_tokens=5, output_tokens=3
    )
    answers["document"] = await service.export_session(created.id)
    answers["copy"] = await service.import_session(answers["document"])
    file = io.BytesIO()
    answers["checksum"] = await service.export_session_to_file(created.id, file)
    file.seek(0)
    answers["streamed"] = await service.import_session_from_file(file)
    answers["statistics"] = await service.statistics()
    answers["cleared"] = await service.clear_messages(answers["copy"].id)
    answers["purgeable"] = await service.purge_sessions(timedelta(days=1), dry_run=True)
    answers["purged"] = await service.purge_sessions(timedelta(days=1), actor_name="nobody")
    answers["deleted"] = await service.delete(answers["streamed"].id)
    return answers


@when('a runtime opens the async service with "async with" and uses every method of the contract')
def when_every_method(context: Context) -> None:
    async def conversation() -> dict[str, Any]:
        async with open_async(context) as service:
            return await use_every_method(service)

    context.answers = run(context, conversation())


@then("every call gave the answer the synchronous service gives")
def then_same_answers(context: Context) -> None:
    answers = context.answers
    created = answers["created"]
    assert (created.id, created.title, created.metadata) == ("conv-1", "Trip", {"k": 1}), created
    assert answers["got"] == created and [s.id for s in answers["listed"]] == ["conv-1"]
    assert answers["first"].sequence == 0 and [m.sequence for m in answers["batch"]] == [1, 2]
    assert [m.content for m in answers["window"]] == ["on it", "{}"], answers["window"]
    assert (answers["popped"].sequence, answers["popped"].role) == (2, "tool"), answers["popped"]
    updated = answers["updated"]
    assert (updated.input_tokens, updated.output_tokens, updated.message_count) == (5, 3, 2)
    assert answers["document"]["checksum"] == answers["checksum"], "two exports differ"
    assert answers["copy"].message_count == answers["streamed"].message_count == 2
    (runtime,) = answers["statistics"]
    assert (runtime.actor_name, runtime.session_count) == ("runtime", 3), runtime
    assert (answers["cleared"], answers["purgeable"], answers["purged"]) == (2, 0, 0)
    assert answers["deleted"] is True


@then("the runtime's conversation is stored")
def then_conversation_stored(context: Context) -> None:
    stored = context.service.get_messages("conv-1")
    assert [(m.sequence, m.content) for m in stored] == [(0, "hi"), (1, "on it")], stored
    assert len(context.service.list(actor_name="runtime")) == 2


# --- Cancellation -----------------------------------------------------------------------


@when(
    "{tasks:d} tasks each append {count:d} messages through the async service while random "
    "tasks are cancelled at random moments"
)
def when_cancelled_appends(context: Context, tasks: int, count: int) -> None:
    seed = int(os.environ.get("CLEVERAGENTS_TORTURE_SEED") or random.randrange(2**32))
    chooser = random.Random(seed)
    session_id = context.session.id
    acknowledged: list[domain.SessionMessage] = []

    async def writer(service: AsyncPersistentSessionService, number: int) -> None:
        for index in range(count):
            message = await service.append_message(session_id, "user", f"task {number} #{index}")
            acknowledged.append(message)

    async def scenario() -> int:
        async with open_async(context) as service:
            writers = [asyncio.create_task(writer(service, n)) for n in range(tasks)]
            cancelled = 0
            for victim in chooser.sample(writers, tasks // 2):
                await asyncio.sleep(chooser.uniform(0, 0.03))
                cancelled += victim.cancel()
            results = await asyncio.gather(*writers, return_exceptions=True)
            failures = [r for r in results if isinstance(r, BaseException)]
            unexpected = [r for r in failures if not isinstance(r, asyncio.CancelledError)]
            assert not unexpected, unexpected
            return len(failures)
        # leaving the block waited for the appends whose waiters were cancelled

    context.cancelled_tasks = run(context, scenario())
    context.acknowledged = acknowledged
    report(
        f"{context.backend}: {context.cancelled_tasks} of {tasks} tasks cancelled, "
        f"{len(acknowledged)} appends acknowledged (seed {seed})"
    )


@then("some appends were cancelled and some acknowledged")
def then_some_cancelled(context: Context) -> None:
    assert context.cancelled_tasks > 0, "no task was cancelled"
    assert context.acknowledged, "no append was acknowledged"


@then("every acknowledged append is stored once, with its sequence and content")
def then_acknowledged_stored(context: Context) -> None:
    stored = {m.id: m for m in context.service.get_messages(context.session.id)}
    for message in context.acknowledged:
        assert stored.get(message.id) == message, f"{message} is stored as {stored.get(message.id)}"


@then("no message is stored twice")
def then_no_duplicate(context: Context) -> None:
    contents = [m.content for m in context.service.get_messages(context.session.id)]
    assert len(contents) == len(set(contents)), "a message is stored twice"


@when("a task starts an append through the async service and is cancelled before the answer")
def when_cancel_started_append(context: Context) -> None:
    async def scenario() -> bool:
        async with open_async(context) as service:
            task = asyncio.create_task(
                service.append_message(context.session.id, "user", "cancelled")
            )
            await asyncio.sleep(0)  # the task runs until it awaits the started call
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                return True
            return False

    context.saw_cancellation = run(context, scenario())


@then("the task saw its cancellation")
def then_saw_cancellation(context: Context) -> None:
    assert context.saw_cancellation, "the append answered before it could be cancelled"


@then("once the service is closed the message is stored once, at sequence 0")
def then_cancelled_append_stored(context: Context) -> None:
    stored = context.service.get_messages(context.session.id)
    assert [(m.sequence, m.content) for m in stored] == [(0, "cancelled")], stored


# --- Waiting to retry -------------------------------------------------------------------


class FixedDelayPolicy(RetryPolicy):
    """Retries after exactly ``base_delay`` seconds, so a scenario knows the wait is long."""

    def delay_before(self, retry_number: int) -> float:
        return self.base_delay


@dataclass
class TransientFailure:
    """Fails the first statement containing ``prefix`` as a busy pool would; notes how
    many turns the loop's counting task had taken at the failure and at the retry."""

    prefix: str
    turns: list[int]
    seen: int = 0
    turns_at_failure: int | None = None
    turns_at_retry: int | None = None

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.prefix not in statement:
            return
        self.seen += 1
        if self.seen == 1:
            self.turns_at_failure = self.turns[0]
            raise exc.TimeoutError("injected: every pooled connection is busy")
        if self.seen == 2:
            self.turns_at_retry = self.turns[0]


@given(
    'an async service whose retries wait {seconds:g} seconds, on an engine whose next "{prefix}" '
    "fails transiently"
)
def given_slow_retrying_service(context: Context, seconds: float, prefix: str) -> None:
    policy = FixedDelayPolicy(attempts=2, base_delay=seconds, max_delay=seconds)
    context.turns = [0]
    context.failure = TransientFailure(prefix, context.turns)
    if context.backend == "postgresql":
        async_engine = create_async_engine(context.database_url)
        close_later(context, async_engine.dispose)
        watched = async_engine.sync_engine
        context.slow_service = AsyncPersistentSessionService.from_engine(
            async_engine, retry_policy=policy
        )
    else:
        watched = create_database_engine(context.database_url)
        context.add_cleanup(watched.dispose)
        context.slow_service = AsyncPersistentSessionService.from_engine(
            watched, retry_policy=policy
        )
    event.listen(watched, "before_cursor_execute", context.failure)
    context.add_cleanup(lambda: event.remove(watched, "before_cursor_execute", context.failure))


@when("a task appends through it while another task counts its turns on the loop")
def when_append_while_counting(context: Context) -> None:
    async def scenario() -> None:
        async with context.slow_service as service:
            session = await service.create("patient")
            context.session = session
            append = asyncio.create_task(service.append_message(session.id, "user", "late"))
            while not append.done():
                context.turns[0] += 1
                await asyncio.sleep(0.01)
            await append

    run(context, scenario())


@then("the append was stored once, after one retry")
def then_stored_after_retry(context: Context) -> None:
    assert context.failure.seen == 2, f"the insert ran {context.failure.seen} times"
    stored = context.service.get_messages(context.session.id)
    assert [(m.sequence, m.content) for m in stored] == [(0, "late")], stored


@then("the counting task took at least {turns:d} turns between the failure and the retry")
def then_loop_turned(context: Context, turns: int) -> None:
    failure = context.failure
    assert failure.turns_at_failure is not None and failure.turns_at_retry is not None
    taken = failure.turns_at_retry - failure.turns_at_failure
    assert taken >= turns, f"the loop turned {taken} times while the call waited to retry"


# --- Opening ----------------------------------------------------------------------------


@when('a runtime opens the async service on the scratch database with "async with"')
def when_open_scratch(context: Context) -> None:
    url = context.scratch.url.render_as_string(hide_password=False)
    context.scratch_service = AsyncPersistentSessionService.from_url(url)
    close_later(context, context.scratch_service.aclose)

    async def scenario() -> None:
        async with context.scratch_service:
            pass

    context.error = None
    try:
        run(context, scenario())
    except domain.SessionPersistenceError as error:
        context.error = error


@when("the scratch database is upgraded and the same service is used again")
def when_upgrade_and_retry(context: Context) -> None:
    upgrade_database(context.scratch.url)
    context.scratch_session = run(context, context.scratch_service.create("late-starter"))


@then("the service creates a session there")
def then_scratch_session(context: Context) -> None:
    with context.scratch.engine.connect() as connection:
        actors = connection.execute(text("SELECT actor_name FROM sessions")).scalars().all()
    assert actors == ["late-starter"], actors


@when(
    "the async service is opened on the application's engine, its sessionmaker and, on "
    "PostgreSQL, its asyncio engine and async_sessionmaker"
)
def when_open_on_application_engines(context: Context) -> None:
    engine = create_database_engine(context.database_url)
    context.add_cleanup(engine.dispose)
    openers: dict[str, Any] = {
        "engine": lambda: AsyncPersistentSessionService.from_engine(engine),
        "sessionmaker": lambda: AsyncPersistentSessionService.from_sessionmaker(
            sessionmaker(engine)
        ),
    }
    pools = [engine.pool]
    if context.backend == "postgresql":
        async_engine = create_async_engine(context.database_url)
        close_later(context, async_engine.dispose)
        openers["asyncio engine"] = lambda: AsyncPersistentSessionService.from_engine(async_engine)
        openers["async_sessionmaker"] = lambda: AsyncPersistentSessionService.from_sessionmaker(
            async_sessionmaker(async_engine)
        )
        pools.append(async_engine.sync_engine.pool)

    async def use(name: str) -> str:
        async with openers[name]() as service:
            return (await service.create(f"app {name}")).id

    context.created = {name: run(context, use(name)) for name in openers}
    context.pools = pools


@then("each service works and leaves the engines open to their owner")
def then_services_worked(context: Context) -> None:
    for name, session_id in context.created.items():
        stored = context.service.get(session_id)
        assert stored is not None and stored.actor_name == f"app {name}", (name, stored)
    for pool in context.pools:
        assert pool.checkedin() >= 1, f"{pool} was disposed by the service"


@when("the async service is opened on an unbound sessionmaker and on a string")
def when_open_on_non_engines(context: Context) -> None:
    context.errors = []
    for opener in (
        lambda: AsyncPersistentSessionService.from_sessionmaker(sessionmaker()),
        lambda: AsyncPersistentSessionService.from_engine(context.database_url),
    ):
        try:
            opener()
        except domain.SessionPersistenceError as error:
            context.errors.append(error)


@then("each opening fails with DatabaseConfigurationError")
def then_each_refused(context: Context) -> None:
    kinds = [type(error).__name__ for error in context.errors]
    assert kinds == ["DatabaseConfigurationError"] * 2, kinds


@when("a runtime closes the async service and then calls it")
def when_call_closed(context: Context) -> None:
    async def scenario() -> None:
        service = open_async(context)
        async with service:
            await service.create("short-lived")
        await service.aclose()  # closing twice is harmless
        await service.list()

    context.error = None
    try:
        run(context, scenario())
    except domain.SessionPersistenceError as error:
        context.error = error


# --- Closing ----------------------------------------------------------------------------


@when(
    "a runtime starts {count:d} appends and an append to a missing session, abandons that one "
    "and closes the service"
)
def when_close_while_calls_run(context: Context, count: int) -> None:
    unretrieved: list[dict[str, Any]] = []
    before = open_connections(context)

    async def scenario() -> list[asyncio.Task[Any]]:
        asyncio.get_running_loop().set_exception_handler(lambda _, info: unretrieved.append(info))
        service = open_async(context)
        await service.__aenter__()
        appends = [
            asyncio.create_task(service.append_message(context.session.id, "user", f"m{n}"))
            for n in range(count)
        ]
        abandoned = asyncio.create_task(service.append_message("01" + "0" * 24, "user", "lost"))
        await asyncio.sleep(0)  # every call has started
        abandoned.cancel()
        context.connections_while_open = open_connections(context) - before
        await service.aclose()
        context.done_at_close = [task.done() for task in appends]
        context.connections_after_close = closed_down_to(context, before) - before
        del abandoned
        return appends

    appends = run(context, scenario())
    gc.collect()  # an unretrieved error is reported when its task is collected
    run(context, asyncio.sleep(0))
    context.unretrieved = unretrieved
    context.sequences = sorted(task.result().sequence for task in appends)


def open_connections(context: Context) -> int:
    """Connections to the test database open now, counted outside the service: the SQLite
    connections this process holds open (a closed connection's file handle may stay open
    while other connections lock the same file, so handles are no measure), the server's
    sessions on the test database elsewhere."""
    if context.backend == "sqlite":
        return sum(
            isinstance(each, sqlite3.Connection) and is_open(each) for each in gc.get_objects()
        )
    query = (
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        if context.backend == "postgresql"
        else "SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = DATABASE()"
    )
    with context.inspection_engine.connect() as connection:
        return int(connection.execute(text(query)).scalar_one())


def is_open(connection: sqlite3.Connection) -> bool:
    try:
        connection.in_transaction  # noqa: B018 - raises once the connection is closed
    except sqlite3.ProgrammingError:
        return False
    return True


def closed_down_to(context: Context, expected: int) -> int:
    """The open connections once they are back to ``expected``, or after 10 s: a server lists
    a session for a moment after its client has closed it."""
    deadline = time.monotonic() + 10
    while (found := open_connections(context)) > expected and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


@then("the {count:d} appends were stored before the closing returned")
def then_stored_before_close(context: Context, count: int) -> None:
    assert context.done_at_close == [True] * count, context.done_at_close
    assert context.sequences == list(range(count)), context.sequences
    stored = context.service.get_messages(context.session.id)
    assert sorted(m.content for m in stored) == [f"m{n}" for n in range(count)], stored


@then("every connection the service opened was closed by then")
def then_connections_closed(context: Context) -> None:
    assert context.connections_while_open > 0, "the service held no connection while in use"
    assert context.connections_after_close <= 0, (
        f"{context.connections_after_close} of the service's connections still open"
    )


@then("the event loop was told of no unretrieved error")
def then_nothing_unretrieved(context: Context) -> None:
    assert context.unretrieved == [], context.unretrieved


# --- Connections kept for the next burst ---------------------------------------------------


@when("a runtime makes {count:d} appends at once through one async service, twice")
def when_two_bursts(context: Context, count: int) -> None:
    before = open_connections(context)

    async def scenario() -> list[int]:
        kept = []
        async with open_async(context) as service:
            for burst in range(2):
                await asyncio.gather(
                    *(
                        service.append_message(context.session.id, "user", f"{burst}-{n}")
                        for n in range(count)
                    )
                )
                kept.append(open_connections(context) - before)
        return kept

    context.kept_after_bursts = run(context, scenario())


@then(
    "after each burst more than {kept:d} of its connections were still open, and at most {most:d}"
)
def then_kept_after_bursts(context: Context, kept: int, most: int) -> None:
    for still_open in context.kept_after_bursts:
        assert kept < still_open <= most, f"open after each burst: {context.kept_after_bursts}"


@then("the session holds the {count:d} messages in order")
def then_holds_in_order(context: Context, count: int) -> None:
    stored = context.service.get_messages(context.session.id)
    assert [m.sequence for m in stored] == list(range(count)), [m.sequence for m in stored]
    assert sorted(m.content for m in stored) == sorted(
        f"{burst}-{n}" for burst in range(2) for n in range(count // 2)
    )
