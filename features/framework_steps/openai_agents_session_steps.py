"""Steps for CleverAgentsSession, the OpenAI Agents SDK session kept by the library."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from agents.memory import Session, SessionSettings, SQLiteSession
from agents.testing import assistant_message, function_call
from behave import given, then, when
from behave.runner import Context
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from cleveragents.application.services import AsyncPersistentSessionService
from cleveragents.domain import SessionPersistenceError
from cleveragents.integrations.openai_agents import CleverAgentsSession

WORKER = Path(__file__).resolve().parent.parent / "workers" / "agent_turn_worker.py"

EVERY_KIND_OF_ITEM: list[dict[str, Any]] = [
    {"role": "user", "content": 'Where is order 1042? Ünïcode 😀 and "quotes"\n'},
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [
            {"type": "output_text", "text": "Checking.", "annotations": [], "logprobs": []}
        ],
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "lookup_order",
        "arguments": '{"order": 1042}',
        "status": "completed",
    },
    {"type": "function_call_output", "call_id": "call_1", "output": '{"status": "shipped"}'},
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [{"type": "summary_text", "text": "Look the order up first."}],
        "encrypted_content": None,
    },
    {"type": "item_reference", "id": "msg_0"},
]


def numbered_item(number: int) -> dict[str, Any]:
    return {"role": "user" if number % 2 == 0 else "assistant", "content": f"item {number}"}


def item_numbers(items: list[Any]) -> list[int]:
    return [int(item["content"].removeprefix("item ")) for item in items]


def numbers(text: str) -> list[int]:
    return [] if text == "none" else [int(part) for part in text.split(",")]


def capture(context: Context, call: Any) -> Any:
    """Run a call that may fail; keep the result, or the library error for the Then steps."""
    context.error = None
    try:
        return call()
    except SessionPersistenceError as error:
        context.error = error
        return None


def open_session(context: Context, session_id: str, **options: Any) -> CleverAgentsSession:
    context.agents_session = CleverAgentsSession(session_id, context.async_service, **options)
    return context.agents_session


# --- Given ------------------------------------------------------------------------------


@given('an Agents SDK session "{session_id}" on the run\'s database')
@when('I open an Agents SDK session "{session_id}" on the run\'s database')
def given_session(context: Context, session_id: str) -> None:
    open_session(context, session_id)
    context.fingerprint = context.database_fingerprint()


@given('an Agents SDK session "{session_id}" on the run\'s database holding items 0 to {last:d}')
def given_session_with_items(context: Context, session_id: str, last: int) -> None:
    session = open_session(context, session_id)
    context.run_async(session.add_items([numbered_item(n) for n in range(last + 1)]))
    context.fingerprint = context.database_fingerprint()


@given(
    'an Agents SDK session "{session_id}" on the run\'s database with settings limit {limit:d},'
    " holding items 0 to {last:d}"
)
def given_session_with_settings(context: Context, session_id: str, limit: int, last: int) -> None:
    session = open_session(context, session_id, session_settings=SessionSettings(limit=limit))
    context.run_async(session.add_items([numbered_item(n) for n in range(last + 1)]))


@given('a library session "{session_id}" with a user message "{content}"')
def given_library_session(context: Context, session_id: str, content: str) -> None:
    async def write() -> None:
        await context.async_service.create("support", session_id=session_id)
        await context.async_service.append_message(session_id, "user", content)

    context.run_async(write())


@given(
    '{count:d} Agents SDK sessions "{session_id}" on the run\'s database, each with its own service'
)
def given_racing_sessions(context: Context, count: int, session_id: str) -> None:
    services = [AsyncPersistentSessionService.from_url(context.database_url) for _ in range(count)]
    for service in services:
        context.add_cleanup(lambda service=service: context.run_async(service.aclose()))
    context.racers = [CleverAgentsSession(session_id, service) for service in services]
    context.race_id = session_id


# --- When -------------------------------------------------------------------------------


@when("I add one item of every kind the SDK produces")
def when_add_every_kind(context: Context) -> None:
    context.run_async(context.agents_session.add_items(json.loads(json.dumps(EVERY_KIND_OF_ITEM))))


@when("I read the session's items with limit {limit:d}")
def when_read_limit(context: Context, limit: int) -> None:
    context.items = context.run_async(context.agents_session.get_items(limit))


@when("I read the session's items without a limit")
def when_read_default(context: Context) -> None:
    context.items = context.run_async(context.agents_session.get_items())


@when("I pop an item {count:d} times")
def when_pop(context: Context, count: int) -> None:
    context.popped = [context.run_async(context.agents_session.pop_item()) for _ in range(count)]


@when("I clear the session")
def when_clear(context: Context) -> None:
    context.run_async(context.agents_session.clear_session())


@when("I add item {number:d}")
def when_add_item(context: Context, number: int) -> None:
    context.run_async(context.agents_session.add_items([numbered_item(number)]))


@when("I read, pop and clear it")
def when_read_pop_clear(context: Context) -> None:
    session = context.agents_session
    context.found = [
        context.run_async(session.get_items()),
        context.run_async(session.get_items(3)),
        context.run_async(session.pop_item()),
        context.run_async(session.clear_session()),
    ]


@when("both add {count:d} items at the same moment")
def when_race(context: Context, count: int) -> None:
    async def race() -> list[Any]:
        return await asyncio.gather(
            *(
                racer.add_items([numbered_item(n) for n in range(count)])
                for racer in context.racers
            ),
            return_exceptions=True,
        )

    context.race_results = context.run_async(race())


def deeply_nested(levels: int) -> dict[str, Any]:
    item: dict[str, Any] = {"role": "user", "content": "bottom"}
    for _ in range(levels):
        item = {"type": "wrapper", "inner": item}
    return item


@when(
    'I add item {number:d} through an Agents SDK session "{session_id}" opened from the URL'
    " in an async with block"
)
def when_add_owned(context: Context, number: int, session_id: str) -> None:
    async def add() -> None:
        async with CleverAgentsSession.from_url(session_id, context.database_url) as session:
            await session.add_items([numbered_item(number)])

    context.run_async(add())


@when('I leave an async with block of an Agents SDK session "{session_id}" on the run\'s service')
def when_leave_shared(context: Context, session_id: str) -> None:
    async def leave() -> None:
        async with CleverAgentsSession(session_id, context.async_service):
            pass

    context.run_async(leave())


@then('the run\'s service still reads item {number:d} of "{session_id}"')
def then_service_open(context: Context, number: int, session_id: str) -> None:
    context.agents_session = CleverAgentsSession(session_id, context.async_service)
    context.items = context.run_async(context.agents_session.get_items())
    then_items(context, str(number))


BAD_ITEMS: dict[str, Any] = {
    "an item holding a Python object": {"role": "user", "content": "hi", "extra": object()},
    "an item holding a NaN": {"role": "user", "content": "hi", "score": math.nan},
    "a list instead of an item": ["role", "user"],
    "an item nested 100,000 levels deep": deeply_nested(100_000),
}


@when("I add a batch of a good item and {kind}")
def when_add_bad(context: Context, kind: str) -> None:
    batch = [numbered_item(7), BAD_ITEMS[kind]]
    capture(context, lambda: context.run_async(context.agents_session.add_items(batch)))


@when("I open an Agents SDK session with an id of {length:d} characters")
def when_open_long_id(context: Context, length: int) -> None:
    context.fingerprint = context.database_fingerprint()
    capture(context, lambda: CleverAgentsSession.from_url("x" * length, context.database_url))


# --- Then -------------------------------------------------------------------------------


@then("reading the session's items gives every item back equal as JSON, in order")
def then_every_kind_back(context: Context) -> None:
    items = context.run_async(context.agents_session.get_items())
    assert json.dumps(items, sort_keys=True) == json.dumps(EVERY_KIND_OF_ITEM, sort_keys=True), (
        items
    )


@then('reading the session\'s items gives exactly one item: role "{role}", content "{content}"')
def then_one_plain_item(context: Context, role: str, content: str) -> None:
    items = context.run_async(context.agents_session.get_items())
    assert items == [{"role": role, "content": content}], items


@then("I get items {expected}")
def then_items(context: Context, expected: str) -> None:
    assert item_numbers(context.items) == numbers(expected), context.items


@then("reading the session's items gives items {expected}")
def then_read_items(context: Context, expected: str) -> None:
    context.items = context.run_async(context.agents_session.get_items())
    then_items(context, expected)


@then("the pops gave items {first:d}, {second:d} and then nothing")
def then_pops(context: Context, first: int, second: int) -> None:
    assert context.popped[2] is None, context.popped
    assert item_numbers(context.popped[:2]) == [first, second], context.popped


@then("reading the session's items gives no items")
def then_no_items(context: Context) -> None:
    assert context.run_async(context.agents_session.get_items()) == []


@then("every call found nothing")
def then_found_nothing(context: Context) -> None:
    assert context.found == [[], [], None, None], context.found


@then("both calls succeeded")
def then_race_succeeded(context: Context) -> None:
    assert context.race_results == [None] * len(context.racers), context.race_results


@then('the library has exactly one session "{session_id}", holding all {count:d} items')
def then_one_session(context: Context, session_id: str, count: int) -> None:
    sessions = context.run_async(context.async_service.list(limit=10))
    assert [s.id for s in sessions] == [session_id], sessions
    items = context.run_async(context.racers[0].get_items())
    # Each writer's batch is one transaction: the two batches follow each other whole.
    assert item_numbers(items) == 2 * list(range(count // 2)), items


# --- The differential machine -------------------------------------------------------------

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=20)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
ITEMS = st.one_of(
    st.fixed_dictionaries(
        {"role": st.sampled_from(["user", "assistant", "system"]), "content": TEXT}
    ),
    st.fixed_dictionaries(
        {"type": st.just("function_call"), "call_id": TEXT, "name": TEXT, "arguments": TEXT}
    ),
    st.fixed_dictionaries(
        {"type": st.just("function_call_output"), "call_id": TEXT, "output": TEXT}
    ),
    st.fixed_dictionaries(
        {"type": st.just("reasoning"), "id": TEXT, "summary": st.lists(JSON_VALUES, max_size=2)}
    ),
    # Anything else, with odd roles and types among the keys now and then.
    st.dictionaries(
        st.sampled_from(["role", "type", "content", "id"]) | st.text(max_size=10),
        JSON_VALUES,
        max_size=4,
    ),
)
LIMITS = st.none() | st.integers(min_value=-3, max_value=8)


class AgainstSqliteSession(RuleBasedStateMachine):
    """The same calls on this store and on the SDK's SQLiteSession must answer the same."""

    context: Context
    examples = 0

    @initialize()
    def open_both(self) -> None:
        type(self).examples += 1
        session_id = f"differential-{os.getpid()}-{type(self).examples}"
        self.ours = CleverAgentsSession(session_id, self.context.async_service)
        self.theirs = SQLiteSession(session_id)

    def both(self, call: str, *arguments: Any) -> None:
        ours = self.context.run_async(getattr(self.ours, call)(*arguments))
        theirs = self.context.run_async(getattr(self.theirs, call)(*arguments))
        assert json.dumps(ours, sort_keys=True) == json.dumps(theirs, sort_keys=True), (
            ours,
            theirs,
        )

    @rule(items=st.lists(ITEMS, max_size=4))
    def add(self, items: list[dict[str, Any]]) -> None:
        self.both("add_items", items)

    @rule(limit=LIMITS)
    def get(self, limit: int | None) -> None:
        self.both("get_items", limit)

    @rule()
    def pop(self) -> None:
        self.both("pop_item")

    @rule()
    def clear(self) -> None:
        self.both("clear_session")

    def teardown(self) -> None:
        if hasattr(self, "theirs"):
            self.both("get_items")
            self.theirs.close()


