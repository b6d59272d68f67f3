"""Behave hooks: every run builds its database with the migrations; every scenario starts empty.

The backend is SQLite (a temporary file) unless ``CLEVERAGENTS_TEST_DATABASE_URL`` names
another database, which is reset to an empty schema and upgraded at the start of the run.

``CLEVERAGENTS_TEST_FACADE=async`` runs the same steps against
:class:`AsyncPersistentSessionService`: the steps keep calling a synchronous service, which
forwards every call to the async one on an event loop of its own, so one suite checks both
implementations of the contract.
"""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
import threading
from collections.abc import Callable
from typing import Any

from behave.model import Feature, Scenario
from behave.runner import Context
from database_fingerprint import LIBRARY_TABLES, WATCHED_TABLES, database_fingerprint
from sameness.backends import missing_server_variables
from sqlalchemy import MetaData, create_engine, text

from cleveragents.application.services import (
    AsyncPersistentSessionService,
    PersistentSessionService,
)
from cleveragents.infrastructure.database import (
    Database,
    create_database_engine,
    upgrade_database,
)
from cleveragents.infrastructure.database.worker_thread_runner import WorkerThreadRunner
from cleveragents.integrations.event_loop_thread import EventLoopThread

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
TEST_FACADE_VARIABLE = "CLEVERAGENTS_TEST_FACADE"


class SynchronousDriver:
    """The synchronous face of an :class:`AsyncPersistentSessionService`: each method call
    awaits the same method of the async service on the loop thread."""

    def __init__(self, service: AsyncPersistentSessionService, loop: EventLoopThread) -> None:
        self.async_service = service
        self._loop = loop

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            # Steps that watch the statements reach the engine through the service's
            # internals; here those are the synchronous service the async one runs.
            return getattr(self._loop.run(self.async_service._service()), name)
        method = getattr(self.async_service, name)
        return lambda *args, **kwargs: self._loop.run(method(*args, **kwargs))

    def open(self) -> None:
        """Check the schema now, as opening a synchronous service does."""
        self._loop.run(self.async_service.__aenter__())

    def close(self) -> None:
        self._loop.run(self.async_service.aclose())

    def __enter__(self) -> SynchronousDriver:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def run_together(jobs: list[Callable[[], object]], timeout: float = 120) -> list[str]:
    """Run each job on a thread of its own, all released at once; the errors they raised."""
    barrier = threading.Barrier(len(jobs))
    errors: list[str] = []

    def run(job: Callable[[], object]) -> None:
        try:
            barrier.wait(timeout)
            job()
        except Exception as error:
            errors.append(f"{type(error).__qualname__}: {error}")

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    stuck = sum(thread.is_alive() for thread in threads)
    return errors + ([f"{stuck} threads still running"] if stuck else [])


def before_all(context: Context) -> None:
    context.work_directory = tempfile.mkdtemp(prefix="cleveragents-behave-")
    url = os.environ.get(TEST_DATABASE_URL_VARIABLE) or (
        f"sqlite:///{context.work_directory}/behave.db"
    )
    context.database_url = url
    context.inspection_engine = create_engine(url)
    context.backend = context.inspection_engine.dialect.name
    reset_schema(context.inspection_engine)
    upgrade_database(url)
    # The synchronous services of the scenarios share one engine built as from_url builds its
    # own: a connection per scenario would cost more than most scenarios (a server process on
    # PostgreSQL). Scenarios about from_url and closing open services of their own. The async
    # facade's services still open their own (see the note on open_service).
    context.run_engine = create_database_engine(url)
    context.database_fingerprint = lambda: database_fingerprint(context.inspection_engine)
    context.fingerprint_of = database_fingerprint
    context.facade = os.environ.get(TEST_FACADE_VARIABLE, "sync")
    if context.facade not in ("sync", "async"):
        raise ValueError(f"{TEST_FACADE_VARIABLE} must be sync or async, not {context.facade!r}")
    context.event_loop = EventLoopThread("behave-event-loop") if context.facade == "async" else None
    context.open_service = lambda database=None: open_service(context, database)
    context.run_together = run_together


def after_all(context: Context) -> None:
    context.run_engine.dispose()
    context.inspection_engine.dispose()
    shutil.rmtree(context.work_directory, ignore_errors=True)


def open_service(context: Context, database: Database | None = None) -> Any:
    """A service of the run's facade on ``database`` (default: the run's URL), closed when
    the scenario ends.

    The async facade's services open an engine each, as before: sharing one across its
    scenarios once left a test process spinning at exit of a scenario's worker threads (in
    greenlet's clean-up of dead threads, under coverage's greenlet tracing). A synchronous
    pass later spun too, inside the closing scenario's ``gc.collect()``, in SQLAlchemy's
    clean-up of event listeners, after that scenario had added and removed listeners on the
    ``Pool`` class; the scenario now counts connections without events. Whether the first
    spin had the same cause is not known.
    """
    if context.facade == "sync":
        service: Any = (
            PersistentSessionService.from_engine(context.run_engine)
            if database is None
            else PersistentSessionService(database)
        )
    else:
        asynchronous = (
            AsyncPersistentSessionService.from_url(context.database_url)
            if database is None
            else AsyncPersistentSessionService(
                lambda: PersistentSessionService(database), WorkerThreadRunner()
            )
        )
        service = SynchronousDriver(asynchronous, context.event_loop)
        context.add_cleanup(service.close)
        service.open()
        return service
    context.add_cleanup(service.close)
    return service


# Scenarios whose behaviour exists on some backends only, by tag: the backends they apply to,
# and the reason a run on any other backend skips them (instead of passing without checking).
BACKEND_TAGS: dict[str, tuple[frozenset[str], str]] = {
    # The examples run on SQLite files of their own, whatever the run's backend: the SQLite
    # run covers them, and repeating them would test nothing new.
    "own_sqlite_files": (
        frozenset({"sqlite"}),
        "runs on its own SQLite files; covered by the SQLite run",
    ),
    # Nothing in them touches the run's database (help, version, URLs refused before any
    # connection, servers that are down): one run, the SQLite one, covers them.
    "no_run_database": (
        frozenset({"sqlite"}),
        "touches no database of the run; covered by the SQLite run",
    ),
    "postgresql_only": (
        frozenset({"postgresql"}),
        "schemas are a PostgreSQL option; the refusal elsewhere is a scenario of its own",
    ),
    "backends_without_schemas": (
        frozenset({"sqlite", "mysql"}),
        "checks the refusal of schemas, which PostgreSQL has",
    ),
}


def skip_reason(tags: list[str], backend: str) -> str | None:
    """Why a scenario with these tags does not apply to ``backend``, or None if it does."""
    for tag in tags:
        applies_to, reason = BACKEND_TAGS.get(tag, (frozenset({backend}), ""))
        if backend not in applies_to:
            return reason
    return None


# Step modules that import an agent framework (seconds of imports each), by the feature tag
# that needs them: they load with the first such feature, so other processes never pay.
FRAMEWORK_STEP_MODULES = {
    "adk": ("adk_session_steps", "adk_concurrency_steps", "adk_runner_steps"),
    "langchain": ("langchain_history_steps",),
    "openai_agents": ("openai_agents_session_steps",),
}


def before_feature(context: Context, feature: Feature) -> None:
    for tag in feature.tags:
        for name in FRAMEWORK_STEP_MODULES.get(tag, ()):
            importlib.import_module(f"framework_steps.{name}")


def before_scenario(context: Context, scenario: Scenario) -> None:
    reason = skip_reason(scenario.effective_tags, context.backend)
    if reason is not None:
        scenario.skip(reason=reason)
        return
    missing = missing_server_variables()
    if "sameness" in scenario.effective_tags and missing:
        # The comparison needs a server of each kind, in databases it may empty.
        scenario.skip(reason=f"compares backends only with {' and '.join(missing)} set")
        return
    with context.inspection_engine.begin() as connection:
        for table in LIBRARY_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
    context.service = open_service(context)


def reset_schema(engine: Any) -> None:
    """Drop whatever a previous run left, so this run's migrations start from nothing."""
    existing = MetaData()
    existing.reflect(engine, only=lambda name, _: name in WATCHED_TABLES)
    existing.drop_all(engine)
