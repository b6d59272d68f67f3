"""Identifiers: ULIDs, 26 Crockford base-32 characters that sort by creation time."""

from __future__ import annotations

import os
import threading
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [first + second for first in _ALPHABET for second in _ALPHABET]
_PAIR_SHIFTS = range(115, 0, -10)
_RANDOM_BITS = 80
_RANDOM_MASK = (1 << _RANDOM_BITS) - 1


def new_id() -> str:
    """One ULID, after every id this process made in the same millisecond."""
    return _encode(_reserve(1))


def new_ids(count: int) -> list[str]:
    """``count`` consecutive ULIDs for one batch, after every id made before them.

    Ids of one millisecond continue from the last one handed out, as the ULID specification
    makes them monotonic; a new millisecond starts from fresh random bits. Encoding here
    takes a fraction of what building each id through a ULID class costs, which matters
    on every append and when a batch or an import holds thousands of messages.
    """
    first = _reserve(count)
    return [_encode(first + offset) for offset in range(count)]


class _MonotonicValues:
    """The process's last ULID value, so ids of one millisecond keep increasing across
    threads and calls."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0  # pragma: no mutate (any value before every millisecond will do)

    def reserve(self, count: int) -> int:
        """The first of ``count`` consecutive 128-bit values no other call gets."""
        millisecond = time.time_ns() // 1_000_000
        with self._lock:
            last = self._last
            if (
                last >> _RANDOM_BITS == millisecond
                and (last & _RANDOM_MASK) + count <= _RANDOM_MASK
            ):
                first = last + 1
            else:
                first = millisecond << _RANDOM_BITS | int.from_bytes(os.urandom(10), "big")
            self._last = first + count - 1
        return first


_reserve = _MonotonicValues().reserve


def _encode(value: int) -> str:
    """The 128-bit value as 26 characters: 3 bits, then twelve 10-bit pairs, then 5 bits."""
    return (
        _ALPHABET[value >> 125 & 7]
        + "".join([_PAIRS[value >> shift & 1023] for shift in _PAIR_SHIFTS])
        + _ALPHABET[value & 31]
    )
