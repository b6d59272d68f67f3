"""Typed declarative models; their metadata is what the migrations must produce."""

from cleveragents.infrastructure.database.models.resource import ResourceModel
from cleveragents.infrastructure.database.models.scoped_state import (
    ActorStateModel,
    SessionStateModel,
    SessionUserModel,
    UserStateModel,
)
from cleveragents.infrastructure.database.models.session import SessionModel
from cleveragents.infrastructure.database.models.session_message import SessionMessageModel

__all__ = [
    "ActorStateModel",
    "ResourceModel",
    "SessionMessageModel",
    "SessionModel",
    "SessionStateModel",
    "SessionUserModel",
    "UserStateModel",
]
