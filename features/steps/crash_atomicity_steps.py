"""Steps that kill importing processes with SIGKILL and check that nothing partial survives.

Importers are forked by ``features/workers/import_worker.py --fork-server``, started with
this interpreter, so that each kill costs a fork rather than Python's start-up. Sizes written
as ``$NAME`` in the feature come from the environment (see the feature's description).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from behave import given, register_type, then, when
from behave.runner import Context
from parse import with_pattern
from sqlalchemy import Table, func, insert, select, text
from ulid import ULID

from cleveragents.infrastructure.database import SessionMessageModel, SessionModel

IMPORT_WORKER = Path(__file__).resolve().parent.parent / "workers" / "import_worker.py"
SESSIONS = cast(Table, SessionModel.__table__)
MESSAGES = cast(Table, SessionMessageModel.__table__)
WORKER_TIMEOUT = 120.0
# Kill delays are drawn from [-5 %, +15 %] of a measured import (a negative delay kills at
# once), so most kills land inside the import and a few just before it or after its commit.
EARLY_MARGIN, LATE_MARGIN = 0.05, 0.15
STAGES = ("importing", "writing", "committing", "done")
WHERE_KILLED = {
    None: "before start",
    "importing": "while checking the document",
    "writing": "while writing the transaction",
    "committing": "while committing",
    "done": "after commit",
}
ROLES = ("system", "user", "assistant", "tool")
SAMPLES = (
    "plain ASCII text",
    "\N{ROCKET} emoji and \u00fcn\u00efc\u00f6d\u00e9",
    'quotes " and \\ backslashes\nand a second line',
    "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8",
    '{"looks": ["like", "json"]}',
    "",
)


@with_pattern(r"\$[A-Z_]+")
def crash_size_name(token: str) -> str:
    return token


register_type(CrashSize=crash_size_name)


def crash_size(context: Context, name: str) -> int:
    """``$IMPORT_MESSAGES`` or ``$CRASH_ITERATIONS`` (which depends on the backend)."""
    sqlite = context.backend == "sqlite"
    variables = {
        "$IMPORT_MESSAGES": ("CLEVERAGENTS_CRASH_MESSAGES", 5000),
        "$CRASH_ITERATIONS": (
            ("CLEVERAGENTS_CRASH_ITERATIONS_SQLITE", 100)
            if sqlite
            else ("CLEVERAGENTS_CRASH_ITERATIONS_SERVER", 25)
        ),
    }
    if name not in variables:
        raise ValueError(f"unknown size {name}; known: {', '.join(sorted(variables))}")
    variable, default = variables[name]
    value = int(os.environ.get(variable) or default)
    if value < 1:
        raise ValueError(f"{variable} must be a positive integer, got {value}")
    return value


def report(line: str) -> None:
    """Show a measurement even though behave captures the steps' output."""
    print(f"    [torture] {line}", file=sys.__stderr__, flush=True)


# --- The importing fork server ---------------------------------------------------------


