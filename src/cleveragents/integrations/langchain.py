"""LangChain's ``BaseChatMessageHistory`` over this library's async session service.

Each LangChain message is one library message whose content is the message's
``message_to_dict`` form as JSON, so human, AI (tool calls, usage metadata), system, tool and
chat messages come back equal. Requires the ``langchain`` extra.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from types import TracebackType
from typing import Self

try:
    from langchain_core.chat_history import BaseChatMessageHistory
    from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
except ImportError as error:  # pragma: no cover - the test environments have the extra
    raise ImportError(
        'CleverAgentsChatMessageHistory needs LangChain: pip install "cleveragents-core[langchain]"'
    ) from error

from cleveragents.application.services import AsyncPersistentSessionService
from cleveragents.application.services.input_rules import check_new_session_id
from cleveragents.domain import (
    AsyncSessionService,
    InvalidSessionDataError,
    NewMessage,
    SessionMessage,
)
from cleveragents.integrations.conversation import Conversation
from cleveragents.integrations.event_loop_thread import EventLoopThread

#: The ``format`` metadata of a message holding a LangChain message as JSON text.
MESSAGE_FORMAT = "langchain-message"
_MESSAGE_METADATA = {"format": MESSAGE_FORMAT}
_PLAIN_TYPES = {"user": "human", "assistant": "ai"}

# One loop thread serves the synchronous calls of every history, so a service that histories
# share is driven from one loop whatever number of histories a chain creates.
_SYNC_CALLS = EventLoopThread("cleveragents-langchain")


def encode_message(index: int, message: object) -> NewMessage:
    """A LangChain message as a library message, refused unless LangChain can read it back."""
    if not isinstance(message, BaseMessage):
        raise InvalidSessionDataError(
            f"messages[{index}] must be a LangChain BaseMessage, got {type(message).__name__}"
        )
    document = message_to_dict(message)
    try:
        content = json.dumps(document, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InvalidSessionDataError(
            f"messages[{index}] is not JSON-serialisable: {error}"
        ) from None
    try:
        messages_from_dict([json.loads(content)])
    except (ValueError, TypeError) as error:
        raise InvalidSessionDataError(
            f"messages[{index}] of type {message.type!r} cannot be read back by LangChain: {error}"
        ) from None
    return NewMessage(message.type, content, _MESSAGE_METADATA)


def decode_message(message: SessionMessage) -> BaseMessage:
    """The LangChain message a library message holds; one stored through the library reads
    as a chat message of its role (``user`` as human, ``assistant`` as AI)."""
    if message.metadata.get("format") == MESSAGE_FORMAT:
        document = json.loads(message.content)
    elif message.role in _PLAIN_TYPES:
        document = {"type": _PLAIN_TYPES[message.role], "data": {"content": message.content}}
    else:
        document = {"type": "chat", "data": {"content": message.content, "role": message.role}}
    return messages_from_dict([document])[0]


class CleverAgentsChatMessageHistory(BaseChatMessageHistory):
    """A LangChain chat message history kept by this library, for sync and async code.

    The async methods (``aget_messages``, ``aadd_messages``, ``aclear``) await the service on
    the caller's loop. The sync ones (``messages``, ``add_messages``, ``clear``) run it on an
    event loop thread the library keeps for them, so they work in plain scripts and do not
    deadlock when called from inside a running loop (they block that loop while they wait,
    as any synchronous I/O does: prefer the async methods there). The library session is
    created on the first append, owned by ``actor_name``.

    Raises:
        InvalidSessionDataError: ``session_id`` is empty, longer than 128 characters or holds
            control characters; when adding, an item that is not a message LangChain can read
            back (nothing of the batch is written).
    """

    def __init__(
        self,
        session_id: str,
        service: AsyncSessionService,
        *,
        actor_name: str = "langchain",
    ) -> None:
        self._conversation = Conversation(service, session_id, actor_name)
        self.session_id = self._conversation.session_id
        self._owns_service = False

    @classmethod
    def from_url(
        cls,
        session_id: str,
        url: str | None = None,
        *,
        actor_name: str = "langchain",
        schema: str | None = None,
    ) -> Self:
        """A history on a service of its own for ``url`` (as
        ``AsyncPersistentSessionService.from_url``), which :meth:`close` closes."""
        check_new_session_id(session_id)  # before the service opens any connection
        service = AsyncPersistentSessionService.from_url(url, schema=schema)
        history = cls(session_id, service, actor_name=actor_name)
        history._owns_service = True
        return history

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        """Every message, oldest first."""
        return _SYNC_CALLS.run(self.aget_messages())

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        """Append the messages in one transaction."""
        _SYNC_CALLS.run(self.aadd_messages(messages))

    def clear(self) -> None:
        """Remove every message; the library session (metadata, token totals) stays."""
        _SYNC_CALLS.run(self.aclear())

    async def aget_messages(self) -> list[BaseMessage]:
        return [decode_message(message) for message in await self._conversation.read()]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        await self._conversation.append([encode_message(i, m) for i, m in enumerate(messages)])

    async def aclear(self) -> None:
        await self._conversation.clear()

    def close(self) -> None:
        """Close the service if :meth:`from_url` opened it; else nothing."""
        if self._owns_service:
            _SYNC_CALLS.run(self._conversation.service.aclose())

    async def aclose(self) -> None:
        """:meth:`close` from async code."""
        if self._owns_service:
            await self._conversation.service.aclose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()
