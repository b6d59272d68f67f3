"""Core views of the model tables, for the statements on the hot paths."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table

from cleveragents.infrastructure.database.models import SessionMessageModel, SessionModel

sessions = cast(Table, SessionModel.__table__)
session_messages = cast(Table, SessionMessageModel.__table__)