@dataclass
class ForkServer:
    """``import_worker.py --fork-server``: forks importers that the test releases and kills."""

    process: subprocess.Popen[str]
    events: list[dict[str, Any]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)
    children: set[int] = field(default_factory=set)
    forks: int = 0
    readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, url: str, document: Path) -> ForkServer:
        command = [sys.executable, str(IMPORT_WORKER), "--url", url, "--document", str(document)]
        process = subprocess.Popen(
            [*command, "--fork-server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
        )
        server = cls(process)
        server.readers = [
            threading.Thread(target=server._read_events, daemon=True),
            threading.Thread(target=server._read_stderr, daemon=True),
        ]
        for reader in server.readers:
            reader.start()
        return server

    def _read_events(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            records = decode_records(line)
            with self.changed:
                self.events.extend(records)
                self.changed.notify_all()
        with self.changed:
            self.events.append({"event": "end of output"})
            self.changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def _send(self, command: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def _wait_for(self, what: str, **fields: Any) -> dict[str, Any]:
        wanted = {"event": what, **fields}

        def found() -> dict[str, Any] | None:
            for record in self.events:
                if record.get("event") == "end of output":
                    return record
                if all(record.get(key) == value for key, value in wanted.items()):
                    return record
            return None

        with self.changed:
            record = self.changed.wait_for(found, WORKER_TIMEOUT)
        if record is None or record.get("event") != what:
            raise AssertionError(f"no {what} {fields} from the fork server: {self.describe()}")
        return record

    def fork(self) -> int:
        """A new importer, ready and waiting to be released (one caller at a time)."""
        self._send("fork")
        self.forks += 1
        with self.changed:
            self.changed.wait_for(lambda: len(self.forked()) >= self.forks, WORKER_TIMEOUT)
            forked = self.forked()
        assert len(forked) >= self.forks, f"the fork server did not fork: {self.describe()}"
        child = forked[self.forks - 1]
        self.children.add(child)
        self._wait_for("ready", pid=child)
        return child

    def forked(self) -> list[int]:
        return [int(e["child"]) for e in self.events if e.get("event") == "forked"]

    def release(self, child: int) -> float:
        released = time.monotonic()
        os.kill(child, signal.SIGUSR1)
        return released

    def reap(self, child: int) -> int:
        """Wait for the child to end; its exit status (-9 once killed with SIGKILL)."""
        self._send(f"reap {child}")
        status = int(self._wait_for("exited", child=child)["status"])
        self.children.discard(child)
        return status

    def markers(self, child: int) -> dict[str, dict[str, Any]]:
        return {e["event"]: e for e in self.events if e.get("pid") == child}

    def stop(self) -> None:
        for child in self.children:
            with suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        if self.process.stdin is not None and not self.process.stdin.closed:
            with suppress(BrokenPipeError):
                self.process.stdin.close()
        try:
            self.process.wait(WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(WORKER_TIMEOUT)

    def describe(self) -> str:
        return f"exit {self.process.poll()}, last events {self.events[-8:]}, stderr:\n" + "".join(
            self.stderr[-20:]
        )


def decode_records(line: str) -> list[dict[str, Any]]:
    """The JSON objects on one line (normally one); anything else is kept as unreadable."""
    decoder, records, position = json.JSONDecoder(), [], 0
    text = line.strip()
    while position < len(text):
        try:
            record, position = decoder.raw_decode(text, position)
        except ValueError:
            return [*records, {"event": "unreadable", "line": text[position:]}]
        records.append(record)
    return records


def start_fork_server(context: Context) -> ForkServer:
    server = ForkServer.start(context.database_url, context.document_path)
    context.add_cleanup(server.stop)
    return server


def last_stage(markers: dict[str, dict[str, Any]]) -> str | None:
    reached = [stage for stage in STAGES if stage in markers]
    return reached[-1] if reached else None


# --- What the database holds ------------------------------------------------------------


def session_shapes(context: Context) -> dict[str, tuple[int, int, int | None, int | None, int]]:
    """Per session: message_count, rows, lowest and highest sequence, distinct sequences."""
    statement = (
        select(
            SESSIONS.c.id,
            SESSIONS.c.message_count,
            func.count(MESSAGES.c.id),
            func.min(MESSAGES.c.sequence),
            func.max(MESSAGES.c.sequence),
            func.count(MESSAGES.c.sequence.distinct()),
        )
        .select_from(SESSIONS.outerjoin(MESSAGES, MESSAGES.c.session_id == SESSIONS.c.id))
        .group_by(SESSIONS.c.id, SESSIONS.c.message_count)
    )
    with context.inspection_engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(statement)}


def orphan_message_count(context: Context) -> int:
    statement = (
        select(func.count())
        .select_from(MESSAGES.outerjoin(SESSIONS, SESSIONS.c.id == MESSAGES.c.session_id))
        .where(SESSIONS.c.id.is_(None))
    )
    with context.inspection_engine.connect() as connection:
        return int(connection.execute(statement).scalar_one())


def comparable(document: dict[str, Any]) -> dict[str, Any]:
    """An export document without what differs between copies: ids, export time, checksum."""
    session = {k: v for k, v in document["session"].items() if k != "id"}
    messages = [{k: v for k, v in m.items() if k != "id"} for m in document["messages"]]
    return {"session": session, "messages": messages}


def copy_problems(context: Context, session_id: str) -> list[str]:
    """Why the stored session is not a whole copy of the document (empty when it is)."""
    copy = comparable(context.service.export_session(session_id))
    if copy == context.comparable_document:
        return []
    expected = context.comparable_document
    differing = [
        index
        for index, (got, want) in enumerate(
            zip(copy["messages"], expected["messages"], strict=False)
        )
        if got != want
    ]
    return [
        f"session {session_id}: session fields {copy['session']} vs {expected['session']}, "
        f"{len(copy['messages'])} messages, first differing indexes {differing[:5]}"
    ]


def partial_sessions(context: Context) -> list[str]:
    """Every session that is not whole; new whole sessions are compared with the document."""
    whole = context.document_messages
    problems = []
    for session_id, shape in session_shapes(context).items():
        if shape != (whole, whole, 0, whole - 1, whole):
            problems.append(
                f"session {session_id}: message_count, rows, min, max, distinct = {shape}"
            )
        elif session_id not in context.verified_copies:
            problems.extend(copy_problems(context, session_id))
            context.verified_copies.add(session_id)
    orphans = orphan_message_count(context)
    if orphans:
        problems.append(f"{orphans} message rows have no session")
    return problems


# --- Given ------------------------------------------------------------------------------


def message_text(index: int) -> str:
    return f"message {index}: {SAMPLES[index % len(SAMPLES)]} " + "." * (index % 97)


@given("an export document of a session with {count:CrashSize} messages in the work directory")
def given_export_document(context: Context, count: str) -> None:
    messages = crash_size(context, count)
    created = datetime.now(UTC) - timedelta(days=1)
    session_id = str(ULID())
    session_row = {
        "id": session_id,
        "actor_name": "importer",
        "title": "the document every importer writes",
        "metadata": {"purpose": "torture", "nested": {"list": [1, 2.5, None, "x"]}},
        "message_count": messages,
        "input_tokens": 123_456,
        "output_tokens": 654_321,
        "created_at": created,
        "updated_at": created + timedelta(milliseconds=messages + 1),
    }
    message_rows = [
        {
            "id": str(ULID()),
            "session_id": session_id,
            "sequence": index,
            "role": ROLES[index % len(ROLES)],
            "content": message_text(index),
            "metadata": {"index": index} if index % 3 else {},
            "token_count": None if index % 5 == 0 else index % 1000,
            "created_at": created + timedelta(milliseconds=index, microseconds=7),
        }
        for index in range(messages)
    ]
    # Written with a plain engine so a large session costs one transaction, then exported
    # through the library, which checks it and gives the document its checksum.
    with context.inspection_engine.begin() as connection:
        connection.execute(insert(SESSIONS), session_row)
        connection.execute(insert(MESSAGES), message_rows)
    document = context.service.export_session(session_id)
    path = Path(context.work_directory) / f"export-{session_id}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    context.add_cleanup(path.unlink, missing_ok=True)
    context.original_session_id = session_id
    context.document = document
    context.document_path = path
    context.document_messages = messages
    context.comparable_document = comparable(document)
    context.verified_copies = {session_id}


@given("{count:d} import workers have run to the end untouched, to time the import")
def given_import_timed(context: Context, count: int) -> None:
    server = context.fork_server = start_fork_server(context)
    timings = []
    for _ in range(count):
        child = server.fork()
        released = server.release(child)
        status = server.reap(child)
        markers = server.markers(child)
        assert status == 0 and "done" in markers, f"status {status}, markers {markers}"
        timings.append({stage: markers[stage]["at"] - released for stage in STAGES})
    # The median import sets the kill range: a first, colder import can be much slower.
    context.import_timing = sorted(timings, key=lambda timing: timing["done"])[count // 2]
    context.timed_imports = count
    report(
        f"{context.backend}: median of {count} un-killed imports of "
        f"{context.document_messages} messages: "
        + ", ".join(f"{k} at {v * 1000:.0f} ms" for k, v in context.import_timing.items())
    )
    problems = partial_sessions(context)
    assert not problems, problems


# --- When -------------------------------------------------------------------------------


@when("{count:CrashSize} import workers are each killed with SIGKILL at a random moment")
def when_kill_importers(context: Context, count: str) -> None:
    iterations = crash_size(context, count)
    seed = int(os.environ.get("CLEVERAGENTS_TORTURE_SEED") or random.randrange(2**32))
    chooser = random.Random(seed)
    duration = context.import_timing["done"]
    server: ForkServer = context.fork_server
    context.kill_seed = seed
    context.kills = Counter()
    context.crash_problems = []
    context.finished_imports = []
    started = time.monotonic()
    child = server.fork()
    for iteration in range(iterations):
        delay = chooser.uniform(-EARLY_MARGIN * duration, (1 + LATE_MARGIN) * duration)
        server.release(child)
        if delay > 0:
            time.sleep(delay)
        os.kill(child, signal.SIGKILL)
        status = server.reap(child)
        markers = server.markers(child)
        stage = last_stage(markers)
        context.kills[stage] += 1
        if status not in (0, -signal.SIGKILL) or "error" in markers:
            context.crash_problems.append(f"kill {iteration}: status {status}, {markers}")
        if stage == "done":
            context.finished_imports.append(markers["done"]["session"])
        if iteration + 1 < iterations:
            child = server.fork()  # ready before the next kill, while nothing else runs
        context.crash_problems.extend(
            f"after kill {iteration} ({WHERE_KILLED[stage]}, {delay * 1000:.0f} ms): {problem}"
            for problem in partial_sessions(context)
        )
    context.crash_seconds = time.monotonic() - started
    report(
        f"{context.backend}: {iterations} kills in {context.crash_seconds:.1f} s (seed {seed}): "
        + ", ".join(f"{n} {WHERE_KILLED[stage]}" for stage, n in context.kills.items())
    )


# --- Then -------------------------------------------------------------------------------


@then("after every kill each session in the database was either whole or absent")
def then_whole_or_absent(context: Context) -> None:
    problems = context.crash_problems
    assert not problems, f"seed {context.kill_seed}: {len(problems)} problems:\n" + "\n".join(
        problems[:20]
    )


@then("some kills landed while the import's transaction was being written")
def then_kills_hit_the_window(context: Context) -> None:
    kills = context.kills
    mid_transaction = kills["writing"] + kills["committing"]
    mid_import = mid_transaction + kills["importing"]
    summary = {WHERE_KILLED[stage]: n for stage, n in kills.items()}
    total = sum(kills.values())
    wanted = max(1, total // 20)
    assert mid_transaction >= wanted, f"fewer than {wanted} kills hit the transaction: {summary}"
    assert mid_import * 4 >= total, f"three quarters of the kills missed the import: {summary}"


@then("every import that reported done is stored as a whole copy of the document")
def then_finished_imports_stored(context: Context) -> None:
    shapes = session_shapes(context)
    missing = [sid for sid in context.finished_imports if sid not in shapes]
    assert not missing, f"acknowledged imports lost: {missing}"
    problems = [p for sid in context.finished_imports for p in copy_problems(context, sid)]
    assert not problems, problems


@then("only imports killed while committing left a session besides those")
def then_no_session_from_uncommitted_kills(context: Context) -> None:
    # Besides the original, the timed imports and the finished ones, a session may come only
    # from a kill that landed after COMMIT was sent and before "done" was printed.
    expected = 1 + context.timed_imports + len(context.finished_imports)
    extra = len(session_shapes(context)) - expected
    committing = context.kills["committing"]
    assert 0 <= extra <= committing, (
        f"{extra} sessions from killed imports, but only {committing} kills came after COMMIT"
    )


@then("no message row is left whose session row is gone")
def then_no_orphans(context: Context) -> None:
    orphans = orphan_message_count(context)
    assert orphans == 0, f"{orphans} session_messages rows have no sessions row"


@then("the database's own consistency checks pass")
def then_database_consistent(context: Context) -> None:
    with context.inspection_engine.connect() as connection:
        if context.backend == "sqlite":
            integrity = [row[0] for row in connection.execute(text("PRAGMA integrity_check"))]
            foreign = connection.execute(text("PRAGMA foreign_key_check")).all()
            assert integrity == ["ok"], f"integrity_check: {integrity}"
            assert not foreign, f"foreign_key_check: {foreign}"
        elif context.backend in ("mysql", "mariadb"):
            checked = connection.execute(text("CHECK TABLE sessions, session_messages")).all()
            failing = [row for row in checked if row[2] in ("error", "warning")]
            statuses = [row for row in checked if row[2] == "status"]
            assert not failing and all(row[3] == "OK" for row in statuses), checked
    assert orphan_message_count(context) == 0, "message rows without a session"
