"""What the target benchmarks share: sizes, the database, the library and its baseline.

ASV runs every parameter combination of a benchmark in a process of its own and calls
``setup`` again before every timed call. So the expensive part of a fixture (a session of
100,000 messages, 100,000 sessions) is built once per process, by the raw driver's
``executemany`` from a generator (memory stays flat), and kept in :data:`_MEMO`; the process
removes what it made when it exits: a temporary SQLite file goes with its directory, rows on
a shared database (``CLEVERAGENTS_TEST_DATABASE_URL``) are deleted by actor name in one
set-based statement. A process killed by a timeout leaves its rows; they all belong to actors
named ``asv-<hex>``.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from sqlalchemy import Engine, event

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import create_database_engine, upgrade_database

from ._raw import (
    RawStore,
    backend_of,
    mysql_durability,
    open_raw,
    postgres_durability,
    sqlite_durability,
)

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
# 1 runs the sizes the performance targets name; CI's quick run uses a fraction so each
# backend finishes in a few minutes. Small sizes (a page, a batch) never scale.
SCALE_VARIABLE = "CLEVERAGENTS_BENCHMARK_SCALE"

T = TypeVar("T")


def scale() -> float:
    value = float(os.environ.get(SCALE_VARIABLE) or "1")
    if not 0 < value <= 1:
        raise ValueError(f"{SCALE_VARIABLE} must be in (0, 1], got {value}")
    return value


def scaled(size: int, *, floor: int) -> int:
    """``size`` at the configured scale, never below ``floor``."""
    return max(floor, round(size * scale()))


def expect(condition: bool, what: str) -> None:
    """Fail the benchmark loudly (asv reports it failed) if a call did not do the work."""
    if not condition:
        raise RuntimeError(f"benchmark sanity check failed: {what}")


def message_content(index: int) -> str:
    """Varied, realistic-sized text (60 to 600 bytes), so rows are not all identical."""
    return f"turn {index}: " + "lorem ipsum dolor sit amet " * (2 + index % 20)


def conversation(
    count: int, *, start: int = 0
) -> Iterator[tuple[str, str, dict[str, Any], int | None]]:
    """(role, content, metadata, token_count) of ``count`` alternating turns, lazily."""
    for index in range(start, start + count):
        yield (
            "user" if index % 2 == 0 else "assistant",
            message_content(index),
            {"turn": index // 2},
            10 + index % 50,
        )


class StatementCounter:
    """Counts what the engine sends through the DB-API cursor (``before_cursor_execute``)."""

    def __init__(self, engine: Engine) -> None:
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args: Any) -> None:
        self.count += 1


_UPGRADE_PROGRAM = (
    "import sys\n"
    "from cleveragents.infrastructure.database import upgrade_database\n"
    "upgrade_database(sys.argv[1])\n"
)


_LOAD_SESSION_PROGRAM = (
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "from benchmarks._raw import open_raw\n"
    "from benchmarks._support import conversation\n"
    "store = open_raw(sys.argv[2])\n"
    "size = int(sys.argv[4])\n"
    "session_id = store.load_session(\n"
    "    sys.argv[3], conversation(size), message_count=size, title='long conversation'\n"
    ")\n"
    "store.settle()\n"
    "store.close()\n"
    "print(session_id)\n"
)


def load_session_in_child(env: Environment, size: int) -> str:
    """A session of ``size`` messages loaded by another process, so the memory a driver
    spends on a bulk load never counts in this process's peak."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    completed = subprocess.run(
        [sys.executable, "-c", _LOAD_SESSION_PROGRAM, root, env.url, env.actor_name, str(size)],
        check=True,
        capture_output=True,
        text=True,
    )
    return completed.stdout.strip()


