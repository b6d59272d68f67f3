"""Database calls on the event loop itself, through a driver's asyncio mode."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy.util import await_only, greenlet_spawn

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

R = TypeVar("R")


class AsyncDriverRunner:
    """Runs each call in a greenlet over an asyncio engine: wherever the synchronous code
    waits for the database, the greenlet hands the loop back until the driver's answer comes.

    The repositories run unchanged, and the waiting costs no thread.
    """

    def __init__(self, engine: AsyncEngine, *, owns_engine: bool) -> None:
        self._engine = engine
        self._owns_engine = owns_engine

    async def run(self, call: Callable[[], R], /) -> R:
        return await greenlet_spawn(call)

    async def aclose(self) -> None:
        if self._owns_engine:
            await self._engine.dispose()


def pause_on_loop(seconds: float) -> None:
    """Sleep before a retry inside a call of :class:`AsyncDriverRunner`, serving other tasks
    meanwhile (``time.sleep`` there would stop the whole event loop)."""
    await_only(asyncio.sleep(seconds))
