"""The contract every session store fulfils, whatever keeps the data."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

from cleveragents.domain.session import (
    ActorStatistics,
    NewMessage,
    Session,
    SessionMessage,
    SessionOrder,
    SessionPage,
)

ExportDocument = dict[str, Any]


class ReadableFile(Protocol):
    """A file object opened for reading, in binary (UTF-8 JSON) or text mode."""

    def read(self, size: int = -1, /) -> bytes | str: ...  # pragma: no mutate (a protocol stub)


class WritableFile(Protocol):
    """A file object opened for writing, in binary or text mode."""

    def write(self, data: Any, /) -> object: ...


class SessionService(ABC):
    """Keeps agent conversations: sessions, their ordered messages and their token usage.

    Every method is one transaction: it either happens whole or leaves the store as it was.
    Arguments are checked before anything is written; a rejected call raises
    :class:`~cleveragents.domain.errors.InvalidSessionDataError` (or a subclass) and changes
    nothing.
    """

    @abstractmethod
    def create(
        self,
        actor_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        """Start an empty session owned by ``actor_name``.

        Args:
            actor_name: who the conversation belongs to; non-blank, at most 255 characters.
            title: optional human-readable label.
            metadata: optional JSON object stored with the session.
            session_id: the id to store the session under, typically an agent framework's
                own session id: any string of 1 to 128 characters without control
                characters. ``None`` gives a fresh ULID.

        Returns:
            The stored session, with ``message_count`` 0 and zero token usage.

        Raises:
            SessionAlreadyExistsError: a session with ``session_id`` exists already (nothing
                is written). Of several callers creating one id at once, exactly one
                succeeds and the others get this error.
            InvalidSessionDataError: an argument is empty, too long, holds a control
                character or is not JSON-serialisable.
        """

    @abstractmethod
    def get(self, session_id: str) -> Session | None:
        """Return the session, or ``None`` when no session has that id."""

    @abstractmethod
    def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        actor_name: str | None = None,
        order_by: SessionOrder = "created_at",
        cursor: str | None = None,
    ) -> SessionPage:
        """Return a page of sessions, newest first, ties broken by id (descending).

        ``order_by`` is ``"created_at"`` (creation) or ``"updated_at"`` (last activity: an
        append or a token update moves a session to the front). ``actor_name`` keeps one
        owner's sessions. For the next page pass the returned page's ``next_cursor`` as
        ``cursor``: the page after a cursor costs what the first page costs, however deep,
        where a large ``offset`` makes the database walk every row it skips. A cursor only
        fits the ``order_by`` and ``actor_name`` it was issued for.

        Raises:
            InvalidSessionDataError: ``limit`` is below 1, ``offset`` below 0, an unknown
                ``order_by``, or a cursor that is malformed or issued for another listing.
        """

    @abstractmethod
    def delete(self, session_id: str) -> bool:
        """Delete the session and all its messages; ``False`` when there was nothing to delete."""

    @abstractmethod
    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
        token_count: int | None = None,
        expected_sequence: int | None = None,
    ) -> SessionMessage:
        """Add a message at the end of the conversation.

        The message gets the next sequence (0 for the first message, then 1, 2, ... with no
        gaps), and the session's ``message_count`` and ``updated_at`` change in the same
        transaction. Concurrent appenders to one session are serialised, never interleaved.

        ``expected_sequence`` makes the append optimistic: it is written only if the session's
        next sequence is exactly that number, so a runtime learns when another writer got
        there first instead of interleaving with it.

        Raises:
            SessionNotFoundError: no session has that id.
            SequenceConflictError: ``expected_sequence`` was given and is not the next
                sequence; the error carries the actual one in ``actual``.
            InvalidSessionDataError: the role is empty or too long, the content is not text,
                the metadata is not a JSON object or ``token_count`` is negative.
        """

    @abstractmethod
    def append_messages(
        self,
        session_id: str,
        messages: Iterable[NewMessage | Mapping[str, Any]],
        *,
        expected_sequence: int | None = None,
    ) -> builtins.list[SessionMessage]:
        """Add several messages at the end of the conversation in one transaction.

        An agent turn often yields several tool calls and results at once; they get
        contiguous sequences, in the given order, with no other writer's message between
        them, and all of them are stored or none. Each item is a :class:`NewMessage` or a
        mapping with ``role``, ``content`` and optionally ``metadata`` and ``token_count``.
        Every item is checked before anything is written. An empty batch stores nothing.

        Raises:
            SessionNotFoundError: no session has that id.
            SequenceConflictError: ``expected_sequence`` was given and is not the next
                sequence.
            InvalidSessionDataError: an item is malformed; the message names its index.
        """

    @abstractmethod
    def pop_last_message(self, session_id: str) -> SessionMessage | None:
        """Remove the message with the highest sequence and return it.

        The removal and the session's counter go back together in one transaction: the
        session's ``message_count`` (its next sequence) drops by one, so the next append
        takes the freed sequence and the history stays gap-free. Concurrent callers are
        serialised like appenders: each message is returned to exactly one of them.

        Returns:
            The removed message, or ``None`` when the session has no messages.

        Raises:
            SessionNotFoundError: no session has that id.
            CommitOutcomeUnknownError: the connection broke while committing and the session
                changed before the retry, so whether the message was removed cannot be told.
        """

    @abstractmethod
    def clear_messages(self, session_id: str) -> int:
        """Delete all of the session's messages, keeping the session itself.

        The session's id, actor, title, metadata and token totals stay; its
        ``message_count`` goes back to 0, so the next append gets sequence 0. One
        transaction: concurrent appenders land wholly before or wholly after the clear.

        Returns:
            How many messages were deleted.

        Raises:
            SessionNotFoundError: no session has that id.
            CommitOutcomeUnknownError: the connection broke while committing and the session
                changed before the retry, so whether the clear landed cannot be told.
        """

    @abstractmethod
    def get_messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        after_sequence: int | None = None,
        before_sequence: int | None = None,
        last: int | None = None,
    ) -> builtins.list[SessionMessage]:
        """Return the session's messages in ascending sequence.

        ``after_sequence`` and ``before_sequence`` bound the sequences (exclusive) and are the
        cursors for paging through a long history: the page after sequence 100,000 costs what
        the first page costs. ``last=N`` returns the latest N messages (of those before
        ``before_sequence``, when given), still in chronological order: the context window a
        runtime loads every turn, in one indexed read whatever the history's length.
        ``limit`` caps how many are returned and ``offset`` skips that many first; ``last``
        cannot be combined with either.

        An unknown session id gives an empty list. Without any of these arguments the whole
        history is read as of one moment: messages appended meanwhile are left out, never
        half included.

        Raises:
            InvalidSessionDataError: a negative bound, ``limit`` or ``offset``, ``last``
                below 1, or ``last`` together with ``limit`` or ``offset``.
            SessionIntegrityError: a stored row cannot be decoded, the sequences have a gap,
                or the session's ``message_count`` disagrees with its rows.
        """

    @abstractmethod
    def export_session(
        self, session_id: str, *, signing_key: bytes | None = None
    ) -> ExportDocument:
        """Return a JSON-serialisable document holding the session and all its messages.

        The document carries ``format``, ``schema_version``, ``exported_at``, ``session``,
        ``messages`` (in sequence order) and ``checksum``: the SHA-256 of a canonical JSON
        encoding of everything but ``exported_at``, ``checksum`` and ``signature``, so
        exporting an unchanged session twice gives the same checksum. The checksum detects
        corruption, not tampering: anyone can recompute it. With ``signing_key`` the document
        also carries ``signature``, the HMAC-SHA-256 of the same payload under that key.

        Raises:
            SessionNotFoundError: no session has that id.
            SessionIntegrityError: the stored session contradicts itself.
        """

    @abstractmethod
    def import_session(
        self, document: ExportDocument | str | bytes, *, signing_key: bytes | None = None
    ) -> Session:
        """Store the session of an export document as a new session, with fresh ids.

        The document (a dict, or its JSON text as UTF-8 ``bytes`` or ``str``) is checked whole
        first: size, structure, types, schema version, checksum and, when ``signing_key`` is
        given, the HMAC signature. Then the session and all its messages are written in one
        transaction, keeping order, roles, contents, metadata, token counts and timestamps.
        An existing session is never touched.

        Raises:
            ExportDocumentTooLargeError: the document exceeds the size or message limit.
            InvalidExportDocumentError: not JSON, a missing field, or a wrong type or value.
            UnsupportedSchemaVersionError: a ``schema_version`` this library does not read.
            ChecksumMismatchError: the payload does not hash to the document's checksum.
            SignatureMismatchError: a key was given and the document is unsigned, or was
                signed with another key, or was altered after signing.
        """

    @abstractmethod
    def export_session_to_file(
        self, session_id: str, file: WritableFile, *, signing_key: bytes | None = None
    ) -> str:
        """Write the session's export document to an open file, streaming the messages.

        The document is the same as :meth:`export_session` gives (same fields, same checksum
        and signature), written as compact JSON while the messages are read from one
        snapshot, so memory stays flat however long the session is. Binary files get UTF-8.

        Returns:
            The document's checksum.

        Raises:
            SessionNotFoundError: no session has that id (nothing is written).
            SessionIntegrityError: the stored session contradicts itself; what was written
                so far is not a valid document.
        """

    @abstractmethod
    def import_session_from_file(
        self, file: ReadableFile, *, signing_key: bytes | None = None
    ) -> Session:
        """Store the session of an export document read from an open file, streaming.

        Accepts what :meth:`import_session` accepts, with the same checks and errors, but
        reads the document piece by piece and writes the messages in batches inside one
        transaction, so memory stays flat however long the session is. The checksum (and
        signature) are verified before that transaction commits: a document that fails any
        check leaves the database exactly as it was.
        """

    @abstractmethod
    def update_token_usage(
        self,
        session_id: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> Session:
        """Add the given token counts to the session's totals and return the updated session.

        The addition happens in the database, so concurrent updates never lose a count.

        Raises:
            SessionNotFoundError: no session has that id.
            CommitOutcomeUnknownError: the connection broke while committing and another
                writer changed the session before the retry, so whether these tokens were
                added cannot be told (never added twice by a retry).
            InvalidSessionDataError: a count is negative or not an integer.
        """

    @abstractmethod
    def purge_sessions(
        self,
        older_than: timedelta | datetime,
        *,
        actor_name: str | None = None,
        dry_run: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        """Delete whole sessions (messages included) whose last activity is older than a limit.

        ``older_than`` is an age (``timedelta``: inactive for longer than that) or a moment
        (timezone-aware ``datetime``: last active before it); last activity is ``updated_at``.
        Deletion runs in bounded batches, each its own transaction, so purging many sessions
        never holds one giant transaction; an interrupted purge leaves whole sessions only.
        ``on_batch``, when given, is called after each committed batch with how many sessions
        it deleted, so a long purge can show its progress; it runs in the thread doing the
        purge and should return quickly.

        Returns:
            How many sessions were deleted, or with ``dry_run`` would be.

        Raises:
            InvalidSessionDataError: a negative age, a naive datetime, or a bad actor name.
        """

    @abstractmethod
    def statistics(self) -> builtins.list[ActorStatistics]:
        """Session, message and token totals per actor, by actor name."""
