"""Vocabulary of session persistence: entities, the service contract and errors."""

from cleveragents.domain.errors import (
    ChecksumMismatchError,
    CommitOutcomeUnknownError,
    DatabaseConfigurationError,
    DatabaseError,
    DatabaseUnavailableError,
    ExportDocumentTooLargeError,
    InvalidExportDocumentError,
    InvalidSessionDataError,
    SchemaOutOfDateError,
    SequenceConflictError,
    SessionImportError,
    SessionIntegrityError,
    SessionNotFoundError,
    SessionPersistenceError,
    SignatureMismatchError,
    UnsupportedSchemaVersionError,
)
from cleveragents.domain.session import ActorStatistics, Session, SessionMessage, TokenUsage
from cleveragents.domain.session_service import ExportDocument, SessionService

__all__ = [
    "ActorStatistics",
    "ChecksumMismatchError",
    "CommitOutcomeUnknownError",
    "DatabaseConfigurationError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "ExportDocument",
    "ExportDocumentTooLargeError",
    "InvalidExportDocumentError",
    "InvalidSessionDataError",
    "SchemaOutOfDateError",
    "SequenceConflictError",
    "Session",
    "SessionImportError",
    "SessionIntegrityError",
    "SessionMessage",
    "SessionNotFoundError",
    "SessionPersistenceError",
    "SessionService",
    "SignatureMismatchError",
    "TokenUsage",
    "UnsupportedSchemaVersionError",
]
