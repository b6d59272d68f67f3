"""Steps for ScopedStateService: sessions owned by a user, with state at three scopes."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from behave import given, then, when
from behave.runner import Context
from sqlalchemy import event

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


# --- Listings on tables without statistics (PostgreSQL) --------------------------------


@given(
    '{count:d} scoped sessions of actor "{actor}" and user "{user}" in that schema, '
    "each with its own state"
)
def given_sessions_in_schema(context: Context, count: int, actor: str, user: str) -> None:
    database = Database.from_url(context.database_url, schema=context.schema)
    context.add_cleanup(database.dispose)
    context.schema_database = database
    context.schema_service = service = ScopedStateService(database)
    for number in range(count):
        service.create(actor, user_id=user, state=ScopedState(session={"number": number}))


@when(
    'the scoped sessions of actor "{actor}" in that schema are listed for user "{user}" '
    "and for all users"
)
def when_list_in_schema(context: Context, actor: str, user: str) -> None:
    database = context.schema_database
    context.listing_statements = statements = []

    def seen(_connection: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        statements.append((statement, parameters))

    event.listen(database.engine, "before_cursor_execute", seen)
    try:
        service = context.schema_service
        context.listings = [service.list(actor, user_id=user), service.list(actor)]
    finally:
        event.remove(database.engine, "before_cursor_execute", seen)


@then("both listings hold the {count:d} sessions, each with its own state")
def then_listings_hold(context: Context, count: int) -> None:
    for listing in context.listings:
        numbers = sorted(found.state.session["number"] for found in listing)
        assert numbers == list(range(count)), numbers[:10]


@then("no statement of either listing is planned as a join comparing every row with every row")
def then_no_quadratic_join(context: Context) -> None:
    # The sessions and their state, for one user and for all: the statements with joins.
    selects = [(sql, params) for sql, params in context.listing_statements if "JOIN" in sql]
    assert len(selects) == 4, context.listing_statements
    with context.schema_database.engine.connect() as connection:
        for sql, parameters in selects:
            plan = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {sql}", parameters).scalar()
            filtered = [node for node in plan_nodes(plan[0]["Plan"]) if "Join Filter" in node]
            assert not filtered, f"{sql}\nis planned with a join filter: {filtered}"


def plan_nodes(node: dict[str, Any]) -> list[dict[str, Any]]:
    """A plan node and every node under it."""
    return [node, *(each for child in node.get("Plans", []) for each in plan_nodes(child))]
