"""Translation between table rows and domain entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import Column, CursorResult

from cleveragents.domain.errors import SessionIntegrityError
from cleveragents.domain.session import Session, SessionMessage
from cleveragents.infrastructure.database.tables import session_messages, sessions

T = TypeVar("T")

# The order statements select their columns in; rows decode from plain tuples, which on long
# histories and deep pages is measurably cheaper than a mapping per row.
SESSION_COLUMNS: tuple[Column[Any], ...] = tuple(
    sessions.c[name]
    for name in (
        "id",
        "actor_name",
        "title",
        "metadata",
        "message_count",
        "input_tokens",
        "output_tokens",
        "created_at",
        "updated_at",
    )
)
MESSAGE_COLUMNS: tuple[Column[Any], ...] = tuple(
    session_messages.c[name]
    for name in (
        "id",
        "session_id",
        "sequence",
        "role",
        "content",
        "metadata",
        "token_count",
        "created_at",
    )
)


def sessions_from_result(result: CursorResult[Any]) -> list[Session]:
    """Decode a result of a statement selecting ``SESSION_COLUMNS``."""
    return _decode_all(result.all, session_from_values, "a stored session row")


def messages_from_result(result: CursorResult[Any], session_id: str) -> list[SessionMessage]:
    """Decode a result of a statement selecting ``MESSAGE_COLUMNS``."""
    return _decode_all(
        result.all, message_from_values, f"a stored message of session {session_id!r}"
    )


def iter_messages(result: CursorResult[Any], session_id: str) -> Iterator[SessionMessage]:
    """Decode rows of ``MESSAGE_COLUMNS`` one at a time, for histories read as a stream."""
    rows = iter(result)
    while True:
        try:
            row = next(rows, None)
            if row is None:
                return
            message = message_from_values(row)
        except (ValueError, TypeError) as error:
            raise SessionIntegrityError(
                f"a stored message of session {session_id!r} cannot be decoded "
                f"({type(error).__name__})"
            ) from error
        yield message


def _decode_all(
    fetch_rows: Callable[[], Iterable[Any]], decode: Callable[[Any], T], what: str
) -> list[T]:
    """Fetch and decode every row, reporting a row that cannot be decoded (by the column
    types, which run while fetching, or here) instead of skipping it."""
    try:
        return [decode(row) for row in fetch_rows()]
    except (ValueError, TypeError) as error:
        raise SessionIntegrityError(f"{what} cannot be decoded ({type(error).__name__})") from error


def _json_object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"metadata is a {type(value).__name__}, not a JSON object")
    return value


def session_from_values(values: Sequence[Any]) -> Session:
    """A session from the values of ``SESSION_COLUMNS``, in that order."""
    (
        session_id,
        actor_name,
        title,
        metadata,
        message_count,
        input_tokens,
        output_tokens,
        created_at,
        updated_at,
    ) = values
    return Session(
        id=session_id,
        actor_name=actor_name,
        title=title,
        metadata=_json_object(metadata),
        message_count=message_count,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        created_at=created_at,
        updated_at=updated_at,
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


def message_from_values(values: Sequence[Any]) -> SessionMessage:
    """A message from the values of ``MESSAGE_COLUMNS``, in that order."""
    message_id, session_id, sequence, role, content, metadata, token_count, created_at = values
    return SessionMessage(
        id=message_id,
        session_id=session_id,
        sequence=sequence,
        role=role,
        content=content,
        metadata=_json_object(metadata),
        token_count=token_count,
        created_at=created_at,
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
