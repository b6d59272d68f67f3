"""Alembic environment: runs the library's migrations on a given or configured database."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import Connection, text

from cleveragents.infrastructure.database.base import Base
from cleveragents.infrastructure.database.engine import (
    WRITE_TRANSACTION_OPTION,
    create_database_engine,
)
from cleveragents.infrastructure.database.schema_migrations import VERSION_TABLE

# An arbitrary constant naming this library's advisory lock on PostgreSQL.
MIGRATION_LOCK_KEY = 0x0C1E_7E4A

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def take_migration_lock(connection: Connection) -> None:
    """Serialise concurrent upgrades: the second runner waits, then finds nothing to do.

    The current revision is read only after the lock is held. SQLite already holds its write
    lock (the transaction began IMMEDIATE); PostgreSQL uses a transaction-level advisory lock;
    MySQL/MariaDB a named lock (DDL commits there, so it is released explicitly).
    """
    dialect = connection.dialect.name
    if dialect == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    elif dialect in ("mysql", "mariadb"):
        connection.execute(text("SELECT GET_LOCK(:name, 600)"), {"name": VERSION_TABLE})


def release_migration_lock(connection: Connection) -> None:
    if connection.dialect.name in ("mysql", "mariadb"):
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": VERSION_TABLE})


def run_migrations(connection: Connection) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    connection.execution_options(**{WRITE_TRANSACTION_OPTION: True})
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
            # Alembic treats SQLite DDL as non-transactional and commits between steps, which
            # would release the write lock mid-run; SQLite's DDL is transactional, so keep the
            # whole run in the one IMMEDIATE transaction (all or nothing, and serialised).
            transactional_ddl=True if is_sqlite else None,
            compare_type=True,
        )
        with context.begin_transaction():
            take_migration_lock(connection)
            context.run_migrations()
    finally:
        release_migration_lock(connection)
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
