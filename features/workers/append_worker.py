"""A writer process for the concurrency scenarios: appends, token updates, chasing deletes,
creating sessions under chosen ids and popping messages.

Run as ``python append_worker.py MODE --url URL --worker N [options]``. The worker opens its
own service (a lazily filled pool: a single-threaded worker holds at most one connection),
prints ``{"event": "ready"}`` and waits for one line on stdin, so that every worker starts
writing at the same moment. Then it writes one JSON line per call it made:

* ``{"op": "append", "session": ..., "id": ..., "sequence": ..., "content": ..., "start": ...,
  "end": ...}`` for an acknowledged append (``start``/``end``: ``time.monotonic()``, which on
  Linux is one clock for every process on the host);
* ``{"op": "refused", "session": ..., "start": ..., "end": ..., "error": ...}`` when an append
  raised ``SessionNotFoundError`` (``chase`` mode only);
* ``{"op": "tokens", "calls": n}`` once, with the number of acknowledged token updates;
* ``{"event": "error", "type": ..., "message": ...}`` for any other exception, after which the
  worker exits with status 1: the library promised the caller would never see one.

Modes:

``append``  ``--session ID --count N``: N appends to one session.
``scatter`` ``--sessions ID,ID,... --count N --seed S``: N appends, each to a random session.
``tokens``  ``--session ID --count N --appends A``: N token updates of 1 in / 2 out, with A
            appends spread evenly among them.
``chase``   ``--sessions ID,ID,...``: append to each session in turn until it is deleted
            (``SessionNotFoundError``), then move on to the next.
``create``  ``--session PREFIX --count N``: create the sessions PREFIX-0 ... PREFIX-(N-1)
            under those ids, printing ``{"op": "created", "session": ...}`` for each one it
            created and ``{"op": "exists", "session": ...}`` for each refused with
            ``SessionAlreadyExistsError``.
``pop``     ``--session ID``: pop the session's last message until none is left, printing
            ``{"op": "popped", "session": ..., "id": ..., "sequence": ...}`` for each.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Callable
from typing import Any

from cleveragents.application.services import PersistentSessionService
from cleveragents.domain import SessionAlreadyExistsError, SessionMessage, SessionNotFoundError

# A chasing worker gives up on a session after this many acknowledged appends, so a test
# whose deleter died cannot leave it running for ever.
CHASE_LIMIT = 100_000


def emit(record: dict[str, Any]) -> None:
    print(json.dumps(record), flush=True)


def acknowledge(message: SessionMessage, start: float) -> None:
    emit(
        {
            "op": "append",
            "session": message.session_id,
            "id": message.id,
            "sequence": message.sequence,
            "content": message.content,
            "start": start,
            "end": time.monotonic(),
        }
    )


def content(worker: int, index: int) -> str:
    return f"worker {worker} message {index} \N{CHECK MARK}"


def append_one(service: PersistentSessionService, session_id: str, text: str) -> None:
    start = time.monotonic()
    acknowledge(service.append_message(session_id, "user", text), start)


def run_append(service: PersistentSessionService, options: argparse.Namespace) -> None:
    for index in range(options.count):
        append_one(service, options.session, content(options.worker, index))


def run_scatter(service: PersistentSessionService, options: argparse.Namespace) -> None:
    choose = random.Random(options.seed).choice
    sessions = options.sessions.split(",")
    for index in range(options.count):
        append_one(service, choose(sessions), content(options.worker, index))


def run_tokens(service: PersistentSessionService, options: argparse.Namespace) -> None:
    appended = 0
    for index in range(options.count):
        service.update_token_usage(options.session, input_tokens=1, output_tokens=2)
        while appended < (index + 1) * options.appends // options.count:
            append_one(service, options.session, content(options.worker, appended))
            appended += 1
    emit({"op": "tokens", "calls": options.count})


def run_chase(service: PersistentSessionService, options: argparse.Namespace) -> None:
    for session_id in options.sessions.split(","):
        for index in range(CHASE_LIMIT):
            start = time.monotonic()
            try:
                message = service.append_message(session_id, "user", content(options.worker, index))
            except SessionNotFoundError as error:
                end = time.monotonic()
                emit(
                    {
                        "op": "refused",
                        "session": session_id,
                        "start": start,
                        "end": end,
                        "error": str(error),
                    }
                )
                break
            acknowledge(message, start)


def run_create(service: PersistentSessionService, options: argparse.Namespace) -> None:
    for index in range(options.count):
        session_id = f"{options.session}-{index}"
        try:
            service.create(f"worker {options.worker}", session_id=session_id)
        except SessionAlreadyExistsError:
            emit({"op": "exists", "session": session_id})
        else:
            emit({"op": "created", "session": session_id})


def run_pop(service: PersistentSessionService, options: argparse.Namespace) -> None:
    while (message := service.pop_last_message(options.session)) is not None:
        emit(
            {
                "op": "popped",
                "session": message.session_id,
                "id": message.id,
                "sequence": message.sequence,
            }
        )


MODES: dict[str, Callable[[PersistentSessionService, argparse.Namespace], None]] = {
    "append": run_append,
    "scatter": run_scatter,
    "tokens": run_tokens,
    "chase": run_chase,
    "create": run_create,
    "pop": run_pop,
}


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=sorted(MODES))
    parser.add_argument("--url", required=True)
    parser.add_argument("--worker", type=int, required=True)
    parser.add_argument("--session")
    parser.add_argument("--sessions")
    parser.add_argument("--count", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--appends", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    options = parse_arguments(argv)
    with PersistentSessionService.from_url(options.url) as service:
        emit({"event": "ready"})
        sys.stdin.readline()
        try:
            MODES[options.mode](service, options)
        except Exception as error:
            emit({"event": "error", "type": type(error).__qualname__, "message": str(error)})
            return 1
    emit({"event": "done"})
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
