"""This library as a Google ADK session store: ``CleverAgentsSessionService``.

Driven exactly as ADK's own services are (``benchmarks.peers.adk_stores``): appends through
``append_event`` on the session object the service returned, the latest window through
``get_session`` with ``GetSessionConfig(num_recent_events=...)``, and ``list_sessions``, which
like ADK's returns every session of the user.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchmarks.peers.adk_stores import _AdkStore
from benchmarks.peers.settings import read_engine
from benchmarks.peers.store import Durability

if TYPE_CHECKING:
    from cleveragents.integrations.adk import CleverAgentsSessionService


class CleverAgentsAdkStore(_AdkStore):
    """``CleverAgentsSessionService`` on the URL ``upgrade_database`` prepared."""

    system = "cleveragents-core CleverAgentsSessionService"
    listing = "`list_sessions(app_name, user_id)`: every session, four indexed queries"

    def __init__(self, backend: str, url: str) -> None:
        super().__init__(backend)
        self._url = url

    @property
    def adk_service(self) -> CleverAgentsSessionService:
        from cleveragents.integrations.adk import CleverAgentsSessionService

        service = self.service
        assert isinstance(service, CleverAgentsSessionService)
        return service

    async def open(self) -> None:
        from cleveragents.infrastructure.database import upgrade_database
        from cleveragents.integrations.adk import CleverAgentsSessionService

        upgrade_database(self._url)
        self._service = CleverAgentsSessionService(self._url)

    async def close(self) -> None:
        if self._service is not None:
            await self.adk_service.close()

    async def durability(self) -> Durability:
        # The service builds its engine from the URL and offers no handle on it; an engine
        # built the same way gets the same connection settings from the same connect hook.
        from cleveragents.infrastructure.database import create_database_engine

        engine = create_database_engine(self._url)
        try:
            return read_engine(engine)
        finally:
            engine.dispose()
