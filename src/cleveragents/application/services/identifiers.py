"""Identifiers: ULIDs, 26 Crockford base-32 characters that sort by creation time."""

from __future__ import annotations

import os
import time

from ulid import ULID

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_PAIRS = [first + second for first in _ALPHABET for second in _ALPHABET]
_PAIR_SHIFTS = range(115, 0, -10)


def new_id() -> str:
    return str(ULID())


def new_ids(count: int) -> list[str]:
    """``count`` ULIDs for one batch: the current millisecond, then consecutive values from
    fresh random bits.

    The ULID specification makes ids of one millisecond monotonic the same way. The random
    start is drawn here, not taken from the ULID class, whose own monotonic ids of the same
    millisecond continue from its last value and would run into this range. Encoding here
    takes a fraction of what building each id through the class costs, which matters when
    a batch or an import holds thousands of messages.
    """
    first = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return [_encode(first + offset) for offset in range(count)]


def _encode(value: int) -> str:
    """The 128-bit value as 26 characters: 3 bits, then twelve 10-bit pairs, then 5 bits."""
    return (
        _ALPHABET[value >> 125 & 7]
        + "".join([_PAIRS[value >> shift & 1023] for shift in _PAIR_SHIFTS])
        + _ALPHABET[value & 31]
    )
