"""The resource registry: named things of a kind that agents can refer to.

Nothing in this package reads or writes it; the specification's migration chain starts from
it, and applications that register resources use this model (see the schema reference).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from cleveragents.domain import limits
from cleveragents.infrastructure.database.base import MYSQL_TABLE_OPTIONS, Base
from cleveragents.infrastructure.database.column_types import ExactString, UTCDateTime


class ResourceModel(Base):
    """One registered resource, unique by ``(kind, name)``."""

    __tablename__ = "resource_registry"
    __table_args__ = (UniqueConstraint("kind", "name"), MYSQL_TABLE_OPTIONS)

    id: Mapped[str] = mapped_column(ExactString(limits.ULID_LENGTH), primary_key=True)
    kind: Mapped[str] = mapped_column(ExactString(64))
    name: Mapped[str] = mapped_column(ExactString(255))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
