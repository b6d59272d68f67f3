"""ASV benchmarks of ``PersistentSessionService``: the calls an agent runtime makes per turn.

Every benchmark runs on a database built by ``upgrade_database(url)``: a fresh SQLite file in
a temporary directory, or the database named by ``CLEVERAGENTS_TEST_DATABASE_URL`` (e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). A shared database is never dropped:
each benchmark works on sessions it creates itself and deletes them again in ``teardown``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from typing import ClassVar

from cleveragents.application.services import PersistentSessionService
from cleveragents.domain import ExportDocument, Session, SessionMessage
from cleveragents.infrastructure.database import upgrade_database

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"

# Enough sessions that a page is a real slice of the table, not all of it.
SESSION_COUNT = 300
PAGE_SIZE = 50
# Conversation lengths: a typical chat, and a long-running agent.
HISTORY_SIZES = [100, 1000]


def _expect(condition: bool, what: str) -> None:
    """Fail the benchmark loudly (asv exits non-zero) if a call did not do the work measured."""
    if not condition:
        raise RuntimeError(f"benchmark sanity check failed: {what}")


def _message_content(index: int) -> str:
    """Varied, realistic-sized text, so rows are not all identical and tiny."""
    return f"turn {index}: " + "lorem ipsum dolor sit amet " * (2 + index % 20)


class _Store:
    """A service on an upgraded database, remembering what it created so it can clean up."""

    def __init__(self) -> None:
        shared_url = os.environ.get(TEST_DATABASE_URL_VARIABLE)
        self.shared = bool(shared_url)
        self.directory = None if shared_url else tempfile.mkdtemp(prefix="cleveragents-asv-")
        self.url = shared_url or f"sqlite:///{self.directory}/sessions.db"
        # Unique per store, so pages and cleanup never touch another run's sessions.
        self.actor_name = f"asv-{uuid.uuid4().hex}"
        self.created: list[str] = []
        try:
            upgrade_database(self.url)  # idempotent on an already upgraded shared database
            self.service = PersistentSessionService.from_url(self.url)
        except BaseException:
            self._remove_directory()  # asv skips teardown when setup fails
            raise

    def track(self, session: Session) -> Session:
        """Remember a session this benchmark made (cheap enough to sit in timed code)."""
        self.created.append(session.id)
        return session

    def close(self) -> None:
        """Delete our sessions from a shared database; a temporary SQLite file just goes."""
        try:
            if self.shared:
                for session_id in self.created:
                    self.service.delete(session_id)
        finally:
            self.service.close()
            self._remove_directory()

    def _remove_directory(self) -> None:
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)


class SessionBenchmarks:
    """Session-level calls: start a conversation, look one up, page through them, bill tokens."""

    timeout = 120.0

    store: _Store
    session_ids: list[str]

    def setup(self) -> None:
        """A few hundred sessions of one actor, so get and list search a populated table."""
        self.store = store = _Store()
        try:
            service = store.service
            self.session_ids = [
                store.track(
                    service.create(
                        store.actor_name,
                        title=f"conversation {index}",
                        metadata={"tenant": "bench", "index": index},
                    )
                ).id
                for index in range(SESSION_COUNT)
            ]
            # Each setup has a new engine: run every timed statement once, so the timings are
            # of a warm service, not of SQLAlchemy compiling SQL (which costs more than a query).
            warm_id = self.session_ids[-1]
            service.get(warm_id)
            service.list(limit=PAGE_SIZE, offset=0, actor_name=store.actor_name)
            service.update_token_usage(warm_id, input_tokens=1, output_tokens=1)
        except BaseException:
            store.close()  # asv skips teardown when setup fails
            raise

    def teardown(self) -> None:
        """Close the service and remove the temporary database (or our shared rows)."""
        self.store.close()

    def time_create_session(self) -> Session:
        """Cost of starting a conversation: validation, a fresh ULID and one insert."""
        return self.store.track(
            self.store.service.create(
                self.store.actor_name, title="new conversation", metadata={"tenant": "bench"}
            )
        )

    def time_get_session(self) -> Session:
        """Cost of the primary-key lookup a runtime does before every turn."""
        session = self.store.service.get(self.session_ids[SESSION_COUNT // 2])
        if session is None:
            raise RuntimeError("benchmark sanity check failed: get found no session")
        return session

    def time_list_sessions(self) -> list[Session]:
        """Cost of one page of 50 from the middle of an actor's few hundred sessions."""
        page = self.store.service.list(
            limit=PAGE_SIZE, offset=SESSION_COUNT // 2, actor_name=self.store.actor_name
        )
        _expect(len(page) == PAGE_SIZE, f"list returned {len(page)} sessions, not {PAGE_SIZE}")
        return page

    def time_update_token_usage(self) -> Session:
        """Cost of the in-database counter update done after every model call."""
        session = self.store.service.update_token_usage(
            self.session_ids[0], input_tokens=180, output_tokens=42
        )
        _expect(session.input_tokens > 0, "token usage was not added")
        return session


