"""This library through its public API: ``upgrade_database``, ``PersistentSessionService``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchmarks.peers.settings import read_engine
from benchmarks.peers.store import Durability, SessionStore, Turn, expect

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from cleveragents.application.services import PersistentSessionService

ACTOR = "peers-bench"
LISTED_ACTOR = "peers-listed"
SEED_BATCH = 500


class LibraryStore(SessionStore[str]):
    """``PersistentSessionService`` on an engine from ``create_database_engine(url)``.

    That is the engine ``PersistentSessionService.from_url(url)`` builds; handing it over with
    ``from_engine`` lets the settings be read back through the very pool the service uses.
    """

    system = "cleveragents-core"
    listing = "`list(limit=50)`: one page, with a cursor to the next"
    pages = True

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self._url = url
        self._engine: Engine | None = None
        self._service: PersistentSessionService | None = None

    @property
    def service(self) -> PersistentSessionService:
        if self._service is None:
            raise RuntimeError("the store is not open")
        return self._service

    async def open(self) -> None:
        from cleveragents.application.services import PersistentSessionService
        from cleveragents.infrastructure.database import create_database_engine, upgrade_database

        upgrade_database(self._url)
        self._engine = create_database_engine(self._url)
        self._service = PersistentSessionService.from_engine(self._engine)

    async def close(self) -> None:
        if self._service is not None:
            self._service.close()
        if self._engine is not None:
            self._engine.dispose()

    async def durability(self) -> Durability:
        if self._engine is None:
            raise RuntimeError("the store is not open")
        return read_engine(self._engine)

    async def new_session(self) -> str:
        return self.service.create(ACTOR).id

    async def append(self, session: str, turn: Turn) -> None:
        self.service.append_message(session, turn.role, turn.text)

    async def seed(self, session: str, batch: Sequence[Turn]) -> None:
        from cleveragents.domain import NewMessage

        for start in range(0, len(batch), SEED_BATCH):
            chunk = batch[start : start + SEED_BATCH]
            stored = self.service.append_messages(
                session, [NewMessage(turn.role, turn.text) for turn in chunk]
            )
            expect(len(stored) == len(chunk), "append_messages stored fewer messages")

    async def latest(self, session: str, count: int) -> list[str]:
        return [message.content for message in self.service.get_messages(session, last=count)]

    async def history(self, session: str) -> list[str]:
        return [message.content for message in self.service.get_messages(session)]

    async def delete(self, session: str) -> None:
        expect(self.service.delete(session), "delete() found no session to delete")

    async def exists(self, session: str) -> bool:
        return self.service.get(session) is not None

    async def create_listed(self, count: int) -> None:
        for _ in range(count):
            self.service.create(LISTED_ACTOR)

    async def list_sessions(self, page_size: int) -> int:
        page = self.service.list(limit=page_size, actor_name=LISTED_ACTOR)
        expect(page.next_cursor is not None, "the first page of the listing has no next cursor")
        return len(page)
