"""The export document: a session and its messages as checked, portable JSON.

Layout (``schema_version`` 1)::

    {"format": "cleveragents.session-export", "schema_version": 1,
     "exported_at": "...Z", "session": {...}, "messages": [{...}, ...], "checksum": "<hex>"}

``checksum`` is the SHA-256 of the canonical JSON encoding (sorted keys, ``,``/``:``
separators, UTF-8, no NaN) of the payload: every key except ``exported_at``, ``checksum``
and ``signature``. It detects corruption, not deliberate tampering: anyone can recompute it.
For authenticity, export and import with a shared key: the optional ``signature`` is the
HMAC-SHA-256 of the same payload, which only a holder of the key can produce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NoReturn

from cleveragents.application.services import input_rules
from cleveragents.domain import limits
from cleveragents.domain.errors import (
    ChecksumMismatchError,
    ExportDocumentTooLargeError,
    InvalidExportDocumentError,
    InvalidSessionDataError,
    SignatureMismatchError,
    UnsupportedSchemaVersionError,
)
from cleveragents.domain.session import Session, SessionMessage
from cleveragents.domain.stored_fields import MESSAGE_FIELDS, SESSION_FIELDS

FORMAT_NAME = "cleveragents.session-export"
SCHEMA_VERSION = 1

_DOCUMENT_KEYS = frozenset(
    {"format", "schema_version", "exported_at", "session", "messages", "checksum"}
)
_OPTIONAL_DOCUMENT_KEYS = frozenset({"signature"})
_UNSIGNED_KEYS = frozenset({"exported_at", "checksum", "signature"})
# The document carries every stored field of the entities (a message's ``session_id`` is
# the document's session), so a field added to an entity changes the format: that is a
# decision about ``SCHEMA_VERSION``, not something to find out later.
_SESSION_KEYS = frozenset(SESSION_FIELDS)
_MESSAGE_DOCUMENT_FIELDS = tuple(name for name in MESSAGE_FIELDS if name != "session_id")
_MESSAGE_KEYS = frozenset(_MESSAGE_DOCUMENT_FIELDS)
_CHECKSUM_PATTERN = re.compile(r"[0-9a-f]{64}")
_COUNTING_SLICE = 1 << 20  # pragma: no mutate (characters encoded at a time: work, not results)


MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """Bounds on what an import accepts, so one document cannot exhaust the host."""

    max_document_bytes: int = 128 * MIB
    max_messages: int = 1_000_000


def format_timestamp(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC with microseconds, so equal instants encode equally."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_json(value: object) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def payload_checksum(document: dict[str, Any]) -> str:
    """SHA-256 (hex) of the canonical encoding of the document without its unchecked keys."""
    payload = {k: v for k, v in document.items() if k not in _UNSIGNED_KEYS}
    return hashlib.sha256(canonical_json(payload)).hexdigest()


def payload_signature(document: dict[str, Any], key: bytes) -> str:
    """HMAC-SHA-256 (hex) of the same canonical payload the checksum covers."""
    payload = {k: v for k, v in document.items() if k not in _UNSIGNED_KEYS}
    return hmac.new(key, canonical_json(payload), hashlib.sha256).hexdigest()


def build_export_document(
    session: Session,
    messages: Sequence[SessionMessage],
    *,
    exported_at: datetime,
    signing_key: bytes | None = None,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "format": FORMAT_NAME,
        "schema_version": SCHEMA_VERSION,
        "exported_at": format_timestamp(exported_at),
        "session": session_fields(session, message_count=len(messages)),
        "messages": [message_fields(message) for message in messages],
    }
    document["checksum"] = payload_checksum(document)
    if signing_key is not None:
        document["signature"] = payload_signature(document, signing_key)
    return document


def session_fields(session: Session, *, message_count: int) -> dict[str, Any]:
    """The document's ``session`` object."""
    fields = {name: getattr(session, name) for name in SESSION_FIELDS}
    fields["message_count"] = message_count
    fields["created_at"] = format_timestamp(session.created_at)
    fields["updated_at"] = format_timestamp(session.updated_at)
    return fields


