"""Which schema revision a database holds, read without the migration machinery.

Opening a service checks the revision on every start, so the check stays light: Alembic, which
doubles the memory an importing process needs, loads only when a database is upgraded,
downgraded or compared (:mod:`schema_migrations`). The revision this code was written for is
named here, and a scenario holds it equal to the newest migration.
"""

from __future__ import annotations

from sqlalchemy import Column, Connection, MetaData, String, Table, inspect, select

from cleveragents.domain.errors import SchemaOutOfDateError

# The library keeps its own version table so it never collides with a host application's.
VERSION_TABLE = "cleveragents_alembic_version"
# The newest revision in migrations/versions: a new migration changes this line with it.
REQUIRED_REVISION = "a7_004_adk_state"


def stored_revision(connection: Connection, *, schema: str | None = None) -> str | None:
    """The library's revision as an open connection sees it; ``None`` without a version table
    (in ``schema`` when given)."""
    if not inspect(connection).has_table(VERSION_TABLE, schema=schema):
        return None
    table = Table(
        VERSION_TABLE, MetaData(schema=schema), Column("version_num", String(32), primary_key=True)
    )
    revisions = sorted(connection.execute(select(table.c.version_num)).scalars())
    # Alembic keeps one row per head; the library's history has one, so more is a stranger's.
    return " + ".join(revisions) or None


def upgrade_command(schema: str | None) -> str:
    """How an operator upgrades this database, naming the schema when there is one."""
    if schema is None:
        return (
            "`cleveragents db upgrade`, `alembic upgrade head`, or upgrade_database(url) from code"
        )
    return (
        f"`cleveragents --schema {schema} db upgrade`, `alembic -x schema={schema} upgrade "
        f"head`, or upgrade_database(url, schema={schema!r}) from code"
    )


def require_current_schema(connection: Connection, *, schema: str | None = None) -> None:
    """Refuse a database whose schema is not the revision this code needs, naming the fix.

    The library never creates or alters tables on its own: the operator upgrades.
    """
    stored = stored_revision(connection, schema=schema)
    if stored != REQUIRED_REVISION:
        where = "the database schema" if schema is None else f"the PostgreSQL schema {schema!r}"
        raise SchemaOutOfDateError(
            f"{where} is at revision {stored or 'none (no library tables)'} but "
            f"this library needs {REQUIRED_REVISION}: upgrade it with {upgrade_command(schema)}"
        )
