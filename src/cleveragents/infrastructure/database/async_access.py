"""How the async service reaches a database: a native asyncio driver where the backend has
one the library ships with, worker threads elsewhere."""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any, NamedTuple, TypeGuard

from sqlalchemy import Engine, exc
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker

from cleveragents.domain.errors import DatabaseConfigurationError
from cleveragents.infrastructure.database.async_driver_runner import (
    AsyncDriverRunner,
    pause_on_loop,
)
from cleveragents.infrastructure.database.engine import (
    check_schema_option,
    default_database_url,
    in_schema,
    pool_options,
    require_foreign_keys,
    schema_options,
)
from cleveragents.infrastructure.database.retry import RetryPolicy
from cleveragents.infrastructure.database.transactions import Database
from cleveragents.infrastructure.database.worker_thread_runner import WorkerThreadRunner

if TYPE_CHECKING:
    # SQLAlchemy's asyncio layer needs greenlet, which only the postgresql extra installs:
    # it is imported where an asyncio engine is really built or handed over.
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

# Drivers whose asyncio mode ships with the library's extras.
_ASYNC_DRIVERS = {("postgresql", "psycopg")}


class AsyncDatabaseAccess(NamedTuple):
    """A runner for blocking calls, and the database to open through it (opening may touch
    the database, so it runs through the runner too)."""

    open_database: Callable[[], Database]
    runner: WorkerThreadRunner | AsyncDriverRunner


def async_access_for_url(
    url: str | None, *, retry_policy: RetryPolicy | None, schema: str | None
) -> AsyncDatabaseAccess:
    """PostgreSQL through psycopg's asyncio mode; any other URL on worker threads (so too
    when greenlet, which SQLAlchemy's asyncio layer needs, is not installed)."""
    try:
        parsed = make_url(url if url is not None else default_database_url())
    except exc.ArgumentError:
        parsed = None
    if (
        parsed is None
        or (parsed.get_backend_name(), parsed.get_driver_name()) not in _ASYNC_DRIVERS
        or find_spec("greenlet") is None
    ):
        return AsyncDatabaseAccess(
            lambda: Database.from_url(url, retry_policy=retry_policy, schema=schema),
            WorkerThreadRunner(),
        )
    from sqlalchemy.ext.asyncio import create_async_engine

    check_schema_option(schema, parsed.get_backend_name())
    engine = create_async_engine(
        parsed,
        hide_parameters=True,
        execution_options=schema_options(schema),
        **pool_options(parsed, {}),
    )
    return AsyncDatabaseAccess(
        lambda: Database(
            engine.sync_engine,
            retry_policy=retry_policy,
            owns_engine=False,
            schema=schema,
            pause=pause_on_loop,
        ),
        AsyncDriverRunner(engine, owns_engine=True),
    )


def async_access_for_engine(
    engine: Engine | AsyncEngine, *, retry_policy: RetryPolicy | None, schema: str | None
) -> AsyncDatabaseAccess:
    """The caller's engine, left to its owner: an ``AsyncEngine`` is driven on the event
    loop, a plain ``Engine`` from worker threads."""
    if isinstance(engine, Engine):
        return AsyncDatabaseAccess(
            lambda: Database.from_engine(engine, retry_policy=retry_policy, schema=schema),
            WorkerThreadRunner(),
        )
    if not _is_async_engine(engine):
        raise DatabaseConfigurationError(
            f"expected a SQLAlchemy Engine or AsyncEngine, got {type(engine).__name__}"
        )

    def open_database() -> Database:
        scoped = in_schema(engine.sync_engine, schema)
        require_foreign_keys(engine.sync_engine)
        return Database(
            scoped,
            retry_policy=retry_policy,
            owns_engine=False,
            schema=schema,
            pause=pause_on_loop,
        )

    return AsyncDatabaseAccess(open_database, AsyncDriverRunner(engine, owns_engine=False))


def async_access_for_sessionmaker(
    factory: sessionmaker[Any] | async_sessionmaker[Any],
    *,
    retry_policy: RetryPolicy | None,
    schema: str | None,
) -> AsyncDatabaseAccess:
    """The engine a caller's ``sessionmaker`` or ``async_sessionmaker`` is bound to."""
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine) or _is_async_engine(bind):
        return async_access_for_engine(bind, retry_policy=retry_policy, schema=schema)
    raise DatabaseConfigurationError(
        "the sessionmaker is not bound to an engine: create it with sessionmaker(engine) "
        "or async_sessionmaker(async_engine)"
    )


def _is_async_engine(candidate: object) -> TypeGuard[AsyncEngine]:
    """Whether ``candidate`` is an ``AsyncEngine`` (never where greenlet is missing: nobody
    can have built one there)."""
    if find_spec("greenlet") is None:
        return False
    from sqlalchemy.ext.asyncio import AsyncEngine

    return isinstance(candidate, AsyncEngine)
