"""SQLAlchemy models, repositories and schema migrations for session persistence."""

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from cleveragents.infrastructure.database.database import Database
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
from cleveragents.infrastructure.database.worker_thread_runner import WorkerThreadRunner

# The caller-side types the application layer names without importing SQLAlchemy itself.
SessionFactory = sessionmaker[Any]

__all__ = [
    "DATABASE_SCHEMA_VARIABLE",
    "DATABASE_URL_VARIABLE",
    "VERSION_TABLE",
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
    "WorkerThreadRunner",
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
