"""The performance targets: each library call timed next to a raw-driver baseline.

Every benchmark here takes an ``implementation`` parameter: ``cleveragents`` (the library,
``PersistentSessionService.from_engine(create_database_engine(url))``) or ``raw`` (the same
work hand-written on the DB-API driver, see ``_raw.py``), on the same schema, the same rows
and the same durability settings, read back through both connections before anything is
timed. ``benchmarks/target_report.py`` turns a run's results into the targets table.

Every timed call checks that it did its work (a count, an order, the window it returned);
checks that cost a query run outside the timed call.
"""

from __future__ import annotations

import io
import os
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

from cleveragents.domain import NewMessage

from . import _support as support
from ._support import conversation, expect, message_content, scaled

IMPLEMENTATIONS = ["cleveragents", "raw"]
LIBRARY = "cleveragents"

# The sizes the targets name; the large ones shrink with CLEVERAGENTS_BENCHMARK_SCALE.
SHORT_HISTORY = 100
LONG_HISTORY = scaled(10_000, floor=1_000)
READ_HISTORY = 1_000
HUGE_HISTORY = scaled(100_000, floor=5_000)
WINDOW = 50
PAGE = 50
SESSION_COUNT = scaled(100_000, floor=2_000)
BATCH = 2_000
HISTORY = 2_000
DOOMED = 2_000
IMPORTED = scaled(10_000, floor=1_000)
STREAMED = scaled(100_000, floor=5_000)
# How deep the deep page lies: after nine tenths of the listing.
DEEP_FRACTION = 0.9
# Pages of this size walk the library's cursor to the deep position in setup.
WALK_PAGE = 5_000


def _library(implementation: str) -> bool:
    if implementation not in IMPLEMENTATIONS:
        raise ValueError(implementation)
    return implementation == LIBRARY


def _long_session(env: support.Environment, size: int) -> str:
    """A session of ``size`` messages, loaded once per process by the raw driver."""

    def build() -> str:
        session_id = env.fixtures.load_session(
            env.actor_name, conversation(size), message_count=size, title="long conversation"
        )
        env.fixtures.settle()
        return session_id

    return env.memo(("session", size), build)


class AppendMessage:
    """One durable append (a turn's write), after ``history`` messages of the same session.

    Targets: at most 3x raw ``sqlite3`` (1.5x raw psycopg) at 100 messages; the library's
    append at 10,000 within 1.2x of its append at 100.
    """

    params: ClassVar[list[list[Any]]] = [IMPLEMENTATIONS, [SHORT_HISTORY, LONG_HISTORY]]
    param_names: ClassVar[list[str]] = ["implementation", "history"]
    number = 20  # calls per sample, each timed on its own (asv re-runs setup between them)
    timeout = 300.0

    def setup(self, implementation: str, history: int) -> None:
        env = self.env = support.environment()
        self.session_id = _long_session(env, history)
        self.history = history
        if _library(implementation):
            service = env.service
            self.append = lambda: service.append_message(
                self.session_id, "user", message_content(history), token_count=12
            )
        else:
            raw = env.raw
            self.append = lambda: raw.append(
                self.session_id, "user", message_content(history), {}, 12
            )
        # Warm once per process: the library compiles its statements on first use.
        env.memo(("warm append", implementation), self.append)

    def time_append_message(self, implementation: str, history: int) -> None:
        message = self.append()
        expect(message.sequence > self.history, "the message was not appended after the history")


class CreateSession:
    """Creating an empty session (a conversation's first write), durable.

    Target (issue #13): at most 1.5x raw ``sqlite3``.
    """

    params: ClassVar[list[str]] = IMPLEMENTATIONS
    param_names: ClassVar[list[str]] = ["implementation"]
    number = 20
    timeout = 300.0

    def setup(self, implementation: str) -> None:
        env = support.environment()
        actor = env.actor_name
        if _library(implementation):
            service = env.service
            self.create = lambda: service.create(actor, title="new conversation").id
        else:
            raw = env.raw
            self.create = lambda: raw.create_session(actor, title="new conversation")
        env.memo(("warm create", implementation), self.create)

    def time_create_session(self, implementation: str) -> None:
        expect(len(self.create()) == 26, "no session id came back")


