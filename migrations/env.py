"""Alembic environment: runs the library's migrations on a given or configured database."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection

from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.engine import create_database_engine
from cleveragents.infrastructure.database.schema_migrations import VERSION_TABLE

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    if is_sqlite:
        # SQLite rebuilds tables to alter them; with foreign keys on, dropping the old
        # `sessions` table would cascade-delete every message. The pragma only takes effect
        # outside a transaction, hence the raw connection.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            version_table=VERSION_TABLE,
            render_as_batch=is_sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    finally:
        if is_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        run_migrations(given)
        return
    engine = create_database_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        with engine.connect() as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: run the migrations on a database")
run_online()
