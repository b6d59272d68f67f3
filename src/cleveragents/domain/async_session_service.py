"""The session contract for asyncio runtimes: :class:`SessionService`, method for method,
as coroutines."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Self

from cleveragents.domain.session import (
    ActorStatistics,
    NewMessage,
    Session,
    SessionMessage,
    SessionOrder,
    SessionPage,
)
from cleveragents.domain.session_service import ExportDocument, ReadableFile, WritableFile


class AsyncSessionService(ABC):
    """Keeps agent conversations for code running on an event loop.

    Each method takes the same arguments, gives the same result and raises the same errors
    as the :class:`~cleveragents.domain.session_service.SessionService` method of the same
    name, whose docstring is the authoritative description; only the waiting differs. A
    call awaited here never blocks the event loop while the database works.

    Cancelling the task that awaits a call stops the waiting, not the work: a call that has
    started runs to its end (a write lands whole or, if the database refuses it, not at
    all), so a cancelled append never leaves a gap in the sequences. The file methods take
    ordinary (synchronous) file objects.
    """

    @abstractmethod
    async def aclose(self) -> None:
        """Wait for the calls still running, then release the service's connections."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    @abstractmethod
    async def create(
        self,
        actor_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """See :meth:`SessionService.create`."""

    @abstractmethod
    async def get(self, session_id: str) -> Session | None:
        """See :meth:`SessionService.get`."""

    @abstractmethod
    async def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        actor_name: str | None = None,
        order_by: SessionOrder = "created_at",
        cursor: str | None = None,
    ) -> SessionPage:
        """See :meth:`SessionService.list`."""

    @abstractmethod
    async def delete(self, session_id: str) -> bool:
        """See :meth:`SessionService.delete`."""

    @abstractmethod
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
        """See :meth:`SessionService.append_message`."""

    @abstractmethod
    async def append_messages(
        self,
        session_id: str,
        messages: Iterable[NewMessage | Mapping[str, Any]],
        *,
        expected_sequence: int | None = None,
    ) -> builtins.list[SessionMessage]:
        """See :meth:`SessionService.append_messages`."""

    @abstractmethod
    async def pop_last_message(self, session_id: str) -> SessionMessage | None:
        """See :meth:`SessionService.pop_last_message`."""

    @abstractmethod
    async def clear_messages(self, session_id: str) -> int:
        """See :meth:`SessionService.clear_messages`."""

    @abstractmethod
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
        """See :meth:`SessionService.get_messages`."""

    @abstractmethod
    async def export_session(
        self, session_id: str, *, signing_key: bytes | None = None
    ) -> ExportDocument:
        """See :meth:`SessionService.export_session`."""

    @abstractmethod
    async def import_session(
        self, document: ExportDocument | str | bytes, *, signing_key: bytes | None = None
    ) -> Session:
        """See :meth:`SessionService.import_session`."""

    @abstractmethod
    async def export_session_to_file(
        self, session_id: str, file: WritableFile, *, signing_key: bytes | None = None
    ) -> str:
        """See :meth:`SessionService.export_session_to_file`."""

    @abstractmethod
    async def import_session_from_file(
        self, file: ReadableFile, *, signing_key: bytes | None = None
    ) -> Session:
        """See :meth:`SessionService.import_session_from_file`."""

    @abstractmethod
    async def update_token_usage(
        self,
        session_id: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> Session:
        """See :meth:`SessionService.update_token_usage`."""

    @abstractmethod
    async def purge_sessions(
        self,
        older_than: timedelta | datetime,
        *,
        actor_name: str | None = None,
        dry_run: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """See :meth:`SessionService.purge_sessions`; ``on_batch`` is a plain function, called
        where the purge runs (a worker thread, or the event loop itself on PostgreSQL)."""

    @abstractmethod
    async def statistics(self) -> builtins.list[ActorStatistics]:
        """See :meth:`SessionService.statistics`."""
