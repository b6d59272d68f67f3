"""Application services: the use cases agent runtimes call."""

from cleveragents.application.services.async_persistent_session_service import (
    AsyncPersistentSessionService,
)
from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)

__all__ = ["AsyncPersistentSessionService", "ImportLimits", "PersistentSessionService"]
