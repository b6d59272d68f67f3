"""Steps for the Google ADK session stores, ours and ADK's own, driven side by side.

Each scenario gets one store and one event loop; ADK's stores are fresh (a new in-memory
service, a new SQLite file), ours uses the run's database, emptied before every scenario.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any

from behave import given, then, when
from behave.runner import Context
from google.adk.errors import StaleSessionError
from google.adk.errors.already_exists_error import AlreadyExistsError
from google.adk.errors.session_not_found_error import (
    SessionNotFoundError as AdkSessionNotFoundError,
)
from google.adk.events import Event, EventActions
from google.adk.sessions import BaseSessionService, DatabaseSessionService, Session
from google.adk.sessions.base_session_service import GetSessionConfig
from google.adk.sessions.in_memory_session_service import InMemorySessionService
from google.genai import types

from cleveragents.domain import SessionPersistenceError
from cleveragents.integrations.adk import CleverAgentsSessionService

FAILURES = (AlreadyExistsError, StaleSessionError, AdkSessionNotFoundError, SessionPersistenceError)


def run(context: Context, call: Coroutine[Any, Any, Any]) -> Any:
    return context.adk_loop.run_until_complete(call)


def attempt(context: Context, call: Coroutine[Any, Any, Any]) -> None:
    """Run a call expected to fail, with the store's contents noted before it."""
    context.adk_before = store_contents(context)
    context.fingerprint = context.database_fingerprint()
    context.error = None
    try:
        run(context, call)
    except FAILURES as error:
        context.error = error


def open_store(context: Context, name: str) -> BaseSessionService:
    if name == "in-memory":
        return InMemorySessionService()
    if name == "adk-database":
        path = f"{context.work_directory}/adk-{id(context.scenario)}.db"
        store = DatabaseSessionService(db_url=f"sqlite+aiosqlite:///{path}")
        return store
    assert name == "cleveragents", name
    return CleverAgentsSessionService(context.database_url)


@given('the ADK session store "{name}"')
def given_store(context: Context, name: str) -> None:
    context.adk_loop = asyncio.new_event_loop()
    context.adk_store_name = name
    context.adk = open_store(context, name)
    context.adk_apps = set()
    context.adk_sessions = {}
    context.adk_ids = {}
    context.adk_events = {}

    def close() -> None:
        closer = getattr(context.adk, "close", None)
        if closer is not None:
            run(context, closer())
        context.adk_loop.close()

    context.add_cleanup(close)


def create(context: Context, label: str, app: str, user: str, state: str) -> Session:
    session_id = None if label is None else label
    context.adk_apps.add(app)
    return run(
        context,
        context.adk.create_session(
            app_name=app, user_id=user, state=json.loads(state), session_id=session_id
        ),
    )


@given('ADK session "{label}" for app "{app}" and user "{user}" with state {state}')
@when('I create ADK session "{label}" for app "{app}" and user "{user}" with state {state}')
def given_session(context: Context, label: str, app: str, user: str, state: str) -> None:
    context.adk_sessions[label] = create(context, label, app, user, state)
    context.adk_events[label] = []


@when('I try to create ADK session "{label}" for app "{app}" and user "{user}" with state {state}')
def when_try_create(context: Context, label: str, app: str, user: str, state: str) -> None:
    context.adk_apps.add(app)
    attempt(
        context,
        context.adk.create_session(
            app_name=app, user_id=user, state=json.loads(state), session_id=label
        ),
    )


@when('I create an ADK session for app "{app}" and user "{user}" without an id')
def when_create_without_id(context: Context, app: str, user: str) -> None:
    context.adk_apps.add(app)
    context.created = run(context, context.adk.create_session(app_name=app, user_id=user))


@given('a second copy "{copy}" of ADK session "{label}" of app "{app}" and user "{user}"')
def given_copy(context: Context, copy: str, label: str, app: str, user: str) -> None:
    context.adk_sessions[copy] = get(context, label, app, user)
    context.adk_sessions[label] = get(context, label, app, user)


