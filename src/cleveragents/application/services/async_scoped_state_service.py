"""User-owned sessions with scoped state, for asyncio runtimes: the same use cases as
:class:`ScopedStateService`, run as :class:`AsyncPersistentSessionService` runs its calls."""

from __future__ import annotations

from typing import Self

from cleveragents.application.services.async_facade import AsyncFacade, forwarded
from cleveragents.application.services.scoped_state_service import ScopedStateService
from cleveragents.infrastructure.database import RetryPolicy, async_access_for_url


class AsyncScopedStateService(AsyncFacade[ScopedStateService]):
    """:class:`ScopedStateService` as coroutines, never blocking the event loop.

    PostgreSQL (``postgresql+psycopg``) is driven through psycopg's asyncio mode on the loop,
    SQLite and MySQL/MariaDB from worker threads; a call whose waiter is cancelled still runs
    to its end. Opening (``async with`` or the first call) checks the schema.
    """

    @classmethod
    def from_url(
        cls,
        url: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        schema: str | None = None,
    ) -> Self:
        """A service on ``url`` (default: ``CLEVERAGENTS_DATABASE_URL`` or the embedded SQLite
        file), in ``schema`` on PostgreSQL when given."""
        access = async_access_for_url(url, retry_policy=retry_policy, schema=schema)
        return cls(lambda: ScopedStateService(access.open_database()), access.runner)

    create = forwarded(ScopedStateService.create)
    append = forwarded(ScopedStateService.append)
    get = forwarded(ScopedStateService.get)
    list = forwarded(ScopedStateService.list)
    delete = forwarded(ScopedStateService.delete)
    user_state = forwarded(ScopedStateService.user_state)