class Environment:
    """This process's database, with the library and the raw baseline opened on it."""

    def __init__(self, *, upgrade_in_child: bool = False) -> None:
        shared_url = os.environ.get(TEST_DATABASE_URL_VARIABLE)
        self.shared = bool(shared_url)
        self.directory = None if shared_url else tempfile.mkdtemp(prefix="cleveragents-asv-")
        self.url = shared_url or f"sqlite:///{self.directory}/sessions.db"
        self.backend = backend_of(self.url)
        # Unique per process, so pages and cleanup never touch another run's sessions.
        self.actor_name = f"asv-{uuid.uuid4().hex}"
        self._raw: RawStore | None = None
        self._fixtures: RawStore | None = None
        self._engine: Engine | None = None
        self._service: PersistentSessionService | None = None
        self.statements: StatementCounter | None = None
        self._settings: dict[str, dict[str, Any]] = {}
        atexit.register(self.close)
        # Idempotent on an already upgraded shared database. Memory benchmarks upgrade from a
        # child process: the migration machinery is not part of what a runtime holds.
        if upgrade_in_child:
            subprocess.run([sys.executable, "-c", _UPGRADE_PROGRAM, self.url], check=True)
        else:
            upgrade_database(self.url)

    @property
    def raw(self) -> RawStore:
        """The raw-driver store, its durability settings checked against the library's."""
        if self._raw is None:
            self._raw = open_raw(self.url)
            self._check_durability(self._raw.durability(), "raw driver")
        return self._raw

    @property
    def fixtures(self) -> RawStore:
        """A second raw connection that builds fixtures and checks results.

        Fixtures are never written through the connection a baseline is timed on: on SQLite
        the writer's page cache would hold the rows warm and flatter the baseline.
        """
        if self._fixtures is None:
            self._fixtures = open_raw(self.url)
        return self._fixtures

    @property
    def service(self) -> PersistentSessionService:
        """The library, on an engine from ``create_database_engine`` whose statements count."""
        if self._service is None:
            self._engine = create_database_engine(self.url)
            self.statements = StatementCounter(self._engine)
            self._service = PersistentSessionService.from_engine(self._engine)
            with self._engine.connect() as connection:
                settings = _library_durability(self.backend, connection.exec_driver_sql)
            self._check_durability(settings, "library")
        return self._service

    def _check_durability(self, settings: dict[str, Any], side: str) -> None:
        """The settings are the ones the targets assume, and the same on both sides."""
        self._settings[side] = settings
        if len(self._settings) == 2:
            expect(
                self._settings["library"] == self._settings["raw driver"],
                f"the library and the raw baseline run with different settings: {self._settings}",
            )
        if self.backend == "sqlite":
            wanted = {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1}
            found = {name: settings[name] for name in wanted}
            expect(found == wanted, f"{side} SQLite connection runs with {settings}")
        elif self.backend == "postgresql":
            expect(
                settings["synchronous_commit"] == "on" and settings["fsync"] == "on",
                f"{side} PostgreSQL connection runs with {settings}",
            )

    def memo(self, key: Any, build: Callable[[], T]) -> T:
        """``build()`` once per process (per key); later calls get the same value."""
        if key not in _MEMO:
            _MEMO[key] = build()
        return _MEMO[key]  # type: ignore[no-any-return]

    def close(self) -> None:
        """Remove everything this process made."""
        try:
            if self.shared:
                self.fixtures.delete_actor(self.actor_name)
        finally:
            if self._service is not None:
                self._service.close()
            if self._engine is not None:
                self._engine.dispose()
            for store in (self._raw, self._fixtures):
                if store is not None:
                    store.close()
            if self.directory is not None:
                shutil.rmtree(self.directory, ignore_errors=True)


def _library_durability(backend: str, execute: Any) -> dict[str, Any]:
    if backend == "sqlite":
        return sqlite_durability(execute)
    if backend == "postgresql":
        return postgres_durability(execute)
    return mysql_durability(execute)


_MEMO: dict[Any, Any] = {}
_ENVIRONMENT: list[Environment] = []


def environment(*, upgrade_in_child: bool = False) -> Environment:
    """This process's environment, made on first use."""
    if not _ENVIRONMENT:
        _ENVIRONMENT.append(Environment(upgrade_in_child=upgrade_in_child))
    return _ENVIRONMENT[0]
