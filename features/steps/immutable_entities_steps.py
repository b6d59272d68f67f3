"""Steps that try to change the values the service returns, which are frozen dataclasses."""

from __future__ import annotations

import ast
import dataclasses
from typing import Any

from behave import then, when
from behave.runner import Context

from cleveragents.application.services import ImportLimits
from cleveragents.domain import NewMessage
from cleveragents.domain.scoped_state import ScopedState, UserSession


def returned_value(context: Context, entity: str) -> Any:
    """The value of that kind the service returns for the scenario's session."""
    service, session_id = context.service, context.session.id
    session = service.get(session_id)
    values = {
        "session": lambda: session,
        "message": lambda: service.get_messages(session_id)[0],
        "token usage": lambda: session.token_usage,
        "actor statistics": lambda: service.statistics()[0],
        "new message": lambda: NewMessage("user", "as built"),
        "scoped state": lambda: ScopedState(user={"tier": "gold"}),
        "import limits": lambda: ImportLimits(max_messages=5),
        "user session": lambda: UserSession(
            session=session, user_id="ann", state=ScopedState(), messages=[]
        ),
    }
    return values[entity]()


@when("I assign {value} to the field {field} of the returned {entity}")
def when_assign(context: Context, value: str, field: str, entity: str) -> None:
    context.fingerprint = context.database_fingerprint()
    target = returned_value(context, entity)
    before = getattr(target, field)
    context.assignment_error = None
    try:
        setattr(target, field, ast.literal_eval(value))
    except dataclasses.FrozenInstanceError as error:
        context.assignment_error = error
    context.field_after = (before, getattr(target, field))


@then("the assignment is refused as a change to a frozen value")
def then_assignment_refused(context: Context) -> None:
    assert context.assignment_error is not None, "the field was changed in place"
    before, after = context.field_after
    assert before == after, f"the field changed from {before!r} to {after!r}"


@then("the returned {entity} has slots for its fields and no attribute dictionary")
def then_slots(context: Context, entity: str) -> None:
    value = returned_value(context, entity)
    fields = {field.name for field in dataclasses.fields(value)}
    assert set(type(value).__slots__) == fields, type(value).__slots__
    assert not hasattr(value, "__dict__"), vars(value)
