"""The awkward inputs the backends are compared on, as fixed lists and Hypothesis strategies.

Each list is what a backend is most likely to treat its own way: trailing and leading spaces
(PAD SPACE collations), case (case-insensitive collations), the two spellings of "é" (Unicode
normalisation), 4-byte characters (3-byte "utf8"), NUL and control characters, lone
surrogates, text at each length limit and one past it, integers past 2^53 and 2^63, floats.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cleveragents.domain import limits

NFC_E_ACUTE = "\u00e9"
NFD_E_ACUTE = "e\u0301"
EMOJI = "\U0001f600"

AWKWARD_TEXT = [
    "alpha",
    "alpha ",
    " alpha",
    "alpha  ",
    "Alpha",
    "ALPHA",
    "alpha\t",
    f"caf{NFC_E_ACUTE}",
    f"caf{NFD_E_ACUTE}",
    EMOJI,
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",
    "a\x01b",
    "line\nbreak",
    "\r\n",
    "\u00a0",
    "\u3000",
    "stra\u00dfe",
    "STRASSE",
    "\u0130",
    "i\u0307",
    "\u202eevil",
    "\ufeffbom",
    "%_\\",
    "'; DROP TABLE sessions; --",
    "nul\x00byte",
    "lone \ud800 surrogate",
    "",
    " ",
]

BIG_INTEGERS = [2**53, 2**53 + 1, -(2**53 + 1), 2**63 - 1, 2**63, -(2**63), 2**64, 10**30]
AWKWARD_FLOATS = [0.1, -0.0, 1e308, 5e-324, 1.7976931348623157e308, 2.0**53 + 2, 1 / 3]
AWKWARD_KEYS = ["", " ", "a", "A", "a ", NFC_E_ACUTE, NFD_E_ACUTE, EMOJI, "\x00", "$.a", "1"]
# What the contract refuses as metadata, which every backend must refuse alike.
REFUSED_METADATA: list[Any] = [
    {"nan": float("nan")},
    {"inf": float("inf")},
    ["not", "an", "object"],
    {"bytes": b"raw"},
    {"lone": "\udc00"},
]
AWKWARD_COUNTS: list[Any] = [None, 0, 1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -1, True, 1.5]
AWKWARD_WINDOW_VALUES: list[Any] = [0, 1, 2, 3, 5, 2**31 - 1, 2**31, 2**63 - 1, 2**63, -1]


def at_limits(limit: int) -> list[str]:
    """Text of exactly ``limit`` characters and one more, in 1-, 2- and 4-byte characters."""
    return [
        character * size for character in ("x", NFC_E_ACUTE, EMOJI) for size in (limit, limit + 1)
    ]


def awkward_text(limit: int) -> st.SearchStrategy[str]:
    """The fixed awkward strings, strings at the limit, and short random Unicode."""
    return st.one_of(
        st.sampled_from(AWKWARD_TEXT + at_limits(limit)),
        st.text(st.characters(codec="utf-8"), max_size=12),
    )


def actor_names() -> st.SearchStrategy[str]:
    return awkward_text(limits.MAX_ACTOR_NAME_LENGTH)


def roles() -> st.SearchStrategy[str]:
    return awkward_text(limits.MAX_ROLE_LENGTH)


def titles() -> st.SearchStrategy[str | None]:
    return st.none() | awkward_text(limits.MAX_TITLE_LENGTH)


def contents() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(AWKWARD_TEXT),
        st.text(st.characters(codec="utf-8"), max_size=40),
        # Past MySQL's 64 KiB TEXT, in 4-byte characters.
        st.just(EMOJI * 20_000),
    )


def json_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.sampled_from(BIG_INTEGERS),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(AWKWARD_FLOATS),
        st.sampled_from(AWKWARD_TEXT[:-4]),
        st.text(st.characters(codec="utf-8"), max_size=8),
    )
    keys = st.sampled_from(AWKWARD_KEYS) | st.text(st.characters(codec="utf-8"), max_size=4)
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
        max_leaves=8,
    )


def metadata() -> st.SearchStrategy[Any]:
    keys = st.sampled_from(AWKWARD_KEYS) | st.text(st.characters(codec="utf-8"), max_size=4)
    return st.one_of(
        st.none(),
        st.dictionaries(keys, json_values(), max_size=4),
        st.sampled_from(REFUSED_METADATA),
    )


def counts() -> st.SearchStrategy[Any]:
    return st.sampled_from(AWKWARD_COUNTS) | st.integers(min_value=0, max_value=1000)


def window_values() -> st.SearchStrategy[Any]:
    return st.sampled_from(AWKWARD_WINDOW_VALUES) | st.integers(min_value=0, max_value=12)


def id_spellings(session_id: str) -> list[str]:
    """Other spellings of an existing id, each of which must find nothing."""
    return [
        session_id + " ",
        " " + session_id,
        session_id.lower(),
        session_id[:-1],
        session_id + "\x01",
        session_id + NFD_E_ACUTE,
    ]
