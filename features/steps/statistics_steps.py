"""Steps for per-actor statistics."""

from __future__ import annotations

from behave import then, when
from behave.runner import Context


@when("I ask for statistics")
def when_statistics(context: Context) -> None:
    context.statistics = context.service.statistics()


@then("the statistics read:")
def then_statistics(context: Context) -> None:
    columns = ("sessions", "messages", "input", "output", "total")
    seen = [
        (s.actor_name, s.session_count, s.message_count, s.input_tokens, s.output_tokens)
        for s in context.statistics
    ]
    totals = [s.total_tokens for s in context.statistics]
    expected = [(row["actor"], *(int(row[c]) for c in columns[:4])) for row in context.table]
    assert totals == [int(row["total"]) for row in context.table], totals
    assert seen == expected, f"saw {seen}"


@then("there are no statistics")
def then_no_statistics(context: Context) -> None:
    assert context.statistics == [], context.statistics
