"""Upgrading a database to the library's schema with the migrations shipped in the package.

Alembic is imported inside the functions that run it, so a process that only uses sessions
never loads it (see :mod:`schema_revision` for the start-up check).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, MetaData, exc
from sqlalchemy.engine import URL

from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.engine import (
    check_schema_option,
    create_database_engine,
    url_backend,
)
from cleveragents.infrastructure.database.error_translation import translate
from cleveragents.infrastructure.database.schema_revision import (
    VERSION_TABLE,
    require_current_schema,
    stored_revision,
    upgrade_command,
)
from cleveragents.infrastructure.database.url_parsing import server_address

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = [
    "VERSION_TABLE",
    "alembic_config",
    "current_revision",
    "downgrade_database",
    "head_revision",
    "library_metadata",
    "library_objects",
    "migrations_directory",
    "require_current_schema",
    "schema_differences",
    "stored_revision",
    "upgrade_command",
    "upgrade_database",
]


def migrations_directory() -> Path:
    """Where the Alembic scripts are: inside the installed wheel, or at a checkout's root."""
    here = Path(__file__).resolve().parent
    packaged = here / "migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return here.parents[3] / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration that needs no ``alembic.ini``."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision the migrations know."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    return head


def upgrade_database(
    database: str | URL | Engine | None = None,
    revision: str = "head",
    *,
    schema: str | None = None,
) -> None:
    """Bring the database to ``revision`` (default: the newest), creating tables as needed.

    ``database`` is a URL, an existing engine, or ``None`` for the default database.
    ``schema`` names the PostgreSQL schema for the library's tables and version table; it is
    created if missing, since upgrading is the one explicit act that may create things.
    """
    from alembic import command

    with _connection(database, schema) as connection:
        command.upgrade(_config_for(connection, schema), revision)


def downgrade_database(
    database: str | URL | Engine | None,
    revision: str = "base",
    *,
    schema: str | None = None,
) -> None:
    """Take the database back to ``revision`` (default: no library tables at all)."""
    from alembic import command

    with _connection(database, schema) as connection:
        command.downgrade(_config_for(connection, schema), revision)


def current_revision(
    database: str | URL | Engine | None = None, *, schema: str | None = None
) -> str | None:
    """The revision recorded in the library's version table, or ``None`` when there is none
    (also when ``schema`` does not exist)."""
    with _connection(database, schema) as connection:
        return stored_revision(connection, schema=schema)


@functools.cache
def library_metadata(schema: str | None = None) -> MetaData:
    """The library's tables as they stand in ``schema``: what autogenerate compares against.

    The models name no schema (statements get theirs from schema translation), but the
    database's reflection reports one, so the comparison needs tables that name it too.
    """
    if schema is None:
        return Base.metadata
    metadata = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.sorted_tables:
        table.to_metadata(metadata, schema=schema)
    return metadata


def library_objects(schema: str | None) -> Callable[[str | None, str, Any], bool]:
    """An Alembic ``include_name`` hook that sees only the library's tables in ``schema``.

    A host application's tables sharing the database, and every other schema, are skipped.
    """

    def include(name: str | None, kind: str, _parent: Any) -> bool:
        if kind == "schema":
            return name == schema
        return kind != "table" or name in Base.metadata.tables

    return include


def schema_differences(
    database: str | URL | Engine | None = None, *, schema: str | None = None
) -> list[Any]:
    """How the library's tables differ from its models, as Alembic autogenerate reports it.

    Only the library's own tables are compared (in ``schema`` when given), so a host
    application's tables sharing the database are never reported. An empty list means the
    schema matches the models.
    """
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with _connection(database, schema) as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "version_table_schema": schema,
                "compare_type": True,
                "include_schemas": schema is not None,
                "include_name": library_objects(schema),
            },
        )
        return list(compare_metadata(context, library_metadata(schema)))


def _config_for(connection: Connection, schema: str | None) -> Config:
    """The configuration that hands env.py the open connection and the schema to use."""
    config = alembic_config()
    config.attributes["connection"] = connection
    config.attributes["schema"] = schema
    return config


@contextmanager
def _connection(database: str | URL | Engine | None, schema: str | None) -> Iterator[Connection]:
    """A connection for one migration run; database failures become the library's errors.

    ``schema`` is checked first, so a bad one is refused before anything connects.
    """
    if isinstance(database, Engine):
        check_schema_option(schema, database.dialect.name)
        engine = database
    else:
        check_schema_option(schema, url_backend(database))
        engine = create_database_engine(database)
    try:
        with engine.connect() as connection:
            yield connection
    except exc.SQLAlchemyError as error:
        raise translate(error, attempts=1, server=server_address(engine.url)) from error
    finally:
        if engine is not database:
            engine.dispose()
