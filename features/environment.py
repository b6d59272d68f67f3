"""Behave hooks: every run builds its database with the migrations; every scenario starts empty.

The backend is SQLite (a temporary file) unless ``CLEVERAGENTS_TEST_DATABASE_URL`` names
another database, which is reset to an empty schema and upgraded at the start of the run.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from typing import Any

from behave.model import Scenario
from behave.runner import Context
from sqlalchemy import MetaData, create_engine, select, text

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import VERSION_TABLE, upgrade_database

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
LIBRARY_TABLES = ("session_messages", "sessions", "resource_registry")


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
    context.database_fingerprint = lambda: database_fingerprint(context.inspection_engine)


def after_all(context: Context) -> None:
    context.inspection_engine.dispose()
    shutil.rmtree(context.work_directory, ignore_errors=True)


# Scenarios whose behaviour exists on some backends only, by tag: the backends they apply to,
# and the reason a run on any other backend skips them (instead of passing without checking).
BACKEND_TAGS: dict[str, tuple[frozenset[str], str]] = {
    # The examples run on SQLite files of their own, whatever the run's backend: the SQLite
    # run covers them, and repeating them would test nothing new.
    "own_sqlite_files": (
        frozenset({"sqlite"}),
        "runs on its own SQLite files; covered by the SQLite run",
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


def before_scenario(context: Context, scenario: Scenario) -> None:
    reason = skip_reason(scenario.effective_tags, context.backend)
    if reason is not None:
        scenario.skip(reason=reason)
        return
    with context.inspection_engine.begin() as connection:
        for table in LIBRARY_TABLES:
            connection.execute(text(f"DELETE FROM {table}"))
    context.service = PersistentSessionService.from_url(context.database_url)
    context.add_cleanup(context.service.close)


def reset_schema(engine: Any) -> None:
    """Drop whatever a previous run left, so this run's migrations start from nothing."""
    existing = MetaData()
    existing.reflect(engine, only=lambda name, _: name in (*LIBRARY_TABLES, VERSION_TABLE))
    existing.drop_all(engine)


def database_fingerprint(engine: Any) -> tuple[dict[str, int], str]:
    """Row counts per library table and one hash over every row, in a stable order."""
    counts: dict[str, int] = {}
    digest = hashlib.sha256()
    metadata = MetaData()
    metadata.reflect(engine, only=[*LIBRARY_TABLES, VERSION_TABLE])
    with engine.connect() as connection:
        for name in sorted(metadata.tables):
            table = metadata.tables[name]
            key = [column for column in table.primary_key.columns] or list(table.columns)
            rows = connection.execute(select(table).order_by(*key)).all()
            counts[name] = len(rows)
            for row in rows:
                digest.update(repr(tuple(row)).encode("utf-8", "surrogatepass"))
    return counts, digest.hexdigest()
