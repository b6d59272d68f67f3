"""Raw-driver baselines: the same work as the library, hand-written on the DB-API driver.

Each operation is what a careful hand-written store would do with the same durability and the
same rows: one transaction per write (``BEGIN IMMEDIATE`` on SQLite, so the write lock is
taken up front as the library does), the sequence taken from one atomic update of the session
row, ULID ids, the library's own schema (built by ``upgrade_database``) and its storage
formats, and results decoded into the library's entities. Nothing more: no input checks, no
retries, no integrity checks. The gap between a library benchmark and its baseline is the
price of those.

``statements`` counts the SQL statements the baseline issues through ``execute`` and
``executemany`` (a transaction's ``BEGIN`` included when it is sent as SQL, the driver's own
``commit()`` not): the same things a ``before_cursor_execute`` listener counts on the
library's engine.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from itertools import islice
from typing import Any

from sqlalchemy.engine import make_url
from ulid import ULID

from cleveragents.domain import Session, SessionMessage
from cleveragents.domain.stored_fields import MESSAGE_FIELDS, SESSION_FIELDS, builder_from_values

# Rows per executemany when loading fixtures from a generator: memory stays flat.
FIXTURE_CHUNK = 1000
SQLITE_BUSY_TIMEOUT_MS = 5000

_MESSAGE_COLUMNS = ", ".join(MESSAGE_FIELDS)
_SESSION_COLUMNS = ", ".join(SESSION_FIELDS)
_INSERT_MESSAGE = (
    f"INSERT INTO session_messages ({_MESSAGE_COLUMNS}) "
    f"VALUES ({', '.join('?' * len(MESSAGE_FIELDS))})"
)
_INSERT_SESSION = (
    f"INSERT INTO sessions ({_SESSION_COLUMNS}) VALUES ({', '.join('?' * len(SESSION_FIELDS))})"
)
_TAKE_SEQUENCES = (
    "UPDATE sessions SET message_count = message_count + ?, updated_at = ? WHERE id = ?"
)
_READ_COUNT = "SELECT message_count FROM sessions WHERE id = ?"
_SELECT_LATEST = (
    f"SELECT {_MESSAGE_COLUMNS} FROM session_messages WHERE session_id = ? "
    "ORDER BY sequence DESC LIMIT ?"
)
_SELECT_HISTORY = (
    f"SELECT {_MESSAGE_COLUMNS} FROM session_messages WHERE session_id = ? ORDER BY sequence"
)
_SELECT_SESSION = f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE id = ?"
_FIRST_PAGE = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE actor_name = ? "
    "ORDER BY created_at DESC, id DESC LIMIT ?"
)
# Keyset paging written as a plain range plus a tie-break, which every planner serves from
# the (actor_name, created_at, id) index.
_PAGE_AFTER = (
    f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE actor_name = ? AND created_at <= ? "
    "AND (created_at < ? OR (created_at = ? AND id < ?)) "
    "ORDER BY created_at DESC, id DESC LIMIT ?"
)
_DELETE_SESSION = "DELETE FROM sessions WHERE id = ?"


def new_id() -> str:
    """A ULID, as the library makes: time-ordered, so inserts land at the end of the index."""
    return str(ULID())


def backend_of(url: str) -> str:
    """``sqlite``, ``postgresql`` or ``mysql`` (MariaDB included)."""
    name = make_url(url).get_backend_name()
    return "mysql" if name == "mariadb" else name


def open_raw(url: str) -> RawStore:
    """A raw-driver store on the database ``url`` names (a SQLAlchemy URL)."""
    backend = backend_of(url)
    if backend == "sqlite":
        return SqliteStore(url)
    if backend == "postgresql":
        return PostgresStore(url)
    if backend == "mysql":
        return MysqlStore(url)
    raise NotImplementedError(f"no raw baseline for {backend}")


class RawStore:
    """The hand-written store: subclasses supply the connection and the backend's dialect."""

    backend = ""
    paramstyle_qmark = True
    update_returning = True

    def __init__(self) -> None:
        self.statements = 0
        self.connection: Any = None
        # Rows decode as the library's do: unpacked by the entities' field order, keywords
        # passed directly, with this backend's timestamp and JSON readings.
        self._message = builder_from_values(
            SessionMessage,
            MESSAGE_FIELDS,
            {"metadata": self.json_value, "created_at": self.moment},
        )
        self._session = builder_from_values(
            Session,
            SESSION_FIELDS,
            {"metadata": self.json_value, "created_at": self.moment, "updated_at": self.moment},
        )

    # --- plumbing -------------------------------------------------------------------------

    def _sql(self, sql: str) -> str:
        return sql if self.paramstyle_qmark else sql.replace("?", "%s")

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        self.statements += 1
        cursor = self.connection.cursor()
        cursor.execute(self._sql(sql), parameters)
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self.statements += 1
        cursor = self.connection.cursor()
        cursor.executemany(self._sql(sql), rows)
        cursor.close()

    def begin_write(self) -> None:
        raise NotImplementedError

    def commit(self) -> None:
        self.connection.commit()

    def rollback(self) -> None:
        self.connection.rollback()

    def close(self) -> None:
        self.connection.close()

    def durability(self) -> dict[str, Any]:
        """The settings that decide durability, read back through this connection."""
        raise NotImplementedError

    def timestamp(self, moment: datetime) -> Any:
        """How the library stores a timestamp on this backend."""
        raise NotImplementedError

    def moment(self, stored: Any) -> datetime:
        """A stored timestamp as an aware UTC datetime."""
        raise NotImplementedError

    @staticmethod
    def json_value(stored: Any) -> dict[str, Any]:
        return json.loads(stored) if isinstance(stored, str | bytes) else stored

    def _take_sequences(self, session_id: str, count: int, now: Any) -> int:
        """Bump ``message_count`` by ``count``; the new count (inside the open transaction)."""
        if self.update_returning:
            row = self.execute(
                _TAKE_SEQUENCES + " RETURNING message_count", (count, now, session_id)
            ).fetchone()
            if row is None:
                raise LookupError(session_id)
            return int(row[0])
        if self.execute(_TAKE_SEQUENCES, (count, now, session_id)).rowcount == 0:
            raise LookupError(session_id)
        return int(self.execute(_READ_COUNT, (session_id,)).fetchone()[0])

    # --- the operations the library is compared with -----------------------------------------

    def create_session(self, actor_name: str, *, title: str | None = None) -> str:
        session_id = new_id()
        now = self.timestamp(datetime.now(UTC))
        self.begin_write()
        try:
            self.execute(_INSERT_SESSION, (session_id, actor_name, title, "{}", 0, 0, 0, now, now))
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return session_id

    def append(
        self,
        session_id: str,
        role: str,
        content: str,
        metadata: Mapping[str, Any] | None = None,
        token_count: int | None = None,
    ) -> SessionMessage:
        """One durable append: take the next sequence, insert the message, commit."""
        moment = datetime.now(UTC)
        now = self.timestamp(moment)
        message_id = new_id()
        metadata = dict(metadata or {})
        self.begin_write()
        try:
            sequence = self._take_sequences(session_id, 1, now) - 1
            self.execute(
                _INSERT_MESSAGE,
                (
                    message_id,
                    session_id,
                    sequence,
                    role,
                    content,
                    json.dumps(metadata),
                    token_count,
                    now,
                ),
            )
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return SessionMessage(
            id=message_id,
            session_id=session_id,
            sequence=sequence,
            role=role,
            content=content,
            metadata=metadata,
            token_count=token_count,
            created_at=moment,
        )

    def append_batch(
        self, session_id: str, messages: Sequence[tuple[str, str, dict[str, Any], int | None]]
    ) -> list[SessionMessage]:
        """Several messages in one transaction: one bump of the counter, one executemany."""
        moment = datetime.now(UTC)
        now = self.timestamp(moment)
        self.begin_write()
        try:
            first = self._take_sequences(session_id, len(messages), now) - len(messages)
            stored = [
                SessionMessage(
                    id=new_id(),
                    session_id=session_id,
                    sequence=first + offset,
                    role=role,
                    content=content,
                    metadata=metadata,
                    token_count=token_count,
                    created_at=moment,
                )
                for offset, (role, content, metadata, token_count) in enumerate(messages)
            ]
            self.executemany(
                _INSERT_MESSAGE,
                [
                    (
                        m.id,
                        session_id,
                        m.sequence,
                        m.role,
                        m.content,
                        json.dumps(m.metadata),
                        m.token_count,
                        now,
                    )
                    for m in stored
                ],
            )
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return stored

    def latest(self, session_id: str, count: int) -> list[SessionMessage]:
        """The latest ``count`` messages, in chronological order."""
        rows = self.execute(_SELECT_LATEST, (session_id, count)).fetchall()
        return [self._message(row) for row in reversed(rows)]

    def history(self, session_id: str) -> list[SessionMessage]:
        """Every message of the session, in order, decoded."""
        return [self._message(row) for row in self.execute(_SELECT_HISTORY, (session_id,))]

    def get(self, session_id: str) -> Session | None:
        row = self.execute(_SELECT_SESSION, (session_id,)).fetchone()
        return None if row is None else self._session(row)

    def list_page(
        self, actor_name: str, limit: int, after: tuple[Any, str] | None = None
    ) -> list[Session]:
        """A page of an actor's sessions, newest first; ``after`` is (stored created_at, id)."""
        if after is None:
            rows = self.execute(_FIRST_PAGE, (actor_name, limit)).fetchall()
        else:
            value, last_id = after
            rows = self.execute(
                _PAGE_AFTER, (actor_name, value, value, value, last_id, limit)
            ).fetchall()
        return [self._session(row) for row in rows]

    def position(self, actor_name: str, index: int) -> tuple[Any, str]:
        """The stored (created_at, id) of the actor's ``index``-th newest session: a cursor."""
        row = self.execute(
            "SELECT created_at, id FROM sessions WHERE actor_name = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET ?",
            (actor_name, index),
        ).fetchone()
        return row[0], row[1]

    def delete(self, session_id: str) -> bool:
        """Delete the session; its messages go by ON DELETE CASCADE, as in the library."""
        self.begin_write()
        try:
            deleted = self.execute(_DELETE_SESSION, (session_id,)).rowcount
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return deleted > 0

    def import_document(self, document: Mapping[str, Any]) -> str:
        """Store an export document's session and messages under fresh ids, one transaction."""
        source = document["session"]
        session_id = new_id()
        now = self.timestamp(datetime.now(UTC))
        messages = document["messages"]
        self.begin_write()
        try:
            self.execute(
                _INSERT_SESSION,
                (
                    session_id,
                    source["actor_name"],
                    source["title"],
                    json.dumps(source["metadata"]),
                    len(messages),
                    source["input_tokens"],
                    source["output_tokens"],
                    now,
                    now,
                ),
            )
            self.executemany(
                _INSERT_MESSAGE,
                [
                    (
                        new_id(),
                        session_id,
                        m["sequence"],
                        m["role"],
                        m["content"],
                        json.dumps(m["metadata"]),
                        m["token_count"],
                        self.timestamp(datetime.fromisoformat(m["created_at"])),
                    )
                    for m in messages
                ],
            )
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return session_id

    def count_messages(self, session_id: str) -> int:
        return int(
            self.execute(
                "SELECT COUNT(*) FROM session_messages WHERE session_id = ?", (session_id,)
            ).fetchone()[0]
        )

    # --- fixtures ---------------------------------------------------------------------------

    def load_session(
        self,
        actor_name: str,
        messages: Iterable[tuple[str, str, dict[str, Any], int | None]],
        *,
        message_count: int,
        title: str | None = None,
    ) -> str:
        """A session holding ``messages`` (streamed from an iterable), one transaction."""
        session_id = new_id()
        start = datetime.now(UTC)
        stamp = self.timestamp(start)
        rows = (
            (new_id(), session_id, sequence, role, content, json.dumps(meta), tokens, stamp)
            for sequence, (role, content, meta, tokens) in enumerate(messages)
        )
        self.begin_write()
        try:
            self.execute(
                _INSERT_SESSION,
                (session_id, actor_name, title, "{}", message_count, 0, 0, stamp, stamp),
            )
            self._executemany_chunked(_INSERT_MESSAGE, rows)
        except BaseException:
            self.rollback()
            raise
        self.commit()
        return session_id

    def load_sessions(self, actor_name: str, count: int, *, start: datetime) -> None:
        """``count`` empty sessions of one actor, created a millisecond apart from ``start``."""
        base = start.timestamp()
        rows = (
            (
                new_id(),
                actor_name,
                f"conversation {index}",
                '{"tenant": "bench"}',
                0,
                0,
                0,
                self.timestamp(datetime.fromtimestamp(base + index / 1000, UTC)),
                self.timestamp(datetime.fromtimestamp(base + index / 1000, UTC)),
            )
            for index in range(count)
        )
        self.begin_write()
        try:
            self._executemany_chunked(_INSERT_SESSION, rows)
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def _executemany_chunked(self, sql: str, rows: Iterator[Sequence[Any]]) -> None:
        while chunk := list(islice(rows, FIXTURE_CHUNK)):
            self.executemany(sql, chunk)

    def delete_actor(self, actor_name: str) -> int:
        """Remove every session of an actor (and by cascade its messages) in one statement."""
        self.begin_write()
        try:
            deleted = self.execute(
                "DELETE FROM sessions WHERE actor_name = ?", (actor_name,)
            ).rowcount
        except BaseException:
            self.rollback()
            raise
        self.commit()
        self.settle()
        return int(deleted)

    def settle(self) -> None:
        """After a bulk load: let the database catch up so timed work does not pay for it."""


