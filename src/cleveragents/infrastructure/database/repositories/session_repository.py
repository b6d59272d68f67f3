"""Stored sessions: create (optionally with messages), read, page, update counters, delete."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from itertools import islice
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Integer,
    Select,
    and_,
    bindparam,
    delete,
    exc,
    func,
    literal,
    or_,
    select,
    update,
)

from cleveragents.domain import limits
from cleveragents.domain.errors import (
    InvalidSessionDataError,
    SessionAlreadyExistsError,
    SessionNotFoundError,
)
from cleveragents.domain.session import ActorStatistics, Session, SessionMessage, SessionOrder
from cleveragents.infrastructure.database.entity_mapping import (
    INSERT_MESSAGE,
    INSERT_SESSION,
    MESSAGE_COLUMNS,
    SESSION_COLUMNS,
    iter_messages,
    message_row,
    messages_from_result,
    session_row,
    sessions_from_result,
)
from cleveragents.infrastructure.database.error_translation import (
    is_duplicate_key,
    translated_errors,
)
from cleveragents.infrastructure.database.repositories.commit_outcome import stamped_session
from cleveragents.infrastructure.database.repositories.repository import Repository
from cleveragents.infrastructure.database.retry import (
    Attempt,
    database_retry,
    database_retry_with_attempt,
)
from cleveragents.infrastructure.database.tables import session_messages, sessions

_SELECT_SESSION = select(*SESSION_COLUMNS).where(sessions.c.id == bindparam("session_id"))
_SELECT_MESSAGES = (
    select(*MESSAGE_COLUMNS)
    .where(session_messages.c.session_id == bindparam("session_id"))
    .order_by(session_messages.c.sequence)
)
_LOW_32_BITS = 2**32 - 1


def _split_sum(column: ColumnElement[int]) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """The sum of a BIGINT column as its high and low 32-bit halves, summed apart.

    One actor's token totals together can pass 2^63-1: PostgreSQL and MariaDB then sum into
    NUMERIC/DECIMAL, but SQLite's SUM fails with "integer overflow". Each half's sum stays
    far inside BIGINT for up to 2^31 sessions on every backend; Python joins them exactly.
    """
    low_bits = literal(_LOW_32_BITS, BigInteger)
    return (
        # PostgreSQL shifts a BIGINT by an INTEGER only.
        func.coalesce(func.sum(column.op(">>")(literal(32, Integer))), 0),
        func.coalesce(func.sum(column.op("&")(low_bits)), 0),
    )


_STATISTICS_BY_ACTOR = (
    select(
        sessions.c.actor_name,
        func.count(),
        func.coalesce(func.sum(sessions.c.message_count), 0),
        *_split_sum(sessions.c.input_tokens),
        *_split_sum(sessions.c.output_tokens),
    )
    .group_by(sessions.c.actor_name)
    .order_by(sessions.c.actor_name)
)
_DELETE_SESSION = delete(sessions).where(sessions.c.id == bindparam("session_id"))
# Rows a streamed read holds in memory at a time, and messages per insert of a streamed write.
STREAM_BATCH_SIZE = 1000
# Bounding the old totals keeps the sums inside BIGINT; SQLite would otherwise turn an
# overflowing sum into a float without complaint.
MAX_TOKEN_TOTAL = limits.MAX_TOKEN_VALUE
_ADD_TOKEN_USAGE_NO_RETURNING = (
    update(sessions)
    .where(
        sessions.c.id == bindparam("session_id"),
        sessions.c.input_tokens <= bindparam("input_ceiling"),
        sessions.c.output_tokens <= bindparam("output_ceiling"),
    )
    .values(
        input_tokens=sessions.c.input_tokens
        + bindparam("add_input", type_=sessions.c.input_tokens.type),
        output_tokens=sessions.c.output_tokens
        + bindparam("add_output", type_=sessions.c.output_tokens.type),
        updated_at=bindparam("now", type_=sessions.c.updated_at.type),
    )
)
_ADD_TOKEN_USAGE = _ADD_TOKEN_USAGE_NO_RETURNING.returning(*SESSION_COLUMNS)


class SessionRepository(Repository):
    """Sessions in one database."""

    @database_retry_with_attempt
    def create(
        self, attempt: Attempt, session: Session, messages: Sequence[SessionMessage] = ()
    ) -> Session:
        """Insert the session and, in the same transaction, any messages it already has.

        Raises:
            SessionAlreadyExistsError: a session with that id is stored already; of two
                creators racing for one id, the second meets the first's row here.
        """
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if attempt.is_retry:
                found = sessions_from_result(
                    connection.execute(_SELECT_SESSION, {"session_id": session.id})
                )
                # Only a row equal to this call's own, down to its creation instant, is the
                # first attempt's commit whose answer was lost; any other is another creator's.
                if found and found[0] == session:
                    return session
                if found:
                    raise SessionAlreadyExistsError(session.id)
            _insert_session(connection, session)
            if messages:
                connection.execute(INSERT_MESSAGE, [message_row(m) for m in messages])
        return session

    @database_retry
    def get_by_id(self, session_id: str) -> Session | None:
        with self.single_statement() as connection:
            found = sessions_from_result(
                connection.execute(_SELECT_SESSION, {"session_id": session_id})
            )
        return found[0] if found else None

    @database_retry
    def get_with_messages(self, session_id: str) -> tuple[Session, list[SessionMessage]] | None:
        """The session and all its messages, read from one snapshot so they agree."""
        with self._database.transaction(write=False, snapshot=True) as connection:
            found = sessions_from_result(
                connection.execute(_SELECT_SESSION, {"session_id": session_id})
            )
            if not found:
                return None
            messages = messages_from_result(
                connection.execute(_SELECT_MESSAGES, {"session_id": session_id}), session_id
            )
        return found[0], messages

    @contextmanager
    def read_history(self, session_id: str) -> Iterator[tuple[Session, Iterator[SessionMessage]]]:
        """The session and an iterator over its messages, streamed from one snapshot.

        Rows arrive in batches of ``STREAM_BATCH_SIZE`` while the block runs, so a history of
        any length is never held whole. Not retried: the caller may have consumed part of it.

        Raises:
            SessionNotFoundError: no session has that id.
        """
        with (
            translated_errors(server=self._database.server),
            self._database.transaction(write=False, snapshot=True) as connection,
        ):
            found = sessions_from_result(
                connection.execute(_SELECT_SESSION, {"session_id": session_id})
            )
            if not found:
                raise SessionNotFoundError(session_id)
            rows = connection.execute(
                _SELECT_MESSAGES,
                {"session_id": session_id},
                execution_options={"yield_per": STREAM_BATCH_SIZE},
            )
            yield found[0], iter_messages(rows, session_id)

    def create_streaming(self, session: Session, messages: Iterable[SessionMessage]) -> Session:
        """Insert the session, then its messages in batches, all in one transaction.

        The iterable may raise at any point (a document found faulty half way): the whole
        transaction rolls back and nothing is stored. Not retried: the messages cannot be
        read a second time; a failure is reported as the library's error at once.
        """
        with (
            translated_errors(server=self._database.server),
            self._database.transaction(write=True) as connection,
        ):
            _insert_session(connection, session)
            remaining = iter(messages)
            while batch := [message_row(m) for m in islice(remaining, STREAM_BATCH_SIZE)]:
                connection.execute(INSERT_MESSAGE, batch)
        return session

    @database_retry
    def list_page(
        self,
        *,
        limit: int,
        offset: int = 0,
        actor_name: str | None = None,
        order_by: SessionOrder = "created_at",
        after: tuple[datetime, str] | None = None,
    ) -> list[Session]:
        """Up to ``limit`` sessions, newest first by ``order_by``, ties broken by id.

        ``after`` is the ``(order_by value, id)`` of the last session of the previous page:
        the page starts right after it, through the index, however deep it lies.
        """
        statement = _page_statement(
            order_by, actor=actor_name is not None, after=after is not None, offset=offset > 0
        )
        parameters: dict[str, Any] = {"limit": limit, "offset": offset, "actor_name": actor_name}
        if after is not None:
            parameters["after_value"], parameters["after_id"] = after
        with self.single_statement() as connection:
            return sessions_from_result(connection.execute(statement, parameters))

    @database_retry
    def statistics_by_actor(self) -> list[ActorStatistics]:
        with self.single_statement() as connection:
            rows = connection.execute(_STATISTICS_BY_ACTOR).all()
        return [
            ActorStatistics(
                actor_name=actor,
                session_count=int(count),
                message_count=int(messages),
                input_tokens=(int(input_high) << 32) + int(input_low),
                output_tokens=(int(output_high) << 32) + int(output_low),
            )
            for actor, count, messages, input_high, input_low, output_high, output_low in rows
        ]

    @database_retry
    def count_inactive(self, *, before: datetime, actor_name: str | None = None) -> int:
        """How many sessions were last active before ``before``."""
        statement = select(func.count()).where(*_inactive(before, actor_name))
        with self.single_statement() as connection:
            return int(connection.execute(statement).scalar_one())

    @database_retry
    def delete_inactive(
        self, *, before: datetime, actor_name: str | None = None, limit: int
    ) -> int:
        """Delete at most ``limit`` sessions last active before ``before``, oldest first."""
        chosen = (
            select(sessions.c.id)
            .where(*_inactive(before, actor_name))
            .order_by(sessions.c.updated_at, sessions.c.id)
            .limit(limit)
        )
        with self._database.transaction(write=True) as connection:
            ids = list(connection.execute(chosen).scalars())
            if not ids:
                return 0
            return int(connection.execute(delete(sessions).where(sessions.c.id.in_(ids))).rowcount)

    @database_retry_with_attempt
    def delete(self, attempt: Attempt, session_id: str) -> bool:
        """Delete the session; its messages go with it through ON DELETE CASCADE."""
        with self._database.transaction(write=True, attempt=attempt) as connection:
            deleted = connection.execute(_DELETE_SESSION, {"session_id": session_id}).rowcount
        # After a commit that broke off, "nothing left to delete" means the delete landed.
        return deleted > 0 or attempt.previous_commit_unknown

    @database_retry_with_attempt
    def update(
        self,
        attempt: Attempt,
        session_id: str,
        *,
        add_input_tokens: int = 0,
        add_output_tokens: int = 0,
        now: datetime,
    ) -> Session | None:
        """Add to the token counters in the database (``x = x + n``); ``None``: no session.

        Raises:
            InvalidSessionDataError: a total would exceed ``MAX_TOKEN_TOTAL``.
        """
        parameters = {
            "session_id": session_id,
            "add_input": add_input_tokens,
            "add_output": add_output_tokens,
            "input_ceiling": MAX_TOKEN_TOTAL - add_input_tokens,
            "output_ceiling": MAX_TOKEN_TOTAL - add_output_tokens,
            "now": now,
        }
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if attempt.previous_commit_unknown:
                earlier = stamped_session(
                    connection,
                    session_id,
                    now=now,
                    action="a token update",
                    advice="check the session's totals before adding these tokens again",
                )
                if earlier is not None:
                    return earlier
            if connection.dialect.update_returning:
                updated = sessions_from_result(connection.execute(_ADD_TOKEN_USAGE, parameters))
            elif connection.execute(_ADD_TOKEN_USAGE_NO_RETURNING, parameters).rowcount:
                updated = sessions_from_result(connection.execute(_SELECT_SESSION, parameters))
            else:
                updated = []
            if not updated:
                if connection.execute(_SELECT_SESSION, parameters).first() is None:
                    return None
                raise InvalidSessionDataError(
                    f"adding {add_input_tokens} input / {add_output_tokens} output tokens "
                    f"would take session {session_id!r} past {MAX_TOKEN_TOTAL} tokens"
                )
        return updated[0]


def _insert_session(connection: Connection, session: Session) -> None:
    """Insert the session row; a duplicate id is the caller's error, named as such."""
    try:
        connection.execute(INSERT_SESSION, session_row(session))
    except exc.IntegrityError as error:
        if is_duplicate_key(error):
            raise SessionAlreadyExistsError(session.id) from None
        raise


@cache
def _page_statement(
    order_by: SessionOrder, *, actor: bool, after: bool, offset: bool
) -> Select[Any]:
    """One statement per shape of listing, built once, so each call only binds values.

    The cursor condition is written as ``value <= v AND (value < v OR id < i)``: its first
    part is a plain range every backend's planner serves from the ``(…, value, id)`` index,
    and the second only sorts out the ties at ``v``.
    """
    value = sessions.c[order_by]
    statement = select(*SESSION_COLUMNS)
    if actor:
        statement = statement.where(sessions.c.actor_name == bindparam("actor_name"))
    if after:
        after_value = bindparam("after_value", type_=value.type)
        statement = statement.where(
            value <= after_value,
            or_(
                value < after_value,
                and_(value == after_value, sessions.c.id < bindparam("after_id")),
            ),
        )
    statement = statement.order_by(value.desc(), sessions.c.id.desc()).limit(bindparam("limit"))
    if offset:
        statement = statement.offset(bindparam("offset"))
    return statement


def _inactive(before: datetime, actor_name: str | None) -> list[Any]:
    conditions: list[Any] = [sessions.c.updated_at < before]
    if actor_name is not None:
        conditions.append(sessions.c.actor_name == actor_name)
    return conditions
