"""What every command shares: the database URL and schema chosen on the command line."""

from __future__ import annotations

from dataclasses import dataclass

import typer

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import default_database_url, displayable_url


@dataclass(frozen=True, slots=True)
class CliSettings:
    database_url: str | None = None
    schema: str | None = None

    @property
    def resolved_url(self) -> str:
        """The URL in use: ``--database-url``, else the environment or the embedded file."""
        return self.database_url or default_database_url()

    @property
    def displayed_url(self) -> str:
        """The URL as it may be shown: never with its password."""
        return displayable_url(self.resolved_url)

    def open_service(self) -> PersistentSessionService:
        return PersistentSessionService.from_url(self.resolved_url, schema=self.schema)


def settings_of(context: typer.Context) -> CliSettings:
    settings = context.find_root().obj
    assert isinstance(settings, CliSettings)
    return settings