class MessageBenchmarks:
    """Message-level calls, against conversations of ``history`` messages."""

    params: ClassVar[list[int]] = HISTORY_SIZES
    param_names: ClassVar[list[str]] = ["history"]
    timeout = 180.0

    store: _Store
    session_id: str

    def setup_cache(self) -> dict[int, ExportDocument]:
        """Export documents of each history size, built once: appending 1000 messages is slow.

        They are made on a throwaway SQLite database; an export document does not depend on
        the backend it came from.
        """
        documents: dict[int, ExportDocument] = {}
        directory = tempfile.mkdtemp(prefix="cleveragents-asv-cache-")
        url = f"sqlite:///{directory}/source.db"
        try:
            upgrade_database(url)
            with PersistentSessionService.from_url(url) as service:
                session = service.create(
                    "asv-export-source", title="long conversation", metadata={"tenant": "bench"}
                )
                for index in range(max(HISTORY_SIZES)):
                    service.append_message(
                        session.id,
                        "user" if index % 2 == 0 else "assistant",
                        _message_content(index),
                        metadata={"turn": index // 2},
                        token_count=10 + index % 50,
                    )
                    if index + 1 in HISTORY_SIZES:
                        documents[index + 1] = service.export_session(session.id)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
        return documents

    def setup(self, documents: dict[int, ExportDocument], history: int) -> None:
        """A session holding ``history`` messages, loaded in one transaction by import."""
        self.store = store = _Store()
        try:
            service = store.service
            self.session_id = store.track(service.import_session(documents[history])).id
            # Warm the append and export statements on a scratch session (import is already
            # warm), so the timings are of a warm service, not of SQLAlchemy compiling SQL.
            scratch = store.track(service.create(store.actor_name))
            service.append_message(scratch.id, "user", _message_content(0))
            service.export_session(scratch.id)
        except BaseException:
            store.close()  # asv skips teardown when setup fails
            raise

    def teardown(self, documents: dict[int, ExportDocument], history: int) -> None:
        """Close the service and remove the temporary database (or our shared rows)."""
        self.store.close()

    def time_append_message(
        self, documents: dict[int, ExportDocument], history: int
    ) -> SessionMessage:
        """Cost of one turn's write; it should not grow with the length of the history."""
        message = self.store.service.append_message(
            self.session_id, "user", _message_content(history), token_count=12
        )
        _expect(message.sequence >= history, "the message was not appended after the history")
        return message

    def time_export_session(
        self, documents: dict[int, ExportDocument], history: int
    ) -> ExportDocument:
        """Cost of reading a whole conversation and checksumming it for transfer."""
        document = self.store.service.export_session(self.session_id)
        _expect(len(document["messages"]) == history, "export missed messages")
        return document

    def time_import_session(self, documents: dict[int, ExportDocument], history: int) -> Session:
        """Cost of verifying a document and writing it as a new session in one transaction."""
        session = self.store.track(self.store.service.import_session(documents[history]))
        _expect(session.message_count == history, "import missed messages")
        return session