def get(
    context: Context, label: str, app: str, user: str, config: GetSessionConfig | None = None
) -> Session | None:
    return run(
        context,
        context.adk.get_session(app_name=app, user_id=user, session_id=label, config=config),
    )


def event(timestamp: float | None = None, **fields: Any) -> Event:
    extra = {} if timestamp is None else {"timestamp": timestamp}
    return Event(author="shop_agent", invocation_id="turn-1", **extra, **fields)


def append(context: Context, label: str, new: Event) -> None:
    run(context, context.adk.append_event(context.adk_sessions[label], new))
    context.adk_events[label].append(new)


@when('I append to "{label}" an event with state delta {delta}')
def when_append_delta(context: Context, label: str, delta: str) -> None:
    append(context, label, event(actions=EventActions(state_delta=json.loads(delta))))


@when('I try to append to "{label}" an event with state delta {delta}')
def when_try_append_delta(context: Context, label: str, delta: str) -> None:
    new = event(actions=EventActions(state_delta=json.loads(delta)))
    attempt(context, context.adk.append_event(context.adk_sessions[label], new))


UNSTORABLE_DELTAS = {
    "a 300-character key": {"k" * 300: 1},
    "a NUL in a user: key": {"user:a\x00b": 1},
}


@when('I try to append to "{label}" an event whose state delta has {problem}')
def when_try_append_unstorable(context: Context, label: str, problem: str) -> None:
    new = event(actions=EventActions(state_delta=UNSTORABLE_DELTAS[problem]))
    attempt(context, context.adk.append_event(context.adk_sessions[label], new))


@when('I append to "{label}" a partial event with state delta {delta}')
def when_append_partial(context: Context, label: str, delta: str) -> None:
    partial = event(partial=True, actions=EventActions(state_delta=json.loads(delta)))
    run(context, context.adk.append_event(context.adk_sessions[label], partial))


@when('I append to "{label}" events at times {times}')
def when_append_at(context: Context, label: str, times: str) -> None:
    for timestamp in times.split(", "):
        text = types.Content(role="model", parts=[types.Part(text=f"at {timestamp}")])
        append(context, label, event(float(timestamp), content=text))


def fully_populated_event() -> Event:
    """An event using most of what ADK's Event can carry, bytes included."""
    return event(
        content=types.Content(
            role="model",
            parts=[
                types.Part(text="Here is the receipt \u00e9 😀"),
                types.Part(inline_data=types.Blob(mime_type="image/png", data=bytes(range(256)))),
                types.Part(
                    function_call=types.FunctionCall(
                        id="call-1", name="lookup_order", args={"order": 42, "deep": {"x": [1]}}
                    )
                ),
                types.Part(
                    function_response=types.FunctionResponse(
                        id="call-1", name="lookup_order", response={"status": "shipped"}
                    )
                ),
            ],
        ),
        actions=EventActions(
            state_delta={"order": 42, "user:last_order": 42},
            artifact_delta={"receipt.png": 1},
            transfer_to_agent="billing_agent",
            escalate=False,
            skip_summarization=True,
        ),
        branch="shop_agent.billing_agent",
        long_running_tool_ids={"call-1"},
        custom_metadata={"trace": {"span": "abc"}, "bytes_as_list": [0, 255]},
        usage_metadata=types.GenerateContentResponseUsageMetadata(
            prompt_token_count=120, candidates_token_count=30, total_token_count=150
        ),
        turn_complete=True,
        finish_reason=types.FinishReason.STOP,
        model_version="scripted-1",
        error_code=None,
        interrupted=False,
    )


@when('I append to "{label}" a fully populated event holding bytes')
def when_append_full(context: Context, label: str) -> None:
    append(context, label, fully_populated_event())


@when('I delete ADK session "{label}" of app "{app}" and user "{user}"')
def when_delete(context: Context, label: str, app: str, user: str) -> None:
    run(context, context.adk.delete_session(app_name=app, user_id=user, session_id=label))


