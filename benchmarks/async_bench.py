"""The async service beside the synchronous one, on the same database and rows.

Every benchmark takes a ``facade`` parameter: ``sync`` (``PersistentSessionService``, as in
``targets_bench``) or ``async`` (``AsyncPersistentSessionService.from_url``, awaited on an
event loop this process keeps). ``benchmarks/target_report.py`` gives the ratios:

- one append, async within 1.2x of sync on the same backend;
- on PostgreSQL, 32 conversations appending at once through the async service reach at least
  3x the appends per second of one sequential loop through the synchronous service.
"""

from __future__ import annotations

import asyncio
import atexit
from typing import Any, ClassVar

from cleveragents.application.services import AsyncPersistentSessionService

from . import _support as support
from ._support import conversation, expect, message_content

FACADES = ["sync", "async"]
HISTORY = 100
READ_HISTORY = 1_000
WINDOW = 50
CONVERSATIONS = 32
TURNS = 10
SEQUENTIAL = "sync, one conversation after another"
CONCURRENT = "async, 32 conversations at once"


def _async_side(env: support.Environment) -> tuple[asyncio.AbstractEventLoop, Any]:
    """This process's event loop and async service, opened once and closed at exit."""

    def build() -> tuple[asyncio.AbstractEventLoop, Any]:
        loop = asyncio.new_event_loop()
        service = AsyncPersistentSessionService.from_url(env.url)
        loop.run_until_complete(service.__aenter__())

        def close() -> None:
            loop.run_until_complete(service.aclose())
            loop.close()

        atexit.register(close)  # runs before the environment removes its database
        return loop, service

    return env.memo(("async service",), build)


def _session_of(env: support.Environment, size: int) -> str:
    def build() -> str:
        session_id = env.fixtures.load_session(
            env.actor_name, conversation(size), message_count=size, title="facade benchmark"
        )
        env.fixtures.settle()
        return session_id

    return env.memo(("facade session", size), build)


class FacadeAppend:
    """One durable append at message 100, through each facade. Target: async ≤ 1.2x sync."""

    params: ClassVar[list[str]] = FACADES
    param_names: ClassVar[list[str]] = ["facade"]
    number = 20
    timeout = 300.0

    def setup(self, facade: str) -> None:
        env = support.environment()
        session_id = _session_of(env, HISTORY)
        content = message_content(HISTORY)
        if facade == "sync":
            service = env.service
            self.append = lambda: service.append_message(session_id, "user", content)
        else:
            loop, async_service = _async_side(env)
            self.append = lambda: loop.run_until_complete(
                async_service.append_message(session_id, "user", content)
            )
        env.memo(("warm facade append", facade), self.append)

    def time_append_message(self, facade: str) -> None:
        message = self.append()
        expect(message.sequence >= HISTORY, "the message was not appended after the history")


class FacadeLatestMessages:
    """The latest 50 of 1,000 messages, the context window read every turn, through each
    facade."""

    params: ClassVar[list[str]] = FACADES
    param_names: ClassVar[list[str]] = ["facade"]
    timeout = 300.0

    def setup(self, facade: str) -> None:
        env = support.environment()
        session_id = _session_of(env, READ_HISTORY)
        if facade == "sync":
            service = env.service
            self.read = lambda: service.get_messages(session_id, last=WINDOW)
        else:
            loop, async_service = _async_side(env)
            self.read = lambda: loop.run_until_complete(
                async_service.get_messages(session_id, last=WINDOW)
            )
        env.memo(("warm facade window", facade), self.read)

    def time_latest_messages(self, facade: str) -> None:
        window = self.read()
        expect(
            len(window) == WINDOW and window[-1].sequence - window[0].sequence == WINDOW - 1,
            "the window is not the latest 50 messages in order",
        )


class ConcurrentConversations:
    """32 conversations of 10 turns each: one after another through the synchronous service,
    or all at once through the async one. Target (PostgreSQL): at least 3x the appends per
    second, that is at most a third of the time."""

    params: ClassVar[list[str]] = [SEQUENTIAL, CONCURRENT]
    param_names: ClassVar[list[str]] = ["how"]
    number = 1
    repeat = 5
    timeout = 600.0

    def setup(self, how: str) -> None:
        env = support.environment()
        self.sessions = [env.fixtures.create_session(env.actor_name) for _ in range(CONVERSATIONS)]
        if how == SEQUENTIAL:
            service = env.service

            def run() -> int:
                appended = 0
                for session_id in self.sessions:
                    for turn in range(TURNS):
                        service.append_message(session_id, "user", message_content(turn))
                        appended += 1
                return appended

        else:
            loop, async_service = _async_side(env)

            async def converse(session_id: str) -> int:
                for turn in range(TURNS):
                    await async_service.append_message(session_id, "user", message_content(turn))
                return TURNS

            async def all_at_once() -> int:
                done = await asyncio.gather(*(converse(s) for s in self.sessions))
                return sum(done)

            def run() -> int:
                return loop.run_until_complete(all_at_once())

        self.run = run
        env.memo(("warm conversations", how), lambda: env.service.get(self.sessions[0]))

    def time_conversations(self, how: str) -> None:
        expect(self.run() == CONVERSATIONS * TURNS, "not every turn was appended")
