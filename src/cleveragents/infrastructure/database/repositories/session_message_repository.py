"""Stored messages: append at the end of a session, read back in order, count."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, insert, select, update

from cleveragents.domain.errors import SequenceConflictError, SessionNotFoundError
from cleveragents.domain.session import SessionMessage
from cleveragents.infrastructure.database.entity_mapping import (
    message_from_row,
    message_row,
    messages_from_result,
)
from cleveragents.infrastructure.database.repositories.repository import Repository
from cleveragents.infrastructure.database.retry import database_retry, is_retry
from cleveragents.infrastructure.database.tables import session_messages, sessions

# Taking the next sequence is one atomic row update: it numbers the message and holds the
# session row's lock until commit, so concurrent appenders queue instead of colliding.
_BUMP_MESSAGE_COUNT = (
    update(sessions)
    .where(sessions.c.id == bindparam("session_id"))
    .values(
        message_count=sessions.c.message_count + 1,
        updated_at=bindparam("now", type_=sessions.c.updated_at.type),
    )
)
_TAKE_NEXT_SEQUENCE = _BUMP_MESSAGE_COUNT.returning(sessions.c.message_count)
# MySQL and MariaDB have no UPDATE ... RETURNING; the row lock taken by the update makes the
# follow-up read see this transaction's own increment and nobody else's.
_READ_MESSAGE_COUNT = select(sessions.c.message_count).where(
    sessions.c.id == bindparam("session_id")
)
_BUMP_IF_NEXT_IS = _BUMP_MESSAGE_COUNT.where(
    sessions.c.message_count == bindparam("expected_sequence")
)
_TAKE_EXPECTED_SEQUENCE = _BUMP_IF_NEXT_IS.returning(sessions.c.message_count)
_SELECT_MESSAGE = select(session_messages).where(session_messages.c.id == bindparam("message_id"))
_INSERT_MESSAGE = insert(session_messages)
_COUNT_MESSAGES = select(func.count()).where(
    session_messages.c.session_id == bindparam("session_id")
)


class SessionMessageRepository(Repository):
    """Messages of the sessions in one database."""

    @database_retry
    def append(
        self,
        *,
        message_id: str,
        session_id: str,
        role: str,
        content: str,
        metadata: dict[str, Any],
        token_count: int | None,
        created_at: datetime,
        expected_sequence: int | None = None,
    ) -> SessionMessage:
        """Store the message at the session's next sequence and bump the session's counters.

        With ``expected_sequence``, store it only if that is the next sequence.

        Raises:
            SessionNotFoundError: no session has that id.
            SequenceConflictError: the next sequence is not ``expected_sequence``.
        """
        parameters = {
            "session_id": session_id,
            "message_id": message_id,
            "now": created_at,
            "expected_sequence": expected_sequence,
        }
        with self._database.transaction(write=True) as connection:
            if is_retry():
                earlier = connection.execute(_SELECT_MESSAGE, parameters).mappings().first()
                if earlier is not None:
                    return message_from_row(earlier)
            count = self._take_next_sequence(connection, parameters)
            if count is None:
                actual = connection.execute(_READ_MESSAGE_COUNT, parameters).scalar()
                if actual is None:
                    raise SessionNotFoundError(session_id)
                raise SequenceConflictError(session_id, expected_sequence, actual)
            message = SessionMessage(
                id=message_id,
                session_id=session_id,
                sequence=count - 1,
                role=role,
                content=content,
                metadata=metadata,
                token_count=token_count,
                created_at=created_at,
            )
            connection.execute(_INSERT_MESSAGE, message_row(message))
        return message

    @staticmethod
    def _take_next_sequence(connection: Connection, parameters: dict[str, Any]) -> int | None:
        """The new ``message_count`` after taking a sequence, or ``None`` if none was taken."""
        conditional = parameters["expected_sequence"] is not None
        if connection.dialect.update_returning:
            statement = _TAKE_EXPECTED_SEQUENCE if conditional else _TAKE_NEXT_SEQUENCE
            count: int | None = connection.execute(statement, parameters).scalar()
            return count
        bump = _BUMP_IF_NEXT_IS if conditional else _BUMP_MESSAGE_COUNT
        if connection.execute(bump, parameters).rowcount == 0:
            return None
        return int(connection.execute(_READ_MESSAGE_COUNT, parameters).scalar_one())

    @database_retry
    def get_for_session(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[SessionMessage]:
        """A page of messages in ascending sequence."""
        statement = (
            select(session_messages)
            .where(session_messages.c.session_id == session_id)
            .order_by(session_messages.c.sequence)
        )
        if limit is not None:
            statement = statement.limit(limit)
        if offset:
            statement = statement.offset(offset)
        with self._database.transaction(write=False) as connection:
            return messages_from_result(connection.execute(statement), session_id)

    @database_retry
    def count_for_session(self, session_id: str) -> int:
        with self._database.transaction(write=False) as connection:
            return int(connection.execute(_COUNT_MESSAGES, {"session_id": session_id}).scalar_one())
