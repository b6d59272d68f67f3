"""Google ADK's session services: ``DatabaseSessionService`` and ``SqliteSessionService``.

An ADK conversation is a session of events; a message is an event whose content is one text
part. Appends go through ``append_event`` on the session object the service returned, as an
ADK runner does; reads use ``get_session`` (with ``GetSessionConfig(num_recent_events=...)`` for
the latest messages) and listing uses ``list_sessions``, which has no paging.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.peers.settings import (
    MATCHED,
    convert_file_to_wal,
    match_library_on_connect,
    read_async_engine,
    sqlite_url,
)
from benchmarks.peers.store import POSTGRESQL, SQLITE, Durability, SessionStore, Turn, expect

if TYPE_CHECKING:
    from google.adk.events import Event
    from google.adk.sessions import BaseSessionService, DatabaseSessionService, Session
    from google.adk.sessions.sqlite_session_service import SqliteSessionService
    from sqlalchemy.ext.asyncio import AsyncEngine

APP = "peers"
USER = "bench"
LISTED_USER = "listed"


def _event(turn: Turn) -> Event:
    from google.adk.events import Event
    from google.genai import types

    role = "user" if turn.role == "user" else "model"
    content = types.Content(role=role, parts=[types.Part(text=turn.text)])
    return Event(invocation_id="peers-bench", author=role, content=content)


def _text(event: Event) -> str:
    parts = event.content.parts if event.content is not None else None
    expect(bool(parts), "an event came back without its text")
    assert parts is not None
    return parts[0].text or ""


class _AdkStore(SessionStore["Session"]):
    listing = "`list_sessions(app_name, user_id)`: every session, no paging"
    pages = False

    def __init__(self, backend: str) -> None:
        self.backend = backend
        self._service: BaseSessionService | None = None

    @property
    def service(self) -> BaseSessionService:
        if self._service is None:
            raise RuntimeError("the store is not open")
        return self._service

    async def new_session(self) -> Session:
        return await self.service.create_session(app_name=APP, user_id=USER)

    async def append(self, session: Session, turn: Turn) -> None:
        await self.service.append_event(session, _event(turn))

    async def _get(self, session: Session, recent: int | None = None) -> Session | None:
        from google.adk.sessions.base_session_service import GetSessionConfig

        config = None if recent is None else GetSessionConfig(num_recent_events=recent)
        return await self.service.get_session(
            app_name=APP, user_id=USER, session_id=session.id, config=config
        )

    async def latest(self, session: Session, count: int) -> list[str]:
        found = await self._get(session, count)
        expect(found is not None, "get_session found no session")
        assert found is not None
        return [_text(event) for event in found.events]

    async def history(self, session: Session) -> list[str]:
        found = await self._get(session)
        expect(found is not None, "get_session found no session")
        assert found is not None
        return [_text(event) for event in found.events]

    async def delete(self, session: Session) -> None:
        await self.service.delete_session(app_name=APP, user_id=USER, session_id=session.id)

    async def exists(self, session: Session) -> bool:
        return await self._get(session, 0) is not None

    async def create_listed(self, count: int) -> None:
        for _ in range(count):
            await self.service.create_session(app_name=APP, user_id=LISTED_USER)

    async def list_sessions(self, page_size: int) -> int:
        response = await self.service.list_sessions(app_name=APP, user_id=LISTED_USER)
        return len(response.sessions)


class AdkDatabaseStore(_AdkStore):
    """``DatabaseSessionService`` (SQLAlchemy asyncio) on a SQLite file or PostgreSQL.

    By default it is given a URL and builds its own engine. Matched to this library, it is
    given an engine (its ``db_engine=`` parameter) whose connections get WAL, FULL and foreign
    keys; PostgreSQL needs no change (``synchronous_commit`` is the server's, on).
    """

    system = "google-adk DatabaseSessionService"

    def __init__(
        self,
        backend: str,
        url: str,
        *,
        match_library: bool = False,
        engine_options: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(backend)
        self._url = url
        self._match_library = match_library
        self._engine_options = engine_options or {}
        self._own_engine: AsyncEngine | None = None
        if match_library:
            self.configuration = MATCHED

    @classmethod
    def on_sqlite(cls, path: Path, *, match_library: bool = False) -> AdkDatabaseStore:
        return cls(SQLITE, sqlite_url(path, "aiosqlite"), match_library=match_library)

    @classmethod
    def on_postgresql(cls, url: str, schema: str) -> AdkDatabaseStore:
        options = {"connect_args": {"server_settings": {"search_path": schema}}}
        return cls(POSTGRESQL, url, engine_options=options)

    @property
    def database_service(self) -> DatabaseSessionService:
        from google.adk.sessions import DatabaseSessionService

        service = self.service
        assert isinstance(service, DatabaseSessionService)
        return service

    async def open(self) -> None:
        from google.adk.sessions import DatabaseSessionService
        from sqlalchemy.ext.asyncio import create_async_engine

        if self._match_library:
            self._own_engine = create_async_engine(self._url, **self._engine_options)
            match_library_on_connect(self._own_engine)
            self._service = DatabaseSessionService(db_engine=self._own_engine)
        else:
            self._service = DatabaseSessionService(self._url, **self._engine_options)
        await self.database_service.prepare_tables()

    async def close(self) -> None:
        if self._service is not None:
            await self.database_service.close()
        if self._own_engine is not None:
            await self._own_engine.dispose()

    async def durability(self) -> Durability:
        return await read_async_engine(self.database_service.db_engine)


class AdkSqliteStore(_AdkStore):
    """``SqliteSessionService`` (aiosqlite; a new connection for every call).

    Its API takes only a path. Matched to this library, the file is created in WAL mode
    first, which SQLite keeps for every later connection; ``synchronous`` stays at SQLite's
    default, FULL.
    """

    system = "google-adk SqliteSessionService"

    def __init__(self, path: Path, *, match_library: bool = False) -> None:
        super().__init__(SQLITE)
        self._path = path
        self._match_library = match_library
        if match_library:
            self.configuration = MATCHED

    async def open(self) -> None:
        from google.adk.sessions.sqlite_session_service import SqliteSessionService

        if self._match_library:
            convert_file_to_wal(self._path)
        self._service = SqliteSessionService(str(self._path))

    async def close(self) -> None:
        if self._service is not None:
            await self.sqlite_service.close()

    @property
    def sqlite_service(self) -> SqliteSessionService:
        from google.adk.sessions.sqlite_session_service import SqliteSessionService

        service = self.service
        assert isinstance(service, SqliteSessionService)
        return service

    async def durability(self) -> Durability:
        # The service opens a connection per call and offers no public way to reach it, so
        # the settings are read through its (private) connection factory: the very
        # connection, set up as for every call. No workload uses this.
        async with self.sqlite_service._get_db_connection() as connection:
            answers = []
            for pragma in ("journal_mode", "synchronous", "foreign_keys"):
                async with connection.execute(f"PRAGMA {pragma}") as cursor:
                    row = await cursor.fetchone()
                    answers.append(row[0] if row is not None else None)
        return Durability.from_sqlite(*answers)