def store_contents(context: Context) -> list[Any]:
    """Every session of every app seen, with its state and events, and each user's state."""
    contents: list[Any] = []
    for app in sorted(context.adk_apps):
        listed = run(context, context.adk.list_sessions(app_name=app)).sessions
        for found in sorted(listed, key=lambda session: session.id):
            full = get(context, found.id, app, found.user_id)
            contents.append(full.model_dump(mode="json", exclude={"last_update_time"}))
            user_state = run(
                context, context.adk.get_user_state(app_name=app, user_id=found.user_id)
            )
            contents.append(user_state)
    return contents


@then("the ADK store is unchanged")
def then_store_unchanged(context: Context) -> None:
    now = store_contents(context)
    assert now == context.adk_before, f"before {context.adk_before}\nafter {now}"
    if context.adk_store_name == "cleveragents":
        assert context.database_fingerprint() == context.fingerprint


@then("the ADK call fails with {error_name}")
def then_adk_fails(context: Context, error_name: str) -> None:
    assert context.error is not None, "the call did not fail"
    assert type(context.error).__name__ == error_name, repr(context.error)


@then('ADK session "{label}" of app "{app}" and user "{user}" has state {state}')
def then_state(context: Context, label: str, app: str, user: str, state: str) -> None:
    found = get(context, label, app, user)
    assert found is not None, f"{label} not found"
    assert found.state == json.loads(state), found.state


@then('the created session "{label}" shows state {state}')
def then_created_state(context: Context, label: str, state: str) -> None:
    assert context.adk_sessions[label].state == json.loads(state), context.adk_sessions[label]


@then('the session object "{label}" has state {state}')
def then_object_state(context: Context, label: str, state: str) -> None:
    assert context.adk_sessions[label].state == json.loads(state), context.adk_sessions[label]


@then('ADK session "{label}" of app "{app}" and user "{user}" has no events')
def then_no_events(context: Context, label: str, app: str, user: str) -> None:
    found = get(context, label, app, user)
    assert found is not None and found.events == [], found


@then('the created session has a non-empty id that gets it back for app "{app}" and user "{user}"')
def then_generated_id(context: Context, app: str, user: str) -> None:
    assert context.created.id.strip(), repr(context.created.id)
    found = get(context, context.created.id, app, user)
    assert found is not None and found.id == context.created.id, found


@then('getting ADK session "{label}" for app "{app}" and user "{user}" gives nothing')
def then_nothing(context: Context, label: str, app: str, user: str) -> None:
    found = get(context, label, app, user)
    assert found is None, found


@then('the user state of app "{app}" and user "{user}" is {state}')
def then_user_state(context: Context, app: str, user: str, state: str) -> None:
    found = run(context, context.adk.get_user_state(app_name=app, user_id=user))
    assert found == json.loads(state), found


@then('the stored event of "{label}" carries state delta {delta}')
def then_stored_delta(context: Context, label: str, delta: str) -> None:
    session = context.adk_sessions[label]
    (stored,) = get(context, label, session.app_name, session.user_id).events
    assert stored.actions.state_delta == json.loads(delta), stored.actions.state_delta


@then('ADK session "{label}" of app "{app}" and user "{user}" has events equal to those appended')
def then_events_equal(context: Context, label: str, app: str, user: str) -> None:
    found = get(context, label, app, user)
    appended = context.adk_events[label]
    assert found.events == appended, f"stored {found.events}\nappended {appended}"
    stored_json = [each.model_dump_json() for each in found.events]
    assert stored_json == [each.model_dump_json() for each in appended]


@then('the session object "{label}" has last_update_time {moment:g}')
def then_object_updated(context: Context, label: str, moment: float) -> None:
    seen = context.adk_sessions[label].last_update_time
    assert abs(seen - moment) < 1e-6, seen


@then('ADK session "{label}" of app "{app}" and user "{user}" has last_update_time {moment:g}')
def then_stored_updated(context: Context, label: str, app: str, user: str, moment: float) -> None:
    seen = get(context, label, app, user).last_update_time
    assert abs(seen - moment) < 1e-6, seen


