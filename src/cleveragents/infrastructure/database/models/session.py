"""The ``sessions`` table: one row per conversation, with its running counters."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cleveragents.domain import limits
from cleveragents.infrastructure.database.base import MYSQL_TABLE_OPTIONS, Base
from cleveragents.infrastructure.database.column_types import ExactString, UTCDateTime

if TYPE_CHECKING:
    from cleveragents.infrastructure.database.models.session_message import SessionMessageModel

# Column lengths are the domain's limits; see ``domain.limits`` for why the migrations
# repeat them as literals.
SESSION_ID_LENGTH = limits.MAX_NEW_SESSION_ID_LENGTH


class SessionModel(Base):
    """A stored session.

    ``message_count`` doubles as the next sequence: an append increments it in one atomic
    row update, which both numbers the message and serialises appenders to the session.
    Each listing order (creation, last activity; all sessions or one actor's) has an index
    ending in ``id``, so a page, however deep its cursor, is one range read of it.
    """

    __tablename__ = "sessions"
    __table_args__ = (
        Index("ix_sessions_created_at_id", "created_at", "id"),
        Index("ix_sessions_updated_at_id", "updated_at", "id"),
        Index("ix_sessions_actor_name_created_at_id", "actor_name", "created_at", "id"),
        Index("ix_sessions_actor_name_updated_at_id", "actor_name", "updated_at", "id"),
        CheckConstraint("message_count >= 0", name="message_count_not_negative"),
        CheckConstraint("input_tokens >= 0", name="input_tokens_not_negative"),
        CheckConstraint("output_tokens >= 0", name="output_tokens_not_negative"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(ExactString(SESSION_ID_LENGTH), primary_key=True)
    actor_name: Mapped[str] = mapped_column(ExactString(limits.MAX_ACTOR_NAME_LENGTH))
    title: Mapped[str | None] = mapped_column(String(limits.MAX_TITLE_LENGTH))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    message_count: Mapped[int] = mapped_column(Integer, server_default="0")
    input_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    output_tokens: Mapped[int] = mapped_column(BigInteger, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # For applications using these models through their own ORM sessions; the library's
    # repositories run Core statements and never load it.
    messages: Mapped[list[SessionMessageModel]] = relationship(
        back_populates="session",
        order_by="SessionMessageModel.sequence",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )
