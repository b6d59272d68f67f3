"""The library's error vocabulary: one root, a few specific kinds, messages naming the problem."""

from __future__ import annotations


class SessionPersistenceError(Exception):
    """Root of every error this library raises on purpose."""


class SessionNotFoundError(SessionPersistenceError, LookupError):
    """The session id names no stored session."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} does not exist")
        self.session_id = session_id


class SessionAlreadyExistsError(SessionPersistenceError):
    """A session was to be created under an id that a stored session already has."""

    def __init__(self, session_id: str) -> None:
        super().__init__(f"session {session_id!r} already exists")
        self.session_id = session_id


class SequenceConflictError(SessionPersistenceError):
    """An append expected a next sequence that another writer had already taken."""

    def __init__(self, session_id: str, expected: int | None, actual: int) -> None:
        super().__init__(
            f"session {session_id!r} expected next sequence {expected}, but it is {actual}: "
            "another writer appended first"
        )
        self.session_id = session_id
        self.expected = expected
        self.actual = actual


class SessionIntegrityError(SessionPersistenceError):
    """Stored data contradicts itself (an undecodable row, a gap in the sequences, a counter
    that disagrees with the rows); reported instead of skipped, so nothing is silently lost."""


class InvalidSessionDataError(SessionPersistenceError, ValueError):
    """An argument was rejected before anything was written."""


class SessionImportError(InvalidSessionDataError):
    """An export document was rejected before anything was written."""


class InvalidExportDocumentError(SessionImportError):
    """The document is not JSON, or lacks a field, or has a field of the wrong type or value."""


class ExportDocumentTooLargeError(SessionImportError):
    """The document exceeds the configured size or message limit."""


class UnsupportedSchemaVersionError(SessionImportError):
    """The document's ``schema_version`` is not one this library reads."""

    def __init__(self, found: object, supported: int) -> None:
        super().__init__(
            f"export document schema_version {found!r} is not supported (expected {supported})"
        )
        self.found = found
        self.supported = supported


class ChecksumMismatchError(SessionImportError):
    """The document's payload does not match its checksum: it was corrupted or edited."""

    def __init__(self, expected: str, actual: str) -> None:
        super().__init__(
            f"export document checksum mismatch: document says {expected!r}, "
            f"payload hashes to {actual!r}"
        )
        self.expected = expected
        self.actual = actual


class SignatureMismatchError(SessionImportError):
    """The document's HMAC signature is missing or was not made with the given key."""


class DatabaseError(SessionPersistenceError):
    """The database refused an operation; the message names the kind of failure, never the SQL."""


class SchemaOutOfDateError(DatabaseError):
    """The database's schema is not the revision this library was built for."""


class DatabaseConfigurationError(DatabaseError):
    """A database handed to the library is set up in a way that would lose data."""


class SchemaDowngradeRefusedError(DatabaseError):
    """The stored data does not fit the older schema, so the downgrade changed nothing."""


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached or stayed busy through every retry."""


class CommitOutcomeUnknownError(DatabaseUnavailableError):
    """The connection broke while committing, and whether the change landed cannot be told.

    Raised instead of guessing when a retry could otherwise apply a change twice; check the
    stored state before trying again.
    """
