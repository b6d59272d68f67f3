"""A fingerprint of everything the library stores, for steps that check nothing changed.

Reflecting the tables costs more than reading them, and most fingerprints in a run see the
same schema, so the queries are kept per schema: one cheap catalogue query names the tables
and columns present, and a schema seen before reuses its queries instead of reflecting again.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import MetaData, Select, select, text

from cleveragents.infrastructure.database import VERSION_TABLE
from cleveragents.infrastructure.database.base import Base

# Every table of the library, children before parents: the order to empty them in.
LIBRARY_TABLES = tuple(table.name for table in reversed(Base.metadata.sorted_tables))
WATCHED_TABLES = (*LIBRARY_TABLES, VERSION_TABLE)

# Tables and columns of the current schema, per dialect, in one query.
SCHEMA_SIGNATURE_QUERIES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name",
    "postgresql": (
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ),
    "mysql": (
        "SELECT table_name, column_name, column_type FROM information_schema.columns "
        "WHERE table_schema = DATABASE() ORDER BY table_name, ordinal_position"
    ),
}

TableQueries = list[tuple[str, Select[Any]]]
_queries_by_schema: dict[tuple[str, tuple[tuple[Any, ...], ...]], TableQueries] = {}


def table_queries(engine: Any, connection: Any) -> TableQueries:
    """One ordered SELECT per library table present, reflected once per schema seen."""
    signature = tuple(
        tuple(row)
        for row in connection.execute(text(SCHEMA_SIGNATURE_QUERIES[engine.dialect.name]))
        if row[0] in WATCHED_TABLES
    )
    key = (str(engine.url), signature)
    if key not in _queries_by_schema:
        metadata = MetaData()
        # A database below the newest revision lacks some tables; it holds no rows of them.
        metadata.reflect(connection, only=lambda name, _: name in WATCHED_TABLES)
        queries: TableQueries = []
        for name in sorted(metadata.tables):
            table = metadata.tables[name]
            key_columns = list(table.primary_key.columns) or list(table.columns)
            queries.append((name, select(table).order_by(*key_columns)))
        _queries_by_schema[key] = queries
    return _queries_by_schema[key]


def database_fingerprint(engine: Any) -> tuple[dict[str, int], str]:
    """Row counts per library table and one hash over every row, in a stable order."""
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for name, query in table_queries(engine, connection):
            rows = connection.execute(query).all()
            counts[name] = len(rows)
            for row in rows:
                digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
    return counts, digest.hexdigest()