def message_fields(message: SessionMessage) -> dict[str, Any]:
    """One entry of the document's ``messages`` list."""
    fields = {name: getattr(message, name) for name in _MESSAGE_DOCUMENT_FIELDS}
    fields["created_at"] = format_timestamp(message.created_at)
    return fields


def read_export_document(
    document: dict[str, Any] | str | bytes,
    *,
    limits: ImportLimits,
    new_ids: Callable[[int], list[str]],
    signing_key: bytes | None = None,
) -> tuple[Session, list[SessionMessage]]:
    """Check a document whole and return the session and messages it holds, under new ids.

    Checks run in this order, so each defect gets its most specific error: size, JSON
    syntax, schema version, top-level shape, every field, checksum.
    """
    parsed = _parse(document, limits)
    if "schema_version" not in parsed:
        raise InvalidExportDocumentError("export document lacks required field(s): schema_version")
    check_schema_version(parsed["schema_version"])
    check_top_level(parsed)
    messages_field = parsed["messages"]
    if not isinstance(messages_field, list):
        invalid_field("messages", "must be a list", messages_field)
    if len(messages_field) > limits.max_messages:
        raise ExportDocumentTooLargeError(
            f"export document has {len(messages_field)} messages; the limit is "
            f"{limits.max_messages}"
        )
    session_id, *message_ids = new_ids(len(messages_field) + 1)
    session = read_session(parsed["session"], session_id, message_count=len(messages_field))
    messages = [
        read_message(raw, index, session.id, message_id)
        for index, (raw, message_id) in enumerate(zip(messages_field, message_ids, strict=True))
    ]
    _check_checksum(parsed)
    if signing_key is not None:
        _check_signature(parsed, signing_key)
    return session, messages


def in_mib(size: int) -> str:
    """A byte count as people read sizes: ``128 MiB``, ``230.51 MiB``."""
    if size % MIB == 0:
        return f"{size // MIB} MiB"
    return f"{size / MIB:.2f} MiB"


def document_too_large(size: int, limits: ImportLimits) -> ExportDocumentTooLargeError:
    return ExportDocumentTooLargeError(
        f"export document is {size} bytes ({in_mib(size)}); "
        f"the limit is {in_mib(limits.max_document_bytes)}"
    )


def _parse(document: dict[str, Any] | str | bytes, limits: ImportLimits) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    if not isinstance(document, str | bytes | bytearray):
        raise InvalidExportDocumentError(
            f"export document must be a dict, str or bytes, got {type(document).__name__}"
        )
    size = (
        _utf8_length(document, limits.max_document_bytes)
        if isinstance(document, str)
        else len(document)
    )
    if size > limits.max_document_bytes:
        raise document_too_large(size, limits)
    try:
        # JSON travels as UTF-8 (RFC 8259); json.loads would also guess UTF-16 and UTF-32.
        text = document if isinstance(document, str) else bytes(document).decode("utf-8")
        parsed = json.loads(
            text, object_pairs_hook=reject_duplicate_keys, parse_constant=reject_constant
        )
    except RecursionError:
        raise InvalidExportDocumentError("export document is nested too deeply") from None
    except ValueError as error:
        raise InvalidExportDocumentError(f"export document is not valid JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise InvalidExportDocumentError(
            f"export document must be a JSON object, got {type(parsed).__name__}"
        )
    return parsed


def _utf8_length(text: str, cap: int) -> int:
    """UTF-8 size of ``text``, counted in slices so an oversized text is never copied whole.

    Counting stops as soon as the cap is passed; every character takes at least one byte, so a
    text longer than the cap in characters is over it without counting.
    """
    if len(text) > cap:
        return len(text)
    size = 0
    for start in range(0, len(text), _COUNTING_SLICE):
        size += len(text[start : start + _COUNTING_SLICE].encode("utf-8", "surrogatepass"))
        if size > cap:
            break  # pragma: no mutate (the size is over the cap either way; counting stops sooner)
    return size


def reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key!r}")
        result[key] = value
    return result


def reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def _check_signature(document: dict[str, Any], key: bytes) -> None:
    check_signature(document.get("signature"), payload_signature(document, key))


def check_signature(signature: object, expected: str) -> None:
    """Compare a document's ``signature`` (``None`` if it has none) with the one expected."""
    if signature is None:
        raise SignatureMismatchError("export document is not signed, but a signing key was given")
    if not isinstance(signature, str) or not hmac.compare_digest(signature, expected):
        raise SignatureMismatchError(
            "export document signature does not match: it was signed with another key or "
            "altered after signing"
        )


def check_top_level(document: dict[str, Any]) -> None:
    _check_keys("export document", document, _DOCUMENT_KEYS, optional=_OPTIONAL_DOCUMENT_KEYS)
    if document["format"] != FORMAT_NAME:
        invalid_field("format", f"must be {FORMAT_NAME!r}", document["format"])
    _read_timestamp("exported_at", document["exported_at"])
    checksum = document["checksum"]
    if not isinstance(checksum, str) or not _CHECKSUM_PATTERN.fullmatch(checksum):
        invalid_field("checksum", "must be 64 lowercase hexadecimal digits", checksum)
    signature = document.get("signature")
    if "signature" in document and not (
        isinstance(signature, str) and _CHECKSUM_PATTERN.fullmatch(signature)
    ):
        invalid_field("signature", "must be 64 lowercase hexadecimal digits", signature)


def check_schema_version(version: object) -> None:
    if isinstance(version, bool) or not isinstance(version, int) or version != SCHEMA_VERSION:
        raise UnsupportedSchemaVersionError(version, SCHEMA_VERSION)


def _check_checksum(document: dict[str, Any]) -> None:
    try:
        actual = payload_checksum(document)
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        for index, raw in enumerate(document["messages"]):
            explain_unencodable_message(raw, index)
        raise InvalidExportDocumentError(
            "export document holds a value that JSON cannot carry"
        ) from None
    check_checksum(document["checksum"], actual)


def canonical_message(raw: dict[str, Any], index: int) -> bytes:
    """The canonical encoding of one message that :func:`read_message` accepted."""
    try:
        return canonical_json(raw)
    except (TypeError, ValueError, UnicodeEncodeError, RecursionError):
        explain_unencodable_message(raw, index)
        raise InvalidExportDocumentError(
            f"export document field messages[{index}] holds a value that JSON cannot carry"
        ) from None


def explain_unencodable_message(raw: dict[str, Any], index: int) -> None:
    """Raise the precise error for a message whose metadata JSON cannot carry, if it is that.

    Message metadata is only type-checked on the way in (a full round trip per message would
    double an import's cost); the canonical encoding that the checksum needs anyway catches
    the rest, and this names the culprit.
    """
    _field(input_rules.check_metadata, f"messages[{index}].metadata", raw["metadata"])


def check_checksum(declared: str, actual: str) -> None:
    if actual != declared:
        raise ChecksumMismatchError(declared, actual)


def read_session(raw: object, session_id: str, *, message_count: int | None) -> Session:
    """The document's session under a new id; ``message_count`` is the number of messages
    the document holds, or ``None`` when they are still to be read (the caller then checks
    the declared count at the end)."""
    fields = _check_keys("session", raw, _SESSION_KEYS)
    _field(
        input_rules.check_text,
        "session.id",
        fields["id"],
        max_length=limits.MAX_NEW_SESSION_ID_LENGTH,
    )
    declared_count = _field(
        input_rules.check_count, "session.message_count", fields["message_count"]
    )
    if message_count is not None:
        check_message_count(declared_count, message_count)
    session = Session(
        id=session_id,
        actor_name=_field(
            input_rules.check_text,
            "session.actor_name",
            fields["actor_name"],
            max_length=limits.MAX_ACTOR_NAME_LENGTH,
        ),
        title=_field(
            input_rules.check_optional_text,
            "session.title",
            fields["title"],
            max_length=limits.MAX_TITLE_LENGTH,
        ),
        metadata=_field(input_rules.check_metadata, "session.metadata", fields["metadata"]),
        message_count=declared_count,
        input_tokens=_field(
            input_rules.check_count, "session.input_tokens", fields["input_tokens"]
        ),
        output_tokens=_field(
            input_rules.check_count, "session.output_tokens", fields["output_tokens"]
        ),
        created_at=_read_timestamp("session.created_at", fields["created_at"]),
        updated_at=_read_timestamp("session.updated_at", fields["updated_at"]),
    )
    _field(input_rules.check_row_size, "session.title", session.title, metadata=session.metadata)
    return session


