"""The session service for asyncio runtimes, over the same rules and repositories as the
synchronous one."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, Self, TypeVar

from cleveragents.application.services.blocking_calls import BlockingCallRunner
from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)
from cleveragents.domain.async_session_service import AsyncSessionService
from cleveragents.domain.errors import DatabaseUnavailableError
from cleveragents.infrastructure.database import (
    AsyncDatabaseAccess,
    Engine,
    RetryPolicy,
    SessionFactory,
    async_access_for_engine,
    async_access_for_sessionmaker,
    async_access_for_url,
)

if TYPE_CHECKING:
    from cleveragents.infrastructure.database import AsyncEngine, AsyncSessionFactory

P = ParamSpec("P")
R = TypeVar("R")


def _forwarded(
    method: Callable[Concatenate[PersistentSessionService, P], R],
) -> Callable[Concatenate[AsyncPersistentSessionService, P], Coroutine[Any, Any, R]]:
    """The coroutine that runs ``method`` of the synchronous service: one implementation of
    every rule, whichever facade the caller uses."""

    async def forward(
        self: AsyncPersistentSessionService, /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        return await self._call(lambda service: method(service, *args, **kwargs))

    functools.update_wrapper(forward, method)  # the signature, as inspect and help() show it
    forward.__qualname__ = f"AsyncPersistentSessionService.{method.__name__}"
    return forward


class AsyncPersistentSessionService(AsyncSessionService):
    """:class:`AsyncSessionService` on SQLite, PostgreSQL or MariaDB.

    Every call runs the synchronous :class:`PersistentSessionService` (the same checks,
    transactions, retries and export format) through a :class:`BlockingCallRunner`, so the
    event loop is never blocked. The service opens lazily: ``async with`` (or the first
    call) checks the schema and raises :class:`SchemaOutOfDateError` when it is behind.
    Use one service from one event loop.
    """

    def __init__(
        self,
        open_service: Callable[[], PersistentSessionService],
        runner: BlockingCallRunner,
    ) -> None:
        """``open_service`` builds the synchronous service; it runs through ``runner`` at the
        first call, since opening checks the schema in the database."""
        self._open_service = open_service
        self._runner = runner
        self._opening: asyncio.Future[PersistentSessionService] | None = None
        self._running: set[asyncio.Future[Any]] = set()
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on ``url``, as :meth:`PersistentSessionService.from_url` opens one.

        A ``postgresql+psycopg`` URL is driven through psycopg's asyncio mode on the event
        loop itself; SQLite and MySQL/MariaDB URLs through worker threads of the service's
        own.
        """
        access = async_access_for_url(url, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def from_engine(
        cls,
        engine: Engine | AsyncEngine,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on the caller's engine, as :meth:`PersistentSessionService.from_engine`
        opens one; ``aclose()`` leaves the engine to its owner. An ``AsyncEngine`` is
        driven on the event loop, a plain ``Engine`` from worker threads."""
        access = async_access_for_engine(engine, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def from_sessionmaker(
        cls,
        factory: SessionFactory | AsyncSessionFactory,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on the engine the caller's ``sessionmaker`` or ``async_sessionmaker``
        is bound to."""
        access = async_access_for_sessionmaker(factory, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def _over(
        cls,
        access: AsyncDatabaseAccess,
        *,
        import_limits: ImportLimits | None,
        purge_batch_size: int,
    ) -> Self:
        return cls(
            lambda: PersistentSessionService(
                access.open_database(),
                import_limits=import_limits,
                purge_batch_size=purge_batch_size,
            ),
            access.runner,
        )

    async def __aenter__(self) -> Self:
        await self._service()
        return self

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*self._running, return_exceptions=True)
        opened = self._opening
        if opened is not None and not opened.cancelled() and opened.exception() is None:
            await self._runner.run(opened.result().close)
        await self._runner.aclose()

    def _start(self, call: Callable[[], R]) -> asyncio.Future[R]:
        """Run ``call`` as a task of its own, so cancelling its waiter cannot interrupt it."""
        if self._closed:
            raise DatabaseUnavailableError("the session service is closed")
        task = asyncio.ensure_future(self._runner.run(call))
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here, so an abandoned call's error is not logged
        if task is self._opening and (task.cancelled() or task.exception()):
            self._opening = None  # the next call tries again (the schema may be upgraded)

    async def _service(self) -> PersistentSessionService:
        if self._opening is None:
            self._opening = self._start(self._open_service)
        return await asyncio.shield(self._opening)

    async def _call(self, call: Callable[[PersistentSessionService], R]) -> R:
        """Run one service call to its end, even when the awaiting task is cancelled."""
        service = await self._service()
        return await asyncio.shield(self._start(lambda: call(service)))

    create = _forwarded(PersistentSessionService.create)
    get = _forwarded(PersistentSessionService.get)
    list = _forwarded(PersistentSessionService.list)
    delete = _forwarded(PersistentSessionService.delete)
    append_message = _forwarded(PersistentSessionService.append_message)
    append_messages = _forwarded(PersistentSessionService.append_messages)
    pop_last_message = _forwarded(PersistentSessionService.pop_last_message)
    clear_messages = _forwarded(PersistentSessionService.clear_messages)
    get_messages = _forwarded(PersistentSessionService.get_messages)
    export_session = _forwarded(PersistentSessionService.export_session)
    import_session = _forwarded(PersistentSessionService.import_session)
    export_session_to_file = _forwarded(PersistentSessionService.export_session_to_file)
    import_session_from_file = _forwarded(PersistentSessionService.import_session_from_file)
    update_token_usage = _forwarded(PersistentSessionService.update_token_usage)
    purge_sessions = _forwarded(PersistentSessionService.purge_sessions)
    statistics = _forwarded(PersistentSessionService.statistics)
