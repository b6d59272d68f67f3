"""The async service the framework stores run on, and a loop for steps to drive it with."""

from __future__ import annotations

import asyncio

from behave import given
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
