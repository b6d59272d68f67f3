"""The async service the framework stores run on, a loop for steps to drive it with, and
checks of what the stores left in the library, which every framework's scenarios share."""

from __future__ import annotations

import asyncio

from behave import given, then
from behave.runner import Context

from cleveragents.application.services import AsyncPersistentSessionService


@given("the async service on the run's database")
def given_async_service(context: Context) -> None:
    runner = asyncio.Runner()
    context.add_cleanup(runner.close)
    context.run_async = runner.run
    context.async_service = AsyncPersistentSessionService.from_url(context.database_url)
    context.add_cleanup(lambda: runner.run(context.async_service.aclose()))
    context.fingerprint = context.database_fingerprint()


@then(
    'the library session "{session_id}" is owned by "{actor}" and holds messages with roles {roles}'
)
def then_library_view(context: Context, session_id: str, actor: str, roles: str) -> None:
    session = context.run_async(context.async_service.get(session_id))
    assert session is not None and session.actor_name == actor, session
    messages = context.run_async(context.async_service.get_messages(session_id))
    assert [m.role for m in messages] == roles.split(", "), [m.role for m in messages]


@then('the library session "{session_id}" has {count:d} messages')
@then('the library session "{session_id}" has {count:d} message, at sequence 0')
def then_library_count(context: Context, session_id: str, count: int) -> None:
    session = context.run_async(context.async_service.get(session_id))
    assert session is not None and session.message_count == count, session
    messages = context.run_async(context.async_service.get_messages(session_id))
    assert [m.sequence for m in messages] == list(range(count)), messages
