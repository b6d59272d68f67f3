"""Checks on caller input, run before anything is written.

Every rule raises :class:`InvalidSessionDataError` with a message naming the argument and
the problem. The limits are the domain's (:mod:`cleveragents.domain.limits`), which the
table models size their columns from. Text must be storable identically on every backend,
so NUL characters and lone surrogates (which some drivers or encodings cannot carry) are
refused everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, get_args

from cleveragents.domain import limits
from cleveragents.domain.errors import InvalidSessionDataError
from cleveragents.domain.session import NewMessage, SessionOrder


def check_text(name: str, value: object, *, max_length: int, allow_blank: bool = False) -> str:
    """A string that is non-blank (unless allowed), short enough and storable everywhere."""
    if not isinstance(value, str):
        raise InvalidSessionDataError(f"{name} must be a string, got {type(value).__name__}")
    if not allow_blank and not value.strip():
        raise InvalidSessionDataError(f"{name} must not be empty or blank")
    if len(value) > max_length:
        raise InvalidSessionDataError(
            f"{name} is {len(value)} characters long; the limit is {max_length}"
        )
    if "\x00" in value:
        raise InvalidSessionDataError(f"{name} contains a NUL character, which cannot be stored")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        raise InvalidSessionDataError(
            f"{name} is not valid Unicode text (lone surrogate at index {error.start})"
        ) from None
    return value


def check_optional_text(name: str, value: object, *, max_length: int) -> str | None:
    if value is None:
        return None
    return check_text(name, value, max_length=max_length, allow_blank=True)


def check_metadata(name: str, value: object) -> dict[str, Any]:
    """A JSON object (or ``None``, stored as ``{}``) that survives a JSON round trip."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidSessionDataError(
            f"{name} must be a JSON object (dict), got {type(value).__name__}"
        )
    try:
        encoded = json.dumps(value, allow_nan=False, ensure_ascii=False)
        encoded.encode("utf-8")
    except (TypeError, ValueError) as error:
        raise InvalidSessionDataError(f"{name} is not JSON-serialisable: {error}") from None
    except RecursionError:
        raise InvalidSessionDataError(f"{name} is nested too deeply to serialise") from None
    decoded: dict[str, Any] = json.loads(encoded)
    return decoded


def check_row_size(name: str, text: str | None, metadata: dict[str, Any]) -> None:
    """Refuse a row whose text and metadata together exceed what every backend stores.

    Metadata that JSON cannot carry is left to the check that explains it.
    """
    try:
        # What the database receives: SQLAlchemy's JSON type writes ASCII-escaped JSON.
        metadata_size = len(json.dumps(metadata))
    except (TypeError, ValueError, RecursionError):
        return
    text = text or ""
    if len(text) * 4 + metadata_size <= limits.MAX_ROW_TEXT_BYTES:
        return  # within the limit whatever the characters, without encoding the text
    size = metadata_size + len(text.encode("utf-8"))
    if size > limits.MAX_ROW_TEXT_BYTES:
        raise InvalidSessionDataError(
            f"{name} and metadata take {size} bytes; the limit is "
            f"{limits.MAX_ROW_TEXT_BYTES} bytes "
            "(UTF-8 text plus metadata JSON), the most every backend stores in one row"
        )