@when(
    "a random sequence of add_items, get_items(limit), pop_item and clear_session runs on this"
    " store and on the SDK's SQLiteSession alike"
)
def when_differential(context: Context) -> None:
    AgainstSqliteSession.context = context
    AgainstSqliteSession.examples = 0
    run_state_machine_as_test(
        AgainstSqliteSession,
        settings=settings(
            max_examples=25,
            stateful_step_count=12,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


@then("every call gave the same result on both")
def then_differential(context: Context) -> None:
    assert AgainstSqliteSession.examples >= 12, AgainstSqliteSession.examples


# --- The Runner -----------------------------------------------------------------------------


def agent_turn() -> ModuleType:
    """The worker module, which holds the scripted model and the agent both sides use."""
    spec = importlib.util.spec_from_file_location("agent_turn_worker", WORKER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@when("the Runner runs a turn that calls a tool, with a scripted model and the session")
def when_first_turn(context: Context) -> None:
    worker = agent_turn()
    model = worker.RecordingModel(
        [
            [function_call("lookup_order", {"order": 1042}, call_id="call_1")],
            [assistant_message("Order 1042 has shipped.")],
        ]
    )
    session: Session = context.agents_session
    answer = context.run_async(worker.run_turn(session, model, "Where is order 1042?"))
    assert answer == "Order 1042 has shipped.", answer
    context.worker = worker


@when("the Runner runs a second turn with the session")
def when_second_turn(context: Context) -> None:
    model = context.worker.RecordingModel([[assistant_message("You are welcome.")]])
    context.run_async(context.worker.run_turn(context.agents_session, model, "Thanks!"))
    context.second_input = model.inputs[0]


def first_turn_shape(items: list[Any]) -> list[tuple[str, str]]:
    return [(item.get("type", "message"), item.get("role", "")) for item in items]


@then("the model's input on the second turn held the first turn's items, read from the database")
def then_second_input(context: Context) -> None:
    stored = context.run_async(
        context.async_service.get_messages(context.agents_session.session_id)
    )
    first_turn = [json.loads(message.content) for message in stored[:4]]
    assert first_turn_shape(first_turn) == [
        ("message", "user"),
        ("function_call", ""),
        ("function_call_output", ""),
        ("message", "assistant"),
    ], first_turn
    assert context.second_input[:4] == first_turn, context.second_input
    assert context.second_input[4] == {"role": "user", "content": "Thanks!"}, context.second_input


@then("a new process that opens the session on the database and runs a third turn sees them too")
def then_new_process(context: Context) -> None:
    environment = dict(os.environ)
    if "coverage" in sys.modules and sys.modules["coverage"].Coverage.current() is not None:
        environment["COVERAGE_PROCESS_START"] = os.path.abspath("pyproject.toml")
    completed = subprocess.run(
        [
            sys.executable,
            str(WORKER),
            context.database_url,
            context.agents_session.session_id,
            "Bye",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    third_input = json.loads(completed.stdout.strip().splitlines()[-1])
    history = context.run_async(context.agents_session.get_items())
    assert third_input[:6] == history[:6], (third_input, history)
    assert third_input[6] == {"role": "user", "content": "Bye"}, third_input
