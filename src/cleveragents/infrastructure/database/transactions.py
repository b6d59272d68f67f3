"""A database the library reads and writes: an engine and the one place transactions commit."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, exc
from sqlalchemy.engine import URL
from sqlalchemy.orm import sessionmaker

from cleveragents.domain.errors import DatabaseConfigurationError
from cleveragents.infrastructure.database.engine import (
    WRITE_TRANSACTION_OPTION,
    check_schema_option,
    create_database_engine,
    in_schema,
    require_foreign_keys,
    schema_options,
    single_read_engine,
    url_backend,
)
from cleveragents.infrastructure.database.retry import Attempt, RetryPolicy, database_retry
from cleveragents.infrastructure.database.schema_revision import require_current_schema
from cleveragents.infrastructure.database.url_parsing import server_address


class Database:
    """Owns an engine and hands out transactions.

    Every repository method runs inside exactly one :meth:`transaction`, which commits when the
    block ends normally and rolls back when it raises, or one :meth:`single_statement`, which
    is its own transaction; nothing else commits.
    """

    def __init__(
        self,
        engine: Engine,
        *,
        retry_policy: RetryPolicy | None = None,
        owns_engine: bool = True,
        schema: str | None = None,
        pause: Callable[[float], None] = time.sleep,
    ) -> None:
        """``pause`` waits before a retry: a plain sleep, or on an asyncio driver a sleep
        that hands the event loop back to other tasks meanwhile."""
        self.engine = engine
        self._single_statements = single_read_engine(engine)
        self.retry_policy = retry_policy or RetryPolicy()
        self.schema = schema
        self.pause = pause
        self._owns_engine = owns_engine

    @classmethod
    def from_url(
        cls,
        url: str | URL | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        schema: str | None = None,
    ) -> Database:
        """Open ``url`` (default: ``CLEVERAGENTS_DATABASE_URL`` or the embedded SQLite file).

        ``schema`` names the PostgreSQL schema holding the library's tables (default: the
        connection's own search path, usually ``public``).
        """
        check_schema_option(schema, url_backend(url))
        engine = create_database_engine(url, execution_options=schema_options(schema))
        return cls(engine, retry_policy=retry_policy, schema=schema)

    @classmethod
    def from_engine(
        cls,
        engine: Engine,
        *,
        retry_policy: RetryPolicy | None = None,
        schema: str | None = None,
    ) -> Database:
        """Use the caller's engine and pool; the caller keeps it (``dispose`` leaves it open).

        A SQLite engine must enforce foreign keys, or :class:`DatabaseConfigurationError`.
        With ``schema``, the library's statements name that PostgreSQL schema; the caller's
        engine is left as it was.
        """
        scoped = in_schema(engine, schema)
        require_foreign_keys(engine)
        return cls(scoped, retry_policy=retry_policy, owns_engine=False, schema=schema)

    @classmethod
    def from_sessionmaker(
        cls,
        factory: sessionmaker[Any],
        *,
        retry_policy: RetryPolicy | None = None,
        schema: str | None = None,
    ) -> Database:
        """Use the engine a caller's ``sessionmaker`` is bound to."""
        bind = factory.kw.get("bind")
        if not isinstance(bind, Engine):
            raise DatabaseConfigurationError(
                "the sessionmaker is not bound to an Engine: create it with sessionmaker(engine)"
            )
        return cls.from_engine(bind, retry_policy=retry_policy, schema=schema)

    @property
    def server(self) -> str | None:
        """``host:port`` of the database server; ``None`` for SQLite."""
        return server_address(self.engine.url)

    @contextmanager
    def transaction(
        self, *, write: bool, snapshot: bool = False, attempt: Attempt | None = None
    ) -> Iterator[Connection]:
        """One transaction on a pooled connection.

        ``write`` takes SQLite's write lock at BEGIN. ``snapshot`` makes every statement of
        the transaction see the same committed state (REPEATABLE READ on server databases;
        a SQLite transaction already reads from one snapshot). A COMMIT that fails is
        recorded on ``attempt``, for its retry to check what landed.
        """
        with self.engine.connect() as connection:
            if write:
                connection.execution_options(**{WRITE_TRANSACTION_OPTION: True})
            if snapshot and connection.dialect.name != "sqlite":
                connection.execution_options(isolation_level="REPEATABLE READ")
            transaction = connection.begin()
            try:
                yield connection
            except BaseException:
                transaction.rollback()
                raise
            try:
                transaction.commit()
            except exc.SQLAlchemyError:
                if attempt is not None:
                    attempt.commit_unknown = True
                raise

    @contextmanager
    def single_statement(
        self, *, write: bool = False, attempt: Attempt | None = None
    ) -> Iterator[Connection]:
        """A pooled connection for work of exactly one statement, which is its own
        transaction: a read of one statement (several that must agree use
        ``transaction(snapshot=True)``), and on PostgreSQL, where this connection autocommits,
        a ``write`` of one statement, atomic and durable without ``BEGIN`` and ``COMMIT``.
        A write that fails is recorded on ``attempt`` as possibly landed: its statement was
        its commit."""
        with self._single_statements.connect() as connection:
            try:
                yield connection
            except exc.SQLAlchemyError:
                if write and attempt is not None:
                    attempt.commit_unknown = True
                raise

    @database_retry
    def check_schema(self) -> None:
        """Raise :class:`SchemaOutOfDateError` unless the schema is at the newest revision."""
        with self.transaction(write=False) as connection:
            require_current_schema(connection, schema=self.schema)

    def dispose(self) -> None:
        """Close every pooled connection, unless the engine belongs to the caller."""
        if self._owns_engine:
            self.engine.dispose()
