"""Per-call cost of each target workload, library beside its raw baseline, and where it goes.

    python -m benchmarks.profile_calls                       # ratios, SQLite temp file
    python -m benchmarks.profile_calls --profile append      # cProfile of one workload
    CLEVERAGENTS_TEST_DATABASE_URL=postgresql+psycopg://... python -m benchmarks.profile_calls

A quicker companion to ``targets_bench``: the same fixtures, the same raw baseline, the same
result checks, but library and baseline calls alternate in one loop (so a busy moment slows
both alike) and the figures are medians of the interleaved samples. ``--profile`` runs the
library's side of one workload under cProfile and prints the functions by own time, which
is how ``docs/performance.md`` finds the fixed per-call cost.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from cleveragents.infrastructure.database.repositories.repository import Repository

from . import _support as support
from ._support import conversation, expect, message_content

WORKLOADS = (
    "create",
    "append",
    "latest_50",
    "full_history",
    "first_page",
    "deep_page",
    "import",
)
HISTORY = 2_000
LONG = 10_000
SESSIONS = 20_000
IMPORTED = 10_000
PAGE = 50


def _calls(env: support.Environment, workload: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    """The library's call and the baseline's, each checking its own result."""
    service, raw, fixtures, actor = env.service, env.raw, env.fixtures, env.actor_name

    def long_session(size: int) -> str:
        def build() -> str:
            session_id = fixtures.load_session(actor, conversation(size), message_count=size)
            fixtures.settle()
            return session_id

        return env.memo(("session", size), build)

    if workload == "create":
        return (
            lambda: expect(bool(service.create(actor, title="t").id), "no session"),
            lambda: expect(bool(raw.create_session(actor, title="t")), "no session"),
        )
    if workload == "append":
        target = long_session(100)
        text = message_content(7)
        return (
            lambda: expect(
                service.append_message(target, "user", text, token_count=12).sequence >= 100,
                "not appended",
            ),
            lambda: expect(
                raw.append(target, "user", text, {}, 12).sequence >= 100, "not appended"
            ),
        )
    if workload == "latest_50":
        target = long_session(LONG)

        def check(window: list[Any]) -> None:
            expect(len(window) == PAGE and window[-1].sequence == LONG - 1, "wrong window")

        return (
            lambda: check(service.get_messages(target, last=PAGE)),
            lambda: check(raw.latest(target, PAGE)),
        )
    if workload == "full_history":
        target = long_session(HISTORY)

        def whole(history: list[Any]) -> None:
            expect(len(history) == HISTORY and history[-1].sequence == HISTORY - 1, "not whole")

        return (
            lambda: whole(service.get_messages(target)),
            lambda: whole(raw.history(target)),
        )
    if workload in ("first_page", "deep_page"):

        def build() -> None:
            fixtures.load_sessions(actor, SESSIONS, start=datetime.now(UTC) - timedelta(days=3))
            fixtures.settle()

        env.memo(("sessions",), build)
        skipped = round(SESSIONS * 0.9) if workload == "deep_page" else 0
        first_id = fixtures.position(actor, skipped)[1]
        cursor = None
        if skipped:
            walked = service.list(limit=skipped, actor_name=actor)
            cursor = walked.next_cursor
        after = fixtures.position(actor, skipped - 1) if skipped else None

        def starts(page: Any) -> None:
            expect(len(page) == PAGE and page[0].id == first_id, "wrong page")

        return (
            lambda: starts(service.list(limit=PAGE, actor_name=actor, cursor=cursor)),
            lambda: starts(raw.list_page(actor, PAGE, after)),
        )
    if workload == "import":
        source = long_session(IMPORTED)
        document = service.export_session(source)
        return (
            lambda: expect(service.import_session(document).message_count == IMPORTED, "short"),
            lambda: expect(bool(raw.import_document(document)), "no import"),
        )
    raise ValueError(workload)


def _rounds(workload: str) -> int:
    return {"import": 8, "full_history": 60}.get(workload, 400)


def measure(env: support.Environment, workload: str) -> tuple[float, float]:
    """Medians (seconds) of the library's call and the baseline's, interleaved."""
    library, raw = _calls(env, workload)
    for _ in range(5):
        library()
        raw()
    library_times: list[float] = []
    raw_times: list[float] = []
    clock = time.perf_counter
    for index in range(_rounds(workload)):
        pair = ((library, library_times), (raw, raw_times))
        for call, times in pair if index % 2 else reversed(pair):
            start = clock()
            call()
            times.append(clock() - start)
    return statistics.median(library_times), statistics.median(raw_times)


# Where a function's own time goes, by the file it lives in (first match wins).
CATEGORIES = (
    ("database and driver", ("sqlite3.", "psycopg", "pymysql", "select.", "socket")),
    (
        "decoding and encoding values",
        (
            "type_api.py",
            "sqltypes.py",
            "/dialects/",
            "column_types.py",
            "entity_mapping.py",
            "json/",
            "datetime",
            "_processors",
            "re.Pattern",
            "result.py",
            "domain/session.py",
        ),
    ),
    ("SQLAlchemy statement execution", ("sqlalchemy/",)),
    ("the library's own work", ("cleveragents/", "ulid", "contextlib", "contextvars")),
)


def categorized(stats: pstats.Stats) -> list[tuple[str, float]]:
    """Own time summed by :data:`CATEGORIES`, largest first."""
    totals: dict[str, float] = {}
    for (filename, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        where = f"{filename}:{function}"
        name = next(
            (label for label, needles in CATEGORIES if any(n in where for n in needles)),
            "other",
        )
        totals[name] = totals.get(name, 0.0) + row[2]
    return sorted(totals.items(), key=lambda item: -item[1])


def profile(env: support.Environment, workload: str, lines: int) -> str:
    """cProfile of the library's side of ``workload``, by own time, per call."""
    library, _raw = _calls(env, workload)
    for _ in range(5):
        library()
    rounds = _rounds(workload)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(rounds):
        library()
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    print(f"{workload}: {rounds} calls", file=out)
    total = sum(seconds for _name, seconds in categorized(stats))
    for name, seconds in categorized(stats):
        print(
            f"  {name:<32} {seconds / rounds * 1e6:9.1f} µs/call {seconds / total:6.1%}",
            file=out,
        )
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumulative").print_stats(lines)
    return out.getvalue()


