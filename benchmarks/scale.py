"""Per-call cost at scale: the same calls at a tenth of the size and at full size.

``python -m benchmarks.scale URL [--messages M]`` loads one actor's sessions (ten messages
each, so ``M`` messages over ``M / 10`` sessions, besides a probe session of 2,000) in two
steps, a tenth first and then the rest, and after each step times, on the library's service:

- appending one message to the probe session;
- reading its latest 50 messages;
- the listing page of 50 after a cursor nine tenths deep.

It prints each call's median at both sizes and their ratio, then ``EXPLAIN`` of the exact
statements the library sent for each call at full size (caught on its engine), so a plan
that scans instead of seeking shows. Rows are loaded by the raw driver from generators:
``COPY`` on PostgreSQL, chunked ``executemany`` elsewhere, so memory stays flat. The rows
are the library's own formats, with gap-free sequences and matching counts, so every read
passes the library's integrity checks. On PostgreSQL the database is created if missing and
the run works in a schema of its own, dropped at the end; elsewhere the database is upgraded
and the loaded actor deleted at the end (``--keep`` keeps either).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from sqlalchemy import event

from cleveragents.application.services import PersistentSessionService
from cleveragents.application.services.session_cursor import encode_cursor
from cleveragents.domain.stored_fields import MESSAGE_FIELDS, SESSION_FIELDS
from cleveragents.infrastructure.database import upgrade_database

from ._raw import RawStore, backend_of, new_id, open_raw
from .peers.postgres import prepare

MESSAGES_PER_SESSION = 10
PROBE_MESSAGES = 2_000
DEEP_FRACTION = 0.9
PAGE = 50
LATEST = 50
CHUNK_SESSIONS = 10_000
CALLS = {"append": 300, "latest 50": 300, "deep page": 100}


def main() -> None:
    arguments = _arguments()
    actor = f"scale-{uuid.uuid4().hex[:8]}"
    # On PostgreSQL the run gets a schema of its own, dropped at the end: deleting millions
    # of rows instead would leave the next run loading into bloated indexes.
    schema = actor.replace("-", "_") if backend_of(arguments.url) == "postgresql" else None
    if schema is not None:
        prepare(arguments.url)
    raw = open_raw(arguments.url)
    if schema is not None:
        raw.connection.execute(f"CREATE SCHEMA {schema}")
        raw.connection.execute(f"SET search_path TO {schema}")
    upgrade_database(arguments.url, schema=schema)
    service = PersistentSessionService.from_url(arguments.url, schema=schema)
    try:
        run(raw, service, actor, sessions=arguments.messages // MESSAGES_PER_SESSION)
    finally:
        service.close()
        if not arguments.keep and schema is not None:
            raw.connection.execute(f"DROP SCHEMA {schema} CASCADE")
        elif not arguments.keep:
            raw.delete_actor(actor)
        raw.close()


def run(raw: RawStore, service: PersistentSessionService, actor: str, *, sessions: int) -> None:
    """Load a tenth, time; load the rest, time; print both, their ratios and the plans."""
    start = datetime.now(UTC) - timedelta(days=400)
    small = sessions // 10
    print(f"{raw.backend}: {sessions:,} sessions of {MESSAGES_PER_SESSION} messages, timed at")
    print(f"{small:,} and {sessions:,} sessions (actor {actor})")
    probe = raw.load_session(
        actor,
        (("user", f"probe message {i}", {}, None) for i in range(PROBE_MESSAGES)),
        message_count=PROBE_MESSAGES,
    )
    figures = {}
    loaded = 0
    for target in (small, sessions):
        began = time.perf_counter()
        load_sessions(raw, actor, start, first=loaded, count=target - loaded)
        raw.settle()
        if raw.backend == "postgresql":
            # The load's pages reach the disk now, not during the timed commits.
            raw.connection.execute("CHECKPOINT")
        print(f"loaded {target:,} sessions in {time.perf_counter() - began:.0f} s")
        loaded = target
        calls = timed_calls(raw, service, actor, probe, target)
        figures[target] = {name: median_seconds(call, CALLS[name]) for name, call in calls}
    print()
    print(f"| call | at {small:,} sessions | at {sessions:,} | ratio |")
    print("|---|---:|---:|---:|")
    for name in CALLS:
        before, after = figures[small][name], figures[sessions][name]
        print(f"| {name} | {before * 1e6:.0f} µs | {after * 1e6:.0f} µs | {after / before:.2f}x |")
    print()
    explain_calls(raw, service, timed_calls(raw, service, actor, probe, sessions))


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale", description=__doc__)
    parser.add_argument("url", help="a SQLAlchemy database URL; upgraded first")
    parser.add_argument("--messages", type=int, default=10_000_000)
    parser.add_argument("--keep", action="store_true", help="leave the loaded rows in place")
    return parser.parse_args()


def load_sessions(raw: RawStore, actor: str, start: datetime, *, first: int, count: int) -> None:
    """Sessions ``first`` to ``first + count`` of the actor, a millisecond apart, each with
    ``MESSAGES_PER_SESSION`` messages, one transaction per chunk of sessions."""
    end = first + count
    for chunk_start in range(first, end, CHUNK_SESSIONS):
        sessions, messages = [], []
        for index in range(chunk_start, min(chunk_start + CHUNK_SESSIONS, end)):
            stamp = raw.timestamp(start + timedelta(milliseconds=index))
            session_id = new_id()
            sessions.append(
                (
                    session_id,
                    actor,
                    f"conversation {index}",
                    '{"tenant": "scale"}',
                    MESSAGES_PER_SESSION,
                    0,
                    0,
                    stamp,
                    stamp,
                )
            )
            messages.extend(
                (
                    new_id(),
                    session_id,
                    sequence,
                    "user" if sequence % 2 == 0 else "assistant",
                    f"message {sequence} of conversation {index}",
                    "{}",
                    None,
                    stamp,
                )
                for sequence in range(MESSAGES_PER_SESSION)
            )
        raw.begin_write()
        try:
            bulk_insert(raw, "sessions", SESSION_FIELDS, iter(sessions))
            bulk_insert(raw, "session_messages", MESSAGE_FIELDS, iter(messages))
        except BaseException:
            raw.rollback()
            raise
        raw.commit()


def bulk_insert(
    raw: RawStore, table: str, columns: tuple[str, ...], rows: Iterator[tuple[Any, ...]]
) -> None:
    """``COPY`` on PostgreSQL, ``executemany`` in chunks elsewhere."""
    if raw.backend == "postgresql":
        with (
            raw.connection.cursor() as cursor,
            cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    placeholders = ", ".join("?" * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    while chunk := list(islice(rows, 1000)):
        raw.executemany(sql, chunk)


def timed_calls(
    raw: RawStore, service: PersistentSessionService, actor: str, probe: str, sessions: int
) -> list[tuple[str, Callable[[], object]]]:
    """The three calls, set up for a listing of ``sessions`` sessions (plus the probe)."""
    deep_id = raw.position(actor, min(round(sessions * DEEP_FRACTION), sessions - PAGE))[1]
    deep = service.get(deep_id)
    assert deep is not None
    cursor = encode_cursor(deep, order_by="created_at", actor_name=actor)

    def append() -> object:
        return service.append_message(probe, "user", "one more message at scale")

    def latest() -> object:
        window = service.get_messages(probe, last=LATEST)
        assert len(window) == LATEST
        return window

    def deep_page() -> object:
        page = service.list(limit=PAGE, actor_name=actor, order_by="created_at", cursor=cursor)
        assert len(page) == PAGE
        return page

    return [("append", append), ("latest 50", latest), ("deep page", deep_page)]


def median_seconds(call: Callable[[], object], count: int) -> float:
    call()
    durations = []
    for _ in range(count):
        began = time.perf_counter()
        call()
        durations.append(time.perf_counter() - began)
    return statistics.median(durations)


def explain_calls(
    raw: RawStore,
    service: PersistentSessionService,
    calls: list[tuple[str, Callable[[], object]]],
) -> None:
    """``EXPLAIN`` of each statement a call sends, caught on the library's engine."""
    engine = service._database.engine
    for name, call in calls:
        sent: list[tuple[str, Any]] = []

        def catch(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
            sent.append((statement, parameters))  # noqa: B023  # read before the next call

        event.listen(engine, "before_cursor_execute", catch)
        try:
            call()
        finally:
            event.remove(engine, "before_cursor_execute", catch)
        print(f"### {name}")
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith(("SELECT", "UPDATE", "INSERT")):
                continue
            print()
            print(" ".join(statement.split()))
            for line in explain(raw, statement, parameters):
                print(f"    {line}")
        print()


def explain(raw: RawStore, statement: str, parameters: Any) -> list[str]:
    """The plan of one statement as the database would run it, rolled back if it writes."""
    prefix = "EXPLAIN QUERY PLAN " if raw.backend == "sqlite" else "EXPLAIN "
    raw.begin_write()
    try:
        cursor = raw.connection.cursor()
        cursor.execute(prefix + statement, parameters)
        rows = cursor.fetchall()
    finally:
        raw.rollback()
    if raw.backend == "sqlite":
        return [str(row[-1]) for row in rows]
    return [
        " | ".join(json.dumps(v) if isinstance(v, dict) else str(v) for v in row) for row in rows
    ]


if __name__ == "__main__":
    main()
