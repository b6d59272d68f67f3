"""The export document written to and read from files as a stream.

The bytes and checks are those of :mod:`export_document`; only the pace differs. Writing
emits the header, then one message per line as they are read from the database, then the
checksum. Reading parses the header, then hands over the messages one by one, checked and
hashed as they pass, and checks count, checksum and signature after the last one, before the
caller commits anything.

The checksum covers the canonical payload ``{"format", "messages", "schema_version",
"session"}`` with sorted keys, so it can be fed piece by piece: the format (a constant),
the messages in order, then the schema version and the session, whatever order the file's
own keys come in.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from cleveragents.application.services.export_document import (
    FORMAT_NAME,
    SCHEMA_VERSION,
    ImportLimits,
    canonical_json,
    canonical_message,
    check_checksum,
    check_message_count,
    check_schema_version,
    check_signature,
    check_top_level,
    document_too_large,
    format_timestamp,
    invalid_field,
    message_fields,
    read_message,
    read_session,
    reject_constant,
    reject_duplicate_keys,
    session_fields,
)
from cleveragents.application.services.json_stream import JsonStreamReader
from cleveragents.domain.errors import (
    ExportDocumentTooLargeError,
    InvalidExportDocumentError,
    SessionIntegrityError,
)
from cleveragents.domain.session import Session, SessionMessage
from cleveragents.domain.session_service import ReadableFile, WritableFile

# Messages spooled in memory before a document whose messages precede its header spills
# them to a temporary file.
_SPOOL_IN_MEMORY = 8 * 1024 * 1024  # pragma: no mutate (when to spill: work, not results)
_WRITE_BUFFER = 64 * 1024  # pragma: no mutate (bytes buffered per write: work, not results)
_IDS_PER_REFILL = 1000  # pragma: no mutate (ids drawn at a time: work, not results)


class _PayloadDigest:
    """SHA-256 (and, with a key, HMAC-SHA-256) of the canonical payload, fed in order."""

    def __init__(self, signing_key: bytes | None) -> None:
        self._hash = hashlib.sha256()
        self._mac = None if signing_key is None else hmac.new(signing_key, None, hashlib.sha256)
        self._messages = 0
        self.update(b'{"format":' + canonical_json(FORMAT_NAME) + b',"messages":[')

    def update(self, data: bytes) -> None:
        self._hash.update(data)
        if self._mac is not None:
            self._mac.update(data)

    def add_message(self, encoded: bytes) -> None:
        self.update(b"," + encoded if self._messages else encoded)
        self._messages += 1  # pragma: no mutate (only zero or not matters)

    def finish(self, session: dict[str, Any]) -> tuple[str, str | None]:
        """The checksum and signature (``None`` without a key) once every message is in."""
        self.update(
            b'],"schema_version":'
            + canonical_json(SCHEMA_VERSION)
            + b',"session":'
            + canonical_json(session)
            + b"}"
        )
        signature = None if self._mac is None else self._mac.hexdigest()
        return self._hash.hexdigest(), signature


class _Output:
    """Buffered writes of UTF-8 to a binary file, or of text to a text file."""

    def __init__(self, file: WritableFile) -> None:
        self._file = file
        self._text = isinstance(file, io.TextIOBase)
        self._pending: list[bytes] = []
        self._size = 0  # pragma: no mutate (buffering: work, not results)

    def write(self, data: bytes) -> None:
        self._pending.append(data)
        self._size += len(data)
        if self._size >= _WRITE_BUFFER:  # pragma: no mutate (buffering: work, not results)
            self.flush()

    def flush(self) -> None:
        data = b"".join(self._pending)
        self._file.write(data.decode("utf-8") if self._text else data)
        self._pending.clear()
        self._size = 0  # pragma: no mutate (buffering: work, not results)


def write_export_document(
    session: Session,
    messages: Iterable[SessionMessage],
    file: WritableFile,
    *,
    exported_at: datetime,
    signing_key: bytes | None = None,
) -> str:
    """Write the session's document to ``file`` as the messages arrive; return its checksum.

    Raises:
        SessionIntegrityError: the messages skip a sequence or disagree with the session's
            count (the file then holds an unfinished document).
    """
    header = session_fields(session, message_count=session.message_count)
    digest = _PayloadDigest(signing_key)
    output = _Output(file)
    output.write(
        b'{"format":'
        + canonical_json(FORMAT_NAME)
        + b',"schema_version":'
        + canonical_json(SCHEMA_VERSION)
        + b',"exported_at":'
        + canonical_json(format_timestamp(exported_at))
        + b',"session":'
        + canonical_json(header)
        + b',"messages":['
    )
    count = 0
    for message in messages:
        if message.sequence != count:
            raise SessionIntegrityError(
                f"session {session.id!r} has a gap in its messages: expected sequence "
                f"{count}, found {message.sequence}"
            )
        encoded = canonical_json(message_fields(message))
        digest.add_message(encoded)
        output.write((b",\n" if count else b"\n") + encoded)
        count += 1
    if count != session.message_count:
        raise SessionIntegrityError(
            f"session {session.id!r} counts {session.message_count} messages but {count} are stored"
        )
    checksum, signature = digest.finish(header)
    trailer = b'\n],"checksum":' + canonical_json(checksum)
    if signature is not None:
        trailer += b',"signature":' + canonical_json(signature)
    output.write(trailer + b"}\n")
    output.flush()
    return checksum


def read_export_stream(
    file: ReadableFile,
    *,
    limits: ImportLimits,
    new_ids: Callable[[int], list[str]],
    signing_key: bytes | None = None,
) -> tuple[Session, Iterator[SessionMessage]]:
    """Check the document's header and return its session (under a new id) and its messages.

    The messages are checked one by one as they are iterated; after the last one, the
    iterator checks the declared count, the rest of the document, the checksum and the
    signature, and raises if any fails, so a caller writing them in one transaction rolls
    back. A document whose messages come before its ``session`` or ``schema_version`` is
    handled too: its messages wait in a temporary file until the header has been read.
    """
    _refuse_oversized_file(file, limits)
    stream = _DocumentStream(file, limits, new_ids)
    session = stream.read_header()
    return session, stream.messages(session, signing_key)


def _refuse_oversized_file(file: ReadableFile, limits: ImportLimits) -> None:
    """Refuse a regular file over the size limit from its size alone, before reading it.

    Pipes, sockets and file-like objects without a descriptor have no size to ask for; the
    reader counts their bytes instead.
    """
    fileno = getattr(file, "fileno", None)
    try:
        status = os.fstat(fileno()) if callable(fileno) else None
    except (OSError, ValueError):  # io.UnsupportedOperation is both
        return
    if status is None or not stat.S_ISREG(status.st_mode):
        return
    tell = getattr(file, "tell", None)
    try:
        position = tell() if callable(tell) else 0
    except (OSError, ValueError):
        position = 0
    remaining = status.st_size - position
    if remaining > limits.max_document_bytes:
        raise document_too_large(remaining, limits)


class _DocumentStream:
    """One pass over an export document file: the header first, then the messages."""

    def __init__(
        self, file: ReadableFile, limits: ImportLimits, new_ids: Callable[[int], list[str]]
    ) -> None:
        self._reader = JsonStreamReader(
            file,
            max_bytes=limits.max_document_bytes,
            decoder=json.JSONDecoder(
                object_pairs_hook=reject_duplicate_keys, parse_constant=reject_constant
            ),
        )
        self._limits = limits
        self._new_ids = new_ids
        self._fields: dict[str, Any] = {}
        self._members = self._reader.members()
        self._raw_messages: Iterator[Any] | None = None
        self._streaming = False

    def read_header(self) -> Session:
        """Read up to the messages (or, if they come early, the whole document)."""
        spooled: _SpooledMessages | None = None
        for key in self._members:
            self._refuse_duplicate(key, messages_seen=spooled is not None)
            if key != "messages":
                self._fields[key] = self._reader.value()
            elif "schema_version" in self._fields and "session" in self._fields:
                self._streaming = True
                self._raw_messages = _raw_messages(self._reader)
                break
            else:
                spooled = _SpooledMessages(_raw_messages(self._reader), self._limits)
                self._raw_messages = spooled.replay()
        if "schema_version" not in self._fields:
            raise _missing("schema_version")
        check_schema_version(self._fields["schema_version"])
        if self._raw_messages is None:
            raise _missing("messages")
        if "session" not in self._fields:
            raise _missing("session")
        return read_session(self._fields["session"], self._new_ids(1)[0], message_count=None)

    def messages(self, session: Session, signing_key: bytes | None) -> Iterator[SessionMessage]:
        """The checked messages; after the last, the rest of the document is checked."""
        assert self._raw_messages is not None  # read_header found them or raised
        digest = _PayloadDigest(signing_key)
        count = 0
        message_ids: list[str] = []
        for raw in self._raw_messages:
            if count >= self._limits.max_messages:
                raise _too_many_messages(self._limits)
            if not message_ids:
                message_ids = self._new_ids(_IDS_PER_REFILL)[::-1]
            message = read_message(raw, count, session.id, message_ids.pop())
            digest.add_message(canonical_message(raw, count))
            count += 1
            yield message
        self._read_trailer()
        check_message_count(session.message_count, count)
        self._fields["messages"] = []  # checked above, one by one
        check_top_level(self._fields)
        checksum, signature = digest.finish(self._fields["session"])
        check_checksum(self._fields["checksum"], checksum)
        if signature is not None:
            check_signature(self._fields.get("signature"), signature)

    def _read_trailer(self) -> None:
        if self._streaming:
            for key in self._members:
                self._refuse_duplicate(key, messages_seen=True)
                self._fields[key] = self._reader.value()
        self._reader.finish()

    def _refuse_duplicate(self, key: str, *, messages_seen: bool) -> None:
        if key in self._fields or (key == "messages" and messages_seen):
            raise InvalidExportDocumentError(
                f"export document is not valid JSON: duplicate key {key!r}"
            )


def _missing(name: str) -> InvalidExportDocumentError:
    return InvalidExportDocumentError(f"export document lacks required field(s): {name}")


def _too_many_messages(limits: ImportLimits) -> ExportDocumentTooLargeError:
    return ExportDocumentTooLargeError(
        f"export document has more than {limits.max_messages} messages; the limit is "
        f"{limits.max_messages}"
    )


def _raw_messages(reader: JsonStreamReader) -> Iterator[Any]:
    if not reader.at_array():
        invalid_field("messages", "must be a list", reader.value())
    return reader.elements()


class _SpooledMessages:
    """Messages read before the header, kept as JSON lines until it arrives.

    The lines escape everything outside ASCII, so a message with a lone surrogate survives
    the spool and is refused where every message is checked, with the same error.
    """

    def __init__(self, raw_messages: Iterator[Any], limits: ImportLimits) -> None:
        self._file = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)  # noqa: SIM115
        for count, raw in enumerate(raw_messages, start=1):
            if count > limits.max_messages:
                self._file.close()
                raise _too_many_messages(limits)
            self._file.write(json.dumps(raw).encode("ascii") + b"\n")

    def replay(self) -> Iterator[Any]:
        with self._file:
            self._file.seek(0)
            for line in self._file:
                yield json.loads(line)
