"""Application services: the use cases agent runtimes call."""

from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)

__all__ = ["ImportLimits", "PersistentSessionService"]
