"""The entities an agent runtime keeps: a session and the messages of its conversation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens a session has consumed, as reported by the model provider."""

    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class Session:
    """One conversation of one actor, with its running totals.

    ``message_count`` is also the sequence the next appended message will get.
    """

    id: str
    actor_name: str
    title: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    message_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    created_at: datetime
    updated_at: datetime

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    @property
    def token_usage(self) -> TokenUsage:
        return TokenUsage(self.input_tokens, self.output_tokens)


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionMessage:
    """One message of a session; ``sequence`` (0, 1, 2, ...) is its place in the conversation."""

    id: str
    session_id: str
    sequence: int
    role: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    token_count: int | None = None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to append in a batch, before the store gives it an id, sequence and time."""

    role: str
    content: str
    metadata: dict[str, Any] | None = None
    token_count: int | None = None


SessionOrder = Literal["created_at", "updated_at"]


class SessionPage(list[Session]):
    """One page of a session listing, still a plain list of sessions.

    ``next_cursor`` is the opaque cursor that fetches the page after this one (pass it back as
    ``cursor=``), or ``None`` when this page is the last.
    """

    next_cursor: str | None

    def __init__(self, sessions: Iterable[Session] = (), next_cursor: str | None = None) -> None:
        super().__init__(sessions)
        self.next_cursor = next_cursor


@dataclass(frozen=True, slots=True, kw_only=True)
class ActorStatistics:
    """Totals over all sessions of one actor."""

    actor_name: str
    session_count: int
    message_count: int
    input_tokens: int
    output_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens
