"""Translation between table rows and domain entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Column, CursorResult, insert

from cleveragents.domain.errors import SessionIntegrityError
from cleveragents.domain.session import Session, SessionMessage
from cleveragents.domain.stored_fields import (
    MESSAGE_FIELDS,
    SESSION_FIELDS,
    builder_from_values,
)
from cleveragents.infrastructure.database.tables import session_messages, sessions

T = TypeVar("T")

# The order statements select their columns in: the entities' own field order. Rows decode
# from plain tuples, which on long histories and deep pages is measurably cheaper than a
# mapping per row.
SESSION_COLUMNS: tuple[Column[Any], ...] = tuple(sessions.c[name] for name in SESSION_FIELDS)
MESSAGE_COLUMNS: tuple[Column[Any], ...] = tuple(
    session_messages.c[name] for name in MESSAGE_FIELDS
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


session_from_values = builder_from_values(Session, SESSION_FIELDS, {"metadata": _json_object})
"""A session from the values of ``SESSION_COLUMNS``, in that order."""

message_from_values = builder_from_values(
    SessionMessage, MESSAGE_FIELDS, {"metadata": _json_object}
)
"""A message from the values of ``MESSAGE_COLUMNS``, in that order."""


# The statements that store the rows below; built once, so each insert only binds values.
INSERT_SESSION = insert(sessions)
INSERT_MESSAGE = insert(session_messages)


def session_row(session: Session) -> dict[str, Any]:
    """The column values of ``session``, by column name."""
    return {name: getattr(session, name) for name in SESSION_FIELDS}


def message_row(message: SessionMessage) -> dict[str, Any]:
    """The column values of ``message``, by column name."""
    return {name: getattr(message, name) for name in MESSAGE_FIELDS}
