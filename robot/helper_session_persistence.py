"""Robot Framework keywords for the session persistence integration suite.

Keywords turn the suite's words into calls on the public ``PersistentSessionService`` API,
never SQL, so the suite exercises exactly what an agent runtime would use. The database is
built the way an operator builds it: ``alembic upgrade head`` run as a command.

The module keeps the name the session persistence specification gives it, which the suite
imports by; it is the suite's keyword library, not a grab bag of helpers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from robot.api import logger
from robot.api.deco import keyword
from ulid import ULID

from cleveragents.application.services import PersistentSessionService
from cleveragents.domain.session import Session, SessionMessage
from cleveragents.domain.session_service import ExportDocument
from cleveragents.domain.stored_fields import MESSAGE_FIELDS, SESSION_FIELDS

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
DATABASE_URL_VARIABLE = "CLEVERAGENTS_DATABASE_URL"
ALEMBIC_TIMEOUT_SECONDS = 300

# Fields an import must carry over unchanged; ids are the only thing it renews.
_COPIED_SESSION_FIELDS = (*(name for name in SESSION_FIELDS if name != "id"), "total_tokens")
_COPIED_MESSAGE_FIELDS = tuple(name for name in MESSAGE_FIELDS if name not in ("id", "session_id"))


class SessionPersistenceLibraryError(AssertionError):
    """A check of this library failed; the message alone says what was expected and seen."""

    ROBOT_SUPPRESS_NAME = True


class DatabaseSetupError(SessionPersistenceLibraryError):
    """The test database could not be prepared, so no test result would mean anything."""


class SessionPersistenceLibrary:
    """Keywords for sessions, messages, token usage and export documents.

    One service per suite: the database is prepared and upgraded once in Suite Setup, and
    every session a keyword creates is remembered so Suite Teardown can delete it again
    (the PostgreSQL database may be shared with other runs, so nothing else is touched).
    """

    ROBOT_LIBRARY_SCOPE = "SUITE"
    ROBOT_AUTO_KEYWORDS = False

    def __init__(self) -> None:
        self._database_url: str | None = None
        self._temporary_directory: Path | None = None
        self._service: PersistentSessionService | None = None
        self._created_session_ids: list[str] = []
        self._created_sessions: dict[str, Session] = {}

    # -- database and service lifecycle -------------------------------------------------

    @keyword
    def prepare_test_database(self) -> str:
        """Choose the database and return its backend name (``sqlite`` or ``postgresql``).

        ``CLEVERAGENTS_TEST_DATABASE_URL`` wins when set, so CI can aim the suite at a
        server; otherwise a fresh SQLite file in a temporary directory keeps runs isolated.
        The URL stays inside the library so a password in it never reaches the log.
        """
        configured = os.environ.get(TEST_DATABASE_URL_VARIABLE)
        if configured:
            self._database_url = configured
        else:
            self._temporary_directory = Path(tempfile.mkdtemp(prefix="cleveragents-robot-"))
            self._database_url = f"sqlite:///{self._temporary_directory / 'robot.db'}"
        backend = self._database_url.split(":", 1)[0].split("+", 1)[0]
        logger.info(f"Test database backend: {backend}")
        return backend

    @keyword
    def upgrade_database_to_head(self, repository_root: str) -> None:
        """Run ``alembic upgrade head`` as a subprocess from ``repository_root``.

        A subprocess with the same interpreter proves the shipped ``alembic.ini`` and
        migrations work as an operator would run them, not just through library calls.
        """
        root = Path(repository_root).resolve()
        if not (root / "alembic.ini").is_file():
            raise DatabaseSetupError(
                f"Expected alembic.ini in the repository root {root}, but it is not there."
            )
        environment = {**os.environ, DATABASE_URL_VARIABLE: self._require_database_url()}
        try:
            completed = subprocess.run(
                [sys.executable, "-m", "alembic", "upgrade", "head"],
                cwd=root,
                env=environment,
                capture_output=True,
                text=True,
                check=False,
                timeout=ALEMBIC_TIMEOUT_SECONDS,
            )
        except subprocess.TimeoutExpired as error:
            # The partial output of a timed-out run arrives as bytes even in text mode.
            partial = error.stderr or b""
            stderr = partial.decode(errors="replace") if isinstance(partial, bytes) else partial
            raise DatabaseSetupError(
                f"Expected 'alembic upgrade head' to finish within {ALEMBIC_TIMEOUT_SECONDS}s, "
                f"but it was still running. Stderr so far:\n{stderr}"
            ) from None
        if completed.returncode != 0:
            raise DatabaseSetupError(
                f"Expected 'alembic upgrade head' to exit with 0, but it exited with "
                f"{completed.returncode}. Stderr:\n{completed.stderr}"
            )
        logger.info(f"alembic upgrade head succeeded:\n{completed.stderr}")

    @keyword
    def open_session_service(self) -> None:
        """Open the service on the prepared database; the keywords below all go through it."""
        self._service = PersistentSessionService.from_url(self._require_database_url())

    @keyword
    def delete_sessions_created_by_this_suite(self) -> None:
        """Delete the sessions this suite created, so a shared database is left as found."""
        if self._service is None:
            return
        for session_id in self._created_session_ids:
            self._service.delete(session_id)
        self._created_session_ids.clear()
        self._created_sessions.clear()

    @keyword
    def close_session_service(self) -> None:
        """Release the service's pooled connections (a temporary SQLite file can then go)."""
        if self._service is not None:
            self._service.close()
            self._service = None

    @keyword
    def remove_test_database(self) -> None:
        """Remove the temporary SQLite directory, if this suite made one."""
        if self._temporary_directory is not None:
            shutil.rmtree(self._temporary_directory, ignore_errors=True)
            self._temporary_directory = None

    # -- sessions -------------------------------------------------------------------------

    @keyword
    def unique_actor_name(self, prefix: str = "robot") -> str:
        """Return an actor name no other run uses, so listings show only this test's sessions."""
        return f"{prefix}-{uuid.uuid4().hex}"

    @keyword
    def unused_session_id(self) -> str:
        """Return a well-formed session id that names no stored session."""
        session_id = str(ULID())
        if self._require_service().get(session_id) is not None:
            raise SessionPersistenceLibraryError(
                f"Expected the fresh id {session_id} to be unused, but a session has it."
            )
        return session_id

    @keyword
    def create_session(
        self,
        actor_name: str,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> str:
        """Create a session and return its id."""
        session = self._require_service().create(actor_name, title=title, metadata=metadata)
        self._remember(session)
        return session.id

    @keyword
    def session_should_not_exist(self, session_id: str) -> None:
        """Fail if a session with this id is still stored."""
        session = self._require_service().get(session_id)
        if session is not None:
            raise SessionPersistenceLibraryError(
                f"Expected no session {session_id}, but found one owned by "
                f"{session.actor_name!r} with {session.message_count} message(s)."
            )

    @keyword
    def session_should_have_fields(self, session_id: str, **expected: object) -> None:
        """Fail unless each named field of the stored session equals the given value.

        Every mismatch is reported at once, so one run shows the whole difference.
        Pass numbers as ``${25}`` so they are compared as numbers.
        """
        session = self._require_session(session_id)
        problems: list[str] = []
        for name, value in expected.items():
            if not hasattr(session, name):
                raise SessionPersistenceLibraryError(
                    f"Expected a session field called {name!r}, but sessions have no such field."
                )
            seen = getattr(session, name)
            if seen != value:
                problems.append(f"{name}: expected {_show(value)}, saw {_show(seen)}")
        _fail_if(problems, f"Session {session_id} does not have the expected fields")

    @keyword
    def stored_session_should_equal_created_session(self, session_id: str) -> None:
        """Fail unless reading the session back gives exactly what ``Create Session`` got."""
        created = self._created_sessions.get(session_id)
        if created is None:
            raise SessionPersistenceLibraryError(
                f"Expected {session_id} to be a session this suite created, but it is not."
            )
        stored = self._require_session(session_id)
        problems = _field_differences(asdict(created), asdict(stored))
        _fail_if(problems, f"Session {session_id} as stored differs from the session created")

    @keyword
    def list_session_ids(self, actor_name: str | None = None, limit: int = 50) -> list[str]:
        """Return the ids of a page of sessions, newest first, optionally of one actor only."""
        sessions = self._require_service().list(limit=limit, actor_name=actor_name)
        return [session.id for session in sessions]

    @keyword
    def delete_session(self, session_id: str) -> bool:
        """Delete the session; return whether there was one to delete."""
        return self._require_service().delete(session_id)

    # -- messages -------------------------------------------------------------------------

    @keyword
    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        metadata: dict[str, Any] | None = None,
        token_count: int | None = None,
    ) -> int:
        """Append a message to the session and return the sequence it got."""
        message = self._require_service().append_message(
            session_id, role, content, metadata=metadata, token_count=token_count
        )
        return message.sequence

    @keyword
    def get_message_values(self, session_id: str, field: str) -> list[Any]:
        """Return one field (``role``, ``content``, ...) of every message, in sequence order."""
        messages = self._require_service().get_messages(session_id)
        if messages and not hasattr(messages[0], field):
            raise SessionPersistenceLibraryError(
                f"Expected a message field called {field!r}, but messages have no such field."
            )
        return [getattr(message, field) for message in messages]

    @keyword
    def message_sequences_should_be_contiguous(self, session_id: str, count: int) -> None:
        """Fail unless the session's messages come back numbered 0 to ``count - 1`` in order."""
        seen = [message.sequence for message in self._require_service().get_messages(session_id)]
        expected = list(range(count))
        if seen != expected:
            raise SessionPersistenceLibraryError(
                f"Expected the messages of session {session_id} to have sequences "
                f"0..{count - 1} in order, but saw {seen}."
            )

    # -- token usage ----------------------------------------------------------------------

    @keyword
    def record_token_usage(
        self, session_id: str, input_tokens: int = 0, output_tokens: int = 0
    ) -> Session:
        """Add token counts to the session's totals and return the updated session."""
        return self._require_service().update_token_usage(
            session_id, input_tokens=input_tokens, output_tokens=output_tokens
        )

    @keyword
    def token_usage_should_be(
        self, session_id: str, input_tokens: int, output_tokens: int, total_tokens: int
    ) -> None:
        """Fail unless the stored session's input, output and total token counts are these."""
        session = self._require_session(session_id)
        expected = {"input": input_tokens, "output": output_tokens, "total": total_tokens}
        seen = {
            "input": session.input_tokens,
            "output": session.output_tokens,
            "total": session.total_tokens,
        }
        if seen != expected:
            raise SessionPersistenceLibraryError(
                f"Expected token usage {expected} for session {session_id}, but saw {seen}."
            )

    # -- export and import ----------------------------------------------------------------

    @keyword
    def export_session(self, session_id: str) -> ExportDocument:
        """Return the session's export document (a dict; ``${document}[checksum]`` etc.)."""
        return self._require_service().export_session(session_id)

    @keyword
    def import_session(self, document: ExportDocument | str) -> str:
        """Import an export document (dict or JSON text) and return the new session's id."""
        session = self._require_service().import_session(document)
        self._remember(session)
        return session.id

    @keyword
    def take_session_snapshot(self, session_id: str) -> dict[str, Any]:
        """Return the session and its messages as plain data, to compare before and after."""
        session = self._require_session(session_id)
        messages = self._require_service().get_messages(session_id)
        return {
            "session": asdict(session),
            "messages": [asdict(message) for message in messages],
        }

    @keyword
    def imported_session_should_match(self, imported_id: str, original_id: str) -> None:
        """Fail unless the import is a faithful copy of the original under fresh ids.

        Checked: a new session id, no message id shared with the original, every message
        belonging to the new session, and everything else (actor, title, metadata, token
        totals, roles, contents, order, timestamps) equal.
        """
        service = self._require_service()
        original = self._require_session(original_id)
        imported = self._require_session(imported_id)
        problems: list[str] = []
        if imported.id == original.id:
            problems.append(f"session id: expected a new id, saw the original {original.id}")
        problems += _field_differences(
            {name: getattr(original, name) for name in _COPIED_SESSION_FIELDS},
            {name: getattr(imported, name) for name in _COPIED_SESSION_FIELDS},
        )
        original_messages = service.get_messages(original_id)
        imported_messages = service.get_messages(imported_id)
        if len(imported_messages) != len(original_messages):
            problems.append(
                f"messages: expected {len(original_messages)}, saw {len(imported_messages)}"
            )
        shared_ids = {m.id for m in original_messages} & {m.id for m in imported_messages}
        if shared_ids:
            problems.append(f"message ids: expected all new, saw reused {sorted(shared_ids)}")
        for index, (before, after) in enumerate(
            zip(original_messages, imported_messages, strict=False)
        ):
            problems += _message_differences(index, before, after, imported_id)
        _fail_if(problems, f"Imported session {imported_id} does not match original {original_id}")

    # -- helpers --------------------------------------------------------------------------

    def _remember(self, session: Session) -> None:
        self._created_session_ids.append(session.id)
        self._created_sessions[session.id] = session

    def _require_database_url(self) -> str:
        if self._database_url is None:
            raise DatabaseSetupError(
                "Expected 'Prepare Test Database' to have run first, but no database is chosen."
            )
        return self._database_url

    def _require_service(self) -> PersistentSessionService:
        if self._service is None:
            raise DatabaseSetupError(
                "Expected 'Open Session Service' to have run first, but no service is open."
            )
        return self._service

    def _require_session(self, session_id: str) -> Session:
        session = self._require_service().get(session_id)
        if session is None:
            raise SessionPersistenceLibraryError(
                f"Expected a session {session_id}, but none is stored."
            )
        return session


def _field_differences(expected: dict[str, Any], seen: dict[str, Any]) -> list[str]:
    return [
        f"{name}: expected {_show(value)}, saw {_show(seen.get(name))}"
        for name, value in expected.items()
        if seen.get(name) != value
    ]


def _show(value: object) -> str:
    """Timestamps as ISO 8601, so two that differ by microseconds are easy to compare."""
    return value.isoformat() if isinstance(value, datetime) else repr(value)


def _message_differences(
    index: int, before: SessionMessage, after: SessionMessage, imported_id: str
) -> list[str]:
    problems = [
        f"message {index} {difference}"
        for difference in _field_differences(
            {name: getattr(before, name) for name in _COPIED_MESSAGE_FIELDS},
            {name: getattr(after, name) for name in _COPIED_MESSAGE_FIELDS},
        )
    ]
    if after.session_id != imported_id:
        problems.append(
            f"message {index} session_id: expected {imported_id!r}, saw {after.session_id!r}"
        )
    return problems


def _fail_if(problems: list[str], summary: str) -> None:
    if problems:
        raise SessionPersistenceLibraryError(
            f"{summary}:\n" + "\n".join(f"- {problem}" for problem in problems)
        )