class AppendBatch:
    """2,000 messages appended in one call (one transaction), to a fresh session each time.

    Target: at most 2x the raw driver's ``executemany`` in one transaction.
    """

    params: ClassVar[list[str]] = IMPLEMENTATIONS
    param_names: ClassVar[list[str]] = ["implementation"]
    timeout = 300.0

    def setup(self, implementation: str) -> None:
        env = support.environment()
        turns = env.memo(("batch turns",), lambda: list(conversation(BATCH)))
        if _library(implementation):
            service = env.service
            batch = env.memo(
                ("batch messages",),
                lambda: [
                    NewMessage(role, content, meta, tokens) for role, content, meta, tokens in turns
                ],
            )
            self.append = lambda session_id: service.append_messages(session_id, batch)
        else:
            raw = env.raw
            self.append = lambda session_id: raw.append_batch(session_id, turns)
        env.memo(
            ("warm batch", implementation),
            lambda: self.append(env.fixtures.create_session(env.actor_name)),
        )
        self.session_id = env.fixtures.create_session(env.actor_name)

    def time_append_batch(self, implementation: str) -> None:
        stored = self.append(self.session_id)
        expect(
            len(stored) == BATCH and stored[-1].sequence == BATCH - 1,
            "the batch was not stored at sequences 0..1999",
        )


class LatestMessages:
    """The latest 50 messages (the context window loaded every turn), in order.

    Targets: at most 2.5x raw on a 100,000-message session; the library's read there within
    1.3x of the same read on a 1,000-message session.
    """

    params: ClassVar[list[list[Any]]] = [IMPLEMENTATIONS, [READ_HISTORY, HUGE_HISTORY]]
    param_names: ClassVar[list[str]] = ["implementation", "history"]
    number = 20
    timeout = 600.0

    def setup(self, implementation: str, history: int) -> None:
        env = support.environment()
        session_id = _long_session(env, history)
        self.first = history - WINDOW
        if _library(implementation):
            service = env.service
            self.read = lambda: service.get_messages(session_id, last=WINDOW)
        else:
            raw = env.raw
            self.read = lambda: raw.latest(session_id, WINDOW)
        env.memo(("warm latest", implementation), self.read)

    def time_latest_messages(self, implementation: str, history: int) -> None:
        window = self.read()
        expect(
            len(window) == WINDOW
            and window[0].sequence == self.first
            and window[-1].sequence == self.first + WINDOW - 1,
            "the latest 50 messages were not returned in chronological order",
        )


class FullHistory:
    """A whole 2,000-message conversation read back as entities.

    Target: at most 1.5x the raw driver's fetch and decode into ``SessionMessage``.
    """

    params: ClassVar[list[str]] = IMPLEMENTATIONS
    param_names: ClassVar[list[str]] = ["implementation"]
    timeout = 300.0

    def setup(self, implementation: str) -> None:
        env = support.environment()
        session_id = _long_session(env, HISTORY)
        if _library(implementation):
            service = env.service
            self.read = lambda: service.get_messages(session_id)
        else:
            raw = env.raw
            self.read = lambda: raw.history(session_id)
        env.memo(("warm history", implementation), self.read)

    def time_full_history(self, implementation: str) -> None:
        history = self.read()
        expect(
            len(history) == HISTORY and history[-1].sequence == HISTORY - 1,
            "the history was not read whole and in order",
        )


class ListSessions:
    """A page of 50 among 100,000 sessions of one actor: the first, and one after a deep cursor.

    Targets: at most 2x raw; the library's deep page within 1.3x of its first page.
    """

    params: ClassVar[list[list[str]]] = [IMPLEMENTATIONS, ["first", "deep"]]
    param_names: ClassVar[list[str]] = ["implementation", "page"]
    number = 20
    timeout = 600.0

    def setup(self, implementation: str, page: str) -> None:
        env = support.environment()
        actor = env.actor_name

        def build() -> None:
            start = datetime.now(UTC) - timedelta(days=30)
            env.fixtures.load_sessions(actor, SESSION_COUNT, start=start)
            env.fixtures.settle()

        env.memo(("sessions",), build)
        skipped = round(SESSION_COUNT * DEEP_FRACTION) if page == "deep" else 0
        self.first_id = env.memo(
            ("position", skipped), lambda: env.fixtures.position(actor, skipped)[1]
        )
        if _library(implementation):
            service = env.service
            cursor = env.memo(("cursor", skipped), lambda: _walk(service, actor, skipped))
            self.read = lambda: service.list(limit=PAGE, actor_name=actor, cursor=cursor)
        else:
            raw = env.raw
            after = env.memo(
                ("raw cursor", skipped),
                lambda: env.fixtures.position(actor, skipped - 1) if skipped else None,
            )
            self.read = lambda: raw.list_page(actor, PAGE, after)
        env.memo(("warm list", implementation), self.read)

    def time_list_page(self, implementation: str, page: str) -> None:
        sessions = self.read()
        expect(
            len(sessions) == PAGE and sessions[0].id == self.first_id,
            "the page does not start at the expected session",
        )


