"""Core views of the model tables, for the statements on the hot paths."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from cleveragents.infrastructure.database.models import (
    ActorStateModel,
    SessionMessageModel,
    SessionModel,
    SessionStateModel,
    SessionUserModel,
    UserStateModel,
)

sessions = cast(Table, SessionModel.__table__)
session_messages = cast(Table, SessionMessageModel.__table__)
session_users = cast(Table, SessionUserModel.__table__)
actor_state = cast(Table, ActorStateModel.__table__)
user_state = cast(Table, UserStateModel.__table__)
session_state = cast(Table, SessionStateModel.__table__)
