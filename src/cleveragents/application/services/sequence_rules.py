"""The rules a session's stored messages obey: sequences 0, 1, 2, ... matching the counter.

Reads check them so that damaged data is reported, never skipped or returned shortened.
"""

from __future__ import annotations

from collections.abc import Sequence

from cleveragents.domain.errors import SessionIntegrityError
from cleveragents.domain.session import Session, SessionMessage


def check_history(session: Session, messages: list[SessionMessage]) -> list[SessionMessage]:
    """A whole history read from one snapshot: its rows must match the session's counter."""
    if len(messages) != session.message_count:
        raise SessionIntegrityError(
            f"session {session.id!r} counts {session.message_count} messages but "
            f"{len(messages)} are stored"
        )
    check_page(session.id, messages, first=0)
    return messages


def check_page(session_id: str, messages: Sequence[SessionMessage], *, first: int) -> None:
    """Sequences must follow each other from ``first``; a gap is reported, never skipped."""
    for expected, message in enumerate(messages, start=first):
        if message.sequence != expected:
            raise SessionIntegrityError(
                f"session {session_id!r} has a gap in its messages: expected sequence "
                f"{expected}, found {message.sequence}"
            )


def check_range(
    session_id: str,
    messages: Sequence[SessionMessage],
    *,
    after_sequence: int | None,
    offset: int,
    window: bool,
) -> None:
    """A page of a sequence range starts where its bounds put it; a latest-N window may start
    anywhere, but neither may skip a sequence."""
    if not messages:
        return
    if window:
        first = messages[0].sequence
    else:
        first = offset if after_sequence is None else after_sequence + 1 + offset
    check_page(session_id, messages, first=first)
