"""Opaque cursors for session listings: where the previous page ended, and for which listing.

A cursor carries the last session's ordering value and id, plus the ordering and actor it
was issued for, as URL-safe base64 of a small JSON object. Callers treat it as an opaque
string; a cursor that was altered, truncated or issued for another listing is refused
instead of silently yielding a wrong page.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from cleveragents.application.services.export_document import format_timestamp
from cleveragents.domain.errors import InvalidSessionDataError
from cleveragents.domain.session import Session, SessionOrder

_VERSION = 1
_MAX_CURSOR_LENGTH = 2048


def encode_cursor(last: Session, *, order_by: SessionOrder, actor_name: str | None) -> str:
    """The cursor of the page that follows ``last``."""
    value = last.created_at if order_by == "created_at" else last.updated_at
    fields = {
        "v": _VERSION,
        "o": order_by,
        "a": actor_name,
        "k": format_timestamp(value),
        "i": last.id,
    }
    encoded = json.dumps(fields, separators=(",", ":"), ensure_ascii=True).encode("ascii")
    return base64.urlsafe_b64encode(encoded).rstrip(b"=").decode("ascii")


def decode_cursor(
    cursor: object, *, order_by: SessionOrder, actor_name: str | None
) -> tuple[datetime, str]:
    """The ``(ordering value, id)`` a cursor points after.

    Raises:
        InvalidSessionDataError: not a cursor of this library, or one issued for a listing
            with another ``order_by`` or ``actor_name``.
    """
    fields = _fields(cursor)
    if fields.get("o") != order_by or fields.get("a") != actor_name:
        raise InvalidSessionDataError(
            f"cursor was issued for a listing ordered by {fields.get('o')!r} with actor_name "
            f"{fields.get('a')!r}; it cannot continue one ordered by {order_by!r} with "
            f"actor_name {actor_name!r}"
        )
    value, session_id = fields.get("k"), fields.get("i")
    if not isinstance(value, str) or not isinstance(session_id, str):
        raise _not_a_cursor()
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _not_a_cursor() from None
    if moment.tzinfo is None:
        raise _not_a_cursor()
    return moment.astimezone(UTC), session_id


def _fields(cursor: object) -> dict[str, object]:
    if not isinstance(cursor, str):
        raise InvalidSessionDataError(f"cursor must be a string, got {type(cursor).__name__}")
    if not cursor or len(cursor) > _MAX_CURSOR_LENGTH:
        raise _not_a_cursor()
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        fields = json.loads(decoded.decode("ascii"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _not_a_cursor() from None
    if not isinstance(fields, dict) or fields.get("v") != _VERSION:
        raise _not_a_cursor()
    return fields


def _not_a_cursor() -> InvalidSessionDataError:
    return InvalidSessionDataError(
        "cursor is not one this library issued: pass the next_cursor of a previous page unchanged"
    )
