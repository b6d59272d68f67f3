"""The session service over a SQL database."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self

from cleveragents.application.services import input_rules, sequence_rules
from cleveragents.application.services.export_document import (
    ImportLimits,
    build_export_document,
    read_export_document,
)
from cleveragents.application.services.export_stream import (
    read_export_stream,
    write_export_document,
)
from cleveragents.application.services.identifiers import new_id, new_ids
from cleveragents.application.services.session_cursor import decode_cursor, encode_cursor
from cleveragents.domain import limits
from cleveragents.domain.errors import (
    InvalidSessionDataError,
    SequenceConflictError,
    SessionNotFoundError,
)
from cleveragents.domain.session import (
    ActorStatistics,
    NewMessage,
    Session,
    SessionMessage,
    SessionOrder,
    SessionPage,
)
from cleveragents.domain.session_service import (
    ExportDocument,
    ReadableFile,
    SessionService,
    WritableFile,
)
from cleveragents.infrastructure.database import (
    Database,
    Engine,
    RetryPolicy,
    SessionFactory,
    SessionMessageRepository,
    SessionRepository,
)


def _now() -> datetime:
    return datetime.now(UTC)


class PersistentSessionService(SessionService):
    """:class:`SessionService` on SQLite, PostgreSQL or another SQLAlchemy database.

    The database must have been upgraded to the library's schema first
    (``upgrade_database(url)``, ``cleveragents db upgrade`` or ``alembic upgrade head``);
    opening a service on an older or empty schema raises :class:`SchemaOutOfDateError`
    naming the command, and the service never creates tables itself. The service is
    thread-safe: each call checks out its own pooled connection for one transaction.
    """

    def __init__(
        self,
        database: Database,
        *,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
    ) -> None:
        self._database = database
        self._sessions = SessionRepository(database)
        self._messages = SessionMessageRepository(database)
        self._import_limits = import_limits or ImportLimits()
        self._purge_batch_size = input_rules.check_limit(
            purge_batch_size, minimum=1, name="purge_batch_size"
        )
        database.check_schema()

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
        """Open a service on ``url``; with no URL, ``CLEVERAGENTS_DATABASE_URL`` or the
        embedded SQLite file.

        ``schema`` names the PostgreSQL schema the library's tables were upgraded into
        (``upgrade_database(url, schema=...)``); other backends refuse it with
        :class:`DatabaseConfigurationError`.
        """
        return cls(
            Database.from_url(url, retry_policy=retry_policy, schema=schema),
            import_limits=import_limits,
            purge_batch_size=purge_batch_size,
        )

    @classmethod
    def from_engine(
        cls,
        engine: Engine,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
        schema: str | None = None,
    ) -> Self:
        """Open a service on the caller's SQLAlchemy engine, sharing its pool.

        ``close()`` leaves the engine to its owner. A SQLite engine must enforce foreign keys
        (:class:`DatabaseConfigurationError` otherwise: cascades would silently do nothing).
        ``schema`` puts the library's statements in that PostgreSQL schema without changing
        the engine, so the application's own tables can stay in ``public``.
        """
        return cls(
            Database.from_engine(engine, retry_policy=retry_policy, schema=schema),
            import_limits=import_limits,
            purge_batch_size=purge_batch_size,
        )

    @classmethod
    def from_sessionmaker(
        cls,
        factory: SessionFactory,
        *,
        retry_policy: RetryPolicy | None = None,
        import_limits: ImportLimits | None = None,
        purge_batch_size: int = 500,  # pragma: no mutate (rows per purge batch: work, not results)
        schema: str | None = None,
    ) -> Self:
        """Open a service on the engine the caller's ``sessionmaker`` is bound to
        (in ``schema`` when given, as :meth:`from_engine`)."""
        return cls(
            Database.from_sessionmaker(factory, retry_policy=retry_policy, schema=schema),
            import_limits=import_limits,
            purge_batch_size=purge_batch_size,
        )

    def close(self) -> None:
        """Release the pooled connections."""
        self._database.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def create(
        self,
        actor_name: str,
        *,
        title: str | None = None,
        metadata: dict[str, Any] | None = None,
        session_id: str | None = None,
    ) -> Session:
        now = _now()
        session = Session(
            id=new_id() if session_id is None else input_rules.check_new_session_id(session_id),
            actor_name=input_rules.check_text(
                "actor_name", actor_name, max_length=limits.MAX_ACTOR_NAME_LENGTH
            ),
            title=input_rules.check_optional_text(
                "title", title, max_length=limits.MAX_TITLE_LENGTH
            ),
            metadata=input_rules.check_metadata("metadata", metadata),
            created_at=now,
            updated_at=now,
        )
        input_rules.check_row_size("title", session.title, session.metadata)
        return self._sessions.create(session)

    def get(self, session_id: str) -> Session | None:
        return self._sessions.get_by_id(input_rules.check_session_id(session_id))

    def list(
        self,
        *,
        limit: int = 50,
        offset: int = 0,
        actor_name: str | None = None,
        order_by: SessionOrder = "created_at",
        cursor: str | None = None,
    ) -> SessionPage:
        limit = min(input_rules.check_limit(limit, minimum=1), limits.MAX_PAGE_ROWS)
        offset = input_rules.check_count("offset", offset)
        actor_name = input_rules.check_optional_text(
            "actor_name", actor_name, max_length=limits.MAX_ACTOR_NAME_LENGTH
        )
        order_by = input_rules.check_order(order_by)
        after = (
            None
            if cursor is None
            else decode_cursor(cursor, order_by=order_by, actor_name=actor_name)
        )
        # One row more than asked tells whether a next page exists without a count query.
        found = self._sessions.list_page(
            limit=limit + 1, offset=offset, actor_name=actor_name, order_by=order_by, after=after
        )
        if len(found) <= limit:
            return SessionPage(found)
        page = found[:limit]
        return SessionPage(page, encode_cursor(page[-1], order_by=order_by, actor_name=actor_name))

    def delete(self, session_id: str) -> bool:
        return self._sessions.delete(input_rules.check_session_id(session_id))

    def append_message(
        self,
        session_id: str,
        role: str,
        content: str,
        *,
        metadata: dict[str, Any] | None = None,
        token_count: int | None = None,
        expected_sequence: int | None = None,
    ) -> SessionMessage:
        session_id = input_rules.check_session_id(session_id)
        draft = NewMessage(
            role=input_rules.check_text("role", role, max_length=limits.MAX_ROLE_LENGTH),
            content=input_rules.check_text(
                "content", content, max_length=limits.MAX_CONTENT_LENGTH, allow_blank=True
            ),
            metadata=input_rules.check_metadata("metadata", metadata),
            token_count=input_rules.check_optional_count(
                "token_count", token_count, maximum=limits.MAX_TOKEN_COUNT
            ),
        )
        input_rules.check_row_size("content", draft.content, draft.metadata or {})
        (message,) = self._messages.append(
            session_id=session_id,
            drafts=[draft],
            message_ids=[new_id()],
            created_at=_now(),
            expected_sequence=input_rules.check_optional_count(
                "expected_sequence", expected_sequence, maximum=limits.MAX_SEQUENCE
            ),
        )
        return message

    def append_messages(
        self,
        session_id: str,
        messages: Iterable[NewMessage | Mapping[str, Any]],
        *,
        expected_sequence: int | None = None,
    ) -> builtins.list[SessionMessage]:
        session_id = input_rules.check_session_id(session_id)
        expected_sequence = input_rules.check_optional_count(
            "expected_sequence", expected_sequence, maximum=limits.MAX_SEQUENCE
        )
        if isinstance(messages, str | bytes | Mapping) or not isinstance(messages, Iterable):
            raise InvalidSessionDataError(
                f"messages must be an iterable of messages, got {type(messages).__name__}"
            )
        drafts = [input_rules.check_new_message(i, item) for i, item in enumerate(messages)]
        if not drafts:
            return self._check_empty_batch(session_id, expected_sequence)
        return self._messages.append(
            session_id=session_id,
            drafts=drafts,
            message_ids=new_ids(len(drafts)),
            created_at=_now(),
            expected_sequence=expected_sequence,
        )

    def pop_last_message(self, session_id: str) -> SessionMessage | None:
        return self._messages.pop_last(input_rules.check_session_id(session_id), now=_now())

    def clear_messages(self, session_id: str) -> int:
        return self._messages.clear(input_rules.check_session_id(session_id), now=_now())

    def _check_empty_batch(
        self, session_id: str, expected_sequence: int | None
    ) -> builtins.list[SessionMessage]:
        """An empty batch stores nothing, but fails as a non-empty one would."""
        session = self._sessions.get_by_id(session_id)
        if session is None:
            raise SessionNotFoundError(session_id)
        if expected_sequence is not None and expected_sequence != session.message_count:
            raise SequenceConflictError(session_id, expected_sequence, session.message_count)
        return []

    def get_messages(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        offset: int = 0,
        after_sequence: int | None = None,
        before_sequence: int | None = None,
        last: int | None = None,
    ) -> builtins.list[SessionMessage]:
        session_id = input_rules.check_session_id(session_id)
        limit = None if limit is None else input_rules.check_limit(limit, minimum=0)
        offset = input_rules.check_count("offset", offset)
        after_sequence = input_rules.check_optional_count(
            "after_sequence", after_sequence, maximum=limits.MAX_SEQUENCE
        )
        before_sequence = input_rules.check_optional_count(
            "before_sequence", before_sequence, maximum=limits.MAX_SEQUENCE
        )
        last = input_rules.check_last(last, limit=limit, offset=offset)
        if (limit, offset, after_sequence, before_sequence, last) == (None, 0, None, None, None):
            history = self._sessions.get_with_messages(session_id)
            return [] if history is None else sequence_rules.check_history(*history)
        messages = self._messages.get_for_session(
            session_id,
            limit=last if last is not None else limit,
            offset=offset,
            after_sequence=after_sequence,
            before_sequence=before_sequence,
            latest=last is not None,
        )
        sequence_rules.check_range(
            session_id,
            messages,
            after_sequence=after_sequence,
            offset=offset,
            window=last is not None,
        )
        return messages

    def export_session(
        self, session_id: str, *, signing_key: bytes | None = None
    ) -> ExportDocument:
        history = self._sessions.get_with_messages(input_rules.check_session_id(session_id))
        if history is None:
            raise SessionNotFoundError(session_id)
        session, messages = history
        return build_export_document(
            session,
            sequence_rules.check_history(session, messages),
            exported_at=_now(),
            signing_key=input_rules.check_signing_key(signing_key),
        )

    def export_session_to_file(
        self, session_id: str, file: WritableFile, *, signing_key: bytes | None = None
    ) -> str:
        session_id = input_rules.check_session_id(session_id)
        signing_key = input_rules.check_signing_key(signing_key)
        with self._sessions.read_history(session_id) as (session, messages):
            return write_export_document(
                session, messages, file, exported_at=_now(), signing_key=signing_key
            )

    def import_session_from_file(
        self, file: ReadableFile, *, signing_key: bytes | None = None
    ) -> Session:
        session, messages = read_export_stream(
            file,
            limits=self._import_limits,
            new_ids=new_ids,
            signing_key=input_rules.check_signing_key(signing_key),
        )
        return self._sessions.create_streaming(session, messages)

    def import_session(
        self,
        document: ExportDocument | str | bytes | ReadableFile,
        *,
        signing_key: bytes | None = None,
    ) -> Session:
        if hasattr(document, "read"):
            return self.import_session_from_file(document, signing_key=signing_key)
        session, messages = read_export_document(
            document,
            limits=self._import_limits,
            new_ids=new_ids,
            signing_key=input_rules.check_signing_key(signing_key),
        )
        return self._sessions.create(session, messages)

    def purge_sessions(
        self,
        older_than: timedelta | datetime,
        *,
        actor_name: str | None = None,
        dry_run: bool = False,
        on_batch: Callable[[int], None] | None = None,
    ) -> int:
        cutoff = input_rules.check_cutoff("older_than", older_than, now=_now())
        actor_name = input_rules.check_optional_text(
            "actor_name", actor_name, max_length=limits.MAX_ACTOR_NAME_LENGTH
        )
        if dry_run:
            return self._sessions.count_inactive(before=cutoff, actor_name=actor_name)
        purged = 0
        while True:
            deleted = self._sessions.delete_inactive(
                before=cutoff, actor_name=actor_name, limit=self._purge_batch_size
            )
            purged += deleted
            if on_batch is not None and deleted:
                on_batch(deleted)
            if deleted < self._purge_batch_size:
                return purged

    def statistics(self) -> builtins.list[ActorStatistics]:
        return self._sessions.statistics_by_actor()

    def update_token_usage(
        self,
        session_id: str,
        *,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> Session:
        updated = self._sessions.update(
            input_rules.check_session_id(session_id),
            add_input_tokens=input_rules.check_count("input_tokens", input_tokens),
            add_output_tokens=input_rules.check_count("output_tokens", output_tokens),
            now=_now(),
        )
        if updated is None:
            raise SessionNotFoundError(session_id)
        return updated
