"""Sessions owned by a user, with state at actor, user and session scope.

The use cases of agent frameworks that keep state beside the history (Google ADK's
``app:``/``user:``/session state): create a session with its initial state, append a message
together with the state change it carries, read a session with its state and a window of
its history, list an actor's or a user's sessions. Every call is one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from cleveragents.application.services import input_rules
from cleveragents.application.services.identifiers import new_id
from cleveragents.domain import limits
from cleveragents.domain.errors import InvalidSessionDataError
from cleveragents.domain.scoped_state import ScopedState, UserSession
from cleveragents.domain.session import NewMessage, Session, SessionMessage
from cleveragents.infrastructure.database import Database, ScopedStateRepository


class ScopedStateService:
    """User-owned sessions and their scoped state over one :class:`Database`.

    Opening checks that the schema is current, as :class:`PersistentSessionService` does;
    the two can share one database, and sessions created here are ordinary sessions there.
    """

    def __init__(self, database: Database) -> None:
        self._database = database
        self._repository = ScopedStateRepository(database)
        database.check_schema()

    def close(self) -> None:
        """Release the pooled connections (an engine handed over by its owner stays open)."""
        self._database.dispose()

    def create(
        self,
        actor_name: str,
        *,
        user_id: str,
        session_id: str | None = None,
        state: ScopedState | None = None,
        created_at: datetime | None = None,
    ) -> UserSession:
        """Create a session of ``user_id`` and store its initial state at each scope.

        Returns:
            The session with the state each scope holds now (shared scopes may hold more
            than ``state`` gave them).

        Raises:
            SessionAlreadyExistsError: ``session_id`` is taken.
            InvalidSessionDataError: a name is empty or too long, or a value is not JSON.
        """
        now = created_at or datetime.now(UTC)
        session = Session(
            id=new_id() if session_id is None else input_rules.check_new_session_id(session_id),
            actor_name=_check_actor(actor_name),
            title=None,
            metadata={},
            created_at=now,
            updated_at=now,
        )
        user_id = _check_user(user_id)
        state = check_state(state or ScopedState())
        return self._repository.create(session, user_id=user_id, state=state)

    def append(
        self,
        session_id: str,
        message: NewMessage,
        *,
        actor_name: str,
        user_id: str,
        delta: ScopedState | None = None,
        expected_sequence: int | None = None,
        created_at: datetime | None = None,
    ) -> SessionMessage:
        """Append ``message`` and apply ``delta`` at each scope, in one transaction.

        ``actor_name`` and ``user_id`` must be the session's owners. With
        ``expected_sequence`` the append happens only if that is the session's next sequence,
        so a writer holding an outdated copy learns it instead of overwriting state.
        ``created_at`` (default now) is the message's time and the session's last activity.

        Raises:
            SessionNotFoundError: no session has that id under that actor and user.
            SequenceConflictError: another writer appended since ``expected_sequence``.
            InvalidSessionDataError: the message or the change is malformed.
        """
        return self._repository.append(
            session_id=input_rules.check_session_id(session_id),
            actor_name=_check_actor(actor_name),
            user_id=_check_user(user_id),
            draft=input_rules.check_new_message(0, message),
            message_id=new_id(),
            created_at=created_at or datetime.now(UTC),
            delta=check_state(delta or ScopedState()),
            expected_sequence=input_rules.check_optional_count(
                "expected_sequence", expected_sequence, maximum=limits.MAX_SEQUENCE
            ),
        )

    def get(
        self, session_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> UserSession | None:
        """The session with its state and messages in ascending sequence; ``None`` if absent.

        ``since`` keeps messages created at or after that moment; ``last`` the latest
        ``last`` of those (0: none).
        """
        if since is not None and since.tzinfo is None:
            raise InvalidSessionDataError("since must be a timezone-aware datetime")
        return self._repository.load(
            input_rules.check_session_id(session_id),
            last=input_rules.check_optional_count("last", last, maximum=limits.MAX_SEQUENCE),
            since=since,
        )

    def list(self, actor_name: str, *, user_id: str | None = None) -> list[UserSession]:
        """The actor's user-owned sessions, or one user's, with state and no messages, least
        recently active first, ties broken by id."""
        return self._repository.list_for_actor(
            _check_actor(actor_name), user_id=None if user_id is None else _check_user(user_id)
        )

    def delete(self, session_id: str, *, actor_name: str, user_id: str) -> bool:
        """Delete the session with its state and messages if it belongs to that actor and
        user; ``False`` when there was no such session. Shared state stays."""
        return self._repository.delete(
            input_rules.check_session_id(session_id),
            actor_name=_check_actor(actor_name),
            user_id=_check_user(user_id),
        )

    def user_state(self, actor_name: str, user_id: str) -> dict[str, Any]:
        """The state ``user_id``'s sessions of ``actor_name`` share (empty when none)."""
        return self._repository.user_state(_check_actor(actor_name), _check_user(user_id))


def check_state(state: ScopedState) -> ScopedState:
    """Every scope a mapping of storable names to JSON values that survive a round trip."""
    return ScopedState(
        actor=_check_scope("actor", state.actor),
        user=_check_scope("user", state.user),
        session=_check_scope("session", state.session),
    )


def _check_scope(scope: str, values: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidSessionDataError(
            f"{scope} state must be a mapping, got {type(values).__name__}"
        )
    for name, value in values.items():
        input_rules.check_text(
            f"{scope} state key", name, max_length=limits.MAX_STATE_NAME_LENGTH, allow_blank=True
        )
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise InvalidSessionDataError(
                f"{scope} state key {name!r} holds a value that is not JSON data ({error})"
            ) from None
    return dict(values)


def _check_actor(actor_name: object) -> str:
    return input_rules.check_text("actor_name", actor_name, max_length=limits.MAX_ACTOR_NAME_LENGTH)


def _check_user(user_id: object) -> str:
    return input_rules.check_text("user_id", user_id, max_length=limits.MAX_USER_ID_LENGTH)
