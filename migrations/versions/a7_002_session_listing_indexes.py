"""Session listing indexes: by creation or last activity, for everyone or one actor.

Every listing orders by ``(created_at | updated_at) DESC, id DESC``, optionally for one
``actor_name``; each of the four shapes gets an index ending in ``id``, so a page after a
cursor is a range read however deep it lies, and purging by last activity reads an index
too. The single-column indexes on ``actor_name`` and ``created_at`` are prefixes of the new
ones and go.

Revision ID: a7_002_session_listing_indexes
Revises: a7_001_session_persistence
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "a7_002_session_listing_indexes"
down_revision: str | None = "a7_001_session_persistence"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LISTING_INDEXES = {
    "ix_sessions_created_at_id": ["created_at", "id"],
    "ix_sessions_updated_at_id": ["updated_at", "id"],
    "ix_sessions_actor_name_created_at_id": ["actor_name", "created_at", "id"],
    "ix_sessions_actor_name_updated_at_id": ["actor_name", "updated_at", "id"],
}
REPLACED_INDEXES = {
    "ix_sessions_actor_name": ["actor_name"],
    "ix_sessions_created_at": ["created_at"],
}


def upgrade() -> None:
    for name, columns in LISTING_INDEXES.items():
        op.create_index(name, "sessions", columns)
    for name in REPLACED_INDEXES:
        op.drop_index(name, table_name="sessions")


def downgrade() -> None:
    for name, columns in REPLACED_INDEXES.items():
        op.create_index(name, "sessions", columns)
    for name in LISTING_INDEXES:
        op.drop_index(name, table_name="sessions")
