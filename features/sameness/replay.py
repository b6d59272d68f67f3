"""Times and ids that every backend receives identically, so results compare exactly.

The service takes its clock and its ULIDs from ``_now``, ``new_id`` and ``new_ids`` in its
module. Before each backend runs a call, the source is rewound to the same point, so the
three databases are handed the same ids and timestamps, and any difference in what comes
back is the backend's. A call may also be told to hand out one timestamp to every use (ticks
of zero), which puts rows in the same microsecond and lets ids alone decide ties.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from unittest import mock

from ulid import ULID

from cleveragents.application.services import persistent_session_service

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


class ReplayedSource:
    """A clock and an id generator that can be rewound to the start of a call."""

    def __init__(self) -> None:
        self.rewind(0, ids=0, tick=timedelta(microseconds=1))

    def rewind(self, moment: int, *, ids: int, tick: timedelta) -> None:
        """Hand out times from second ``moment`` on, ``tick`` apart, and the ids seeded by
        ``ids``: the same sequence for every backend that runs the call."""
        self._moment = START + timedelta(seconds=moment)
        self._tick = tick
        # Ids in random order, not creation order, so listings break ties on real ids.
        self._ids = random.Random(ids)

    def now(self) -> datetime:
        moment = self._moment
        self._moment += self._tick
        return moment

    def new_id(self) -> str:
        return str(ULID.from_int(self._ids.getrandbits(128)))

    def new_ids(self, count: int) -> list[str]:
        first = self._ids.getrandbits(127)  # room for the run, as a real batch has
        return [str(ULID.from_int(first + offset)) for offset in range(count)]


@contextmanager
def replayed(source: ReplayedSource) -> Iterator[None]:
    """Hand the service ``source``'s times and ids while the block runs."""
    with (
        mock.patch.object(persistent_session_service, "_now", source.now),
        mock.patch.object(persistent_session_service, "new_id", source.new_id),
        mock.patch.object(persistent_session_service, "new_ids", source.new_ids),
    ):
        yield
