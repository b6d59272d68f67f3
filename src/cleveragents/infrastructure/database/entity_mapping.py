"""Translation between table rows and domain entities."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import CursorResult, RowMapping

from cleveragents.domain.errors import SessionIntegrityError
from cleveragents.domain.session import Session, SessionMessage

T = TypeVar("T")


def sessions_from_result(result: CursorResult[Any]) -> list[Session]:
    return _decode_all(result, session_from_row, "a stored session row")


def messages_from_result(result: CursorResult[Any], session_id: str) -> list[SessionMessage]:
    return _decode_all(result, message_from_row, f"a stored message of session {session_id!r}")


def iter_messages(result: CursorResult[Any], session_id: str) -> Iterator[SessionMessage]:
    """Decode rows one at a time, for histories read as a stream."""
    for row in result.mappings():
        try:
            yield message_from_row(row)
        except (ValueError, TypeError) as error:
            raise SessionIntegrityError(
                f"a stored message of session {session_id!r} cannot be decoded "
                f"({type(error).__name__})"
            ) from error


def _decode_all(result: CursorResult[Any], decode: Callable[[RowMapping], T], what: str) -> list[T]:
    """Decode every row, reporting a row that cannot be decoded instead of skipping it."""
    try:
        return [decode(row) for row in result.mappings()]
    except (ValueError, TypeError) as error:
        raise SessionIntegrityError(f"{what} cannot be decoded ({type(error).__name__})") from error


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"metadata is a {type(value).__name__}, not a JSON object")
    return value


def session_from_row(row: RowMapping) -> Session:
    return Session(
        id=row["id"],
        actor_name=row["actor_name"],
        title=row["title"],
        metadata=_json_object(row["metadata"]),
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
        metadata=_json_object(row["metadata"]),
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
