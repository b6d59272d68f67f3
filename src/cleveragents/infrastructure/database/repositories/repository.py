"""What every repository shares: one database, and the retry policy its methods run under."""

from __future__ import annotations

from cleveragents.infrastructure.database.retry import RetryPolicy
from cleveragents.infrastructure.database.transactions import Database


class Repository:
    """Base of the repositories; each public method is one ``@database_retry`` transaction."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._database.retry_policy

    def pause(self, seconds: float) -> None:
        self._database.pause(seconds)
