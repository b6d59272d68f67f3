"""Column types that behave the same on every backend."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime, Dialect, String, Text
from sqlalchemy.dialects import mysql
from sqlalchemy.types import TypeDecorator, TypeEngine

# MySQL's TEXT stops at 64 KiB and its DATETIME drops microseconds unless asked.
LONG_TEXT = Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def exact_mysql_collation(dialect: Dialect) -> str:
    """The binary NO PAD utf8mb4 collation of this MariaDB or MySQL server.

    ``utf8mb4_bin`` is PAD SPACE: it finds ``'alpha'`` equal to ``'alpha '``. MariaDB names
    its NO PAD binary collation ``utf8mb4_nopad_bin``; MySQL 8 has ``utf8mb4_0900_bin``.
    """
    return "utf8mb4_nopad_bin" if getattr(dialect, "is_mariadb", False) else "utf8mb4_0900_bin"


class ExactString(TypeDecorator[str]):
    """A ``VARCHAR`` that compares, groups and sorts byte for byte on every backend.

    Ids, actor names and roles are keys: ``'alpha'``, ``'Alpha'`` and ``'alpha '`` must stay
    three keys everywhere, and sort as SQLite sorts them (by code point). SQLite's default
    collation does that already; PostgreSQL gets ``"C"``, so order does not follow the
    database's locale; MySQL/MariaDB get their binary NO PAD collation.
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.length = length

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[str]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(String(self.length, collation="C"))
        if dialect.name in ("mysql", "mariadb"):
            collation = exact_mysql_collation(dialect)
            return dialect.type_descriptor(
                mysql.VARCHAR(self.length, charset="utf8mb4", collation=collation)
            )
        return dialect.type_descriptor(String(self.length))


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is timezone-aware UTC on the way out, whatever the backend keeps.

    Naive datetimes are refused on the way in: a timestamp without a zone is ambiguous, and
    guessing would silently shift history. Backends without zone support store naive UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[datetime]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime(timezone=True))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: timestamps must carry a timezone")
        value = value.astimezone(UTC)
        if dialect.name == "postgresql":
            return value
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)
