"""Session persistence: sessions and their ordered messages.

Revision ID: a7_001_session_persistence
Revises: b1_001_resource_registry
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

revision: str = "a7_001_session_persistence"
down_revision: str | None = "b1_001_resource_registry"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_TIMESTAMP = sa.DateTime(timezone=True).with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
LONG_TEXT = sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")


def upgrade() -> None:
    op.create_table(
        "sessions",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("actor_name", sa.String(255), nullable=False),
        sa.Column("title", sa.String(1024), nullable=True),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("message_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("input_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("output_tokens", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.Column("updated_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions"),
        sa.CheckConstraint(
            "message_count >= 0", name=op.f("ck_sessions_message_count_not_negative")
        ),
        sa.CheckConstraint("input_tokens >= 0", name=op.f("ck_sessions_input_tokens_not_negative")),
        sa.CheckConstraint(
            "output_tokens >= 0", name=op.f("ck_sessions_output_tokens_not_negative")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index("ix_sessions_actor_name", "sessions", ["actor_name"])
    op.create_index("ix_sessions_created_at", "sessions", ["created_at"])

    op.create_table(
        "session_messages",
        sa.Column("id", sa.String(26), nullable=False),
        sa.Column("session_id", sa.String(26), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(64), nullable=False),
        sa.Column("content", LONG_TEXT, nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=False),
        sa.Column("token_count", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC_TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_session_messages"),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["sessions.id"],
            name="fk_session_messages_session_id_sessions",
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("sequence >= 0", name=op.f("ck_session_messages_sequence_not_negative")),
        sa.CheckConstraint(
            "token_count >= 0", name=op.f("ck_session_messages_token_count_not_negative")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_bin",
    )
    op.create_index(
        "ix_session_messages_session_id_sequence",
        "session_messages",
        ["session_id", "sequence"],
        unique=True,
    )


def downgrade() -> None:
    # Dropping the table drops its indexes; MySQL refuses to drop the unique index alone
    # while the foreign key needs it.
    op.drop_table("session_messages")
    op.drop_index("ix_sessions_created_at", table_name="sessions")
    op.drop_index("ix_sessions_actor_name", table_name="sessions")
    op.drop_table("sessions")
