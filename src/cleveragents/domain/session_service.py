"""The contract every session store fulfils, whatever keeps the data."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any

from cleveragents.domain.session import ActorStatistics, Session, SessionMessage

ExportDocument = dict[str, Any]


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
    ) -> Session:
        """Start an empty session owned by ``actor_name``.

        Args:
            actor_name: who the conversation belongs to; non-blank, at most 255 characters.
            title: optional human-readable label.
            metadata: optional JSON object stored with the session.

        Returns:
            The stored session, with a fresh ULID, ``message_count`` 0 and zero token usage.

        Raises:
            InvalidSessionDataError: an argument is empty, too long or not JSON-serialisable.
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
    ) -> builtins.list[Session]:
        """Return a page of sessions, newest ``created_at`` first, ties broken by id (descending).

        Raises:
            InvalidSessionDataError: ``limit`` is below 1 or ``offset`` below 0.
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
    def get_messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
    ) -> builtins.list[SessionMessage]:
        """Return the session's messages in ascending sequence, skipping ``offset`` of them.

        An unknown session id gives an empty list. Without ``limit`` and ``offset`` the whole
        history is read as of one moment: messages appended meanwhile are left out, never
        half included.

        Raises:
            InvalidSessionDataError: ``limit`` is below 0 or ``offset`` below 0.
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
    ) -> int:
        """Delete whole sessions (messages included) whose last activity is older than a limit.

        ``older_than`` is an age (``timedelta``: inactive for longer than that) or a moment
        (timezone-aware ``datetime``: last active before it); last activity is ``updated_at``.
        Deletion runs in bounded batches, each its own transaction, so purging many sessions
        never holds one giant transaction; an interrupted purge leaves whole sessions only.

        Returns:
            How many sessions were deleted, or with ``dry_run`` would be.

        Raises:
            InvalidSessionDataError: a negative age, a naive datetime, or a bad actor name.
        """

    @abstractmethod
    def statistics(self) -> builtins.list[ActorStatistics]:
        """Session, message and token totals per actor, by actor name."""