def _walk(service: Any, actor: str, skipped: int) -> str | None:
    """The library's cursor after the ``skipped`` newest sessions, walked in large pages."""
    cursor = None
    while skipped:
        step = min(skipped, WALK_PAGE)
        page = service.list(limit=step, actor_name=actor, cursor=cursor)
        expect(len(page) == step, "walking the listing ended early")
        cursor = page.next_cursor
        skipped -= step
    return cursor


class DeleteSession:
    """Deleting a session of 2,000 messages (they go by cascade); a fresh one each time.

    Target: at most 1.5x raw.
    """

    params: ClassVar[list[str]] = IMPLEMENTATIONS
    param_names: ClassVar[list[str]] = ["implementation"]
    timeout = 300.0

    def setup(self, implementation: str) -> None:
        env = self.env = support.environment()
        self.delete = env.service.delete if _library(implementation) else env.raw.delete
        env.memo(("warm delete", implementation), lambda: self.delete(self._doomed()))
        self.session_id = self._doomed()

    def _doomed(self) -> str:
        return self.env.fixtures.load_session(
            self.env.actor_name, conversation(DOOMED), message_count=DOOMED
        )

    def teardown(self, implementation: str) -> None:
        expect(self.env.fixtures.count_messages(self.session_id) == 0, "messages survived a delete")

    def time_delete_session(self, implementation: str) -> None:
        expect(self.delete(self.session_id), "delete found no session")


class ImportDocument:
    """Importing a 10,000-message export document (checked, then written in one transaction).

    Target: at most 3x the raw driver's ``executemany`` of the document's rows.
    """

    params: ClassVar[list[str]] = IMPLEMENTATIONS
    param_names: ClassVar[list[str]] = ["implementation"]
    timeout = 300.0

    def setup(self, implementation: str) -> None:
        env = self.env = support.environment()
        document = env.memo(("document", IMPORTED), lambda: _document(env, IMPORTED))
        if _library(implementation):
            service = env.service
            self.load = lambda: service.import_session(document).id
        else:
            self.load = lambda: env.raw.import_document(document)
        env.memo(("warm import", implementation), self.load)
        self.imported: str | None = None

    def teardown(self, implementation: str) -> None:
        if self.imported is not None:
            expect(
                self.env.fixtures.count_messages(self.imported) == IMPORTED,
                "import missed messages",
            )

    def time_import_document(self, implementation: str) -> None:
        self.imported = self.load()


def _document(env: support.Environment, size: int) -> dict[str, Any]:
    """An export document of ``size`` messages, exported by the library."""
    session_id = env.fixtures.load_session(env.actor_name, conversation(size), message_count=size)
    return env.service.export_session(session_id)


