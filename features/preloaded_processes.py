"""Worker scripts run in processes forked from one that has already imported the library.

Started as ``python script.py``, a worker spends about half a second of CPU importing
SQLAlchemy, the drivers and the library before its first statement (over a second with ADK),
and the concurrency scenarios start a hundred or more per backend. :class:`PreloadedProcess`
has multiprocessing's fork server fork them instead: the server imports those modules once per
test process, and each worker is still a process of its own, with its own connections, its own
standard streams and the test process's current environment, killed and waited for like the
child of ``subprocess.Popen`` it stands in for.
"""

from __future__ import annotations

import multiprocessing
import os
import runpy
import subprocess
import sys
import threading
from multiprocessing import reduction
from pathlib import Path
from typing import IO, Any

PRELOADED_MODULES = [
    "behave.__main__",  # the test process's main module, which each child imports again
    "sqlalchemy",
    "psycopg",
    "pymysql",
    "cleveragents.application.services",
    "cleveragents.infrastructure.database",
    "cleveragents.integrations.adk",
]

_forking = multiprocessing.get_context("forkserver")
_forking.set_forkserver_preload(PRELOADED_MODULES)


class _PassedDescriptor:
    """A file descriptor that travels to the forked process with the call's arguments."""

    def __init__(self, descriptor: int) -> None:
        self.descriptor = descriptor

    def __reduce__(self) -> tuple[Any, tuple[Any]]:
        # Pickled while the process starts: multiprocessing sends the descriptor itself.
        return (_received_descriptor, (reduction.DupFd(self.descriptor),))


def _received_descriptor(duplicate: Any) -> int:
    descriptor: int = duplicate.detach()
    return descriptor


def _run_script(
    script: str, arguments: list[str], environment: dict[str, str], streams: list[int]
) -> None:
    """In the forked process: take the streams and environment, then run the script as
    ``python script.py ARGUMENTS`` would (its exit status becomes the process's)."""
    for standard, descriptor in enumerate(streams):
        os.dup2(descriptor, standard)
        os.close(descriptor)
    sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - the process's own
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False, buffering=1)  # noqa: SIM115
    os.environ.clear()
    os.environ.update(environment)
    sys.argv = [script, *arguments]
    sys.path.insert(0, str(Path(script).parent))
    runpy.run_path(script, run_name="__main__")


class PreloadedProcess:
    """``python SCRIPT ARGUMENTS`` in a process forked from the preloaded server, with the
    part of ``subprocess.Popen`` (text mode, three pipes) that the steps use."""

    def __init__(self, script: Path, arguments: list[str]) -> None:
        self.args = [str(script), *arguments]
        child_stdin, stdin = os.pipe()
        stdout, child_stdout = os.pipe()
        stderr, child_stderr = os.pipe()
        ends = [child_stdin, child_stdout, child_stderr]
        self._process = _forking.Process(
            target=_run_script,
            args=(str(script), arguments, dict(os.environ), [_PassedDescriptor(e) for e in ends]),
        )
        try:
            self._process.start()
        finally:
            for end in ends:
                os.close(end)
        self.pid = self._process.pid
        self.returncode: int | None = None
        self.stdin: IO[str] = open(stdin, "w", encoding="utf-8")  # noqa: SIM115
        self.stdout: IO[str] = open(stdout, encoding="utf-8")  # noqa: SIM115
        self.stderr: IO[str] = open(stderr, encoding="utf-8")  # noqa: SIM115

    def poll(self) -> int | None:
        self.returncode = self._process.exitcode
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self.poll() is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        assert self.returncode is not None
        return self.returncode

    def kill(self) -> None:
        self._process.kill()

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Close stdin, read both outputs to their end and wait for the exit."""
        if not self.stdin.closed:
            self.stdin.close()
        errors: list[str] = []
        reader = threading.Thread(target=lambda: errors.append(self.stderr.read()), daemon=True)
        reader.start()
        output = self.stdout.read()
        reader.join(timeout)
        self.wait(timeout)
        return output, "".join(errors)
