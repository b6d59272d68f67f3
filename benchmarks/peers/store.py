"""The interface every compared session store implements, and the messages they all store."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

SessionHandle = TypeVar("SessionHandle")

SQLITE = "SQLite"
POSTGRESQL = "PostgreSQL"

_SQLITE_SYNCHRONOUS = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}


class WorkloadCheckError(RuntimeError):
    """A store did not do the work a workload measured (wrong count, order or content)."""


def expect(condition: bool, what: str) -> None:
    """Stop the run loudly when a result is not what the workload asked for."""
    if not condition:
        raise WorkloadCheckError(what)


@dataclass(frozen=True, slots=True)
class Turn:
    """The message at position ``index`` of a conversation: the same for every store."""

    index: int

    @property
    def role(self) -> str:
        return "user" if self.index % 2 == 0 else "assistant"

    @property
    def text(self) -> str:
        # Varied, realistic sizes (60 to 600 characters) so rows are neither identical nor tiny.
        return f"turn {self.index}: " + "lorem ipsum dolor sit amet " * (2 + self.index % 20)


def turns(start: int, stop: int) -> list[Turn]:
    """Positions ``start`` to ``stop - 1`` of a conversation."""
    return [Turn(index) for index in range(start, stop)]


def expect_turns(texts: Sequence[str], start: int, stop: int, what: str) -> None:
    """``texts`` are exactly the messages at positions ``start`` to ``stop - 1``, in order."""
    expected = [turn.text for turn in turns(start, stop)]
    expect(len(texts) == len(expected), f"{what}: {len(texts)} messages, not {len(expected)}")
    expect(list(texts) == expected, f"{what}: messages out of order or altered")


@dataclass(frozen=True, slots=True)
class Durability:
    """Settings a store's connection really runs with, as read back through it."""

    journal_mode: str | None = None
    synchronous: str | None = None
    foreign_keys: str | None = None
    synchronous_commit: str | None = None

    @classmethod
    def from_sqlite(
        cls, journal_mode: object, synchronous: object, foreign_keys: object
    ) -> Durability:
        """From the raw answers to ``PRAGMA journal_mode``, ``synchronous``, ``foreign_keys``."""
        level = int(str(synchronous))
        return cls(
            journal_mode=str(journal_mode).upper(),
            synchronous=_SQLITE_SYNCHRONOUS.get(level, str(level)),
            foreign_keys="on" if int(str(foreign_keys)) else "off",
        )

    def label(self) -> str:
        if self.synchronous_commit is not None:
            return f"synchronous_commit={self.synchronous_commit}"
        return (
            f"journal_mode={self.journal_mode}, synchronous={self.synchronous}, "
            f"foreign_keys={self.foreign_keys}"
        )


SQLITE_PRAGMAS = ("journal_mode", "synchronous", "foreign_keys")


class SessionStore(ABC, Generic[SessionHandle]):
    """One system on one backend, seen through the operations the workloads need.

    Every method calls the system's public API only. The peers' APIs are asynchronous, so the
    interface is too; this library's synchronous calls run directly inside the coroutines.
    """

    #: The system and the API used, e.g. ``google-adk DatabaseSessionService``.
    system: str
    #: ``SQLite`` or ``PostgreSQL``.
    backend: str
    #: How the store was set up: ``default``, or the change made to match this library.
    configuration: str = "default"
    #: How the store lists sessions; ``None`` when its API has no listing.
    listing: str | None = None
    #: Whether a listing returns one page of the requested size (else: every session).
    pages: bool = False

    @property
    def name(self) -> str:
        if self.configuration == "default":
            return self.system
        return f"{self.system} ({self.configuration})"

    async def open(self) -> None:
        """Prepare the store (schema, engine); called once before any workload."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections and engines."""

    @abstractmethod
    async def durability(self) -> Durability:
        """The durability settings, read back through the store's own connection."""

    @abstractmethod
    async def new_session(self) -> SessionHandle:
        """A new, empty conversation."""

    @abstractmethod
    async def append(self, session: SessionHandle, turn: Turn) -> None:
        """Durably store one message at the end of the conversation (the measured append)."""

    async def seed(self, session: SessionHandle, batch: Sequence[Turn]) -> None:
        """Store messages to build a long conversation; untimed. Stores with a batch call
        override this; the others append one message at a time."""
        for turn in batch:
            await self.append(session, turn)

    @abstractmethod
    async def latest(self, session: SessionHandle, count: int) -> list[str]:
        """The texts of the latest ``count`` messages, oldest first."""

    @abstractmethod
    async def history(self, session: SessionHandle) -> list[str]:
        """The texts of every message, oldest first."""

    @abstractmethod
    async def delete(self, session: SessionHandle) -> None:
        """Delete the conversation and its messages."""

    @abstractmethod
    async def exists(self, session: SessionHandle) -> bool:
        """Whether anything of the conversation is still stored."""

    async def create_listed(self, count: int) -> None:
        """Create the ``count`` sessions that the listing workload lists; untimed."""
        raise NotImplementedError(f"{self.name} cannot list sessions")

    async def list_sessions(self, page_size: int) -> int:
        """List sessions the store's way; return how many came back."""
        raise NotImplementedError(f"{self.name} cannot list sessions")