class StatementCount:
    """Statements one call sends to the database, library next to its raw baseline.

    Counted on the library's engine with a ``before_cursor_execute`` listener, and by the
    baseline itself: both count ``BEGIN`` where it is sent as SQL (SQLite), neither counts the
    driver's ``commit()``. A rise in the library's count is a regression.
    """

    params: ClassVar[list[list[str]]] = [
        IMPLEMENTATIONS,
        [
            "append",
            "append_batch",
            "latest_50",
            "full_history",
            "list_page",
            "get",
            "delete",
            "import",
        ],
    ]
    param_names: ClassVar[list[str]] = ["implementation", "operation"]
    unit = "statements"
    timeout = 120.0

    def setup(self, implementation: str, operation: str) -> None:
        env = self.env = support.environment()
        raw = env.raw
        fixtures = env.fixtures
        library = _library(implementation)
        service = env.service if library else None
        actor = env.actor_name
        turns = list(conversation(20))
        if operation == "list_page":
            fixtures.load_sessions(actor, 3 * PAGE, start=datetime.now(UTC) - timedelta(days=1))
        targets = [
            fixtures.load_session(actor, conversation(100), message_count=100) for _ in range(2)
        ]
        document = _document(env, 100) if operation == "import" else None
        calls = {
            "append": (
                lambda s: service.append_message(s, "user", "hello", token_count=3),
                lambda s: raw.append(s, "user", "hello", {}, 3),
            ),
            "append_batch": (
                lambda s: service.append_messages(s, [NewMessage(*turn) for turn in turns]),
                lambda s: raw.append_batch(s, turns),
            ),
            "latest_50": (
                lambda s: service.get_messages(s, last=WINDOW),
                lambda s: raw.latest(s, WINDOW),
            ),
            "full_history": (service and service.get_messages, raw.history),
            "list_page": (
                lambda s: service.list(limit=PAGE, actor_name=actor),
                lambda s: raw.list_page(actor, PAGE),
            ),
            "get": (service and service.get, raw.get),
            "delete": (service and service.delete, raw.delete),
            "import": (
                lambda s: service.import_session(document),
                lambda s: raw.import_document(document),
            ),
        }
        call = calls[operation][0 if library else 1]
        call(targets[0])  # warm: the first call on a fresh connection may differ
        self.call = lambda: call(targets[1])

    def track_statements(self, implementation: str, operation: str) -> int:
        counter = self.env.statements if _library(implementation) else self.env.raw
        assert counter is not None
        before = counter.count if _library(implementation) else counter.statements
        result = self.call()
        expect(bool(result), f"{operation} did nothing")
        after = counter.count if _library(implementation) else counter.statements
        return int(after - before)


class ExportToFile:
    """Streaming a 100,000-message session to a file: peak memory of the whole process.

    Target: under 64 MiB. ``peakmem_floor`` is the same process with the same setup doing
    nothing: what the interpreter, SQLAlchemy, the drivers and the fixture already take.
    """

    timeout = 600.0

    def setup(self) -> None:
        env = self.env = support.environment(upgrade_in_child=True)
        self.session_id = env.memo("streamed", lambda: support.load_session_in_child(env, STREAMED))
        env.service  # noqa: B018 - open the library before the floor is measured
        self.path = os.path.join(env.directory or ".", f"{env.actor_name}.json")

    def teardown(self) -> None:
        if os.path.exists(self.path):
            counted = _count_in_file(self.path, b'"sequence":')
            os.remove(self.path)
            expect(counted == STREAMED, f"the exported file holds {counted} messages")

    def peakmem_export_to_file(self) -> None:
        with open(self.path, "wb") as file:
            self.env.service.export_session_to_file(self.session_id, file)

    def peakmem_floor(self) -> None:
        """Nothing: the memory the benchmark process holds before any export."""


class ImportFromFile:
    """Streaming a 100,000-message export file back in: peak memory of the whole process.

    Target: under 64 MiB. The file is written once, by another process (``setup_cache``).
    """

    timeout = 600.0

    def setup_cache(self) -> str:
        env = support.environment()
        session_id = _long_session(env, STREAMED)
        path = os.path.abspath("streamed-session.json")  # asv's cache directory, removed by asv
        with open(path, "wb") as file:
            env.service.export_session_to_file(session_id, file)
        return path

    def setup(self, path: str) -> None:
        self.env = support.environment(upgrade_in_child=True)
        self.env.service  # noqa: B018 - open the library before the floor is measured
        self.imported: str | None = None

    def teardown(self, path: str) -> None:
        # The imported session keeps the actor name of the process that exported it.
        if self.imported is not None:
            expect(self.env.fixtures.delete(self.imported), "the imported session was not found")

    def peakmem_import_from_file(self, path: str) -> None:
        with open(path, "rb") as file:
            session = self.env.service.import_session_from_file(file)
        self.imported = session.id
        expect(session.message_count == STREAMED, "import missed messages")

    def peakmem_floor(self, path: str) -> None:
        """Nothing: the memory the benchmark process holds before any import."""


def _count_in_file(path: str, needle: bytes) -> int:
    """Occurrences of ``needle`` in a file, read in slices so memory stays flat."""
    count = 0
    tail = b""
    with open(path, "rb") as file:
        while chunk := file.read(io.DEFAULT_BUFFER_SIZE * 64):
            data = tail + chunk
            count += data.count(needle)
            tail = data[-(len(needle) - 1) :]
    return count
