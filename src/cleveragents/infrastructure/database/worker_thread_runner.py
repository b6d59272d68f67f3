"""Blocking database calls on worker threads, for drivers that only block (SQLite, PyMySQL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")

# Enough threads to keep the library's connection pool (15 connections) busy without a
# thread per waiting task.
WORKER_THREADS = 16


class WorkerThreadRunner:
    """Runs each call on one of the service's own worker threads.

    A pool of its own keeps a burst of database calls from starving the loop's default
    executor, which the application may rely on for other work.
    """

    def __init__(self, max_workers: int = WORKER_THREADS) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="cleveragents-db"
        )

    async def run(self, call: Callable[[], R], /) -> R:
        try:
            running = asyncio.get_running_loop().run_in_executor(self._executor, call)
        except RuntimeError:
            # The interpreter is exiting (an atexit handler closing the service): the worker
            # threads are gone, and the loop has nothing else left to serve.
            return call()
        return await running

    async def aclose(self) -> None:
        # Every call has finished by now (the service waits for them), so the idle threads
        # just end; nothing to wait for on the loop.
        self._executor.shutdown(wait=False)
