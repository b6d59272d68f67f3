"""Scoped state tables: which user a session belongs to, and state keys at three scopes.

Every key is its own row, so two writers changing different keys of one scope at the same
moment both land; an upsert of one row is the only write a key ever needs.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from cleveragents.domain import limits
from cleveragents.infrastructure.database.base import MYSQL_TABLE_OPTIONS, Base
from cleveragents.infrastructure.database.column_types import ExactString
from cleveragents.infrastructure.database.models.session import SESSION_ID_LENGTH


class SessionUserModel(Base):
    """The user a session belongs to (sessions without a row belong to no user)."""

    __tablename__ = "session_users"
    __table_args__ = (
        Index("ix_session_users_user_id_session_id", "user_id", "session_id"),
        MYSQL_TABLE_OPTIONS,
    )

    session_id: Mapped[str] = mapped_column(
        ExactString(SESSION_ID_LENGTH),
        ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    user_id: Mapped[str] = mapped_column(ExactString(limits.MAX_USER_ID_LENGTH))


class ActorStateModel(Base):
    """A state key shared by every session of an actor."""

    __tablename__ = "actor_state"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    actor_name: Mapped[str] = mapped_column(
        ExactString(limits.MAX_ACTOR_NAME_LENGTH), primary_key=True
    )
    name: Mapped[str] = mapped_column(ExactString(limits.MAX_STATE_NAME_LENGTH), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)


class UserStateModel(Base):
    """A state key shared by one user's sessions of an actor."""

    __tablename__ = "user_state"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    actor_name: Mapped[str] = mapped_column(
        ExactString(limits.MAX_ACTOR_NAME_LENGTH), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ExactString(limits.MAX_USER_ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(ExactString(limits.MAX_STATE_NAME_LENGTH), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)


class SessionStateModel(Base):
    """A state key of one session; it goes with the session."""

    __tablename__ = "session_state"
    __table_args__ = (MYSQL_TABLE_OPTIONS,)

    session_id: Mapped[str] = mapped_column(
        ExactString(SESSION_ID_LENGTH),
        ForeignKey("sessions.id", ondelete="CASCADE"),
        primary_key=True,
    )
    name: Mapped[str] = mapped_column(ExactString(limits.MAX_STATE_NAME_LENGTH), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=False)
