"""An event loop on a thread of its own, so synchronous callers can run coroutines anywhere."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

Result = TypeVar("Result")


class EventLoopThread:
    """Runs coroutines for synchronous code, even code called from inside a running loop.

    ``asyncio.run`` refuses to start inside a running loop, and waiting there for a task of
    that same loop would deadlock; a loop on a daemon thread of its own does the work while
    the caller waits. The thread starts on first use, so asynchronous users never pay for it.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()

    def run(self, coroutine: Coroutine[Any, Any, Result]) -> Result:
        """Run ``coroutine`` on the thread's loop and return its result (or raise its error)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._started()).result()

    def _started(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                threading.Thread(target=loop.run_forever, name=self._name, daemon=True).start()
                self._loop = loop
            return self._loop
