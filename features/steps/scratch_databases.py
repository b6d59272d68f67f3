"""Scratch databases, private to one scenario, for checks that would damage a shared database.

"Scratch" databases are private to one scenario: a fresh SQLite file in the run's work
directory, on PostgreSQL a fresh schema reached through ``search_path``, on MariaDB/MySQL
a fresh database on the run's server. Destructive migration checks run there; the run's
shared database is only read or upgraded in place.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from behave.runner import Context
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL, make_url

from cleveragents.infrastructure.database import (
    VERSION_TABLE,
    create_database_engine,
)
from cleveragents.infrastructure.database.base import Base

LIBRARY_TABLES = frozenset(Base.metadata.tables)


def quoted(text_: str) -> list[str]:
    return re.findall(r'"([^"]*)"', text_)


def in_work_directory(context: Context, value: str) -> str:
    return value.replace("$WORK", context.work_directory)


# --- Scratch databases ----------------------------------------------------------------


@dataclass
class ScratchDatabase:
    url: URL
    engine: Engine
    path: Path | None = None


def fresh_sqlite_file(context: Context) -> ScratchDatabase:
    path = Path(context.work_directory) / f"scratch-{uuid.uuid4().hex[:12]}.db"
    url = URL.create("sqlite", database=str(path))
    engine = create_database_engine(url)
    context.add_cleanup(engine.dispose)
    return ScratchDatabase(url, engine, path)


def scratch_on_run_backend(context: Context) -> ScratchDatabase:
    if context.backend == "sqlite":
        return fresh_sqlite_file(context)
    if context.backend in ("mysql", "mariadb"):
        return scratch_mysql_database(context)
    assert context.backend == "postgresql", f"no scratch databases on {context.backend}"
    schema = f"behave_scratch_{uuid.uuid4().hex[:12]}"
    with context.inspection_engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(context.database_url).update_query_dict({"options": f"-csearch_path={schema}"})
    engine = create_database_engine(url)

    def drop() -> None:
        engine.dispose()
        with context.inspection_engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

    context.add_cleanup(drop)
    return ScratchDatabase(url, engine)


def scratch_mysql_database(context: Context) -> ScratchDatabase:
    """A fresh database on the run's MariaDB/MySQL server, dropped when the scenario ends."""
    name = f"behave_scratch_{uuid.uuid4().hex[:12]}"
    with context.inspection_engine.begin() as connection:
        connection.execute(
            text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        )
    url = make_url(context.database_url).set(database=name)
    engine = create_database_engine(url)

    def drop() -> None:
        engine.dispose()
        with context.inspection_engine.begin() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))

    context.add_cleanup(drop)
    return ScratchDatabase(url, engine)


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def schema_differences(engine: Engine, *, only_library_tables: bool) -> list[Any]:
    def include_name(name: str | None, kind: str, _parent: Any) -> bool:
        return kind != "table" or not only_library_tables or name in LIBRARY_TABLES

    with engine.connect() as connection:
        migration_context = MigrationContext.configure(
            connection,
            opts={
                "version_table": VERSION_TABLE,
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        return compare_metadata(migration_context, Base.metadata)


def version_rows(engine: Engine, table: str) -> list[str]:
    with engine.connect() as connection:
        return list(connection.execute(text(f"SELECT version_num FROM {table}")).scalars())
