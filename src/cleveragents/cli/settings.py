"""What every command shares: the database URL and schema chosen on the command line.

The library is imported inside the methods, so ``--help`` and usage errors never pay for
loading SQLAlchemy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import typer

from cleveragents.domain.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from cleveragents.application.services import PersistentSessionService

# The names cleveragents.infrastructure.database reads; repeated here for the help text only.
DATABASE_URL_VARIABLE = "CLEVERAGENTS_DATABASE_URL"
DATABASE_SCHEMA_VARIABLE = "CLEVERAGENTS_DATABASE_SCHEMA"


@dataclass(frozen=True, slots=True)
class CliSettings:
    database_url: str | None = None
    schema: str | None = None

    @property
    def resolved_url(self) -> str:
        """The URL in use: ``--database-url``, else the environment or the embedded file."""
        from cleveragents.infrastructure.database import default_database_url

        return self.database_url or default_database_url()

    @property
    def displayed_url(self) -> str:
        """The URL as it may be shown: never with its password."""
        from cleveragents.infrastructure.database import displayable_url

        return displayable_url(self.resolved_url)

    def existing_url(self) -> str:
        """The URL in use, refused when it names a SQLite file that is not there.

        Only ``db upgrade`` may create a database; every other command would otherwise
        leave an empty file (and its directory) behind a mistyped path.
        """
        from cleveragents.infrastructure.database.sqlite_file import missing_sqlite_file

        url = self.resolved_url
        missing = missing_sqlite_file(url)
        if missing is not None:
            raise DatabaseUnavailableError(
                f"no such database file: {missing} (create it with `cleveragents db upgrade`)"
            )
        return url

    def open_service(self) -> PersistentSessionService:
        from cleveragents.application.services import PersistentSessionService

        return PersistentSessionService.from_url(self.existing_url(), schema=self.schema)


def settings_of(context: typer.Context) -> CliSettings:
    settings = context.find_root().obj
    assert isinstance(settings, CliSettings)
    return settings
