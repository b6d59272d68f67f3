"""Repositories: each method is one complete, retried transaction."""

from cleveragents.infrastructure.database.repositories.scoped_state_repository import (
    ScopedStateRepository,
)
from cleveragents.infrastructure.database.repositories.session_message_repository import (
    SessionMessageRepository,
)
from cleveragents.infrastructure.database.repositories.session_repository import (
    SessionRepository,
)

__all__ = ["ScopedStateRepository", "SessionMessageRepository", "SessionRepository"]
