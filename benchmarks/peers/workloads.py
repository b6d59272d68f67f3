"""The six workloads, run on every store of one backend, interleaved, each result checked.

Stores take turns call by call (round robin, the order rotating every round), so a noisy
neighbour slows every system alike instead of whichever ran at the time. Only the call itself
is timed; the check of what it returned, and building the long conversations, are not.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from benchmarks.peers.store import (
    Durability,
    SessionStore,
    Turn,
    WorkloadCheckError,
    expect,
    expect_turns,
    turns,
)

T = TypeVar("T")
Store = SessionStore[Any]

APPEND = "append"
APPEND_SHORT = "append_short"
APPEND_LONG = "append_long"
LIST = "list"
LATEST = "latest"
HISTORY = "history"
DELETE = "delete"

WARM_UP_APPENDS = 20


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of the workloads."""

    appends: int = 200  # durable appends to a new session; the median is reported
    growth_appends: int = 50  # appends timed at each of the two lengths below, turn about
    short: int = 100  # append cost when the conversation holds this many messages...
    long: int = 2000  # ...and this many; also the length read back and deleted
    latest: int = 50  # the window of latest messages
    listed: int = 1000  # sessions in the listing
    page: int = 50  # one page of the listing
    read_rounds: int = 30  # timed calls per store for the latest window and the listing
    history_rounds: int = 15  # timed full-history reads per store
    deletes: int = 5  # long sessions deleted per store


QUICK_PLAN = Plan(
    appends=20,
    growth_appends=5,
    short=20,
    long=200,
    latest=10,
    listed=60,
    page=10,
    read_rounds=5,
    history_rounds=3,
    deletes=2,
)


@dataclass
class StoreResult:
    """What one store did: its settings as read back, and seconds per timed call."""

    store: Store
    durability: Durability
    samples: dict[str, list[float]] = field(default_factory=dict)

    def median(self, key: str) -> float | None:
        values = self.samples.get(key)
        return statistics.median(values) if values else None


Log = Callable[[str], None]


def _checked_later(_store: Store, _round: int, _value: object) -> None:
    """Appends and deletes are checked afterwards, by reading back what the store holds."""


@dataclass(frozen=True)
class Timed(Generic[T]):
    """One timed call of a workload: where its samples go, the call, the check of its result."""

    key: str
    call: Callable[[Store, int], Awaitable[T]]
    check: Callable[[Store, int, T], None] = _checked_later


