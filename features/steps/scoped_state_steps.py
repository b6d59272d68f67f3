"""Steps for ScopedStateService: sessions owned by a user, with state at three scopes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from behave import given, then, when
from behave.runner import Context

from cleveragents.application.services.scoped_state_service import ScopedStateService
from cleveragents.domain import NewMessage, SessionPersistenceError
from cleveragents.domain.scoped_state import ScopedState
from cleveragents.infrastructure.database import Database


def scoped(context: Context) -> ScopedStateService:
    if not hasattr(context, "scoped"):
        database = Database.from_url(context.database_url)
        context.add_cleanup(database.dispose)
        context.scoped = ScopedStateService(database)
    return context.scoped


@given(
    'a scoped session "{session_id}" of actor "{actor}" and user "{user}" with actor state {state}'
)
def given_scoped_session(
    context: Context, session_id: str, actor: str, user: str, state: str
) -> None:
    scoped(context).create(
        actor, user_id=user, session_id=session_id, state=ScopedState(actor=json.loads(state))
    )


@when(
    'I append to scoped session "{session_id}" a message changing user state {user} '
    "and session state {own}"
)
def when_scoped_append(context: Context, session_id: str, user: str, own: str) -> None:
    found = scoped(context).get(session_id, last=0)
    assert found is not None
    scoped(context).append(
        session_id,
        NewMessage("agent", "changed state"),
        actor_name=found.session.actor_name,
        user_id=found.user_id,
        delta=ScopedState(user=json.loads(user), session=json.loads(own)),
    )


@then(
    'scoped session "{session_id}" has actor state {actor}, user state {user} '
    "and session state {own}"
)
def then_scoped_state(context: Context, session_id: str, actor: str, user: str, own: str) -> None:
    found = scoped(context).get(session_id)
    assert found is not None
    seen = (dict(found.state.actor), dict(found.state.user), dict(found.state.session))
    assert seen == (json.loads(actor), json.loads(user), json.loads(own)), seen


BAD_STATES: dict[str, tuple[str, ScopedState]] = {
    "a value that is not JSON": ("ann", ScopedState(session={"tags": {1, 2}})),
    "a user state that is a list": ("ann", ScopedState(user=["tier"])),  # type: ignore[arg-type]
    "a blank user id": (" ", ScopedState()),
    "a number JSON cannot carry": ("ann", ScopedState(user={"score": float("nan")})),
}


def bad_call(context: Context, call: str, problem: str) -> Any:
    service = scoped(context)
    if call == "read scoped session a1":
        return lambda: service.get("a1", since=datetime(2026, 1, 1))
    user, state = BAD_STATES[problem]
    if call == "create a scoped session":
        return lambda: service.create("shop", user_id=user, session_id="new", state=state)
    return lambda: service.append(
        "a1", NewMessage("agent", "x"), actor_name="shop", user_id=user, delta=state
    )


@when('I try the scoped call "{call}" with {problem}')
def when_try_scoped(context: Context, call: str, problem: str) -> None:
    attempt = bad_call(context, call, problem)
    context.fingerprint = context.database_fingerprint()
    context.error = None
    try:
        attempt()
    except SessionPersistenceError as error:
        context.error = error
