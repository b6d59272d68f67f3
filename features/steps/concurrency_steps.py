"""Steps that run many writers at once against the run's database and check what survived.

Writers are processes running ``features/workers/*.py``, forked from a server that has
imported the library (``preloaded_processes``) and released together once all are ready;
each prints a JSON line per call it made. Sizes written as ``$NAME`` in the feature come from
the environment (see the feature's description).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from behave import given, register_type, then, when
from behave.runner import Context
from parse import with_pattern
from preloaded_processes import PreloadedProcess
from sqlalchemy import Table, select

from cleveragents.infrastructure.database import SessionMessageModel, SessionModel

WORKERS = Path(__file__).resolve().parent.parent / "workers"
SESSIONS = cast(Table, SessionModel.__table__)
MESSAGES = cast(Table, SessionMessageModel.__table__)
SIZES = {
    "$PROCESSES": ("CLEVERAGENTS_TORTURE_PROCESSES", 8),
    "$APPENDS": ("CLEVERAGENTS_TORTURE_APPENDS", 250),
    "$SESSIONS": ("CLEVERAGENTS_TORTURE_SESSIONS", 50),
    "$THREADS": ("CLEVERAGENTS_TORTURE_THREADS", 32),
    "$THREAD_APPENDS": ("CLEVERAGENTS_TORTURE_THREAD_APPENDS", 50),
    "$TOKEN_UPDATES": ("CLEVERAGENTS_TORTURE_TOKEN_UPDATES", 1000),
    "$DOOMED_SESSIONS": ("CLEVERAGENTS_TORTURE_DOOMED_SESSIONS", 20),
}
TIMEOUT = float(os.environ.get("CLEVERAGENTS_TORTURE_TIMEOUT") or 300)
GATHER_SECONDS = 0.2
Acknowledgement = tuple[str, str, int, str]  # session id, message id, sequence, content


@with_pattern(r"\$[A-Z_]+(?: x \$[A-Z_]+)*")
def torture_size(expression: str) -> int:
    """``$NAME`` or a product ``$NAME x $OTHER``, each name read from the environment."""
    product = 1
    for name in expression.split(" x "):
        if name not in SIZES:
            raise ValueError(f"unknown size {name}; known: {', '.join(sorted(SIZES))}")
        variable, default = SIZES[name]
        value = int(os.environ.get(variable) or default)
        if value < 1:
            raise ValueError(f"{variable} must be a positive integer, got {value}")
        product *= value
    return product


register_type(Torture=torture_size)


def report(line: str) -> None:
    """Show a measurement even though behave captures the steps' output."""
    print(f"    [torture] {line}", file=sys.__stderr__, flush=True)


# --- Worker processes -------------------------------------------------------------------


