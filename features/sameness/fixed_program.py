"""The fixed part of the differential test: every awkward input, each used once, in order.

Random programs find what nobody thought of; this program makes sure that what somebody did
think of is tried on every run, whatever the random budget draws.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from cleveragents.domain import SessionService, limits
from sameness import inputs
from sameness.differential import Differential
from sameness.machine import ORDERS, SIGNING_KEY, follow_listing

WINDOWS: list[dict[str, Any]] = [
    {},
    *({"last": value} for value in inputs.AWKWARD_WINDOW_VALUES),
    *({"limit": value, "offset": 1} for value in inputs.AWKWARD_WINDOW_VALUES),
    *({"after_sequence": value} for value in inputs.AWKWARD_WINDOW_VALUES),
    *({"before_sequence": value, "last": 2} for value in inputs.AWKWARD_WINDOW_VALUES),
    {"last": 2, "limit": 1},
]


def run_fixed_program(differential: Differential) -> None:
    """Create, write, read, list, move, purge and delete with each awkward input in turn."""
    differential.empty()
    ids = create_and_list(differential)
    write_and_read(differential, ids[0])
    write_at_row_limit(differential, ids[-1])
    move_and_remove(differential, ids)


def create_and_list(differential: Differential) -> list[str]:
    """Sessions of every awkward actor name (and twins of one microsecond), then listings."""
    same = differential.same
    names = inputs.AWKWARD_TEXT + inputs.at_limits(limits.MAX_ACTOR_NAME_LENGTH)
    created = [
        same(f"create({name!r})", lambda s, n=name: s.create(n, title=n, metadata={n: n}))
        for name in names
    ]
    ids = [outcome.value.id for outcome in created if not outcome.failed]
    twins = [same("create('twin')", lambda s: s.create("twin"), same_moment=True) for _ in range(4)]
    ids += [outcome.value.id for outcome in twins]
    for twin in twins:
        # Together past 2^63-1: one actor's totals must still add up exactly.
        same(
            "update_token_usage(twin, 2^63-1)",
            lambda s, i=twin.value.id: s.update_token_usage(i, output_tokens=2**63 - 1),
        )
    for name in names:
        follow_listing(differential, limit=2, actor=name, order="created_at", same_moment=False)
    for order in ORDERS:
        for limit in (1, 3, 50):
            follow_listing(differential, limit=limit, actor=None, order=order, same_moment=False)
    for value in inputs.AWKWARD_WINDOW_VALUES:
        same(f"list(limit={value!r})", lambda s, v=value: s.list(limit=v))
        same(f"list(offset={value!r})", lambda s, v=value: s.list(limit=2, offset=v))
    same("statistics()", lambda s: s.statistics())
    return ids


def write_and_read(differential: Differential, target: str) -> None:
    """Messages with every awkward role, content, metadata and count; every window."""
    same = differential.same
    for role in inputs.AWKWARD_TEXT + inputs.at_limits(limits.MAX_ROLE_LENGTH):
        same(f"append role {role!r}", lambda s, r=role: s.append_message(target, r, "hi"))
    for content in [*inputs.AWKWARD_TEXT, inputs.EMOJI * 20_000]:
        same(
            f"append content {content[:30]!r}",
            lambda s, c=content: s.append_message(target, "user", c),
        )
    values = inputs.BIG_INTEGERS + inputs.AWKWARD_FLOATS
    for metadata in [
        *({key: key} for key in inputs.AWKWARD_KEYS),
        *({"value": value} for value in values),
        {"nested": {"deeper": [1, [2, {"": None}]]}, "list": [[], {}]},
        *inputs.REFUSED_METADATA,
    ]:
        same(
            f"append metadata {metadata!r}",
            lambda s, m=metadata: s.append_message(target, "user", "m", metadata=m),
        )
    for count in inputs.AWKWARD_COUNTS:
        same(
            f"append token_count {count!r}",
            lambda s, c=count: s.append_message(target, "user", "t", token_count=c),
        )
    for expected in [*inputs.AWKWARD_WINDOW_VALUES, None]:
        same(
            f"append expected_sequence {expected!r}",
            lambda s, e=expected: s.append_message(target, "user", "e", expected_sequence=e),
        )
    same(
        "append a batch in one microsecond",
        lambda s: s.append_messages(
            target, [{"role": r, "content": r} for r in inputs.AWKWARD_TEXT[:8]]
        ),
        same_moment=True,
    )
    same(
        "append a batch with a bad third item",
        lambda s: s.append_messages(target, [{"role": "a", "content": ""}] * 2 + [{"role": ""}]),
    )
    for window in WINDOWS:
        same(f"get_messages(**{window!r})", lambda s, w=window: s.get_messages(target, **w))


def write_at_row_limit(differential: Differential, target: str) -> None:
    """A message at the row limit in characters that all need escaping on MariaDB, and one
    byte past it, on a session that is not exported, to spare the run their weight."""
    row_limit = limits.MAX_ROW_TEXT_BYTES - len("{}")
    for content in ["\n" * row_limit, "x" * (row_limit + 1)]:
        differential.same(
            f"append {len(content)} characters",
            lambda s, c=content: s.append_message(target, "user", c),
        )
    differential.same("get_messages(last=1)", lambda s: s.get_messages(target, last=1))


def move_and_remove(differential: Differential, ids: list[str]) -> None:
    """Other spellings of an id, token updates, exports and imports, purges and deletes."""
    same = differential.same
    target = ids[0]
    for session_id in [target, *inputs.id_spellings(target), "", "x" * 129, "x" * 256]:
        same(f"get({session_id!r})", lambda s, i=session_id: s.get(i))
        same(f"append to {session_id!r}", lambda s, i=session_id: s.append_message(i, "u", "c"))
    for count in inputs.AWKWARD_COUNTS:
        same(
            f"update_token_usage {count!r}",
            lambda s, c=count: s.update_token_usage(target, input_tokens=c or 0, output_tokens=1),
        )

    for session_id in ids[:6]:
        for key in (None, SIGNING_KEY):
            exported = same(
                f"export_session({session_id!r})",
                lambda s, i=session_id, k=key: s.export_session(i, signing_key=k),
            )
            same(
                "import it twice",
                lambda s, d=exported.value, k=key: [s.import_session(d, signing_key=k)] * 2,
            )
        same(
            f"export {session_id!r} to a file and back",
            lambda s, i=session_id: file_round_trip(s, i),
        )

    for name in inputs.AWKWARD_TEXT[:12]:
        same(
            f"dry purge of {name!r}",
            lambda s, n=name: s.purge_sessions(timedelta(0), actor_name=n, dry_run=True),
        )
    same("purge of 'alpha'", lambda s: s.purge_sessions(timedelta(0), actor_name="alpha"))
    same("statistics()", lambda s: s.statistics())
    for session_id in ids[:4]:
        same(f"delete({session_id!r})", lambda s, i=session_id: s.delete(i))
    same("purge everything older than 1 s", lambda s: s.purge_sessions(timedelta(seconds=1)))
    same("statistics()", lambda s: s.statistics())


def file_round_trip(service: SessionService, session_id: str) -> tuple[bytes, Any]:
    file = io.BytesIO()
    service.export_session_to_file(session_id, file)
    file.seek(0)
    return file.getvalue(), service.import_session_from_file(file)
