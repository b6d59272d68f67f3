"""This library's framework stores, measured beside each framework's own store.

``CleverAgentsSession`` answers the OpenAI Agents SDK's calls, so the workloads drive it
exactly as they drive ``SQLiteSession`` and ``SQLAlchemySession``. LangChain's chat history has
no window read: its latest messages are the tail of the whole history, as LangChain reads it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchmarks.peers.openai_stores import _AgentsStore
from benchmarks.peers.settings import read_engine
from benchmarks.peers.store import Durability, SessionStore, Turn

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from sqlalchemy import Engine

    from cleveragents.application.services import AsyncPersistentSessionService
    from cleveragents.integrations.langchain import CleverAgentsChatMessageHistory
    from cleveragents.integrations.openai_agents import CleverAgentsSession

SEED_BATCH = 500


def _session_id() -> str:
    return uuid.uuid4().hex[:24]


class _AsyncServiceOwner:
    """An ``AsyncPersistentSessionService`` on the engine ``from_url`` would build, so the
    durability settings are read back through the pool the service uses."""

    backend: str

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self._url = url
        self._engine: Engine | None = None
        self._service: AsyncPersistentSessionService | None = None

    @property
    def service(self) -> AsyncPersistentSessionService:
        if self._service is None:
            raise RuntimeError("the store is not open")
        return self._service

    async def open(self) -> None:
        from cleveragents.application.services import AsyncPersistentSessionService
        from cleveragents.infrastructure.database import create_database_engine, upgrade_database

        upgrade_database(self._url)
        self._engine = create_database_engine(self._url)
        self._service = AsyncPersistentSessionService.from_engine(self._engine)
        await self._service.__aenter__()

    async def close(self) -> None:
        if self._service is not None:
            await self._service.aclose()
        if self._engine is not None:
            self._engine.dispose()

    async def durability(self) -> Durability:
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return read_engine(self._engine)


class AgentsAdapterStore(_AsyncServiceOwner, _AgentsStore):
    """``CleverAgentsSession`` over ``AsyncPersistentSessionService``."""

    system = "cleveragents-core CleverAgentsSession"

    async def new_session(self) -> CleverAgentsSession:
        from cleveragents.integrations.openai_agents import CleverAgentsSession

        return CleverAgentsSession(_session_id(), self.service)


class LangChainAdapterStore(_AsyncServiceOwner, SessionStore["CleverAgentsChatMessageHistory"]):
    """``CleverAgentsChatMessageHistory`` through its async methods."""

    system = "cleveragents-core CleverAgentsChatMessageHistory"
    listing = None

    async def new_session(self) -> CleverAgentsChatMessageHistory:
        from cleveragents.integrations.langchain import CleverAgentsChatMessageHistory

        return CleverAgentsChatMessageHistory(_session_id(), self.service)

    @staticmethod
    def _message(turn: Turn) -> BaseMessage:
        from langchain_core.messages import AIMessage, HumanMessage

        return (HumanMessage if turn.role == "user" else AIMessage)(turn.text)

    async def append(self, session: CleverAgentsChatMessageHistory, turn: Turn) -> None:
        await session.aadd_messages([self._message(turn)])

    async def seed(self, session: CleverAgentsChatMessageHistory, batch: Sequence[Turn]) -> None:
        for start in range(0, len(batch), SEED_BATCH):
            chunk = batch[start : start + SEED_BATCH]
            await session.aadd_messages([self._message(turn) for turn in chunk])

    async def latest(self, session: CleverAgentsChatMessageHistory, count: int) -> list[str]:
        return [str(m.content) for m in (await session.aget_messages())[-count:]]

    async def history(self, session: CleverAgentsChatMessageHistory) -> list[str]:
        return [str(m.content) for m in await session.aget_messages()]

    async def delete(self, session: CleverAgentsChatMessageHistory) -> None:
        await session.aclear()

    async def exists(self, session: CleverAgentsChatMessageHistory) -> bool:
        return bool(await session.aget_messages())
