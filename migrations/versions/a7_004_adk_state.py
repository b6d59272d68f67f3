"""Scoped state: the user a session belongs to, and state keys at three scopes.

Agent frameworks (Google ADK among them) keep state shared by every session of an
application (``actor_state``), by one user's sessions (``user_state``) and by one session
(``session_state``), and list one user's sessions (``session_users``). Each key is a row of
its own, so concurrent writers of different keys of one scope never overwrite each other.
Session-bound rows go with their session (``ON DELETE CASCADE``).

Revision ID: a7_004_adk_state
Revises: a7_003_session_keys
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a7_004_adk_state"
down_revision: str | None = "a7_002_session_listing_indexes"  # TEMP
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_ID = sa.String(128)
ACTOR_NAME = sa.String(255)
USER_ID = sa.String(255)
STATE_NAME = sa.String(255)
MYSQL_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}


def _session_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"], ["sessions.id"], name=f"fk_{table}_session_id_sessions", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "session_users",
        sa.Column("session_id", SESSION_ID, nullable=False),
        sa.Column("user_id", USER_ID, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_users"),
        _session_key("session_users"),
        **MYSQL_OPTIONS,
    )
    op.create_index(
        "ix_session_users_user_id_session_id", "session_users", ["user_id", "session_id"]
    )
    op.create_table(
        "actor_state",
        sa.Column("actor_name", ACTOR_NAME, nullable=False),
        sa.Column("name", STATE_NAME, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("actor_name", "name", name="pk_actor_state"),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        "user_state",
        sa.Column("actor_name", ACTOR_NAME, nullable=False),
        sa.Column("user_id", USER_ID, nullable=False),
        sa.Column("name", STATE_NAME, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("actor_name", "user_id", "name", name="pk_user_state"),
        **MYSQL_OPTIONS,
    )
    op.create_table(
        "session_state",
        sa.Column("session_id", SESSION_ID, nullable=False),
        sa.Column("name", STATE_NAME, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "name", name="pk_session_state"),
        _session_key("session_state"),
        **MYSQL_OPTIONS,
    )


def downgrade() -> None:
    op.drop_table("session_state")
    op.drop_table("user_state")
    op.drop_table("actor_state")
    op.drop_table("session_users")
