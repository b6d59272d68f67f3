"""Session keys: ids a caller may choose, and keys that compare byte for byte everywhere.

Session ids widen from 26 to 128 characters (``sessions.id`` and the reference to it in
``session_messages.session_id``), so a caller can name a session; message ids stay ULIDs.

Every key and name column (ids, actor names, roles, the registry's kind and name) compares,
groups and sorts by code point on every backend, as SQLite's default collation does:

- MySQL/MariaDB tables were ``utf8mb4_bin``, which is PAD SPACE: ``'alpha'`` equalled
  ``'alpha '``, so a listing or purge for one actor reached another's sessions. Each table and
  each of its text columns moves to the server's binary NO PAD collation
  (``utf8mb4_nopad_bin`` on MariaDB, ``utf8mb4_0900_bin`` on MySQL 8). The foreign key is
  dropped while both of its columns change, and put back.
- PostgreSQL key columns take the ``"C"`` collation, so their order no longer follows the
  database's locale (``'Beta'`` sorts before ``'alpha'``, as on SQLite).

The downgrade refuses, changing nothing, when a session id is longer than 26 characters, or
when two unique keys differ only by trailing spaces, which MySQL's PAD SPACE collation would
merge (refused on every backend, so the way back behaves the same everywhere).

Revision ID: a7_003_session_keys
Revises: a7_002_session_listing_indexes
Create Date: 2026-12-07
"""

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

from cleveragents.domain.errors import SchemaDowngradeRefusedError

revision: str = "a7_003_session_keys"
down_revision: str | None = "a7_002_session_listing_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_SESSION_ID_LENGTH = 26
PAD_SPACE_COLLATION = "utf8mb4_bin"
FOREIGN_KEY = "fk_session_messages_session_id_sessions"


class TextColumn(NamedTuple):
    """A text column of the library's tables, before and after this revision."""

    table: str
    name: str
    old_length: int | None  # None: LONGTEXT
    new_length: int | None
    is_key: bool = True
    nullable: bool = False

    def mysql_type(self, *, new: bool) -> str:
        length = self.new_length if new else self.old_length
        return "LONGTEXT" if length is None else f"VARCHAR({length})"


# Every text column; JSON columns are left alone. Only keys change on SQLite and PostgreSQL.
TEXT_COLUMNS = (
    TextColumn("sessions", "id", OLD_SESSION_ID_LENGTH, 128),
    TextColumn("sessions", "actor_name", 255, 255),
    TextColumn("sessions", "title", 1024, 1024, is_key=False, nullable=True),
    TextColumn("session_messages", "id", 26, 26),
    TextColumn("session_messages", "session_id", OLD_SESSION_ID_LENGTH, 128),
    TextColumn("session_messages", "role", 64, 64),
    TextColumn("session_messages", "content", None, None, is_key=False),
    TextColumn("resource_registry", "id", 26, 26),
    TextColumn("resource_registry", "kind", 64, 64),
    TextColumn("resource_registry", "name", 255, 255),
)
TABLES = ("sessions", "session_messages", "resource_registry")
# Keys a PAD SPACE collation would merge on the way back: each must stay unique.
UNIQUE_KEYS = {"sessions": ("id",), "resource_registry": ("kind", "name")}


def upgrade() -> None:
    dialect = op.get_bind().dialect
    if dialect.name in ("mysql", "mariadb"):
        collation = "utf8mb4_nopad_bin" if dialect.is_mariadb else "utf8mb4_0900_bin"
        rebuild_mysql_tables(collation, new=True)
    else:
        change_key_columns(dialect.name, new=True)


def downgrade() -> None:
    refuse_data_the_old_schema_cannot_hold()
    dialect = op.get_bind().dialect
    if dialect.name in ("mysql", "mariadb"):
        rebuild_mysql_tables(PAD_SPACE_COLLATION, new=False)
    else:
        change_key_columns(dialect.name, new=False)


def change_key_columns(dialect_name: str, *, new: bool) -> None:
    """SQLite (rebuilt in batch mode) and PostgreSQL: the id lengths, and ``"C"`` keys on
    PostgreSQL (the way back returns them to the database's default collation)."""
    postgresql = dialect_name == "postgresql"
    collation = "C" if new and postgresql else None
    for table in TABLES:
        keys = [c for c in TEXT_COLUMNS if c.table == table and c.is_key]
        if not postgresql:
            keys = [c for c in keys if c.old_length != c.new_length]
        if not keys:
            continue
        with op.batch_alter_table(table) as batch:
            for column in keys:
                length = column.new_length if new else column.old_length
                batch.alter_column(
                    column.name,
                    type_=sa.String(length, collation=collation),
                    existing_nullable=column.nullable,
                )


def rebuild_mysql_tables(collation: str, *, new: bool) -> None:
    """MySQL/MariaDB: every text column and each table's default take ``collation``.

    MariaDB refuses to change either column of a foreign key while it stands, so it goes
    first and comes back once both columns agree again.
    """
    op.drop_constraint(FOREIGN_KEY, "session_messages", type_="foreignkey")
    for table in TABLES:
        changes = [f"DEFAULT CHARACTER SET utf8mb4 COLLATE {collation}"]
        for column in TEXT_COLUMNS:
            if column.table == table:
                changes.append(
                    f"MODIFY {column.name} {column.mysql_type(new=new)} CHARACTER SET utf8mb4 "
                    f"COLLATE {collation} {'NULL' if column.nullable else 'NOT NULL'}"
                )
        op.execute(f"ALTER TABLE {table} " + ", ".join(changes))
    op.create_foreign_key(
        FOREIGN_KEY, "session_messages", "sessions", ["session_id"], ["id"], ondelete="CASCADE"
    )


def refuse_data_the_old_schema_cannot_hold() -> None:
    """Raise, before any change, if going back would truncate or merge stored keys."""
    bind = op.get_bind()
    sessions = sa.table("sessions", sa.column("id"))
    length = sa.func.length if bind.dialect.name == "sqlite" else sa.func.char_length
    too_long = bind.execute(
        sa.select(sessions.c.id)
        .where(length(sessions.c.id) > OLD_SESSION_ID_LENGTH)
        .order_by(sessions.c.id)
    ).scalars()
    long_ids = list(too_long)
    if long_ids:
        raise SchemaDowngradeRefusedError(
            f"cannot downgrade below {revision}: {len(long_ids)} session id(s) are longer than "
            f"{OLD_SESSION_ID_LENGTH} characters (first: {long_ids[0]!r}), which the older "
            "schema cannot hold; delete or rename those sessions first. Nothing was changed."
        )
    # Only MySQL/MariaDB would merge these, but the way back is refused alike everywhere.
    for table, key in UNIQUE_KEYS.items():
        columns = [sa.column(name) for name in key]
        trimmed = [sa.func.rtrim(column) for column in columns]
        clash = bind.execute(
            sa.select(*trimmed)
            .select_from(sa.table(table, *columns))
            .group_by(*trimmed)
            .having(sa.func.count() > 1)
            .limit(1)
        ).first()
        if clash is not None:
            raise SchemaDowngradeRefusedError(
                f"cannot downgrade below {revision}: {table} holds keys ({', '.join(key)}) "
                f"that differ only by trailing spaces, such as {tuple(clash)!r}; the older "
                f"collation {PAD_SPACE_COLLATION} would find them equal. Rename or delete one "
                "of each pair first. Nothing was changed."
            )
