"""Stored messages: append at the end of a session, read back in order, count."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, NoReturn

from sqlalchemy import Connection, Select, bindparam, delete, func, insert, select, update
from sqlalchemy.sql.dml import Insert, Update

from cleveragents.domain import limits
from cleveragents.domain.errors import (
    SequenceConflictError,
    SessionIntegrityError,
    SessionNotFoundError,
)
from cleveragents.domain.session import NewMessage, SessionMessage
from cleveragents.domain.stored_fields import MESSAGE_FIELDS
from cleveragents.infrastructure.database.entity_mapping import (
    INSERT_MESSAGE,
    MESSAGE_COLUMNS,
    message_row,
    messages_from_result,
)
from cleveragents.infrastructure.database.repositories.commit_outcome import EarlierAnswer
from cleveragents.infrastructure.database.repositories.repository import Repository
from cleveragents.infrastructure.database.retry import (
    Attempt,
    database_retry,
    database_retry_with_attempt,
)
from cleveragents.infrastructure.database.tables import session_messages, sessions

# Taking the next sequence is one atomic row update: it numbers the message and holds the
# session row's lock until commit, so concurrent appenders queue instead of colliding.
_BUMP_MESSAGE_COUNT = (
    update(sessions)
    .where(sessions.c.id == bindparam("session_id"))
    .values(
        message_count=sessions.c.message_count
        + bindparam("added", type_=sessions.c.message_count.type),
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


def _append_alone(taking: Update) -> Insert:
    """One message stored in one statement (PostgreSQL): the counter update as a
    data-modifying ``WITH``, and the insert numbered from what it returns. Nothing is
    inserted when the update finds no row to take a sequence from."""
    taken = taking.returning(sessions.c.message_count).cte("taken")
    # Parameters named like a column of the updated table would become SET clauses of the
    # update: the message's own values are named apart.
    computed = {
        "session_id": bindparam("session_id"),
        "sequence": taken.c.message_count - bindparam("added"),
        "created_at": bindparam("now"),
    }
    values = [
        computed.get(name, bindparam(f"message_{name}", type_=session_messages.c[name].type))
        for name in MESSAGE_FIELDS
    ]
    return (
        insert(session_messages)
        .from_select(list(MESSAGE_FIELDS), select(*values).select_from(taken))
        .returning(session_messages.c.sequence)
    )


_APPEND_ALONE = _append_alone(_BUMP_MESSAGE_COUNT)
_APPEND_ALONE_IF_NEXT_IS = _append_alone(_BUMP_IF_NEXT_IS)
_SELECT_MESSAGES_BY_ID = (
    select(*MESSAGE_COLUMNS)
    .where(session_messages.c.id.in_(bindparam("message_ids", expanding=True)))
    .order_by(session_messages.c.sequence)
)
_COUNT_MESSAGES = select(func.count()).where(
    session_messages.c.session_id == bindparam("session_id")
)
# Giving the last sequence back is the mirror of taking one: the same row lock queues
# poppers behind appenders and each other, so each message is popped exactly once.
_RELEASE_LAST_SEQUENCE = (
    update(sessions)
    .where(sessions.c.id == bindparam("session_id"), sessions.c.message_count > 0)
    .values(
        message_count=sessions.c.message_count - 1,
        updated_at=bindparam("now", type_=sessions.c.updated_at.type),
    )
)
_TAKE_BACK_LAST_SEQUENCE = _RELEASE_LAST_SEQUENCE.returning(sessions.c.message_count)
_SELECT_MESSAGE_AT = select(*MESSAGE_COLUMNS).where(
    session_messages.c.session_id == bindparam("session_id"),
    session_messages.c.sequence == bindparam("sequence"),
)
_DELETE_MESSAGE_AT = delete(session_messages).where(
    session_messages.c.session_id == bindparam("session_id"),
    session_messages.c.sequence == bindparam("sequence"),
)
_RESET_MESSAGE_COUNT = (
    update(sessions)
    .where(sessions.c.id == bindparam("session_id"))
    .values(message_count=0, updated_at=bindparam("now", type_=sessions.c.updated_at.type))
)
_DELETE_SESSION_MESSAGES = delete(session_messages).where(
    session_messages.c.session_id == bindparam("session_id")
)


class SessionMessageRepository(Repository):
    """Messages of the sessions in one database."""

    @database_retry_with_attempt
    def append(
        self,
        attempt: Attempt,
        *,
        session_id: str,
        drafts: Sequence[NewMessage],
        message_ids: Sequence[str],
        created_at: datetime,
        expected_sequence: int | None = None,
    ) -> list[SessionMessage]:
        """Store checked drafts at contiguous sequences after the session's last message.

        One counter update takes all the sequences at once, then one insert stores the
        messages (multi-row for a batch), so an append costs two statements whatever its size.
        With ``expected_sequence``, store them only if that is the next sequence.

        Raises:
            SessionNotFoundError: no session has that id.
            SequenceConflictError: the next sequence is not ``expected_sequence``.
        """
        parameters = {
            "session_id": session_id,
            "now": created_at,
            "expected_sequence": expected_sequence,
            "added": len(drafts),
        }
        if (
            len(drafts) == 1
            and self._database.engine.dialect.name == "postgresql"
            # A longer id names no stored session, but PostgreSQL would refuse it as a value
            # for the insert's column while planning, before the update found nothing.
            and len(session_id) <= limits.MAX_NEW_SESSION_ID_LENGTH
        ):
            return [self._append_alone(attempt, parameters, drafts[0], message_ids[0])]
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if attempt.is_retry and (
                stored := earlier_messages(connection, session_id, message_ids)
            ):
                return stored
            count = take_sequences(connection, parameters)
            first = count - len(drafts)
            messages = [
                stored_message(draft, message_id, session_id, first + index, created_at)
                for index, (draft, message_id) in enumerate(zip(drafts, message_ids, strict=True))
            ]
            rows = [message_row(message) for message in messages]
            connection.execute(INSERT_MESSAGE, rows if len(rows) > 1 else rows[0])
        return messages

    def _append_alone(
        self, attempt: Attempt, parameters: dict[str, Any], draft: NewMessage, message_id: str
    ) -> SessionMessage:
        """Store one message on PostgreSQL in a single statement, committed on its own: one
        round trip where a transaction of two statements takes four (``BEGIN``, the counter,
        the insert, ``COMMIT``). A single statement is atomic, and the counter's row lock
        queues concurrent appenders as in the transaction."""
        session_id = parameters["session_id"]
        with self._database.single_statement(write=True, attempt=attempt) as connection:
            if attempt.is_retry and (
                stored := earlier_messages(connection, session_id, [message_id])
            ):
                return stored[0]
            values = {
                **parameters,
                "message_id": message_id,
                "message_role": draft.role,
                "message_content": draft.content,
                "message_metadata": draft.metadata or {},
                "message_token_count": draft.token_count,
            }
            conditional = parameters["expected_sequence"] is not None
            statement = _APPEND_ALONE_IF_NEXT_IS if conditional else _APPEND_ALONE
            sequence = connection.execute(statement, values).scalar()
            if sequence is None:
                refuse_sequences(connection, parameters)
        return stored_message(draft, message_id, session_id, sequence, parameters["now"])

    def pop_last(self, session_id: str, *, now: datetime) -> SessionMessage | None:
        """Delete and return the highest-sequence message, giving its sequence back.

        ``None`` when the session has no messages. ``now`` stamps the session's
        ``updated_at``.

        Raises:
            SessionNotFoundError: no session has that id.
            SessionIntegrityError: the counter names a message that is not stored.
            CommitOutcomeUnknownError: a commit broke off and the session changed since.
        """
        removal = EarlierAnswer[SessionMessage](
            action="the removal of its last message",
            advice="read the history before removing another message",
        )
        return self._pop_last(session_id, now, removal)

    @database_retry_with_attempt
    def _pop_last(
        self,
        attempt: Attempt,
        session_id: str,
        now: datetime,
        earlier: EarlierAnswer[SessionMessage],
    ) -> SessionMessage | None:
        parameters: dict[str, Any] = {"session_id": session_id, "now": now}
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if earlier.landed(attempt, connection, session_id, now=now):
                return earlier.value
            if connection.dialect.update_returning:
                remaining = connection.execute(_TAKE_BACK_LAST_SEQUENCE, parameters).scalar()
            elif connection.execute(_RELEASE_LAST_SEQUENCE, parameters).rowcount:
                remaining = connection.execute(_READ_MESSAGE_COUNT, parameters).scalar()
            else:
                remaining = None
            if remaining is None:
                if connection.execute(_READ_MESSAGE_COUNT, parameters).first() is None:
                    raise SessionNotFoundError(session_id)
                return None
            parameters["sequence"] = remaining
            found = messages_from_result(
                connection.execute(_SELECT_MESSAGE_AT, parameters), session_id
            )
            if not found:
                raise SessionIntegrityError(
                    f"session {session_id!r} counts {remaining + 1} messages but has none "
                    f"at sequence {remaining}"
                )
            connection.execute(_DELETE_MESSAGE_AT, parameters)
            return earlier.keep(found[0])

    def clear(self, session_id: str, *, now: datetime) -> int:
        """Delete every message of the session and reset its counter; how many were deleted.

        Raises:
            SessionNotFoundError: no session has that id.
            CommitOutcomeUnknownError: a commit broke off and the session changed since.
        """
        clearing = EarlierAnswer[int](
            action="the clearing of its messages",
            advice="read the history before clearing it again",
        )
        return self._clear(session_id, now, clearing)

    @database_retry_with_attempt
    def _clear(
        self, attempt: Attempt, session_id: str, now: datetime, earlier: EarlierAnswer[int]
    ) -> int:
        parameters = {"session_id": session_id, "now": now}
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if earlier.landed(attempt, connection, session_id, now=now):
                return earlier.value
            # Resetting the counter first takes the session row's lock, so no append can
            # slip a message in between the delete and the commit.
            if not connection.execute(_RESET_MESSAGE_COUNT, parameters).rowcount:
                raise SessionNotFoundError(session_id)
            deleted = connection.execute(_DELETE_SESSION_MESSAGES, parameters).rowcount
            return earlier.keep(int(deleted))

    @database_retry
    def get_for_session(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        after_sequence: int | None = None,
        before_sequence: int | None = None,
        latest: bool = False,
    ) -> list[SessionMessage]:
        """A range of messages in ascending sequence.

        ``latest`` takes the ``limit`` highest sequences of the range instead of the lowest,
        walking the ``(session_id, sequence)`` index backwards, and still returns them
        oldest first.
        """
        statement = _range_statement(
            limited=limit is not None,
            offset=offset > 0,
            after=after_sequence is not None,
            before=before_sequence is not None,
            latest=latest,
        )
        parameters = {
            "session_id": session_id,
            "limit": limit,
            "offset": offset,
            "after_sequence": after_sequence,
            "before_sequence": before_sequence,
        }
        with self.single_statement() as connection:
            messages = messages_from_result(connection.execute(statement, parameters), session_id)
        if latest:
            messages.reverse()
        return messages

    @database_retry
    def count_for_session(self, session_id: str) -> int:
        with self.single_statement() as connection:
            return int(connection.execute(_COUNT_MESSAGES, {"session_id": session_id}).scalar_one())


def earlier_messages(
    connection: Connection, session_id: str, message_ids: Sequence[str]
) -> list[SessionMessage]:
    """The messages of ``message_ids`` already stored: on a retry, what an earlier attempt
    committed before its answer was lost."""
    found = connection.execute(_SELECT_MESSAGES_BY_ID, {"message_ids": list(message_ids)})
    return messages_from_result(found, session_id)


def stored_message(
    draft: NewMessage, message_id: str, session_id: str, sequence: int, created_at: datetime
) -> SessionMessage:
    """The message ``draft`` becomes, stored under ``message_id`` at ``sequence``."""
    return SessionMessage(
        id=message_id,
        session_id=session_id,
        sequence=sequence,
        role=draft.role,
        content=draft.content,
        metadata=draft.metadata or {},
        token_count=draft.token_count,
        created_at=created_at,
    )


def take_sequences(connection: Connection, parameters: dict[str, Any]) -> int:
    """Add ``added`` to the session's counter and return the new ``message_count``.

    Raises:
        SessionNotFoundError: no session has that id.
        SequenceConflictError: ``expected_sequence`` was given and is not the counter.
    """
    conditional = parameters["expected_sequence"] is not None
    count: int | None
    if connection.dialect.update_returning:
        statement = _TAKE_EXPECTED_SEQUENCE if conditional else _TAKE_NEXT_SEQUENCE
        count = connection.execute(statement, parameters).scalar()
    else:
        bump = _BUMP_IF_NEXT_IS if conditional else _BUMP_MESSAGE_COUNT
        taken = connection.execute(bump, parameters).rowcount > 0
        count = connection.execute(_READ_MESSAGE_COUNT, parameters).scalar() if taken else None
    if count is not None:
        return int(count)
    refuse_sequences(connection, parameters)


def refuse_sequences(connection: Connection, parameters: dict[str, Any]) -> NoReturn:
    """Say why no sequence could be taken for ``parameters``.

    Raises:
        SessionNotFoundError: no session has that id.
        SequenceConflictError: the session's next sequence is not ``expected_sequence``.
    """
    if parameters["expected_sequence"] is None:
        # The update had no other condition: the session did not exist when it ran. Reading
        # the counter now could find one created since, and call that a conflict.
        raise SessionNotFoundError(parameters["session_id"])
    actual = connection.execute(_READ_MESSAGE_COUNT, parameters).scalar()
    if actual is None:
        raise SessionNotFoundError(parameters["session_id"])
    raise SequenceConflictError(parameters["session_id"], parameters["expected_sequence"], actual)


@cache
def _range_statement(
    *, limited: bool, offset: bool, after: bool, before: bool, latest: bool
) -> Select[Any]:
    """One statement per shape of range query, built once, so each call only binds values."""
    sequence = session_messages.c.sequence
    statement = select(*MESSAGE_COLUMNS).where(
        session_messages.c.session_id == bindparam("session_id")
    )
    if after:
        statement = statement.where(sequence > bindparam("after_sequence"))
    if before:
        statement = statement.where(sequence < bindparam("before_sequence"))
    statement = statement.order_by(sequence.desc() if latest else sequence)
    if limited:
        statement = statement.limit(bindparam("limit"))
    if offset:
        statement = statement.offset(bindparam("offset"))
    return statement