@dataclass
class Worker:
    """One worker process, the JSON lines it printed so far and its stderr."""

    name: str
    process: PreloadedProcess
    records: list[dict[str, Any]] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    ready: threading.Event = field(default_factory=threading.Event)
    readers: list[threading.Thread] = field(default_factory=list)
    sessions_reached: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, name: str, script: str, arguments: list[str]) -> Worker:
        worker = cls(name, PreloadedProcess(WORKERS / script, arguments))
        worker.readers = [
            threading.Thread(target=worker._read_records, daemon=True),
            threading.Thread(target=worker._read_stderr, daemon=True),
        ]
        for reader in worker.readers:
            reader.start()
        return worker

    def _read_records(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                record = json.loads(line)
            except ValueError:
                record = {"event": "error", "type": "unreadable output", "message": line}
            self.records.append(record)
            if "session" in record:
                self.sessions_reached.add(record["session"])
            if record.get("event") == "ready":
                self.ready.set()
        self.ready.set()  # no more output: nobody may wait for this worker any longer

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        self.stderr.extend(self.process.stderr)

    def of(self, op: str) -> list[dict[str, Any]]:
        return [record for record in self.records if record.get("op") == op]

    def errors(self) -> list[str]:
        found = [
            f"{self.name}: {record.get('type')}: {record.get('message')}"
            for record in self.records
            if record.get("event") == "error"
        ]
        if self.process.poll() != 0:
            tail = "".join(self.stderr[-15:])
            found.append(f"{self.name} exited with {self.process.returncode}:\n{tail}")
        return found

    def retry_warnings(self) -> int:
        return sum("transient database error" in line for line in self.stderr)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(TIMEOUT)
        if self.process.stdin is not None and not self.process.stdin.closed:
            self.process.stdin.close()


def start_workers(context: Context, script: str, commands: list[list[str]]) -> list[Worker]:
    """Start one worker per argument list, wait until all are ready, then release them all."""
    workers = []
    for number, arguments in enumerate(commands):
        common = ["--url", context.database_url, "--worker", str(number)]
        worker = Worker.start(f"worker {number}", script, [*arguments, *common])
        context.add_cleanup(worker.stop)
        workers.append(worker)
    deadline = time.monotonic() + TIMEOUT
    for worker in workers:
        worker.ready.wait(max(0.0, deadline - time.monotonic()))
        assert any(r.get("event") == "ready" for r in worker.records), worker.errors()
    for worker in workers:
        assert worker.process.stdin is not None
        worker.process.stdin.write("go\n")
        worker.process.stdin.close()
    context.workers = workers
    context.started_at = time.monotonic()
    return workers


def finish_workers(context: Context, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    for worker in context.workers:
        try:
            worker.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            worker.stop()
        for reader in worker.readers:
            reader.join(TIMEOUT)
    seconds = time.monotonic() - context.started_at
    retries = sum(worker.retry_warnings() for worker in context.workers)
    slowest = max(
        (r["end"] - r["start"] for w in context.workers for r in w.records if "start" in r),
        default=0.0,
    )
    latency = f", slowest append {slowest * 1000:.0f} ms" if slowest else ""
    report(
        f"{context.backend}: {what} in {seconds:.1f} s ({retries} retried transactions{latency})"
    )
    context.acknowledged = [
        (record["session"], record["id"], record["sequence"], record["content"])
        for worker in context.workers
        for record in worker.of("append")
    ]
    context.caller_errors = [error for worker in context.workers for error in worker.errors()]


def wait_until(condition: Callable[[], bool], seconds: float = TIMEOUT) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def stored_shapes(context: Context) -> dict[str, tuple[int, list[int]]]:
    """Per session: its message_count and the sequences of its stored rows, in order."""
    shapes: dict[str, tuple[int, list[int]]] = {}
    with context.inspection_engine.connect() as connection:
        for session_id, count in connection.execute(
            select(SESSIONS.c.id, SESSIONS.c.message_count)
        ):
            shapes[session_id] = (count, [])
        rows = connection.execute(
            select(MESSAGES.c.session_id, MESSAGES.c.sequence).order_by(
                MESSAGES.c.session_id, MESSAGES.c.sequence
            )
        )
        for session_id, sequence in rows:
            shapes.setdefault(session_id, (-1, []))[1].append(sequence)
    return shapes


# --- Given ------------------------------------------------------------------------------


@given('{count:Torture} sessions for actor "{actor}"')
def given_sized_sessions(context: Context, count: int, actor: str) -> None:
    context.sessions = [context.service.create(actor) for _ in range(count)]


# --- When -------------------------------------------------------------------------------


@when("{processes:Torture} worker processes each append {appends:Torture} messages to that session")
def when_processes_append(context: Context, processes: int, appends: int) -> None:
    command = ["append", "--session", context.session.id, "--count", str(appends)]
    start_workers(context, "append_worker.py", [command] * processes)
    finish_workers(context, f"{processes} processes x {appends} appends to one session")


@when(
    "{processes:Torture} worker processes each append {appends:Torture} messages, "
    "each to a random one of those sessions"
)
def when_processes_scatter(context: Context, processes: int, appends: int) -> None:
    seed = int(os.environ.get("CLEVERAGENTS_TORTURE_SEED") or random.randrange(2**32))
    sessions = ",".join(session.id for session in context.sessions)
    commands = [
        ["scatter", "--sessions", sessions, "--count", str(appends), "--seed", str(seed + n)]
        for n in range(processes)
    ]
    start_workers(context, "append_worker.py", commands)
    finish_workers(
        context,
        f"{processes} processes x {appends} appends over {len(context.sessions)} sessions "
        f"(seed {seed})",
    )


@when(
    "{processes:Torture} worker processes each add 1 input and 2 output tokens {updates:Torture} "
    "times, with {appends:Torture} appends spread among the updates"
)
def when_processes_count_tokens(
    context: Context, processes: int, updates: int, appends: int
) -> None:
    command = [
        "tokens",
        "--session",
        context.session.id,
        "--count",
        str(updates),
        "--appends",
        str(appends),
    ]
    start_workers(context, "append_worker.py", [command] * processes)
    finish_workers(
        context, f"{processes} processes x ({updates} token updates + {appends} appends)"
    )
    context.token_calls = sum(r["calls"] for w in context.workers for r in w.of("tokens"))


@when(
    "{threads:Torture} threads sharing the scenario's service each append "
    "{appends:Torture} messages to that session"
)
def when_threads_append(context: Context, threads: int, appends: int) -> None:
    service, session_id = context.service, context.session.id
    barrier = threading.Barrier(threads)
    acknowledged: list[Acknowledgement] = []
    errors: list[str] = []

    def append(writer: int) -> None:
        try:
            barrier.wait(TIMEOUT)
            for index in range(appends):
                message = service.append_message(session_id, "user", f"thread {writer} #{index}")
                acknowledged.append((session_id, message.id, message.sequence, message.content))
        except Exception as error:
            errors.append(f"thread {writer}: {type(error).__qualname__}: {error}")

    started = time.monotonic()
    workers = [threading.Thread(target=append, args=(n,), daemon=True) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(TIMEOUT)
    stuck = sum(worker.is_alive() for worker in workers)
    report(
        f"{context.backend}: {threads} threads x {appends} appends through one service "
        f"in {time.monotonic() - started:.1f} s"
    )
    context.acknowledged = acknowledged
    context.caller_errors = errors + ([f"{stuck} threads still running"] if stuck else [])


@when(
    "{processes:Torture} worker processes keep appending to each of those sessions in turn "
    "while I delete them one by one"
)
def when_delete_under_appends(context: Context, processes: int) -> None:
    seed = int(os.environ.get("CLEVERAGENTS_TORTURE_SEED") or random.randrange(2**32))
    chooser = random.Random(seed)
    ids = [session.id for session in context.sessions]
    command = ["chase", "--sessions", ",".join(ids)]
    workers = start_workers(context, "append_worker.py", [command] * processes)
    context.deletes = {}
    for session_id in ids:
        # Appends are landing on the session, from every worker that got there within a
        # moment of the first (SQLite does not queue writers fairly), when it is deleted.
        def reached(session_id: str = session_id) -> int:
            return sum(session_id in worker.sessions_reached for worker in workers)

        def all_exited() -> bool:
            return all(worker.process.poll() is not None for worker in workers)

        wait_until(lambda: reached() > 0 or all_exited())
        assert reached() > 0, f"no worker reached {session_id}: {[w.errors() for w in workers]}"
        wait_until(lambda: reached() == len(workers) or all_exited(), GATHER_SECONDS)
        time.sleep(chooser.uniform(0, 0.02))
        called = time.monotonic()
        deleted = context.service.delete(session_id)
        context.deletes[session_id] = (called, time.monotonic(), deleted)
    finish_workers(context, f"{processes} processes chasing {len(ids)} sessions deleted under them")
    context.refusals = [record for worker in workers for record in worker.of("refused")]
    context.appends = [record for worker in workers for record in worker.of("append")]
    waits = sorted(returned - called for called, returned, _ in context.deletes.values())
    report(
        f"{context.backend}: {len(context.appends)} appends acknowledged before the deletes, "
        f"{len(context.refusals)} refused with SessionNotFoundError; each delete took "
        f"{waits[len(waits) // 2] * 1000:.0f} ms (median), {waits[-1] * 1000:.0f} ms at most "
        f"(seed {seed})"
    )


@when("{processes:Torture} worker processes import that document at once")
def when_processes_import(context: Context, processes: int) -> None:
    context.export_before = context.service.export_session(context.original_session_id)
    command = ["--document", str(context.document_path)]
    workers = start_workers(context, "import_worker.py", [command] * processes)
    finish_workers(context, f"{processes} concurrent imports of one document")
    context.imported_ids = [
        record["session"]
        for worker in workers
        for record in worker.records
        if record.get("event") == "done"
    ]


# --- Then -------------------------------------------------------------------------------


@then("no caller saw an error")
@then("no caller saw any error but SessionNotFoundError")
def then_no_caller_error(context: Context) -> None:
    errors = context.caller_errors
    assert not errors, f"{len(errors)} errors reached callers:\n" + "\n".join(errors[:10])


@then("the session holds {count:Torture} messages with sequences 0 upward and no duplicate")
def then_session_contiguous(context: Context, count: int) -> None:
    message_count, sequences = stored_shapes(context).get(context.session.id, (-1, []))
    duplicates = [s for s, n in Counter(sequences).items() if n > 1]
    gaps = sorted(set(range(count)) - set(sequences))
    assert sequences == list(range(count)) and message_count == count, (
        f"message_count {message_count}, {len(sequences)} rows, duplicates {duplicates[:10]}, "
        f"missing {gaps[:10]}, beyond {[s for s in sequences if s >= count][:10]}"
    )
    read = context.service.get_messages(context.session.id)
    assert [m.sequence for m in read] == sequences, "the service reads other rows than stored"


@then("every acknowledged message is stored with its sequence and content")
def then_acknowledged_stored(context: Context) -> None:
    with context.inspection_engine.connect() as connection:
        rows = connection.execute(
            select(MESSAGES.c.session_id, MESSAGES.c.id, MESSAGES.c.sequence, MESSAGES.c.content)
        )
        stored = {tuple(row) for row in rows}
    acknowledged = context.acknowledged
    missing = [ack for ack in acknowledged if ack not in stored]
    assert not missing, f"{len(missing)} acknowledged but not stored: {missing[:5]}"
    taken = Counter((session_id, sequence) for session_id, _, sequence, _ in acknowledged)
    twice = [key for key, n in taken.items() if n > 1]
    assert not twice, f"one sequence acknowledged to two callers: {twice[:5]}"


@then(
    "every session's messages have sequences 0 upward with no gap or duplicate, "
    "matching its message_count"
)
def then_every_session_contiguous(context: Context) -> None:
    broken = {
        session_id: (count, sequences[:10], len(sequences))
        for session_id, (count, sequences) in stored_shapes(context).items()
        if sequences != list(range(count))
    }
    assert not broken, f"sessions with gaps, duplicates or wrong counts: {broken}"


@then("the sessions hold {count:Torture} messages in all, as many as were acknowledged")
def then_total_messages(context: Context, count: int) -> None:
    stored = sum(len(sequences) for _, sequences in stored_shapes(context).values())
    assert stored == count == len(context.acknowledged), (stored, count, len(context.acknowledged))
    touched = {session_id for session_id, *_ in context.acknowledged}
    report(f"{len(touched)} of {len(context.sessions)} sessions received appends")


@then(
    "the session's token totals are {updates:Torture} in, twice that out "
    "and three times that in all"
)
def then_token_totals(context: Context, updates: int) -> None:
    session = context.service.get(context.session.id)
    seen = (session.input_tokens, session.output_tokens, session.total_tokens)
    assert context.token_calls == updates, f"{context.token_calls} updates acknowledged"
    assert seen == (updates, 2 * updates, 3 * updates), f"totals {seen} after {updates} updates"


@then("every delete reported True and took the session with it")
def then_deletes_complete(context: Context) -> None:
    failed = [sid for sid, (_, _, deleted) in context.deletes.items() if deleted is not True]
    assert not failed, f"delete did not report True for {failed}"
    left = {
        session_id: f"message_count {count}, {len(sequences)} message rows"
        for session_id, (count, sequences) in stored_shapes(context).items()
        if session_id in context.deletes
    }
    assert not left, f"deleted sessions still in the database (-1: no sessions row): {left}"


@then("every acknowledged append began before its session's delete returned")
def then_acknowledged_before_delete(context: Context) -> None:
    late = [
        record
        for record in context.appends
        if record["start"] >= context.deletes[record["session"]][1]
    ]
    assert not late, f"appends acknowledged though called after the delete: {late[:5]}"


@then("every refused append ended after its session's delete was called")
def then_refused_after_delete(context: Context) -> None:
    early = [
        record
        for record in context.refusals
        if record["end"] <= context.deletes[record["session"]][0]
    ]
    assert not early, f"appends refused before the delete was called: {early[:5]}"
    per_session = Counter(record["session"] for record in context.refusals)
    expected = len(context.workers)
    wrong = {sid: per_session[sid] for sid in context.deletes if per_session[sid] != expected}
    assert not wrong, f"each worker should be refused once per session: {wrong}"


@then("each deleted session's acknowledged sequences ran from 0 with no gap or duplicate")
def then_acknowledged_sequences_contiguous(context: Context) -> None:
    taken: dict[str, list[int]] = defaultdict(list)
    for record in context.appends:
        taken[record["session"]].append(record["sequence"])
    assert taken, "no append was acknowledged, so there is no sequence to check"
    broken = {
        sid: sorted(sequences)[:20]
        for sid, sequences in taken.items()
        if sorted(sequences) != list(range(len(sequences)))
    }
    assert not broken, f"acknowledged sequences with gaps or duplicates: {broken}"
    assert set(taken) == set(context.deletes), "some session got no append before its delete"


@then("there are {count:Torture} new sessions, each a whole copy of the document")
def then_import_copies(context: Context, count: int) -> None:
    ids = context.imported_ids
    assert len(ids) == count == len(set(ids)), f"{len(ids)} imports reported, ids {ids}"
    assert context.original_session_id not in ids
    shapes = stored_shapes(context)
    assert set(shapes) == {context.original_session_id, *ids}, f"sessions: {sorted(shapes)}"
    whole = context.document_messages
    for session_id in ids:
        message_count, sequences = shapes[session_id]
        assert message_count == whole and sequences == list(range(whole)), (
            f"{session_id}: message_count {message_count}, {len(sequences)} rows"
        )
        copy = context.service.export_session(session_id)
        session = {key: value for key, value in copy["session"].items() if key != "id"}
        messages = [
            {key: value for key, value in m.items() if key != "id"} for m in copy["messages"]
        ]
        assert session == context.comparable_document["session"], f"{session_id}: {session}"
        assert messages == context.comparable_document["messages"], f"{session_id}: messages"


@then("the original session's export is unchanged")
def then_original_export_unchanged(context: Context) -> None:
    after = context.service.export_session(context.original_session_id)
    before = context.export_before
    for key in ("session", "messages", "checksum"):
        assert after[key] == before[key] == context.document[key], f"{key} changed"


# --- Caller ids and pops ----------------------------------------------------------------


@when(
    '{processes:Torture} worker processes each create the sessions "{prefix}-0" to '
    '"{last_id}" at once'
)
def when_processes_create(context: Context, processes: int, prefix: str, last_id: str) -> None:
    count = int(last_id.removeprefix(f"{prefix}-")) + 1
    command = ["create", "--session", prefix, "--count", str(count)]
    start_workers(context, "append_worker.py", [command] * processes)
    finish_workers(context, f"{processes} processes x {count} creates of the same ids")
    context.race_ids = [f"{prefix}-{index}" for index in range(count)]


@then(
    "each of those {count:d} ids was created by exactly one process and refused as existing "
    "to every other"
)
def then_created_once(context: Context, count: int) -> None:
    assert len(context.race_ids) == count
    for session_id in context.race_ids:
        created = [
            w.name for w in context.workers if {"op": "created", "session": session_id} in w.records
        ]
        refused = [
            w.name for w in context.workers if {"op": "exists", "session": session_id} in w.records
        ]
        assert len(created) == 1, f"{session_id} created by {created}"
        assert len(refused) == len(context.workers) - 1, f"{session_id} refused to {refused}"


@then("exactly those {count:d} sessions are stored, each owned by the process that created it")
def then_race_sessions_stored(context: Context, count: int) -> None:
    with context.inspection_engine.connect() as connection:
        stored = dict(connection.execute(select(SESSIONS.c.id, SESSIONS.c.actor_name)).all())
    assert sorted(stored) == sorted(context.race_ids) and len(stored) == count, sorted(stored)
    for number, worker in enumerate(context.workers):
        for record in worker.of("created"):
            owner = stored[record["session"]]
            assert owner == f"worker {number}", f"{record['session']} belongs to {owner}"


@when("{processes:Torture} worker processes each pop that session's last message until it is empty")
def when_processes_pop(context: Context, processes: int) -> None:
    command = ["pop", "--session", context.session.id]
    start_workers(context, "append_worker.py", [command] * processes)
    finish_workers(context, f"{processes} processes popping one session")


@then("every one of its {count:d} messages was popped by exactly one process")
def then_popped_once_by_processes(context: Context, count: int) -> None:
    popped = [record["id"] for worker in context.workers for record in worker.of("popped")]
    assert len(popped) == count, f"{len(popped)} pops acknowledged"
    assert len(set(popped)) == count, "a message was popped twice"
    sequences = sorted(r["sequence"] for w in context.workers for r in w.of("popped"))
    assert sequences == list(range(count)), sequences
