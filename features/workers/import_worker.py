"""An importer process for the crash and concurrent-import scenarios.

``python import_worker.py --url URL --document PATH [--worker N]`` imports once: it reads the
export document's bytes, opens its own service, prints ``ready`` and waits for one line on
stdin before importing.

``python import_worker.py --url URL --document PATH --fork-server`` pays Python's and the
library's start-up once and then serves a crash loop. It reads commands on stdin:

``fork``        fork a fresh importer and print ``forked`` with its ``pid``. The child builds
                its own engine (no connection crosses the fork), prints ``ready`` and waits
                for SIGUSR1 before importing; the test kills it with SIGKILL by pid.
``reap PID``    wait for that child and print ``exited`` with its exit status
                (negative: the signal that killed it).

Every line printed is one JSON object with ``event``, ``pid`` and ``at`` (``time.monotonic()``,
one clock for every process on a Linux host). An importer prints, at each stage of its
import, so that a test which kills it can tell where the kill landed:

``importing``   just before ``import_session`` is called (the document is checked first);
``writing``     when the first INSERT of the import's transaction reaches the driver;
``committing``  when the transaction is about to commit;
``done``        after ``import_session`` returned, with the new session's id;
``error``       when ``import_session`` raised, with the exception's type and message.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event

from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import Database, create_database_engine

RELEASE_SIGNAL = signal.SIGUSR1


def emit(name: str, **fields: Any) -> None:
    """One whole line per write(2): a pipe takes it at once (it is far below PIPE_BUF), so an
    importer killed at any moment has printed a marker entirely or not at all, and no
    buffered output crosses a fork."""
    record = {"event": name, "pid": os.getpid(), "at": time.monotonic(), **fields}
    os.write(sys.stdout.fileno(), (json.dumps(record) + "\n").encode("utf-8"))


def watch_stages(database: Database) -> None:
    """Print ``writing`` at the first INSERT and ``committing`` at the commit."""
    stages: set[str] = set()

    def before_execute(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if "writing" not in stages and statement.lstrip().upper().startswith("INSERT"):
            stages.add("writing")
            emit("writing")

    def before_commit(_connection: Any) -> None:
        if "writing" in stages and "committing" not in stages:
            stages.add("committing")
            emit("committing")

    event.listen(database.engine, "before_cursor_execute", before_execute)
    event.listen(database.engine, "commit", before_commit)


def import_once(url: str, document: bytes, wait_for_release: Callable[[], object]) -> int:
    """Open a service, say ready, wait to be released, import; the process's exit status."""
    database = Database(create_database_engine(url))
    watch_stages(database)
    with PersistentSessionService(database) as service:
        emit("ready")
        wait_for_release()
        emit("importing")
        try:
            session = service.import_session(document)
        except Exception as error:
            emit("error", type=type(error).__qualname__, message=str(error))
            return 1
        emit("done", session=session.id, message_count=session.message_count)
    return 0


def serve_forks(url: str, document: bytes) -> int:
    # Blocked here, SIGUSR1 stays pending in each child until it waits for it.
    signal.pthread_sigmask(signal.SIG_BLOCK, {RELEASE_SIGNAL})
    for line in sys.stdin:
        command, *arguments = line.split()
        if command == "fork":
            child = os.fork()
            if child == 0:
                status = 1
                try:
                    status = import_once(url, document, lambda: signal.sigwait({RELEASE_SIGNAL}))
                finally:
                    os._exit(status)
            emit("forked", child=child)
        elif command == "reap":
            child = int(arguments[0])
            _, status = os.waitpid(child, 0)
            emit("exited", child=child, status=os.waitstatus_to_exitcode(status))
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--document", type=Path, required=True)
    parser.add_argument("--worker", type=int, default=0)
    parser.add_argument("--fork-server", action="store_true")
    options = parser.parse_args(argv)
    document = options.document.read_bytes()
    if options.fork_server:
        return serve_forks(options.url, document)
    return import_once(options.url, document, sys.stdin.readline)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
