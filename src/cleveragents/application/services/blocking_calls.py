"""The port through which the async facade runs the synchronous service off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, TypeVar

R = TypeVar("R")


class BlockingCallRunner(Protocol):
    """Runs a blocking call so that the event loop keeps serving other tasks meanwhile.

    Implementations choose how: a worker thread, or a greenlet whose database driver waits
    on the loop itself. Calls from one service may run concurrently.
    """

    async def run(self, call: Callable[[], R], /) -> R:
        """Run ``call`` and give its result or raise its error."""
        ...

    async def aclose(self) -> None:
        """Release what the runner holds; no call is started afterwards."""
        ...
