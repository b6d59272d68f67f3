"""Progress bars for long transfers: Rich, on stderr, and only where someone watches.

Stdout stays the command's answer, which scripts capture (``ID=$(cleveragents sessions
import FILE)``); on a pipe or a file no bar is drawn at all, so logs get no control codes
and errors no stray blank line before them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

# Below these a transfer is over before a bar would be worth drawing.
PROGRESS_MIN_BYTES = 4 * 1024 * 1024
PROGRESS_MIN_MESSAGES = 10_000
PROGRESS_MIN_SESSIONS = 1_000


def watched() -> bool:
    """True when stderr is a terminal."""
    return sys.stderr.isatty()


@contextmanager
def progress_bar(
    description: str, *, total: float | None, unit_bytes: bool
) -> Iterator[Callable[[float], None]]:
    """A bar on stderr for the duration of the block; yields the function that advances it."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    amount = DownloadColumn() if unit_bytes else MofNCompleteColumn()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        amount,
        TimeElapsedColumn(),
        console=Console(stderr=True),
        transient=True,
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda done: progress.advance(task, done)


class CountingReader:
    """A binary file whose reads advance a progress bar by the bytes read."""

    def __init__(self, file: BinaryIO, advance: Callable[[float], None]) -> None:
        self._file, self._advance = file, advance

    def read(self, size: int = -1) -> bytes:
        data = self._file.read(size)
        self._advance(len(data))
        return data

    def fileno(self) -> int:
        """The file's descriptor, so the import can check the file's size before reading."""
        return self._file.fileno()


class CountingWriter:
    """A binary file whose writes advance a progress bar by the bytes written."""

    def __init__(self, file: BinaryIO, advance: Callable[[float], None]) -> None:
        self._file, self._advance = file, advance

    def write(self, data: bytes) -> int:
        written = self._file.write(data)
        self._advance(len(data))
        return written

    def flush(self) -> None:
        self._file.flush()
