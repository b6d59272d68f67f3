"""Translation between table rows and domain entities."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from cleveragents.domain.session import Session, SessionMessage


def session_from_row(row: RowMapping) -> Session:
    return Session(
        id=row["id"],
        actor_name=row["actor_name"],
        title=row["title"],
        metadata=row["metadata"],
        message_count=row["message_count"],
        input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def session_row(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "actor_name": session.actor_name,
        "title": session.title,
        "metadata": session.metadata,
        "message_count": session.message_count,
        "input_tokens": session.input_tokens,
        "output_tokens": session.output_tokens,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def message_from_row(row: RowMapping) -> SessionMessage:
    return SessionMessage(
        id=row["id"],
        session_id=row["session_id"],
        sequence=row["sequence"],
        role=row["role"],
        content=row["content"],
        metadata=row["metadata"],
        token_count=row["token_count"],
        created_at=row["created_at"],
    )


def message_row(message: SessionMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "session_id": message.session_id,
        "sequence": message.sequence,
        "role": message.role,
        "content": message.content,
        "metadata": message.metadata,
        "token_count": message.token_count,
        "created_at": message.created_at,
    }