def check_message_count(declared: int, actual: int) -> None:
    if declared != actual:
        invalid_field(
            "session.message_count",
            f"does not match the {actual} messages in the document",
            declared,
        )


def read_message(raw: object, index: int, session_id: str, message_id: str) -> SessionMessage:
    where = f"messages[{index}]"
    fields = _check_keys(where, raw, _MESSAGE_KEYS)
    _field(
        input_rules.check_text,
        f"{where}.id",
        fields["id"],
        max_length=limits.MAX_DOCUMENT_MESSAGE_ID_LENGTH,
    )
    sequence = _field(input_rules.check_count, f"{where}.sequence", fields["sequence"])
    if sequence != index:
        invalid_field(
            f"{where}.sequence",
            f"must be {index}: sequences start at 0 and follow each other without gaps",
            sequence,
        )
    message = SessionMessage(
        id=message_id,
        session_id=session_id,
        sequence=sequence,
        role=_field(
            input_rules.check_text,
            f"{where}.role",
            fields["role"],
            max_length=limits.MAX_ROLE_LENGTH,
        ),
        content=_field(
            input_rules.check_text,
            f"{where}.content",
            fields["content"],
            max_length=limits.MAX_CONTENT_LENGTH,
            allow_blank=True,
        ),
        metadata=_read_message_metadata(f"{where}.metadata", fields["metadata"]),
        token_count=_field(
            input_rules.check_optional_count,
            f"{where}.token_count",
            fields["token_count"],
            maximum=limits.MAX_TOKEN_COUNT,
        ),
        created_at=_read_timestamp(f"{where}.created_at", fields["created_at"]),
    )
    _field(
        input_rules.check_row_size, f"{where}.content", message.content, metadata=message.metadata
    )
    return message


def _read_message_metadata(name: str, value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidExportDocumentError(
            f"export document field {name} must be a JSON object (dict), got {type(value).__name__}"
        )
    return value


def _check_keys(
    where: str,
    raw: object,
    expected: frozenset[str],
    *,
    optional: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    if not isinstance(raw, dict):
        invalid_field(where, "must be a JSON object", raw)
    missing = sorted(expected - raw.keys())
    if missing:
        raise InvalidExportDocumentError(f"{where} lacks required field(s): {', '.join(missing)}")
    unknown = sorted(str(key) for key in raw.keys() - expected - optional)
    if unknown:
        raise InvalidExportDocumentError(f"{where} has unknown field(s): {', '.join(unknown)}")
    return raw


def _field(rule: Callable[..., Any], name: str, value: object, **options: Any) -> Any:
    """Apply an input rule, reporting a failure as a defect of the document."""
    try:
        return rule(name, value, **options)
    except InvalidSessionDataError as error:
        raise InvalidExportDocumentError(f"export document field {error}") from None


def _read_timestamp(name: str, value: object) -> datetime:
    if not isinstance(value, str):
        invalid_field(name, "must be an ISO 8601 timestamp string", value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        invalid_field(name, "is not an ISO 8601 timestamp", value)
    if moment.tzinfo is None or moment.utcoffset() is None:
        invalid_field(name, "has no timezone; timestamps must be UTC or carry an offset", value)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        invalid_field(name, "is outside the representable range once converted to UTC", value)


def invalid_field(name: str, problem: str, value: object) -> NoReturn:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise InvalidExportDocumentError(f"export document field {name} {problem}, got {shown}")