def window(context: Context, label: str, config: GetSessionConfig) -> list[float]:
    session = context.adk_sessions[label]
    found = get(context, label, session.app_name, session.user_id, config)
    return [each.timestamp for each in found.events]


@then('ADK session "{label}" with the {count:d} most recent events has the events at {times}')
def then_recent(context: Context, label: str, count: int, times: str) -> None:
    seen = window(context, label, GetSessionConfig(num_recent_events=count))
    assert seen == [float(each) for each in times.split(", ")], seen


@then('ADK session "{label}" with the {count:d} most recent events has no events')
def then_recent_none(context: Context, label: str, count: int) -> None:
    seen = window(context, label, GetSessionConfig(num_recent_events=count))
    assert seen == [], seen


@then('ADK session "{label}" with events after {moment:g} has the events at {times}')
def then_after(context: Context, label: str, moment: float, times: str) -> None:
    seen = window(context, label, GetSessionConfig(after_timestamp=moment))
    assert seen == [float(each) for each in times.split(", ")], seen


@then('ADK session "{label}" of app "{app}" and user "{user}" has {count:d} events in append order')
def then_append_order(context: Context, label: str, app: str, user: str, count: int) -> None:
    found = get(context, label, app, user)
    seen = [each.id for each in found.events]
    assert seen == [each.id for each in context.adk_events[label]], seen
    assert len(seen) == count


@then('ADK session "{label}" of app "{app}" and user "{user}" holds the {count:d} events appended')
def then_holds_events(context: Context, label: str, app: str, user: str, count: int) -> None:
    found = get(context, label, app, user)
    seen = sorted(each.id for each in found.events)
    assert seen == sorted(each.id for each in context.adk_events[label]), seen
    assert len(seen) == count


def listed(context: Context, app: str, user: str | None) -> list[Session]:
    response = run(context, context.adk.list_sessions(app_name=app, user_id=user))
    return list(response.sessions)


def labels(text: str) -> list[str]:
    return [part.strip().strip('"') for part in text.split(",")]


@then('listing app "{app}" for user "{user}" gives {expected} without events')
def then_user_listing(context: Context, app: str, user: str, expected: str) -> None:
    found = listed(context, app, user)
    assert [each.id for each in found] == labels(expected), [each.id for each in found]
    assert all(each.events == [] and each.user_id == user for each in found)


@then('listing app "{app}" gives {expected} without events')
def then_listing(context: Context, app: str, expected: str) -> None:
    found = listed(context, app, None)
    assert [each.id for each in found] == labels(expected), [each.id for each in found]
    assert all(each.events == [] for each in found)
    context.listed = {each.id: each for each in found}


@then('listing app "{app}" for user "{user}" gives nothing')
def then_user_listing_empty(context: Context, app: str, user: str) -> None:
    assert listed(context, app, user) == []


@then('the listed session "{label}" has state {state}')
def then_listed_state(context: Context, label: str, state: str) -> None:
    assert context.listed[label].state == json.loads(state), context.listed[label].state


@when('the library\'s own service appends the plain message "{text}" to session "{label}"')
def when_plain_message(context: Context, text: str, label: str) -> None:
    context.service.append_message(label, "user", text)


@then('getting ADK session "{label}" of "{app}" fails with {error_name} mentioning "{text}"')
def then_get_fails(context: Context, label: str, app: str, error_name: str, text: str) -> None:
    try:
        get(context, label, app, context.adk_sessions[label].user_id)
    except SessionPersistenceError as error:
        assert type(error).__name__ == error_name and text in str(error), repr(error)
    else:
        raise AssertionError("get_session did not fail")


@when('I append to "{label}" an event without an author')
def when_append_anonymous(context: Context, label: str) -> None:
    append(context, label, Event(author="", invocation_id="turn-1"))


@then('the library\'s own service shows session "{label}" with one message of role "{role}"')
def then_plain_role(context: Context, label: str, role: str) -> None:
    (message,) = context.service.get_messages(label)
    assert message.role == role, message
