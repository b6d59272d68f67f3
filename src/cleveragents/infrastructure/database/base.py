"""Declarative base shared by every model: constraint names and column types fixed once."""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, MetaData
from sqlalchemy.orm import DeclarativeBase

# Deterministic constraint names keep migrations and models comparable on every backend.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# MySQL/MariaDB: 4-byte UTF-8. The tables' default collation is the server's binary NO PAD
# one (set by a7_003_session_keys, named per server by ``exact_mysql_collation``), so text
# compares exactly as on SQLite and PostgreSQL ("Alice" is not "alice", nor "alice " "alice");
# the key columns name it in their type as well (``ExactString``).
MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4"}


class Base(DeclarativeBase):
    """Root of the library's models; its metadata is what the migrations must produce."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON}
