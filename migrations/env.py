"""Alembic environment: runs the library's migrations on a given or configured database."""

from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection, inspect, text
from sqlalchemy.schema import CreateSchema

from cleveragents.domain.errors import DatabaseConfigurationError, SchemaDowngradeRefusedError
from cleveragents.infrastructure.database.engine import (
    DATABASE_SCHEMA_VARIABLE,
    WRITE_TRANSACTION_OPTION,
    check_schema_option,
    create_database_engine,
    schema_options,
)
from cleveragents.infrastructure.database.schema_migrations import (
    VERSION_TABLE,
    library_metadata,
    library_objects,
)

# An arbitrary constant naming this library's advisory lock on PostgreSQL.
MIGRATION_LOCK_KEY = 0x0C1E_7E4A

config = context.config
if config.config_file_name is not None:
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def take_migration_lock(connection: Connection) -> None:
    """Serialise concurrent upgrades: the second runner waits, then finds nothing to do.

    The current revision is read only after the lock is held. One lock covers every schema,
    so two runners never race to create the same one. SQLite already holds its write
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


def prepare_schema(connection: Connection, schema: str) -> None:
    """Point the run at ``schema``, creating it when this run upgrades (the lock is held).

    Raw SQL in a migration finds the library's tables there too: the search path is set for
    this transaction only, so a caller's pooled connection keeps its own.
    """
    if not inspect(connection).has_schema(schema):
        if upgrades():
            connection.execute(CreateSchema(schema, if_not_exists=True))
        elif context.get_context().opts.get("dont_mutate"):
            return  # `alembic current`: a missing schema simply has no revision
        else:
            raise DatabaseConfigurationError(
                f"the PostgreSQL schema {schema!r} does not exist: there is nothing to "
                "downgrade or check there; upgrading creates it"
            )
    quoted = connection.dialect.identifier_preparer.quote_schema(schema)
    connection.exec_driver_sql(f"SET LOCAL search_path TO {quoted}")


def upgrades() -> bool:
    """Whether this run moves towards a revision (upgrade or stamp), not down, and may write."""
    options = context.get_context().opts
    destination = options.get("destination_rev")
    if options.get("dont_mutate") or destination in (None, "base"):
        return False
    return not str(destination).startswith("-")


def run_migrations(connection: Connection, schema: str | None) -> None:
    is_sqlite = connection.dialect.name == "sqlite"
    connection.execution_options(**{WRITE_TRANSACTION_OPTION: True}, **schema_options(schema))
    if is_sqlite:
        # SQLite rebuilds tables to alter them; with foreign keys on, dropping the old
        # `sessions` table would cascade-delete every message. The pragma only takes effect
        # outside a transaction, hence the raw connection.
        connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
    try:
        context.configure(
            connection=connection,
            target_metadata=library_metadata(schema),
            version_table=VERSION_TABLE,
            # Named, not translated: Alembic looks the version table up by inspection.
            version_table_schema=schema,
            include_schemas=schema is not None,
            include_name=library_objects(schema),
            render_as_batch=is_sqlite,
            # Alembic treats SQLite DDL as non-transactional and commits between steps, which
            # would release the write lock mid-run; SQLite's DDL is transactional, so keep the
            # whole run in the one IMMEDIATE transaction (all or nothing, and serialised).
            transactional_ddl=True if is_sqlite else None,
            compare_type=True,
        )
        with context.begin_transaction():
            take_migration_lock(connection)
            if schema is not None:
                prepare_schema(connection, schema)
            context.run_migrations()
    finally:
        release_migration_lock(connection)
        if is_sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys=ON")


def command_line_schema() -> str | None:
    """The schema the ``alembic`` command names: ``-x schema=NAME``, else the environment."""
    named = context.get_x_argument(as_dictionary=True).get("schema")
    return named or os.environ.get(DATABASE_SCHEMA_VARIABLE) or None


def run_online() -> None:
    given = config.attributes.get("connection")
    if given is not None:
        # The library checked the schema before it connected.
        run_migrations(given, config.attributes.get("schema"))
        return
    engine = create_database_engine(config.get_main_option("sqlalchemy.url") or None)
    try:
        schema = command_line_schema()
        check_schema_option(schema, engine.dialect.name)
        with engine.connect() as connection:
            run_migrations(connection, schema)
    except (DatabaseConfigurationError, SchemaDowngradeRefusedError) as error:
        # Alembic's command line prints a CommandError as one line instead of a traceback.
        raise CommandError(str(error)) from None
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) mode is not supported: run the migrations on a database")
run_online()
