"""What every repository shares: one database, and the retry policy its methods run under."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from cleveragents.infrastructure.database.retry import RetryPolicy
from cleveragents.infrastructure.database.transactions import Database


class Repository:
    """Base of the repositories; each public method is one ``@database_retry`` transaction."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextmanager
    def single_statement(self) -> Iterator[Connection]:
        """A pooled connection for a read of exactly one statement (see
        :meth:`Database.single_statement`)."""
        with self._database.single_statement() as connection:
            yield connection

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._database.retry_policy

    @property
    def server(self) -> str | None:
        return self._database.server

    def pause(self, seconds: float) -> None:
        self._database.pause(seconds)
