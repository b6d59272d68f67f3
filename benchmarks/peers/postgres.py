"""The PostgreSQL half: the server, its database (created if missing), a schema per system."""

from __future__ import annotations

import os
from dataclasses import dataclass

DATABASE_URL_VARIABLE = "CLEVERAGENTS_PEERS_DATABASE_URL"
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/cleveragents_peers"
MAINTENANCE_DATABASE = "postgres"
CONNECT_TIMEOUT_SECONDS = 5


class PostgresUnavailableError(Exception):
    """The server cannot be reached or the database cannot be created; the reason says why."""


@dataclass(frozen=True)
class PostgresTarget:
    """A reachable database for the comparison, and the server it lives on."""

    url: str
    server_version: str
    fsync: str

    def url_for(self, driver: str, *, schema: str | None = None) -> str:
        """The database URL with ``driver`` (``psycopg``, ``asyncpg``), optionally with its
        connections' ``search_path`` set to ``schema`` (libpq ``options``, psycopg only)."""
        from sqlalchemy.engine import make_url

        url = make_url(self.url).set(drivername=f"postgresql+{driver}")
        if schema is not None:
            url = url.update_query_dict({"options": f"-csearch_path={schema}"})
        return url.render_as_string(hide_password=False)

    def fresh_schemas(self, *schemas: str) -> None:
        """Drop and recreate ``schemas``, so every run starts from empty tables."""
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._conninfo(), autocommit=True) as connection:
            for schema in schemas:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
                connection.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))

    def drop_schemas(self, *schemas: str) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self._conninfo(), autocommit=True) as connection:
            for schema in schemas:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )

    def _conninfo(self) -> str:
        return _conninfo(self.url)


def configured_url() -> str:
    """``CLEVERAGENTS_PEERS_DATABASE_URL``, else the local default."""
    return os.environ.get(DATABASE_URL_VARIABLE) or DEFAULT_DATABASE_URL


def _conninfo(url: str, database: str | None = None) -> str:
    """A libpq connection string for the URL (any driver name), optionally another database."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def prepare(url: str) -> PostgresTarget:
    """Connect to the server, create the database if it is missing, and describe the server.

    Raises :class:`PostgresUnavailableError` with a printable reason (never the password).
    """
    try:
        import psycopg
        from psycopg import sql
        from sqlalchemy.engine import make_url
    except ImportError as error:
        raise PostgresUnavailableError(f"psycopg is not installed ({error})") from None
    try:
        parsed = make_url(url)
    except Exception:
        raise PostgresUnavailableError(f"{DATABASE_URL_VARIABLE} is not a database URL") from None
    name = parsed.database
    shown = parsed.render_as_string(hide_password=True)
    if not name:
        raise PostgresUnavailableError(f"{shown} names no database")
    try:
        with psycopg.connect(
            _conninfo(url, MAINTENANCE_DATABASE),
            autocommit=True,
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        ) as connection:
            found = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if found is None:
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        with psycopg.connect(_conninfo(url), connect_timeout=CONNECT_TIMEOUT_SECONDS) as connection:
            version = connection.execute("SHOW server_version").fetchone()
            fsync = connection.execute("SHOW fsync").fetchone()
    except psycopg.Error as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise PostgresUnavailableError(f"{shown}: {reason}") from None
    return PostgresTarget(
        url=url,
        server_version=str(version[0]) if version else "unknown",
        fsync=str(fsync[0]) if fsync else "unknown",
    )
