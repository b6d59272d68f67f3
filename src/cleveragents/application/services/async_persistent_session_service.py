"""The session service for asyncio runtimes, over the same rules and repositories as the
synchronous one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from cleveragents.application.services.async_facade import AsyncFacade, forwarded
from cleveragents.application.services.export_document import ImportLimits
from cleveragents.application.services.persistent_session_service import (
    PersistentSessionService,
)
from cleveragents.domain.async_session_service import AsyncSessionService
from cleveragents.infrastructure.database import (
    AsyncDatabaseAccess,
    Engine,
    RetryPolicy,
    SessionFactory,
    async_access_for_engine,
    async_access_for_sessionmaker,
    async_access_for_url,
)

if TYPE_CHECKING:
    from cleveragents.infrastructure.database import AsyncEngine, AsyncSessionFactory


class AsyncPersistentSessionService(AsyncFacade[PersistentSessionService], AsyncSessionService):
    """:class:`AsyncSessionService` on SQLite, PostgreSQL or MariaDB.

    Every call runs the synchronous :class:`PersistentSessionService` (the same checks,
    transactions, retries and export format) through a :class:`BlockingCallRunner`, so the
    event loop is never blocked. The service opens lazily: ``async with`` (or the first
    call) checks the schema and raises :class:`SchemaOutOfDateError` when it is behind.
    Use one service from one event loop.
    """

    @classmethod
    def from_url(
        cls,
        url: str | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
        schema: str | None = None,
    ) -> Self:
        """A service on ``url``, as :meth:`PersistentSessionService.from_url` opens one.

        A ``postgresql+psycopg`` URL is driven through psycopg's asyncio mode on the event
        loop itself; SQLite and MySQL/MariaDB URLs through worker threads of the service's
        own.
        """
        access = async_access_for_url(url, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def from_engine(
        cls,
        engine: Engine | AsyncEngine,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
        schema: str | None = None,
    ) -> Self:
        """A service on the caller's engine, as :meth:`PersistentSessionService.from_engine`
        opens one; ``aclose()`` leaves the engine to its owner. An ``AsyncEngine`` is
        driven on the event loop, a plain ``Engine`` from worker threads."""
        access = async_access_for_engine(engine, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def from_sessionmaker(
        cls,
        factory: SessionFactory | AsyncSessionFactory,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
        schema: str | None = None,
    ) -> Self:
        """A service on the engine the caller's ``sessionmaker`` or ``async_sessionmaker``
        is bound to."""
        access = async_access_for_sessionmaker(factory, retry_policy=retry_policy, schema=schema)
        return cls._over(access, import_limits=import_limits, purge_batch_size=purge_batch_size)

    @classmethod
    def _over(
        cls,
        access: AsyncDatabaseAccess,
        *,
        import_limits: ImportLimits | None,
        purge_batch_size: int,
    ) -> Self:
        return cls(
            lambda: PersistentSessionService(
                access.open_database(),
                import_limits=import_limits,
                purge_batch_size=purge_batch_size,
            ),
            access.runner,
        )

    create = forwarded(PersistentSessionService.create)
    get = forwarded(PersistentSessionService.get)
    list = forwarded(PersistentSessionService.list)
    delete = forwarded(PersistentSessionService.delete)
    append_message = forwarded(PersistentSessionService.append_message)
    append_messages = forwarded(PersistentSessionService.append_messages)
    pop_last_message = forwarded(PersistentSessionService.pop_last_message)
    clear_messages = forwarded(PersistentSessionService.clear_messages)
    get_messages = forwarded(PersistentSessionService.get_messages)
    export_session = forwarded(PersistentSessionService.export_session)
    import_session = forwarded(PersistentSessionService.import_session)
    export_session_to_file = forwarded(PersistentSessionService.export_session_to_file)
    import_session_from_file = forwarded(PersistentSessionService.import_session_from_file)
    update_token_usage = forwarded(PersistentSessionService.update_token_usage)
    purge_sessions = forwarded(PersistentSessionService.purge_sessions)
    statistics = forwarded(PersistentSessionService.statistics)
