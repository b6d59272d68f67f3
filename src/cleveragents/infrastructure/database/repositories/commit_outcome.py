"""Telling, after a commit broke off, whether a write to a session landed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, bindparam, select

from cleveragents.domain.errors import CommitOutcomeUnknownError
from cleveragents.domain.session import Session
from cleveragents.infrastructure.database.entity_mapping import (
    SESSION_COLUMNS,
    sessions_from_result,
)
from cleveragents.infrastructure.database.tables import sessions

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