def single_reads(env: support.Environment) -> list[str]:
    """Reads of one statement with and without a transaction around them, interleaved in one
    process on the same rows: the gain of :meth:`Repository.single_statement` alone."""
    service = env.service
    without_transaction = Repository.single_statement

    @contextmanager
    def in_transaction(repository: Repository) -> Iterator[Connection]:
        with repository._database.transaction(write=False) as connection:
            yield connection

    deep_page = _calls(env, "deep_page")[0]
    latest = _calls(env, "latest_50")[0]
    session_id = service.create(env.actor_name).id
    reads = {
        "get": lambda: expect(service.get(session_id) is not None, "no session"),
        "latest_50": latest,
        "deep_page": deep_page,
    }
    lines = []
    for name, read in reads.items():
        samples: dict[bool, list[float]] = {True: [], False: []}
        for index in range(600):
            for single in (True, False) if index % 2 else (False, True):
                chosen: Any = without_transaction if single else in_transaction
                Repository.single_statement = chosen  # type: ignore[method-assign]
                start = time.perf_counter()
                read()
                samples[single].append(time.perf_counter() - start)
        Repository.single_statement = without_transaction  # type: ignore[method-assign]
        single_median = statistics.median(samples[True])
        wrapped_median = statistics.median(samples[False])
        lines.append(
            f"{name:<13} one statement {single_median * 1e6:8.1f} µs   in a transaction "
            f"{wrapped_median * 1e6:8.1f} µs   ratio {single_median / wrapped_median:5.2f}x"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workloads", nargs="*", help=f"any of {', '.join(WORKLOADS)} (all)")
    parser.add_argument("--profile", action="store_true", help="cProfile the library's side")
    parser.add_argument("--lines", type=int, default=30)
    parser.add_argument(
        "--single-reads",
        action="store_true",
        help="reads of one statement with and without a transaction, interleaved",
    )
    arguments = parser.parse_args()
    env = support.environment()
    print(f"backend: {env.backend}")
    if arguments.single_reads:
        print("\n".join(single_reads(env)))
        return
    for workload in arguments.workloads or WORKLOADS:
        if arguments.profile:
            print(profile(env, workload, arguments.lines))
            continue
        library, raw = measure(env, workload)
        print(
            f"{workload:<13} library {library * 1e3:9.3f} ms   raw {raw * 1e3:9.3f} ms"
            f"   ratio {library / raw:5.2f}x"
        )


if __name__ == "__main__":
    main()
