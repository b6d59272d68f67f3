"""SQLAlchemy models, repositories and schema migrations for session persistence."""

from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from cleveragents.infrastructure.database.async_access import (
    AsyncDatabaseAccess,
    async_access_for_engine,
    async_access_for_sessionmaker,
    async_access_for_url,
)
from cleveragents.infrastructure.database.engine import (
    DATABASE_SCHEMA_VARIABLE,
    DATABASE_URL_VARIABLE,
    create_database_engine,
    default_database_url,
    displayable_url,
)
from cleveragents.infrastructure.database.models import (
    ResourceModel,
    SessionMessageModel,
    SessionModel,
)
from cleveragents.infrastructure.database.repositories import (
    ScopedStateRepository,
    SessionMessageRepository,
    SessionRepository,
)
from cleveragents.infrastructure.database.retry import RetryPolicy, database_retry
from cleveragents.infrastructure.database.schema_migrations import (
    VERSION_TABLE,
    current_revision,
    downgrade_database,
    head_revision,
    schema_differences,
    upgrade_database,
)
from cleveragents.infrastructure.database.transactions import Database

# The caller-side types the application layer names without importing SQLAlchemy itself.
SessionFactory = sessionmaker[Any]
if TYPE_CHECKING:
    # Named in annotations only: SQLAlchemy's asyncio layer needs greenlet, which only the
    # postgresql extra installs.
    from sqlalchemy.ext.asyncio import AsyncEngine as AsyncEngine
    from sqlalchemy.ext.asyncio import async_sessionmaker

    AsyncSessionFactory = async_sessionmaker[Any]

__all__ = [
    "DATABASE_SCHEMA_VARIABLE",
    "DATABASE_URL_VARIABLE",
    "VERSION_TABLE",
    "AsyncDatabaseAccess",
    "Database",
    "Engine",
    "ResourceModel",
    "RetryPolicy",
    "ScopedStateRepository",
    "SessionFactory",
    "SessionMessageModel",
    "SessionMessageRepository",
    "SessionModel",
    "SessionRepository",
    "async_access_for_engine",
    "async_access_for_sessionmaker",
    "async_access_for_url",
    "create_database_engine",
    "current_revision",
    "database_retry",
    "default_database_url",
    "displayable_url",
    "downgrade_database",
    "head_revision",
    "schema_differences",
    "upgrade_database",
]
