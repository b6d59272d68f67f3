"""Whether the SQLite file a URL names exists, told without creating it.

Connecting to a SQLite path creates the file (and the engine its directory), so a command
that only reads would turn a mistyped path into a new, empty database; it asks here first.
"""

from __future__ import annotations

from pathlib import Path

from cleveragents.infrastructure.database.url_parsing import parse_database_url


def missing_sqlite_file(url: str) -> Path | None:
    """The path of the SQLite file ``url`` names, when that file does not exist.

    ``None`` for every other URL: other backends, in-memory databases, ``uri=true`` URLs
    (whose file name SQLite parses itself) and existing files. A URL that cannot be used
    raises :class:`DatabaseConfigurationError` naming the part that is wrong.
    """
    parsed = parse_database_url(url)
    database = parsed.database or ""
    if (
        parsed.get_backend_name() != "sqlite"
        or database in ("", ":memory:")
        or database.startswith("file:")
        or str(parsed.query.get("uri", "")).lower() == "true"
    ):
        return None
    path = Path(database).expanduser()
    return None if path.exists() else path
