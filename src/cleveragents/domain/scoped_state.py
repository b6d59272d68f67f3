"""State kept at three scopes: shared by an actor's sessions, by one user's, or a session's own.

Agent frameworks keep conversation state beside the history: values every session of an
application shares, values that follow one user from session to session, and values of the
session alone. Keys are plain (unprefixed) strings at each scope; values are JSON data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cleveragents.domain.session import Session, SessionMessage


@dataclass(frozen=True, slots=True)
class ScopedState:
    """Key/value state at each scope; as a change, each key given replaces the stored one."""

    actor: Mapping[str, Any] = field(default_factory=dict)
    user: Mapping[str, Any] = field(default_factory=dict)
    session: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class UserSession:
    """A session of one user of its actor, with the state of its three scopes.

    ``messages`` holds what the read asked for (all, the latest few, or none when listing).
    """

    session: Session
    user_id: str
    state: ScopedState
    messages: Sequence[SessionMessage] = ()
