"""Upgrading a database to the library's schema with the migrations shipped in the package."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, exc
from sqlalchemy.engine import URL

from cleveragents.infrastructure.database.database_errors import translate
from cleveragents.infrastructure.database.engine import create_database_engine

# The library keeps its own version table so it never collides with a host application's.
VERSION_TABLE = "cleveragents_alembic_version"


def migrations_directory() -> Path:
    """Where the Alembic scripts are: inside the installed wheel, or at a checkout's root."""
    here = Path(__file__).resolve().parent
    packaged = here / "migrations"
    if (packaged / "env.py").is_file():
        return packaged
    return here.parents[3] / "migrations"


def alembic_config() -> Config:
    """An Alembic configuration that needs no ``alembic.ini``."""
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    return config


def head_revision() -> str:
    """The newest revision the migrations know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships its migrations
        raise RuntimeError("no migrations found")
    return head


def upgrade_database(database: str | URL | Engine | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision`` (default: the newest), creating tables as needed.

    ``database`` is a URL, an existing engine, or ``None`` for the default database.
    """
    with _connection(database) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade_database(database: str | URL | Engine | None, revision: str = "base") -> None:
    """Take the database back to ``revision`` (default: no library tables at all)."""
    with _connection(database) as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@contextmanager
def _connection(database: str | URL | Engine | None) -> Iterator[Connection]:
    """A connection for one migration run; database failures become the library's errors."""
    engine = database if isinstance(database, Engine) else create_database_engine(database)
    try:
        with engine.connect() as connection:
            yield connection
    except exc.SQLAlchemyError as error:
        raise translate(error, attempts=1) from error
    finally:
        if engine is not database:
            engine.dispose()
