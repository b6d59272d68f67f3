"""Scoped state: the user a session belongs to, and state keys at three scopes.

Agent frameworks (Google ADK among them) keep state shared by every session of an
application (``actor_state``), by one user's sessions (``user_state``) and by one session
(``session_state``), and list one user's sessions (``session_users``). Each key is a row of
its own, so concurrent writers of different keys of one scope never overwrite each other.
Session-bound rows go with their session (``ON DELETE CASCADE``). Keys compare byte for byte,
as a7_003_session_keys made every key do: ``"C"`` on PostgreSQL, the binary NO PAD collation
on MySQL/MariaDB.

Revision ID: a7_004_adk_state
Revises: a7_003_session_keys
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "a7_004_adk_state"
down_revision: str | None = "a7_003_session_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SESSION_ID_LENGTH = 128
NAME_LENGTH = 255


def _exact_collation() -> str | None:
    """The collation keys take on this backend (SQLite's default already compares exactly)."""
    dialect = op.get_bind().dialect
    if dialect.name == "postgresql":
        return "C"
    if dialect.name in ("mysql", "mariadb"):
        return "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"
    return None


def _key(length: int) -> sa.types.TypeEngine[str]:
    collation = _exact_collation()
    if op.get_bind().dialect.name in ("mysql", "mariadb"):
        return mysql.VARCHAR(length, charset="utf8mb4", collation=collation)
    return sa.String(length, collation=collation)


def _session_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"], ["sessions.id"], name=f"fk_{table}_session_id_sessions", ondelete="CASCADE"
    )


def upgrade() -> None:
    session_key, text_key = _key(SESSION_ID_LENGTH), _key(NAME_LENGTH)
    options = {"mysql_charset": "utf8mb4", "mysql_collate": _exact_collation() or "utf8mb4_bin"}
    op.create_table(
        "session_users",
        sa.Column("session_id", session_key, nullable=False),
        sa.Column("user_id", text_key, nullable=False),
        sa.PrimaryKeyConstraint("session_id", name="pk_session_users"),
        _session_key("session_users"),
        **options,
    )
    op.create_index(
        "ix_session_users_user_id_session_id", "session_users", ["user_id", "session_id"]
    )
    op.create_table(
        "actor_state",
        sa.Column("actor_name", text_key, nullable=False),
        sa.Column("name", text_key, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("actor_name", "name", name="pk_actor_state"),
        **options,
    )
    op.create_table(
        "user_state",
        sa.Column("actor_name", text_key, nullable=False),
        sa.Column("user_id", text_key, nullable=False),
        sa.Column("name", text_key, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("actor_name", "user_id", "name", name="pk_user_state"),
        **options,
    )
    op.create_table(
        "session_state",
        sa.Column("session_id", session_key, nullable=False),
        sa.Column("name", text_key, nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("session_id", "name", name="pk_session_state"),
        _session_key("session_state"),
        **options,
    )


def downgrade() -> None:
    op.drop_table("session_state")
    op.drop_table("user_state")
    op.drop_table("actor_state")
    op.drop_table("session_users")