class BackendRun:
    """The workloads on the stores of one backend."""

    def __init__(self, stores: Sequence[Store], plan: Plan, log: Log) -> None:
        self.stores = list(stores)
        self.plan = plan
        self.log = log
        self.results: dict[Store, StoreResult] = {}

    async def run(self) -> list[StoreResult]:
        opened: list[Store] = []
        try:
            for store in self.stores:
                await store.open()
                opened.append(store)
            for store in self.stores:
                self.results[store] = StoreResult(store, await store.durability())
                self.log(f"  {store.name}: {self.results[store].durability.label()}")
            await self._step("warm-up", self._warm_up)
            await self._step("durable append", self._durable_appends)
            long_sessions = await self._step("append as the session grows", self._growth)
            await self._step("latest messages", lambda: self._latest(long_sessions))
            await self._step("full history", lambda: self._history(long_sessions))
            await self._step("listing", self._listing)
            await self._step("delete", lambda: self._deletes(long_sessions))
        finally:
            for store in opened:
                await store.close()
        return [self.results[store] for store in self.stores]

    async def _step(self, title: str, action: Callable[[], Awaitable[T]]) -> T:
        started = time.monotonic()
        gc.collect()
        try:
            value = await action()
        except WorkloadCheckError as failure:
            raise WorkloadCheckError(f"{title}: {failure}") from None
        self.log(f"  {title}: {time.monotonic() - started:.1f} s")
        return value

    async def _measure(self, stores: Sequence[Store], rounds: int, *calls: Timed[Any]) -> None:
        """Time each of ``calls`` for every store, round after round; check each result.

        Several calls in one round (the growth workload's two appends) are timed side by side,
        so background load falls on both alike.
        """
        for round_number in range(rounds):
            shift = round_number % len(stores)
            for store in [*stores[shift:], *stores[:shift]]:
                for timed in calls:
                    started = time.perf_counter()
                    value = await timed.call(store, round_number)
                    elapsed = time.perf_counter() - started
                    try:
                        timed.check(store, round_number, value)
                    except WorkloadCheckError as failure:
                        raise WorkloadCheckError(
                            f"{store.name} on {store.backend}: {failure}"
                        ) from None
                    self.results[store].samples.setdefault(timed.key, []).append(elapsed)

    async def _warm_up(self) -> None:
        """Open connections, create the tables created lazily, get statements prepared and
        cached (psycopg prepares a statement on its fifth run); nothing is kept."""
        count = WARM_UP_APPENDS
        for store in self.stores:
            session = await store.new_session()
            for turn in turns(0, count):
                await store.append(session, turn)
            for _ in range(3):
                expect_turns(await store.latest(session, 2), count - 2, count, store.name)
                expect_turns(await store.history(session), 0, count, store.name)
            await store.delete(session)

    async def _durable_appends(self) -> None:
        sessions = {store: await store.new_session() for store in self.stores}

        async def call(store: Store, index: int) -> None:
            await store.append(sessions[store], Turn(index))

        await self._measure(self.stores, self.plan.appends, Timed(APPEND, call))
        for store, session in sessions.items():
            expect_turns(await store.history(session), 0, self.plan.appends, store.name)
            await store.delete(session)

    async def _growth(self) -> dict[Store, Any]:
        """Append to a session of ``short`` messages and to one of ``long``, turn about.

        The long session ends with exactly ``long`` messages and is kept for the reads and
        the delete.
        """
        plan = self.plan
        timed = plan.growth_appends
        short_start, long_start = plan.short, plan.long - timed
        short: dict[Store, Any] = {}
        long: dict[Store, Any] = {}
        for store in self.stores:
            short[store] = await store.new_session()
            await store.seed(short[store], turns(0, short_start))
            long[store] = await store.new_session()
            await store.seed(long[store], turns(0, long_start))

        async def append_short(store: Store, offset: int) -> None:
            await store.append(short[store], Turn(short_start + offset))

        async def append_long(store: Store, offset: int) -> None:
            await store.append(long[store], Turn(long_start + offset))

        await self._measure(
            self.stores, timed, Timed(APPEND_SHORT, append_short), Timed(APPEND_LONG, append_long)
        )
        for store in self.stores:
            expect_turns(await store.history(short[store]), 0, short_start + timed, store.name)
            await store.delete(short[store])
            expect_turns(await store.history(long[store]), 0, plan.long, store.name)
        return long

    async def _latest(self, sessions: dict[Store, Any]) -> None:
        plan = self.plan

        async def call(store: Store, _round: int) -> list[str]:
            return await store.latest(sessions[store], plan.latest)

        def check(_store: Store, _round: int, texts: list[str]) -> None:
            expect_turns(texts, plan.long - plan.latest, plan.long, "latest window")

        await self._measure(self.stores, plan.read_rounds, Timed(LATEST, call, check))

    async def _history(self, sessions: dict[Store, Any]) -> None:
        plan = self.plan

        async def call(store: Store, _round: int) -> list[str]:
            return await store.history(sessions[store])

        def check(_store: Store, _round: int, texts: list[str]) -> None:
            expect_turns(texts, 0, plan.long, "full history")

        await self._measure(self.stores, plan.history_rounds, Timed(HISTORY, call, check))

    async def _listing(self) -> None:
        plan = self.plan
        listing = [store for store in self.stores if store.listing is not None]
        for store in listing:
            await store.create_listed(plan.listed)

        async def call(store: Store, _round: int) -> int:
            return await store.list_sessions(plan.page)

        def check(store: Store, _round: int, count: int) -> None:
            wanted = plan.page if store.pages else plan.listed
            expect(count == wanted, f"the listing returned {count} sessions, not {wanted}")

        await self._measure(listing, plan.read_rounds, Timed(LIST, call, check))

    async def _deletes(self, grown: dict[Store, Any]) -> None:
        plan = self.plan
        doomed: dict[Store, list[Any]] = {store: [session] for store, session in grown.items()}
        for store in self.stores:
            for _ in range(plan.deletes - 1):
                session = await store.new_session()
                await store.seed(session, turns(0, plan.long))
                doomed[store].append(session)

        async def call(store: Store, number: int) -> None:
            await store.delete(doomed[store][number])

        # Checked below, once every delete has run.
        await self._measure(self.stores, plan.deletes, Timed(DELETE, call))
        for store, sessions in doomed.items():
            for session in sessions:
                expect(not await store.exists(session), f"{store.name}: a deleted session remains")
