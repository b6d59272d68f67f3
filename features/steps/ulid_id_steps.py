"""Steps that make ids with a fixed clock and random source and decode them with python-ulid."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from unittest import mock

from behave import given, then, when
from behave.runner import Context
from ulid import ULID

from cleveragents.application.services import identifiers

RANDOM_BITS = 80


def fixed_clock_and_random(
    context: Context, nanoseconds: int, random_bytes: Callable[[int], bytes]
) -> None:
    """Fix the clock and the random source the ids are made from, and start the ids afresh
    (as a new process would) for the rest of the scenario."""
    context.clock = [nanoseconds]
    patches = (
        mock.patch.object(identifiers.time, "time_ns", lambda: context.clock[0]),
        mock.patch.object(identifiers.os, "urandom", random_bytes),
        mock.patch.object(identifiers, "_reserve", identifiers._MonotonicValues().reserve),
    )
    for patch in patches:
        patch.start()
        context.add_cleanup(patch.stop)


@given("the clock stands at {nanoseconds:d} nanoseconds and random bytes count up from 1")
def given_counting_random(context: Context, nanoseconds: int) -> None:
    fixed_clock_and_random(context, nanoseconds, lambda size: bytes(range(1, size + 1)))


@given(
    "the clock stands at {nanoseconds:d} nanoseconds and random bytes are all 0xff "
    "but the last, 0xfe"
)
def given_nearly_full_random(context: Context, nanoseconds: int) -> None:
    fixed_clock_and_random(context, nanoseconds, lambda size: b"\xff" * (size - 1) + b"\xfe")


@when("the library makes one id")
def when_make_one(context: Context) -> None:
    context.ids = [identifiers.new_id()]


@when("the library makes one id, a batch of {count:d} ids and one id more")
def when_make_single_batch_single(context: Context, count: int) -> None:
    context.ids = [identifiers.new_id(), *identifiers.new_ids(count), identifiers.new_id()]


@when("the library makes {count:d} ids one by one")
def when_make_one_by_one(context: Context, count: int) -> None:
    context.ids = [identifiers.new_id() for _ in range(count)]


@when("the library makes one id, the clock moves on by 1 millisecond and it makes one more")
def when_make_across_milliseconds(context: Context) -> None:
    first = identifiers.new_id()
    context.clock[0] += 1_000_000
    context.ids = [first, identifiers.new_id()]


def decoded(identifier: str) -> ULID:
    """The id read by python-ulid, which also checks that it is a well-formed ULID."""
    value = ULID.from_str(identifier)
    assert str(value) == identifier, (identifier, str(value))
    return value


def random_bits(identifier: str) -> int:
    return int(decoded(identifier)) & ((1 << RANDOM_BITS) - 1)


@then("the id decodes to the millisecond {millisecond:d} and random bits {bits}")
def then_one_decodes(context: Context, millisecond: int, bits: str) -> None:
    (identifier,) = context.ids
    assert decoded(identifier).milliseconds == millisecond, decoded(identifier).milliseconds
    assert random_bits(identifier) == int(bits, 16), hex(random_bits(identifier))


@then("the second id decodes to the millisecond {millisecond:d} and random bits {bits}")
def then_second_decodes(context: Context, millisecond: int, bits: str) -> None:
    context.ids = context.ids[1:]
    then_one_decodes(context, millisecond, bits)


@then("the {count:d} ids are consecutive values of the millisecond {millisecond:d}")
def then_consecutive(context: Context, count: int, millisecond: int) -> None:
    values = [int(decoded(identifier)) for identifier in context.ids]
    assert len(values) == count, context.ids
    assert all(later - earlier == 1 for earlier, later in itertools.pairwise(values)), values
    assert {decoded(identifier).milliseconds for identifier in context.ids} == {millisecond}


@then("the ids have the random bits {first}, {second} and {third}")
def then_random_bits(context: Context, first: str, second: str, third: str) -> None:
    expected = [int(bits, 16) for bits in (first, second, third)]
    assert [random_bits(identifier) for identifier in context.ids] == expected, [
        hex(random_bits(identifier)) for identifier in context.ids
    ]


@then("every id decodes to the millisecond {millisecond:d}")
def then_all_in_millisecond(context: Context, millisecond: int) -> None:
    assert {decoded(identifier).milliseconds for identifier in context.ids} == {millisecond}