class SqliteStore(RawStore):
    """``sqlite3`` in autocommit mode; writes open their own ``BEGIN IMMEDIATE`` transaction."""

    backend = "sqlite"

    def __init__(self, url: str) -> None:
        super().__init__()
        path = make_url(url).database
        if not path:
            raise NotImplementedError("the SQLite baseline needs a database file")
        self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.connection.execute("PRAGMA foreign_keys=ON")
        self.connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        self.connection.execute("PRAGMA journal_mode=WAL")
        self.connection.execute("PRAGMA synchronous=FULL")

    def begin_write(self) -> None:
        self.execute("BEGIN IMMEDIATE")

    def durability(self) -> dict[str, Any]:
        return sqlite_durability(self.connection.execute)

    def timestamp(self, moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")

    def moment(self, stored: Any) -> datetime:
        return datetime.fromisoformat(stored).replace(tzinfo=UTC)

    def settle(self) -> None:
        self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.connection.execute("ANALYZE")


def sqlite_durability(execute: Any) -> dict[str, Any]:
    """Journal mode, synchronous level, foreign keys and busy timeout of a SQLite connection."""
    return {
        name: execute(f"PRAGMA {name}").fetchone()[0]
        for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
    }


class PostgresStore(RawStore):
    """psycopg 3; reads in autocommit, writes in an explicit transaction each."""

    backend = "postgresql"
    paramstyle_qmark = False

    def __init__(self, url: str) -> None:
        import psycopg

        super().__init__()
        parsed = make_url(url)
        self.connection = psycopg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            dbname=parsed.database,
            autocommit=True,
        )

    def begin_write(self) -> None:
        # The driver sends BEGIN itself, as it does under SQLAlchemy: not counted on either side.
        self.connection.autocommit = False

    def commit(self) -> None:
        self.connection.commit()
        self.connection.autocommit = True

    def rollback(self) -> None:
        self.connection.rollback()
        self.connection.autocommit = True

    def durability(self) -> dict[str, Any]:
        return postgres_durability(self.connection.execute)

    def timestamp(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC)

    def moment(self, stored: Any) -> datetime:
        return stored.astimezone(UTC)

    def settle(self) -> None:
        # VACUUM as well: a server may run without autovacuum, and the dead rows earlier
        # benchmark processes left would make every foreign-key check and lookup scan them.
        self.connection.execute("VACUUM ANALYZE sessions")
        self.connection.execute("VACUUM ANALYZE session_messages")


