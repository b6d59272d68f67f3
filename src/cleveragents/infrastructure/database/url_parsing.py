"""Reading a database URL: which ones the library takes, and what it says about the others.

Every URL that cannot be parsed or used is refused with :class:`DatabaseConfigurationError`
naming the part that is wrong and a URL that would work. The URL itself is never repeated:
it may carry a password.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.engine import URL, Dialect, make_url

from cleveragents.domain.errors import DatabaseConfigurationError

WORKING_URLS = (
    "postgresql+psycopg://user:password@host:5432/database, "
    "mysql+pymysql://user:password@host:3306/database or sqlite:///path/to/sessions.db"
)
INVALID = "the database URL is not valid"


@dataclass(frozen=True, slots=True)
class LibraryDriver:
    """The driver the library is tested with on a server backend, and the extra bringing it."""

    backend: str
    module: str
    extra: str

    @property
    def url_start(self) -> str:
        return f"{self.backend}+{self.module}://"

    @property
    def install(self) -> str:
        return f"pip install 'cleveragents-core[{self.extra}]'"


LIBRARY_DRIVERS = {
    "postgresql": LibraryDriver("postgresql", "psycopg", "postgresql"),
    "mysql": LibraryDriver("mysql", "pymysql", "mysql"),
    "mariadb": LibraryDriver("mariadb", "pymysql", "mysql"),
}
BACKEND_NAMES = {
    "sqlite": "SQLite",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "mariadb": "MariaDB",
}


def parse_database_url(url: str | URL) -> URL:
    """``url`` as a :class:`URL` the library can use, its driver spelled out.

    The bare ``postgresql://``, ``mysql://`` and ``mariadb://`` take the library's driver
    (psycopg 3, PyMySQL) when it is installed, whatever SQLAlchemy's own default for them
    (psycopg2 and mysqlclient on SQLAlchemy 2.0).
    """
    if isinstance(url, URL):
        parsed = url
    elif isinstance(url, str):
        parsed = _parse(url)
    else:
        raise DatabaseConfigurationError(
            f"{INVALID}: it must be a string or a sqlalchemy URL, not {type(url).__name__}"
        )
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseConfigurationError(f"{INVALID}: its port {parsed.port} is outside 1 to 65535")
    backend = parsed.get_backend_name()
    if backend not in BACKEND_NAMES:
        raise DatabaseConfigurationError(
            f"{INVALID}: its backend {backend!r} is not one this library supports "
            f"(SQLite, PostgreSQL, MariaDB/MySQL); use {WORKING_URLS}"
        )
    library = LIBRARY_DRIVERS.get(backend)
    if library is not None and "+" not in parsed.drivername and _installed(library.module):
        return parsed.set(drivername=f"{backend}+{library.module}")
    return parsed


def server_address(url: URL) -> str | None:
    """``host:port`` of a server database, for messages that must say which server failed
    (some drivers' own texts do not); ``None`` for SQLite, which has no server."""
    if url.get_backend_name() == "sqlite":
        return None
    host = url.host or "localhost"
    return f"{host}:{url.port}" if url.port is not None else host


def usable_dialect(url: URL) -> type[Dialect]:
    """The dialect class of ``url``, once its driver is known, synchronous and installed."""
    backend, driver = url.get_backend_name(), url.get_driver_name()
    name = BACKEND_NAMES.get(backend, backend)
    library = LIBRARY_DRIVERS.get(backend)
    advice = (
        f"use {library.url_start} ({library.install})"
        if library is not None
        else "use sqlite:///path/to/sessions.db"
    )
    try:
        dialect = url.get_dialect()
    except exc.NoSuchModuleError:
        raise DatabaseConfigurationError(
            f"{INVALID}: {driver!r} is not a {name} driver SQLAlchemy knows; {advice}"
        ) from None
    if dialect.is_async:
        raise DatabaseConfigurationError(
            f"{INVALID}: {driver!r} is an asyncio driver and this library is synchronous; {advice}"
        )
    try:
        dialect.import_dbapi()
    except ImportError:
        raise DatabaseConfigurationError(
            f"the database URL asks for the {name} driver {driver!r}, which is not installed; "
            f"{advice}"
        ) from None
    return dialect


def _parse(url: str) -> URL:
    try:
        return make_url(url)
    except exc.ArgumentError:
        raise DatabaseConfigurationError(
            f"{INVALID}: it cannot be parsed as backend+driver://user:password@host:port/"
            f"database; for example {WORKING_URLS}"
        ) from None
    except ValueError:
        # SQLAlchemy reads the port with int(); the text it choked on is not shown, since in
        # a URL missing its '@' that text can be the password.
        raise DatabaseConfigurationError(
            f"{INVALID}: its port is not a number (host:5432 for PostgreSQL, host:3306 for "
            "MariaDB/MySQL, or leave the port out)"
        ) from None


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None
