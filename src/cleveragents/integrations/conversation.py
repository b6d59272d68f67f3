"""A framework's conversation kept as one library session under the framework's own id."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from cleveragents.application.services.input_rules import check_new_session_id
from cleveragents.domain import (
    AsyncSessionService,
    NewMessage,
    SessionAlreadyExistsError,
    SessionMessage,
    SessionNotFoundError,
)


class Conversation:
    """The operations every framework store needs, on a session that may not exist yet.

    Frameworks name their conversations themselves and expect an unknown one to be empty, so
    the session is created on the first append (concurrent first appenders all succeed and
    share one session), reads and removals of a session that does not exist find nothing.
    """

    def __init__(self, service: AsyncSessionService, session_id: str, actor_name: str) -> None:
        self.service = service
        self.session_id = check_new_session_id(session_id)
        self.actor_name = actor_name

    async def append(self, batch: Sequence[NewMessage]) -> None:
        """Append ``batch`` in one transaction (nothing for an empty one)."""
        if not batch:
            return
        try:
            await self.service.append_messages(self.session_id, batch)
        except SessionNotFoundError:
            await self._create()
            await self.service.append_messages(self.session_id, batch)

    async def _create(self) -> None:
        # Another writer may have created it first; the append that follows goes there.
        with contextlib.suppress(SessionAlreadyExistsError):
            await self.service.create(self.actor_name, session_id=self.session_id)

    async def read(self, *, last: int | None = None) -> list[SessionMessage]:
        """The whole history, or its latest ``last`` messages, oldest first."""
        return await self.service.get_messages(self.session_id, last=last)

    async def pop(self) -> SessionMessage | None:
        """Remove and return the latest message; ``None`` when there is none."""
        try:
            return await self.service.pop_last_message(self.session_id)
        except SessionNotFoundError:
            return None

    async def clear(self) -> None:
        """Remove every message; the session, its metadata and token totals stay."""
        with contextlib.suppress(SessionNotFoundError):
            await self.service.clear_messages(self.session_id)