def postgres_durability(execute: Any) -> dict[str, Any]:
    return {
        name: execute(f"SHOW {name}").fetchone()[0]
        for name in ("synchronous_commit", "fsync", "default_transaction_isolation")
    }


class MysqlStore(RawStore):
    """PyMySQL on MariaDB/MySQL: no UPDATE ... RETURNING, so the count is read back."""

    backend = "mysql"
    paramstyle_qmark = False
    update_returning = False

    def __init__(self, url: str) -> None:
        import pymysql

        super().__init__()
        parsed = make_url(url)
        self.connection = pymysql.connect(
            host=parsed.host or "localhost",
            port=parsed.port or 3306,
            user=parsed.username,
            password=parsed.password or "",
            database=parsed.database,
            charset="utf8mb4",
            autocommit=True,
        )

    def begin_write(self) -> None:
        self.connection.begin()

    def durability(self) -> dict[str, Any]:
        return mysql_durability(self._query)

    def _query(self, sql: str) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(sql)
        return cursor

    def timestamp(self, moment: datetime) -> datetime:
        return moment.astimezone(UTC).replace(tzinfo=None)

    def moment(self, stored: Any) -> datetime:
        return stored.replace(tzinfo=UTC)

    def settle(self) -> None:
        self._query("ANALYZE TABLE sessions, session_messages").fetchall()


def mysql_durability(execute: Any) -> dict[str, Any]:
    names = ("innodb_flush_log_at_trx_commit", "sync_binlog")
    row = execute("SELECT " + ", ".join(f"@@{name}" for name in names)).fetchone()
    return dict(zip(names, (str(value) for value in row), strict=True))
