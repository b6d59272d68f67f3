"""The OpenAI Agents SDK's ``Session`` protocol over this library's async session service.

Each SDK item is one message whose content is the item's JSON text, so every item the SDK
produces (messages, tool calls and outputs, reasoning items, items without a role) comes
back equal. Requires the ``openai-agents`` extra.
"""

from __future__ import annotations

import json
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, cast

try:
    from agents.items import TResponseInputItem
    from agents.memory import Session, SessionSettings
except ImportError as error:  # pragma: no cover - the test environments have the extra
    raise ImportError(
        "CleverAgentsSession needs the OpenAI Agents SDK: "
        'pip install "cleveragents-core[openai-agents]"'
    ) from error

from cleveragents.application.services import AsyncPersistentSessionService
from cleveragents.application.services.input_rules import check_new_session_id
from cleveragents.domain import (
    AsyncSessionService,
    InvalidSessionDataError,
    NewMessage,
    SessionMessage,
    limits,
)
from cleveragents.integrations.conversation import Conversation

#: The ``format`` metadata of a message holding an SDK item as JSON text.
ITEM_FORMAT = "openai-agents-item"
_ITEM_METADATA = {"format": ITEM_FORMAT}
_ROLELESS = "item"


def encode_item(index: int, item: object) -> NewMessage:
    """An SDK item as a message: its role (else its type) as the role, its JSON as content."""
    if not isinstance(item, dict):
        raise InvalidSessionDataError(
            f"items[{index}] must be a dict (an SDK input item), got {type(item).__name__}"
        )
    try:
        content = json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    except (TypeError, ValueError) as error:
        raise InvalidSessionDataError(f"items[{index}] is not JSON-serialisable: {error}") from None
    except RecursionError:
        raise InvalidSessionDataError(f"items[{index}] is nested too deeply to store") from None
    return NewMessage(_role_of(item), content, _ITEM_METADATA)


def _role_of(item: dict[str, Any]) -> str:
    """What someone listing the session's messages sees as the role; the item is the content."""
    for key in ("role", "type"):
        value = item.get(key)
        # Printable excludes control characters and lone surrogates, which a role cannot hold.
        if (
            isinstance(value, str)
            and value.strip()
            and value.isprintable()
            and len(value) <= limits.MAX_ROLE_LENGTH
        ):
            return value
    return _ROLELESS


def decode_item(message: SessionMessage) -> TResponseInputItem:
    """The SDK item a message holds; a message stored through the library reads as a plain
    ``{"role": ..., "content": ...}`` message, so an agent can continue such a session."""
    if message.metadata.get("format") != ITEM_FORMAT:
        return cast("TResponseInputItem", {"role": message.role, "content": message.content})
    item: TResponseInputItem = json.loads(message.content)
    return item


class CleverAgentsSession:
    """An OpenAI Agents SDK session (the ``agents.memory.Session`` protocol) kept by this library.

    Give it to ``Runner.run(agent, input, session=...)``. The library session with this
    ``session_id`` is created, owned by ``actor_name``, on the first :meth:`add_items`;
    concurrent first writers all succeed and share it. A session that does not exist yet
    reads as empty.

    Raises:
        InvalidSessionDataError: ``session_id`` is empty, longer than 128 characters or holds
            control characters; from :meth:`add_items`, an item that is not a JSON object
            (nothing of the batch is written).
    """

    session_settings: SessionSettings | None

    def __init__(
        self,
        session_id: str,
        service: AsyncSessionService,
        *,
        actor_name: str = "openai-agents",
        session_settings: SessionSettings | None = None,
    ) -> None:
        self._conversation = Conversation(service, session_id, actor_name)
        self.session_id = self._conversation.session_id
        self.session_settings = session_settings or SessionSettings()
        self._owns_service = False

    @classmethod
    def from_url(
        cls,
        session_id: str,
        url: str | None = None,
        *,
        actor_name: str = "openai-agents",
        session_settings: SessionSettings | None = None,
        schema: str | None = None,
    ) -> Self:
        """A session on a service of its own for ``url`` (as
        ``AsyncPersistentSessionService.from_url``), which :meth:`aclose` closes."""
        check_new_session_id(session_id)  # before the service opens any connection
        service = AsyncPersistentSessionService.from_url(url, schema=schema)
        session = cls(session_id, service, actor_name=actor_name, session_settings=session_settings)
        session._owns_service = True
        return session

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        """The latest ``limit`` items, oldest first (``session_settings.limit`` when ``None``).

        As ``SQLiteSession``: no limit or a negative one gives every item, 0 gives none.
        """
        if limit is None and self.session_settings is not None:
            limit = self.session_settings.limit
        if limit == 0:
            return []
        last = None if limit is None or limit < 0 else limit
        return [decode_item(message) for message in await self._conversation.read(last=last)]

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        """Append the items in one transaction, creating the session on first use."""
        await self._conversation.append([encode_item(i, item) for i, item in enumerate(items)])

    async def pop_item(self) -> TResponseInputItem | None:
        """Remove and return the latest item, or ``None`` when there is none."""
        message = await self._conversation.pop()
        return None if message is None else decode_item(message)

    async def clear_session(self) -> None:
        """Remove every item; the library session (its metadata and token totals) stays."""
        await self._conversation.clear()

    async def aclose(self) -> None:
        """Close the service if this session opened it (:meth:`from_url`); else nothing."""
        if self._owns_service:
            await self._conversation.service.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()


if TYPE_CHECKING:

    def _fulfils_the_sdk_protocol(session: CleverAgentsSession) -> Session:
        """Never called: mypy checks here that the class satisfies ``agents.memory.Session``."""
        return session
