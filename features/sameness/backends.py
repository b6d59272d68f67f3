"""The three databases the differential test compares, each upgraded and emptied by the test.

SQLite is a temporary file; PostgreSQL and MariaDB/MySQL are dedicated databases named by
``CLEVERAGENTS_SAMENESS_POSTGRESQL_URL`` and ``CLEVERAGENTS_SAMENESS_MYSQL_URL`` (never the
run's own test database: the test deletes every session in them).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import create_database_engine, upgrade_database

SERVER_URL_VARIABLES = {
    "PostgreSQL": "CLEVERAGENTS_SAMENESS_POSTGRESQL_URL",
    "MariaDB": "CLEVERAGENTS_SAMENESS_MYSQL_URL",
}
LIBRARY_TABLES = ("session_messages", "sessions")


def missing_server_variables() -> list[str]:
    """The variables naming the servers that are unset; the test needs all of them."""
    return [name for name in SERVER_URL_VARIABLES.values() if not os.environ.get(name)]


@dataclass
class Backend:
    """One database under comparison and a service on it."""

    name: str
    url: str
    service: PersistentSessionService

    def empty(self) -> None:
        """Delete every session and message, so each program starts from nothing."""
        engine = self.service._database.engine
        with engine.begin() as connection:
            for table in LIBRARY_TABLES:
                connection.execute(text(f"DELETE FROM {table}"))


def open_backends(work_directory: str) -> list[Backend]:
    """SQLite first (the reference), then the servers; each upgraded to the head revision."""
    urls = {"SQLite": f"sqlite:///{Path(work_directory) / 'sameness.db'}"}
    urls.update({name: os.environ[variable] for name, variable in SERVER_URL_VARIABLES.items()})
    backends = []
    for name, url in urls.items():
        upgrade_database(url)
        engine = create_database_engine(url)
        backends.append(Backend(name, url, PersistentSessionService.from_engine(engine)))
    return backends


def close_backends(backends: list[Backend]) -> None:
    for backend in backends:
        engine = backend.service._database.engine
        backend.service.close()
        engine.dispose()
