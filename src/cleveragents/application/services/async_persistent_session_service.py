"""The session service for asyncio runtimes, over the same rules and repositories as the
synchronous one."""

from __future__ import annotations

import asyncio
import builtins
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Self, TypeVar

from cleveragents.application.services.blocking_calls import BlockingCallRunner
from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)
from cleveragents.domain.async_session_service import AsyncSessionService
from cleveragents.domain.session import (
    ActorStatistics,
    NewMessage,
    Session,
    SessionMessage,
    SessionOrder,
    SessionPage,
)
from cleveragents.domain.session_service import ExportDocument, ReadableFile, WritableFile
from cleveragents.infrastructure.database import (
    Engine,
    RetryPolicy,
    SessionFactory,
    WorkerThreadRunner,
)

R = TypeVar("R")


class AsyncPersistentSessionService(AsyncSessionService):
    """:class:`AsyncSessionService` on SQLite, PostgreSQL or MariaDB.

    Every call runs the synchronous :class:`PersistentSessionService` (the same checks,
    transactions, retries and export format) through a :class:`BlockingCallRunner`, so the
    event loop is never blocked. The service opens lazily: ``async with`` (or the first
    call) checks the schema and raises :class:`SchemaOutOfDateError` when it is behind.
    Use one service from one event loop.
    """

    def __init__(
        self,
        open_service: Callable[[], PersistentSessionService],
        runner: BlockingCallRunner,
    ) -> None:
        """``open_service`` builds the synchronous service; it runs through ``runner`` at the
        first call, since opening checks the schema in the database."""
        self._open_service = open_service
        self._runner = runner
        self._opening: asyncio.Future[PersistentSessionService] | None = None
        self._running: set[asyncio.Future[Any]] = set()
        self._closed = False

    @classmethod
    def from_url(
        cls,
        url: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on ``url``, as :meth:`PersistentSessionService.from_url` opens one."""
        return cls(
            lambda: PersistentSessionService.from_url(
                url,
                retry_policy=retry_policy,
                import_limits=import_limits,
                purge_batch_size=purge_batch_size,
                schema=schema,
            ),
            WorkerThreadRunner(),
        )

    @classmethod
    def from_engine(
        cls,
        engine: Engine,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on the caller's engine, as :meth:`PersistentSessionService.from_engine`
        opens one (``aclose()`` leaves the engine to its owner)."""
        return cls(
            lambda: PersistentSessionService.from_engine(
                engine,
                retry_policy=retry_policy,
                import_limits=import_limits,
                purge_batch_size=purge_batch_size,
                schema=schema,
            ),
            WorkerThreadRunner(),
        )

    @classmethod
    def from_sessionmaker(
        cls,
        factory: SessionFactory,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,
        schema: str | None = None,
    ) -> Self:
        """A service on the engine the caller's ``sessionmaker`` is bound to."""
        return cls(
            lambda: PersistentSessionService.from_sessionmaker(
                factory,
                retry_policy=retry_policy,
                import_limits=import_limits,
                purge_batch_size=purge_batch_size,
                schema=schema,
            ),
            WorkerThreadRunner(),
        )

    async def __aenter__(self) -> Self:
        await self._service()
        return self

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.gather(*self._running, return_exceptions=True)
        opened = self._opening
        if opened is not None and not opened.cancelled() and opened.exception() is None:
            await self._runner.run(opened.result().close)
        await self._runner.aclose()

    def _start(self, call: Callable[[], R]) -> asyncio.Future[R]:
        """Run ``call`` as a task of its own, so cancelling its waiter cannot interrupt it."""
        if self._closed:
            raise RuntimeError("the session service is closed")
        task = asyncio.ensure_future(self._runner.run(call))
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[Any]) -> None:
        self._running.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved here, so an abandoned call's error is not logged
        if task is self._opening and (task.cancelled() or task.exception()):
            self._opening = None  # the next call tries again (the schema may be upgraded)

    async def _service(self) -> PersistentSessionService:
        if self._opening is None:
            self._opening = self._start(self._open_service)
        return await asyncio.shield(self._opening)

    async def _call(self, call: Callable[[PersistentSessionService], R]) -> R:
        """Run one service call to its end, even when the awaiting task is cancelled."""
        service = await self._service()
        return await asyncio.shield(self._start(lambda: call(service)))

    async def create(
        self,
        actor_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        return await self._call(
            lambda service: service.create(
                actor_name, title=title, metadata=metadata, session_id=session_id
            )
        )

    async def get(self, session_id: str) -> Session | None:
        return await self._call(lambda service: service.get(session_id))

    async def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        actor_name: str | None = None,
        order_by: SessionOrder = "created_at",
        cursor: str | None = None,
    ) -> SessionPage:
        return await self._call(
            lambda service: service.list(
                limit=limit, offset=offset, actor_name=actor_name, order_by=order_by, cursor=cursor
            )
        )

    async def delete(self, session_id: str) -> bool:
        return await self._call(lambda service: service.delete(session_id))

    async def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
        token_count: int | None = None,
        expected_sequence: int | None = None,
    ) -> SessionMessage:
        return await self._call(
            lambda service: service.append_message(
                session_id,
                role,
                content,
                metadata=metadata,
                token_count=token_count,
                expected_sequence=expected_sequence,
            )
        )

    async def append_messages(
        self,
        session_id: str,
        messages: Iterable[NewMessage | Mapping[str, Any]],
        *,
        expected_sequence: int | None = None,
    ) -> builtins.list[SessionMessage]:
        return await self._call(
            lambda service: service.append_messages(
                session_id, messages, expected_sequence=expected_sequence
            )
        )

    async def pop_last_message(self, session_id: str) -> SessionMessage | None:
        return await self._call(lambda service: service.pop_last_message(session_id))

    async def clear_messages(self, session_id: str) -> int:
        return await self._call(lambda service: service.clear_messages(session_id))

    async def get_messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        after_sequence: int | None = None,
        before_sequence: int | None = None,
        last: int | None = None,
    ) -> builtins.list[SessionMessage]:
        return await self._call(
            lambda service: service.get_messages(
                session_id,
                limit=limit,
                offset=offset,
                after_sequence=after_sequence,
                before_sequence=before_sequence,
                last=last,
            )
        )

    async def export_session(
        self, session_id: str, *, signing_key: bytes | None = None
    ) -> ExportDocument:
        return await self._call(
            lambda service: service.export_session(session_id, signing_key=signing_key)
        )

    async def import_session(
        self,
        document: ExportDocument | str | bytes | ReadableFile,
        *,
        signing_key: bytes | None = None,
    ) -> Session:
        return await self._call(
            lambda service: service.import_session(document, signing_key=signing_key)
        )

    async def export_session_to_file(
        self, session_id: str, file: WritableFile, *, signing_key: bytes | None = None
    ) -> str:
        return await self._call(
            lambda service: service.export_session_to_file(
                session_id, file, signing_key=signing_key
            )
        )

    async def import_session_from_file(
        self, file: ReadableFile, *, signing_key: bytes | None = None
    ) -> Session:
        return await self._call(
            lambda service: service.import_session_from_file(file, signing_key=signing_key)
        )

    async def update_token_usage(
        self,
        session_id: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> Session:
        return await self._call(
            lambda service: service.update_token_usage(
                session_id, input_tokens=input_tokens, output_tokens=output_tokens
            )
        )

    async def purge_sessions(
        self,
        older_than: timedelta | datetime,
        *,
        actor_name: str | None = None,
        dry_run: bool = False,
    ) -> int:
        return await self._call(
            lambda service: service.purge_sessions(
                older_than, actor_name=actor_name, dry_run=dry_run
            )
        )

    async def statistics(self) -> builtins.list[ActorStatistics]:
        return await self._call(lambda service: service.statistics())
