"""What every async facade shares: a synchronous service opened lazily through a runner, and
calls that run to their end even when their waiter is cancelled."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, Protocol, Self, TypeVar

from cleveragents.application.services.blocking_calls import BlockingCallRunner
from cleveragents.domain.errors import DatabaseUnavailableError

P = ParamSpec("P")
R = TypeVar("R")


class ClosableService(Protocol):
    """A synchronous service that holds pooled connections until it is closed."""

    def close(self) -> None: ...


S = TypeVar("S", bound=ClosableService)


class AsyncFacade(Generic[S]):
    """Runs the methods of a synchronous service ``S`` through a :class:`BlockingCallRunner`.

    The service opens at ``async with`` or the first call (opening checks the schema in the
    database, so it runs through the runner too). Each call runs as a task of its own: a
    cancelled waiter stops waiting, never the work, so a write lands whole or not at all.
    Use one facade from one event loop.
    """

    def __init__(self, open_service: Callable[[], S], runner: BlockingCallRunner) -> None:
        """``open_service`` builds the synchronous service; it runs through ``runner`` at the
        first call."""
        self._open_service = open_service
        self._runner = runner
        self._opening: asyncio.Future[S] | None = None
        self._running: set[asyncio.Future[Any]] = set()
        self._closed = False

    async def __aenter__(self) -> Self:
        await self._service()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Wait for the calls still running, then release the connections and the runner."""
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

    async def _service(self) -> S:
        if self._opening is None:
            self._opening = self._start(self._open_service)
        return await asyncio.shield(self._opening)

    async def _call(self, call: Callable[[S], R]) -> R:
        """Run one service call to its end, even when the awaiting task is cancelled."""
        service = await self._service()
        return await asyncio.shield(self._start(lambda: call(service)))


def forwarded(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[AsyncFacade[S], P], Coroutine[Any, Any, R]]:
    """The coroutine that runs ``method`` of the synchronous service: one implementation of
    every rule, whichever facade the caller uses."""

    async def forward(self: AsyncFacade[S], /, *args: P.args, **kwargs: P.kwargs) -> R:
        return await self._call(lambda service: method(service, *args, **kwargs))

    functools.update_wrapper(forward, method)  # the signature, as inspect and help() show it
    forward.__qualname__ = f"Async{method.__qualname__}"
    return forward
