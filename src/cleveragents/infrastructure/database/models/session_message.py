"""The ``session_messages`` table: the ordered messages of each session."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cleveragents.domain import limits
from cleveragents.infrastructure.database.base import MYSQL_TABLE_OPTIONS, Base
from cleveragents.infrastructure.database.column_types import LONG_TEXT, ExactString, UTCDateTime
from cleveragents.infrastructure.database.models.session import SESSION_ID_LENGTH

if TYPE_CHECKING:
    from cleveragents.infrastructure.database.models.session import SessionModel


class SessionMessageModel(Base):
    """A stored message; ``(session_id, sequence)`` is unique and is the conversation order."""

    __tablename__ = "session_messages"
    __table_args__ = (
        Index("ix_session_messages_session_id_sequence", "session_id", "sequence", unique=True),
        CheckConstraint("sequence >= 0", name="sequence_not_negative"),
        CheckConstraint("token_count >= 0", name="token_count_not_negative"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[str] = mapped_column(ExactString(limits.MESSAGE_ID_LENGTH), primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ExactString(SESSION_ID_LENGTH), ForeignKey("sessions.id", ondelete="CASCADE")
    )
    sequence: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(ExactString(limits.MAX_ROLE_LENGTH))
    content: Mapped[str] = mapped_column(LONG_TEXT)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    token_count: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    # The other side of ``SessionModel.messages``, for applications' ORM sessions only.
    session: Mapped[SessionModel] = relationship(back_populates="messages")
