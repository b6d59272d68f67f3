"""Sessions that belong to a user, with state at actor, user and session scope.

Each public method is one transaction: a session is created with its owner and initial state
at once, and an appended message lands with every state change it carries, or nothing does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from types import MappingProxyType
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    FromClause,
    Select,
    Table,
    bindparam,
    delete,
    exc,
    insert,
    select,
    true,
)
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.sql.dml import Insert

from cleveragents.domain.errors import SessionAlreadyExistsError, SessionNotFoundError
from cleveragents.domain.scoped_state import ScopedState, UserSession
from cleveragents.domain.session import NewMessage, Session, SessionMessage
from cleveragents.domain.stored_fields import SESSION_FIELDS
from cleveragents.infrastructure.database.entity_mapping import (
    INSERT_MESSAGE,
    INSERT_SESSION,
    MESSAGE_COLUMNS,
    SESSION_COLUMNS,
    message_row,
    messages_from_result,
    session_from_values,
    session_row,
)
from cleveragents.infrastructure.database.repositories.repository import Repository
from cleveragents.infrastructure.database.repositories.session_message_repository import (
    earlier_messages,
    stored_message,
    take_sequences,
)
from cleveragents.infrastructure.database.retry import (
    Attempt,
    database_retry,
    database_retry_with_attempt,
)
from cleveragents.infrastructure.database.tables import (
    actor_state,
    session_messages,
    session_state,
    session_users,
    sessions,
    user_state,
)

_SELECT_USER_SESSION = (
    select(*SESSION_COLUMNS, session_users.c.user_id)
    .join(session_users, session_users.c.session_id == sessions.c.id)
    .where(sessions.c.id == bindparam("session_id"))
)
_INSERT_OWNER = insert(session_users)
# The state of a scope that holds none, shared by every listed session without state.
_NO_STATE: Mapping[str, Any] = MappingProxyType({})
_SESSION_EXISTS = select(sessions.c.id).where(sessions.c.id == bindparam("session_id"))
_SELECT_OWNER = (
    select(sessions.c.actor_name, session_users.c.user_id)
    .join(session_users, session_users.c.session_id == sessions.c.id)
    .where(sessions.c.id == bindparam("session_id"))
)
_SELECT_ACTOR_STATE = select(actor_state.c.name, actor_state.c.value).where(
    actor_state.c.actor_name == bindparam("actor_name")
)
_SELECT_USER_STATE = select(user_state.c.name, user_state.c.value).where(
    user_state.c.actor_name == bindparam("actor_name"),
    user_state.c.user_id == bindparam("user_id"),
)
_SELECT_SESSION_STATE = select(session_state.c.name, session_state.c.value).where(
    session_state.c.session_id == bindparam("session_id")
)


class ScopedStateRepository(Repository):
    """User-owned sessions and their scoped state in one database."""

    @database_retry_with_attempt
    def create(
        self, attempt: Attempt, session: Session, *, user_id: str, state: ScopedState
    ) -> UserSession:
        """Insert the session, its owner and its initial state at every scope; return it with
        the state its scopes hold after the write.

        Raises:
            SessionAlreadyExistsError: a session already has this id.
        """
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if connection.execute(_SESSION_EXISTS, {"session_id": session.id}).first():
                if attempt.is_retry and self._owned_by(connection, session.id, session, user_id):
                    # The first attempt committed; its answer was lost.
                    return _user_session(connection, session, user_id)
                raise SessionAlreadyExistsError(session.id)
            try:
                connection.execute(INSERT_SESSION, session_row(session))
            except exc.IntegrityError as error:
                # Another writer took the id between the check and this insert.
                raise SessionAlreadyExistsError(session.id) from error
            connection.execute(_INSERT_OWNER, {"session_id": session.id, "user_id": user_id})
            _write_state(connection, session.actor_name, user_id, session.id, state)
            return _user_session(connection, session, user_id)

    @staticmethod
    def _owned_by(connection: Connection, session_id: str, session: Session, user_id: str) -> bool:
        owner = connection.execute(_SELECT_OWNER, {"session_id": session_id}).first()
        return owner is not None and tuple(owner) == (session.actor_name, user_id)

    @database_retry_with_attempt
    def append(
        self,
        attempt: Attempt,
        *,
        session_id: str,
        actor_name: str,
        user_id: str,
        draft: NewMessage,
        message_id: str,
        created_at: datetime,
        delta: ScopedState,
        expected_sequence: int | None,
    ) -> SessionMessage:
        """Store a message after the session's last and apply its state change at every scope.

        The session's ``updated_at`` becomes ``created_at``. Taking the sequence locks the
        session row first, so appenders to one session queue; shared scopes are upserted key
        by key, so appenders to other sessions of the same user or actor lose no key.

        Raises:
            SessionNotFoundError: no session has that id, or it belongs to another actor or
                user.
            SequenceConflictError: ``expected_sequence`` is not the next sequence.
        """
        parameters = {
            "session_id": session_id,
            "now": created_at,
            "expected_sequence": expected_sequence,
            "added": 1,
        }
        with self._database.transaction(write=True, attempt=attempt) as connection:
            if attempt.is_retry and (
                stored := earlier_messages(connection, session_id, [message_id])
            ):
                return stored[0]
            owner = connection.execute(_SELECT_OWNER, parameters).first()
            if owner is None or tuple(owner) != (actor_name, user_id):
                raise SessionNotFoundError(session_id)
            sequence = take_sequences(connection, parameters) - 1
            message = stored_message(draft, message_id, session_id, sequence, created_at)
            connection.execute(INSERT_MESSAGE, message_row(message))
            _write_state(connection, actor_name, user_id, session_id, delta)
        return message

    @database_retry
    def load(
        self, session_id: str, *, last: int | None = None, since: datetime | None = None
    ) -> UserSession | None:
        """The session with its owner, state and messages, read from one snapshot.

        ``since`` keeps messages created at or after it; ``last`` keeps the latest ``last``
        of those (0 keeps none). Messages come in ascending sequence.
        """
        with self._database.transaction(write=False, snapshot=True) as connection:
            row = connection.execute(_SELECT_USER_SESSION, {"session_id": session_id}).first()
            if row is None:
                return None
            session, user_id = session_from_values(row[:-1]), row[-1]
            messages: list[SessionMessage] = []
            if last != 0:
                statement = _window_statement(since=since is not None, latest=last is not None)
                parameters = {"session_id": session_id, "since": since, "last": last}
                messages = messages_from_result(
                    connection.execute(statement, parameters), session_id
                )
                if last is not None:
                    messages.reverse()
            return _user_session(connection, session, user_id, messages)

    @database_retry
    def list_for_actor(self, actor_name: str, *, user_id: str | None = None) -> list[UserSession]:
        """The actor's user-owned sessions (one user's, when given) with their state, without
        messages, oldest activity first, ties broken by id.

        Four statements whatever the number of sessions: sessions, their session state, the
        actor's state and the users' state, all from one snapshot.
        """
        parameters: dict[str, Any] = {"actor_name": actor_name, "user_id": user_id}
        with self._database.transaction(write=False, snapshot=True) as connection:
            listing = _listing(connection.dialect.name, one_user=user_id is not None)
            owned, own_state, users_state = listing
            by_session: dict[str, dict[str, Any]] = defaultdict(dict)
            for session_id, name, value in connection.execute(own_state, parameters):
                by_session[session_id][name] = value
            by_user: dict[str, dict[str, Any]] = defaultdict(dict)
            for owner, name, value in connection.execute(users_state, parameters):
                by_user[owner][name] = value
            shared = _pairs(connection, _SELECT_ACTOR_STATE, actor_name=actor_name)
            # The session rows last, decoded as they arrive: a listing of thousands then keeps
            # no row objects beside its sessions. Python's collector runs by how many objects
            # were made and kept, and each full collection sweeps the whole process.
            found = []
            for row in connection.execute(owned, parameters):
                session = session_from_values(row[:-1])
                owner = row[-1]
                state = ScopedState(
                    actor=shared,
                    user=by_user.get(owner, _NO_STATE),
                    session=by_session.get(session.id, _NO_STATE),
                )
                found.append(UserSession(session=session, user_id=owner, state=state))
        return found

    @database_retry
    def delete(self, session_id: str, *, actor_name: str, user_id: str) -> bool:
        """Delete the session (state and messages go with it) if those are its owners."""
        owned = select(session_users.c.session_id).where(
            session_users.c.session_id == session_id, session_users.c.user_id == user_id
        )
        statement = delete(sessions).where(
            sessions.c.id == session_id,
            sessions.c.actor_name == actor_name,
            sessions.c.id.in_(owned),
        )
        with self._database.transaction(write=True) as connection:
            return connection.execute(statement).rowcount > 0

    @database_retry
    def user_state(self, actor_name: str, user_id: str) -> dict[str, Any]:
        with self.single_statement() as connection:
            return _pairs(connection, _SELECT_USER_STATE, actor_name=actor_name, user_id=user_id)


def _user_session(
    connection: Connection,
    session: Session,
    user_id: str,
    messages: list[SessionMessage] | None = None,
) -> UserSession:
    """The session with the state of its three scopes as ``connection`` sees them."""
    state = ScopedState(
        actor=_pairs(connection, _SELECT_ACTOR_STATE, actor_name=session.actor_name),
        user=_pairs(connection, _SELECT_USER_STATE, actor_name=session.actor_name, user_id=user_id),
        session=_pairs(connection, _SELECT_SESSION_STATE, session_id=session.id),
    )
    return UserSession(session=session, user_id=user_id, state=state, messages=messages or ())


def _pairs(connection: Connection, statement: Any, **parameters: Any) -> dict[str, Any]:
    return {name: value for name, value in connection.execute(statement, parameters)}


def _write_state(
    connection: Connection,
    actor_name: str,
    user_id: str,
    session_id: str,
    state: ScopedState,
) -> None:
    """Upsert every key the change names, one multi-row statement per scope."""
    scopes: Sequence[tuple[Table, Mapping[str, Any], dict[str, str]]] = (
        (actor_state, state.actor, {"actor_name": actor_name}),
        (user_state, state.user, {"actor_name": actor_name, "user_id": user_id}),
        (session_state, state.session, {"session_id": session_id}),
    )
    for table, values, owner in scopes:
        if values:
            rows = [{**owner, "name": name, "value": value} for name, value in values.items()]
            connection.execute(_upsert(connection.dialect.name, table), rows)


@cache
def _listing(dialect: str, *, one_user: bool) -> tuple[Select[Any], Select[Any], Select[Any]]:
    """The statements of a listing: the owned sessions (their columns, then the owner), their
    session state and their users' state, bound to ``actor_name`` and, for ``one_user``,
    ``user_id``.

    On PostgreSQL the sessions and their state are looked up row by row through their keys
    (``LATERAL``, fenced by ``LIMIT``/``OFFSET`` so the planner keeps it). A join would leave
    the plan to the table statistics, and tables filled since their last ``ANALYZE`` are
    estimated at a few rows: the planner then compares every session with every owner, which
    took seconds for 10,000 sessions where the lookups take milliseconds. SQLite and MariaDB
    plan these joins by their indexes.
    """
    actor: BindParameter[str] = bindparam("actor_name")
    user: BindParameter[str] = bindparam("user_id")
    users_state: Select[Any] = select(
        user_state.c.user_id, user_state.c.name, user_state.c.value
    ).where(user_state.c.actor_name == actor)
    if one_user:
        users_state = users_state.where(user_state.c.user_id == user)
    if dialect == "postgresql":
        return (*_keyed_listing(one_user), users_state)
    owned = (
        select(*SESSION_COLUMNS, session_users.c.user_id)
        .join(session_users, session_users.c.session_id == sessions.c.id)
        .where(sessions.c.actor_name == actor)
    )
    own_state = (
        select(session_state.c.session_id, session_state.c.name, session_state.c.value)
        .join(sessions, sessions.c.id == session_state.c.session_id)
        .where(sessions.c.actor_name == actor)
    )
    if one_user:
        owned = owned.where(session_users.c.user_id == user)
        own_state = own_state.join(
            session_users, session_users.c.session_id == session_state.c.session_id
        ).where(session_users.c.user_id == user)
    return owned.order_by(sessions.c.updated_at, sessions.c.id), own_state, users_state


def _keyed_listing(one_user: bool) -> tuple[Select[Any], Select[Any]]:
    """The listing's sessions and session state, each row found through a key (PostgreSQL)."""
    listed: FromClause
    owner_column: ColumnElement[str]
    if one_user:
        # From the user's ownership rows to each session, by its primary key.
        listed = (
            select(*SESSION_COLUMNS)
            .where(
                sessions.c.id == session_users.c.session_id,
                sessions.c.actor_name == bindparam("actor_name"),
            )
            .limit(1)
            .lateral("listed")
        )
        rows = session_users.join(listed, true())
        owner_column = session_users.c.user_id
        where = session_users.c.user_id == bindparam("user_id")
    else:
        # From the actor's sessions to each one's owner, by its primary key.
        owner = (
            select(session_users.c.user_id)
            .where(session_users.c.session_id == sessions.c.id)
            .limit(1)
            .lateral("owner")
        )
        listed = sessions
        rows = sessions.join(owner, true())
        owner_column = owner.c.user_id
        where = sessions.c.actor_name == bindparam("actor_name")
    owned = (
        select(*(listed.c[name] for name in SESSION_FIELDS), owner_column)
        .select_from(rows)
        .where(where)
        .order_by(listed.c.updated_at, listed.c.id)
    )
    state = (
        select(session_state.c.name, session_state.c.value)
        .where(session_state.c.session_id == listed.c.id)
        .offset(0)
        .lateral("state")
    )
    own_state = (
        select(listed.c.id, state.c.name, state.c.value)
        .select_from(rows.join(state, true()))
        .where(where)
    )
    return owned, own_state


@cache
def _window_statement(*, since: bool, latest: bool) -> Select[Any]:
    """The messages a read asks for, one statement per shape, built once: from ``since``
    on when ``since``, and the latest ``last`` (newest first) when ``latest``."""
    sequence = session_messages.c.sequence
    statement = select(*MESSAGE_COLUMNS).where(
        session_messages.c.session_id == bindparam("session_id")
    )
    if since:
        statement = statement.where(session_messages.c.created_at >= bindparam("since"))
    if latest:
        return statement.order_by(sequence.desc()).limit(bindparam("last"))
    return statement.order_by(sequence)


@cache
def _upsert(dialect: str, table: Table) -> Insert:
    """An insert that replaces the value of a key already stored, in the dialect's words.

    Built once per dialect and table: building it names the ``excluded`` row's columns anew,
    which cost an append with a state change about a tenth of its time.
    """
    if dialect in ("mysql", "mariadb"):
        mysql_statement = mysql.insert(table)
        return mysql_statement.on_duplicate_key_update(value=mysql_statement.inserted.value)
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    keys = [column.name for column in table.primary_key.columns]
    return statement.on_conflict_do_update(
        index_elements=keys, set_={"value": statement.excluded.value}
    )