def check_count(name: str, value: object, *, maximum: int = limits.MAX_TOKEN_VALUE) -> int:
    """A non-negative integer (``bool`` is refused: ``True`` is not a count)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSessionDataError(f"{name} must be an integer, got {type(value).__name__}")
    if value < 0:
        raise InvalidSessionDataError(f"{name} must not be negative, got {value}")
    if value > maximum:
        raise InvalidSessionDataError(f"{name} is {value}; the limit is {maximum}")
    return value


def check_optional_count(name: str, value: object, *, maximum: int) -> int | None:
    return None if value is None else check_count(name, value, maximum=maximum)


def check_limit(value: object, *, minimum: int, name: str = "limit") -> int:
    limit = check_count(name, value)
    if limit < minimum:
        raise InvalidSessionDataError(f"{name} must be at least {minimum}, got {limit}")
    return limit


def check_session_id(value: object) -> str:
    """Any storable string; ids that no session can have simply match nothing."""
    return check_text(
        "session_id", value, max_length=limits.MAX_SESSION_ID_LENGTH, allow_blank=True
    )


# C0 controls, DEL and C1 controls: invisible in logs and listings, and NUL is unstorable.
_CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


def check_new_session_id(value: object) -> str:
    """A caller-chosen id for a new session: 1 to 128 characters, no control characters."""
    session_id = check_text(
        "session_id", value, max_length=limits.MAX_NEW_SESSION_ID_LENGTH, allow_blank=True
    )
    if not session_id:
        raise InvalidSessionDataError("session_id must not be empty")
    control = _CONTROL_CHARACTER.search(session_id)
    if control:
        raise InvalidSessionDataError(
            f"session_id contains the control character {control.group()!r} at index "
            f"{control.start()}"
        )
    return session_id


def check_last(value: object, *, limit: int | None, offset: int) -> int | None:
    """The size of a latest-N window, which picks its own range: no limit or offset with it."""
    if value is None:
        return None
    last = check_count("last", value, maximum=limits.MAX_SEQUENCE)
    if last < 1:
        raise InvalidSessionDataError(f"last must be at least 1, got {last}")
    if limit is not None or offset:
        raise InvalidSessionDataError(
            "last cannot be combined with limit or offset: last=N already picks the window "
            "(page further back with before_sequence)"
        )
    return last


def check_signing_key(value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, bytes) or not value:
        raise InvalidSessionDataError("signing_key must be non-empty bytes")
    return value


def check_cutoff(name: str, value: object, *, now: datetime) -> datetime:
    """An age before ``now`` or a timezone-aware moment, as the moment it stands for."""
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise InvalidSessionDataError(f"{name} must not be a negative age, got {value}")
        return now - value
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidSessionDataError(f"{name} must be timezone-aware, got {value}")
        return value
    raise InvalidSessionDataError(
        f"{name} must be a timedelta or a datetime, got {type(value).__name__}"
    )


SESSION_ORDERS: tuple[SessionOrder, ...] = get_args(SessionOrder)


def check_order(value: object) -> SessionOrder:
    if value in SESSION_ORDERS:
        return value
    raise InvalidSessionDataError(
        f"order_by must be one of {', '.join(SESSION_ORDERS)}, got {value!r}"
    )


_NEW_MESSAGE_KEYS = frozenset({"role", "content", "metadata", "token_count"})


def check_new_message(index: int, item: object) -> NewMessage:
    """One item of a batch, as a checked :class:`NewMessage` whose errors name its index."""
    where = f"messages[{index}]"
    if isinstance(item, NewMessage):
        role, content, metadata, token_count = (
            item.role,
            item.content,
            item.metadata,
            item.token_count,
        )
    elif isinstance(item, Mapping):
        unknown = sorted(str(key) for key in item.keys() - _NEW_MESSAGE_KEYS)
        if unknown:
            raise InvalidSessionDataError(f"{where} has unknown field(s): {', '.join(unknown)}")
        missing = [key for key in ("role", "content") if key not in item]
        if missing:
            raise InvalidSessionDataError(f"{where} lacks required field(s): {', '.join(missing)}")
        role, content = item["role"], item["content"]
        metadata, token_count = item.get("metadata"), item.get("token_count")
    else:
        raise InvalidSessionDataError(
            f"{where} must be a NewMessage or a mapping, got {type(item).__name__}"
        )
    checked = NewMessage(
        role=check_text(f"{where}.role", role, max_length=limits.MAX_ROLE_LENGTH),
        content=check_text(
            f"{where}.content", content, max_length=limits.MAX_CONTENT_LENGTH, allow_blank=True
        ),
        metadata=check_metadata(f"{where}.metadata", metadata),
        token_count=check_optional_count(
            f"{where}.token_count", token_count, maximum=limits.MAX_TOKEN_COUNT
        ),
    )
    check_row_size(f"{where}.content", checked.content, checked.metadata or {})
    return checked
