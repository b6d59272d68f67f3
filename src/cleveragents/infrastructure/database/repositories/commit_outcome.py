"""Telling, after a commit broke off, whether a write to a session landed."""

from __future__ import annotations

from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Connection, bindparam, select

from cleveragents.domain.errors import CommitOutcomeUnknownError
from cleveragents.domain.session import Session
from cleveragents.infrastructure.database.entity_mapping import (
    SESSION_COLUMNS,
    sessions_from_result,
)
from cleveragents.infrastructure.database.retry import Attempt
from cleveragents.infrastructure.database.tables import sessions

T = TypeVar("T")

_SELECT_SESSION = select(*SESSION_COLUMNS).where(sessions.c.id == bindparam("session_id"))


def stamped_session(
    connection: Connection, session_id: str, *, now: datetime, action: str, advice: str
) -> Session | None:
    """The session if the broken-off attempt's write landed, ``None`` if it is gone.

    Every such write stamps ``updated_at`` with its call's own instant, so finding that
    stamp means the write landed and must not be made twice. A later stamp means another
    writer came since and the answer is lost: that is said, never guessed.

    Raises:
        CommitOutcomeUnknownError: the session has changed since the broken-off commit.
    """
    found = sessions_from_result(connection.execute(_SELECT_SESSION, {"session_id": session_id}))
    if not found:
        return None
    if found[0].updated_at == now:
        return found[0]
    raise CommitOutcomeUnknownError(
        f"the connection broke while committing {action} of session {session_id!r} and the "
        f"session has changed since: {advice}"
    )


class EarlierAnswer(Generic[T]):
    """The answer an attempt of one call computed, kept for that call's retry.

    A write that removes what it returns (a popped message, a count of cleared rows) cannot
    read its answer back once it has landed; when its commit broke off, the retry answers
    with the kept one if the write landed, instead of doing it a second time.
    """

    def __init__(self, *, action: str, advice: str) -> None:
        self._action = action
        self._advice = advice
        self._answers: list[T] = []

    def landed(
        self, attempt: Attempt, connection: Connection, session_id: str, *, now: datetime
    ) -> bool:
        """True when the attempt before ``attempt`` broke off committing and its write landed.

        Raises:
            CommitOutcomeUnknownError: the session has changed since that commit.
        """
        if attempt.previous_commit_unknown and self._answers:
            found = stamped_session(
                connection, session_id, now=now, action=self._action, advice=self._advice
            )
            if found is not None:
                return True
        self._answers.clear()
        return False

    def keep(self, answer: T) -> T:
        """Keep this attempt's answer (before it commits) and give it back."""
        self._answers[:] = [answer]
        return answer

    @property
    def value(self) -> T:
        return self._answers[0]
