"""Upgrading a database to the library's schema with the migrations shipped in the package."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, exc
from sqlalchemy.engine import URL

from cleveragents.domain.errors import SchemaOutOfDateError
from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.database_errors import translate
from cleveragents.infrastructure.database.engine import create_database_engine

# The library keeps its own version table so it never collides with a host application's.
VERSION_TABLE = "cleveragents_alembic_version"


def migrations_directory() -> Path:
    """Where the Alembic scripts are: inside the installed wheel, or at a checkout's root."""
    here = Path(__file__).resolve().parent
    packaged = here / "migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return here.parents[3] / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration that needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision the migrations know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    return head


def upgrade_database(database: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), creating tables as needed.

    ``database`` is a URL, an existing engine, or ``None`` for the default database.
    """
    with _connection(database) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_database(database: str | URL | Engine | None, revision: str = "base") -> None:
    """Take the database back to ``revision`` (default: no library tables at all)."""
    with _connection(database) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(database: str | URL | Engine | None = None) -> str | None:
    """The revision recorded in the library's version table, or ``None`` when there is none."""
    with _connection(database) as connection:
        return stored_revision(connection)


def stored_revision(connection: Connection) -> str | None:
    """The library's revision as an open connection sees it."""
    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


def schema_differences(database: str | URL | Engine | None = None) -> list[Any]:
    """How the library's tables differ from its models, as Alembic autogenerate reports it.

    Only the library's own tables are compared, so a host application's tables sharing the
    database are never reported. An empty list means the schema matches the models.
    """

    def is_library_table(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or name in Base.metadata.tables

    with _connection(database) as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "include_name": is_library_table,
            },
        )
        return list(compare_metadata(context, Base.metadata))


@contextmanager
def _connection(database: str | URL | Engine | None) -> Iterator[Connection]:
    """A connection for one migration run; database failures become the library's errors."""
    engine = database if isinstance(database, Engine) else create_database_engine(database)
    try:
        with engine.connect() as connection:
            yield connection
    except exc.SQLAlchemyError as error:
        raise translate(error, attempts=1) from error
    finally:
        if engine is not database:
            engine.dispose()


def require_current_schema(connection: Connection) -> None:
    """Refuse a database whose schema is not the newest revision, naming the fix.

    The library never creates or alters tables on its own: the operator upgrades.
    """
    stored, head = stored_revision(connection), head_revision()
    if stored != head:
        raise SchemaOutOfDateError(
            f"the database schema is at revision {stored or 'none (no library tables)'} but "
            f"this library needs {head}: upgrade it with `cleveragents db upgrade`, "
            "`alembic upgrade head`, or upgrade_database(url) from code"
        )
