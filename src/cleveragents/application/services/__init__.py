"""Application services: the use cases agent runtimes call."""

from cleveragents.application.services.async_persistent_session_service import (
    AsyncPersistentSessionService,
)
from cleveragents.application.services.async_scoped_state_service import (
    AsyncScopedStateService,
)
from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)
from cleveragents.application.services.scoped_state_service import ScopedStateService
from cleveragents.infrastructure.database import RetryPolicy

__all__ = [
    "AsyncPersistentSessionService",
    "AsyncScopedStateService",
    "ImportLimits",
    "PersistentSessionService",
    "RetryPolicy",
    "ScopedStateService",
]
