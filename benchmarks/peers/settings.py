"""Reading durability settings back through a store's connection, and matching this library's.

This library runs SQLite files with ``journal_mode=WAL``, ``synchronous=FULL`` and foreign keys
on. A peer that runs differently by default is also measured set up the same way, where its API
lets the caller do so; its row says which settings it ran with.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.peers.store import SQLITE_PRAGMAS, Durability

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.ext.asyncio import AsyncEngine

# The connection settings of this library's SQLite engines that bear on durability.
LIBRARY_SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
)
MATCHED = "set to WAL + FULL like this library"


def read_engine(engine: Engine) -> Durability:
    """Settings of a pooled connection of a synchronous SQLAlchemy engine."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            answers = [
                connection.exec_driver_sql(f"PRAGMA {pragma}").scalar() for pragma in SQLITE_PRAGMAS
            ]
            return Durability.from_sqlite(*answers)
        value = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        return Durability(synchronous_commit=str(value))


async def read_async_engine(engine: AsyncEngine) -> Durability:
    """Settings of a pooled connection of an asyncio SQLAlchemy engine."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            answers = [
                (await connection.exec_driver_sql(f"PRAGMA {pragma}")).scalar()
                for pragma in SQLITE_PRAGMAS
            ]
            return Durability.from_sqlite(*answers)
        value = (await connection.exec_driver_sql("SHOW synchronous_commit")).scalar()
        return Durability(synchronous_commit=str(value))


def match_library_on_connect(engine: AsyncEngine) -> None:
    """Give every new connection of ``engine`` this library's SQLite durability settings."""
    from sqlalchemy import event

    def configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            for statement in LIBRARY_SQLITE_PRAGMAS:
                cursor.execute(statement)
        finally:
            cursor.close()

    event.listen(engine.sync_engine, "connect", configure)


def convert_file_to_wal(path: Path) -> None:
    """Create the SQLite file in WAL mode, which SQLite keeps for every later connection.

    For a store whose API takes only a path: its connections then run WAL, and with
    ``synchronous`` left at SQLite's default, FULL.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    try:
        mode = connection.execute("PRAGMA journal_mode=WAL").fetchone()[0]
    finally:
        connection.close()
    if str(mode).lower() != "wal":
        raise RuntimeError(f"{path.name} refused WAL journaling ({mode})")


def sqlite_url(path: Path, driver: str | None = None) -> str:
    """A SQLAlchemy URL for the SQLite file at ``path``."""
    scheme = "sqlite" if driver is None else f"sqlite+{driver}"
    return f"{scheme}:///{path.resolve()}"
