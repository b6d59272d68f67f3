"""How long and how large each stored value may be: the one place these numbers are written.

The input rules refuse what exceeds them, and the table models size their columns from
them. The migrations that created the columns spell their lengths out as they were when
each revision was released, and a released revision is never edited: changing a column's
limit here takes a new revision, and ``schema_differences`` (``alembic check``) reports the
models and the migrations apart until it exists.
"""

from __future__ import annotations

# Room for a caller's own id, not only the library's 26-character ULIDs: the ``id`` column
# of ``sessions`` and every column referring to it.
MAX_NEW_SESSION_ID_LENGTH = 128
# An id that is only looked up may be longer than any stored one (it simply matches
# nothing); beyond this it is refused as a mistake rather than searched for.
MAX_SESSION_ID_LENGTH = 255
# The library's ids are ULIDs: 26 characters.
ULID_LENGTH = 26
# Message ids are always the library's ULIDs.
MESSAGE_ID_LENGTH = ULID_LENGTH
# An imported document's message ids are replaced, never stored; this only bounds the text
# read. Documents written by other tools may use ids longer than a ULID.
MAX_DOCUMENT_MESSAGE_ID_LENGTH = 64
MAX_ACTOR_NAME_LENGTH = 255
MAX_TITLE_LENGTH = 1024
MAX_ROLE_LENGTH = 64
MAX_USER_ID_LENGTH = 255
MAX_STATE_NAME_LENGTH = 255
MAX_CONTENT_LENGTH = 16 * 1024 * 1024
# BIGINT columns (the token totals of a session).
MAX_TOKEN_VALUE = 2**63 - 1
# INTEGER columns (a message's token count, sequences).
MAX_TOKEN_COUNT = 2**31 - 1
MAX_SEQUENCE = 2**31 - 1
# One row's text (content or title, as UTF-8, plus its metadata as the JSON the database
# receives) that every backend stores: MariaDB's default max_allowed_packet (16 MiB) bounds a
# statement and a row, and the driver sends quotes, backslashes and newlines as two bytes.
MAX_ROW_TEXT_BYTES = 8 * 1024 * 1024 - 64 * 1024
# More rows than any table holds: a larger page size (sys.maxsize for "all of them") means
# the same, and leaves room for the extra row a listing fetches inside BIGINT everywhere.
MAX_PAGE_ROWS = 2**62
