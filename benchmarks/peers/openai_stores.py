"""The OpenAI Agents SDK's sessions: ``SQLiteSession`` and ``SQLAlchemySession``.

An Agents SDK session object is one conversation (its ``session_id``); a message is an input
item ``{"role": ..., "content": ...}``. ``add_items`` appends, ``get_items(limit=n)`` returns the
latest ``n`` in chronological order, ``clear_session`` deletes the conversation. The SDK has no
call that lists sessions.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.peers.settings import read_async_engine, sqlite_url
from benchmarks.peers.store import (
    POSTGRESQL,
    SQLITE,
    SQLITE_PRAGMAS,
    Durability,
    SessionStore,
    Turn,
    expect,
)

if TYPE_CHECKING:
    from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession
    from agents.memory import SQLiteSession
    from agents.memory.session import SessionABC
    from sqlalchemy.ext.asyncio import AsyncEngine

SEED_BATCH = 500


def _item(turn: Turn) -> Any:
    return {"role": turn.role, "content": turn.text}


def _texts(items: Sequence[Any]) -> list[str]:
    texts = [item.get("content") for item in items]
    expect(all(isinstance(text, str) for text in texts), "an item came back without its text")
    return texts


class _AgentsStore(SessionStore["SessionABC"]):
    listing = None

    async def append(self, session: SessionABC, turn: Turn) -> None:
        await session.add_items([_item(turn)])

    async def seed(self, session: SessionABC, batch: Sequence[Turn]) -> None:
        for start in range(0, len(batch), SEED_BATCH):
            await session.add_items([_item(turn) for turn in batch[start : start + SEED_BATCH]])

    async def latest(self, session: SessionABC, count: int) -> list[str]:
        return _texts(await session.get_items(limit=count))

    async def history(self, session: SessionABC) -> list[str]:
        return _texts(await session.get_items())

    async def delete(self, session: SessionABC) -> None:
        await session.clear_session()

    async def exists(self, session: SessionABC) -> bool:
        return bool(await session.get_items(limit=1))


class AgentsSqliteStore(_AgentsStore):
    """``SQLiteSession`` on a file: it sets WAL itself and leaves ``synchronous`` at FULL."""

    system = "openai-agents SQLiteSession"

    def __init__(self, path: Path) -> None:
        self.backend = SQLITE
        self._path = path
        self._sessions: list[SQLiteSession] = []

    async def new_session(self) -> SQLiteSession:
        from agents.memory import SQLiteSession

        session = SQLiteSession(uuid.uuid4().hex, self._path)
        self._sessions.append(session)
        return session

    async def open(self) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        await self.new_session()  # creates the tables

    async def close(self) -> None:
        for session in self._sessions:
            session.close()

    async def durability(self) -> Durability:
        session = self._sessions[0]

        def read() -> Durability:
            # SQLiteSession keeps its connections private; its own connection factory gives
            # the connection (one per thread) that its calls use. No workload uses this.
            with session._locked_connection() as connection:
                answers = [
                    connection.execute(f"PRAGMA {pragma}").fetchone()[0]
                    for pragma in SQLITE_PRAGMAS
                ]
            return Durability.from_sqlite(*answers)

        return await asyncio.to_thread(read)


class AgentsSqlAlchemyStore(_AgentsStore):
    """``SQLAlchemySession`` sharing one asyncio engine (aiosqlite or asyncpg).

    On SQLite the session sets WAL (and a busy timeout) on the engine's connections itself.
    """

    system = "openai-agents SQLAlchemySession"

    def __init__(
        self, backend: str, url: str, engine_options: dict[str, Any] | None = None
    ) -> None:
        self.backend = backend
        self._url = url
        self._engine_options = engine_options or {}
        self._engine: AsyncEngine | None = None

    @classmethod
    def on_sqlite(cls, path: Path) -> AgentsSqlAlchemyStore:
        return cls(SQLITE, sqlite_url(path, "aiosqlite"))

    @classmethod
    def on_postgresql(cls, url: str, schema: str) -> AgentsSqlAlchemyStore:
        options = {"connect_args": {"server_settings": {"search_path": schema}}}
        return cls(POSTGRESQL, url, options)

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return self._engine

    def _session(self, *, create_tables: bool = False) -> SQLAlchemySession:
        from agents.extensions.memory.sqlalchemy_session import SQLAlchemySession

        return SQLAlchemySession(uuid.uuid4().hex, engine=self.engine, create_tables=create_tables)

    async def open(self) -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        self._engine = create_async_engine(self._url, **self._engine_options)
        # The first session configures the engine (on SQLite) and creates the tables.
        await self._session(create_tables=True).get_items()

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()

    async def durability(self) -> Durability:
        return await read_async_engine(self._session().engine)

    async def new_session(self) -> SQLAlchemySession:
        return self._session()
