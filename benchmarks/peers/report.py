"""The comparison as markdown: one table of medians with each peer's ratio to this library."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from benchmarks.peers.library_store import LibraryStore
from benchmarks.peers.workloads import (
    APPEND,
    APPEND_LONG,
    APPEND_SHORT,
    DELETE,
    HISTORY,
    LATEST,
    LIST,
    Plan,
    StoreResult,
)

COMMAND = "nox -s compare_peers"


@dataclass(frozen=True)
class BackendOutcome:
    """The results on one backend, or why it was not measured."""

    backend: str
    results: Sequence[StoreResult] = ()
    skipped: str | None = None


def _count(value: int) -> str:
    return f"{value:,}"


def milliseconds(seconds: float) -> str:
    value = seconds * 1000
    if value >= 100:
        return f"{value:.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    if value >= 1:
        return f"{value:.2f} ms"
    return f"{value:.3f} ms"


def ratio(value: float) -> str:
    return f"{value:.1f}x" if value < 10 else f"{value:.0f}x"


def headings(plan: Plan) -> list[str]:
    return [
        "Backend",
        "System",
        "Settings (read back)",
        "Durable append",
        f"Append at {_count(plan.short)}",
        f"Append at {_count(plan.long)}",
        "Growth",
        f"List {plan.page} of {_count(plan.listed)}",
        f"Latest {plan.latest} of {_count(plan.long)}",
        f"Full history of {_count(plan.long)}",
        f"Delete a session of {_count(plan.long)}",
    ]


TIMED = (APPEND, APPEND_SHORT, APPEND_LONG, "growth", LIST, LATEST, HISTORY, DELETE)
NO_PAGING = "¹"
NO_LISTING = "²"


def _growth(result: StoreResult) -> float | None:
    short, long = result.median(APPEND_SHORT), result.median(APPEND_LONG)
    return None if short is None or long is None else long / short


def _cell(result: StoreResult, reference: StoreResult | None, key: str) -> str:
    if key == "growth":
        growth = _growth(result)
        return "-" if growth is None else f"{growth:.2f}"
    value = result.median(key)
    if value is None:
        return f"n/a{NO_LISTING}" if key == LIST and result.store.listing is None else "-"
    text = milliseconds(value)
    if key == LIST and not result.store.pages:
        text += NO_PAGING
    if reference is None or reference is result:
        return text
    base = reference.median(key)
    return text if not base else f"{text} ({ratio(value / base)})"


def table(plan: Plan, outcomes: Sequence[BackendOutcome]) -> list[str]:
    columns = headings(plan)
    lines = [
        "| " + " | ".join(columns) + " |",
        "|" + "|".join(["---"] * 3 + ["---:"] * (len(columns) - 3)) + "|",
    ]
    for outcome in outcomes:
        reference = next(
            (result for result in outcome.results if isinstance(result.store, LibraryStore)), None
        )
        for result in outcome.results:
            name = result.store.name
            if result is reference:
                name = f"**{name}**"
            cells = [outcome.backend, name, result.durability.label()]
            cells += [_cell(result, reference, key) for key in TIMED]
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def render(
    plan: Plan,
    outcomes: Sequence[BackendOutcome],
    machine: Sequence[tuple[str, str]],
    packages: Sequence[tuple[str, str]],
    minutes: float,
) -> str:
    """The whole report: table, notes, what was skipped, machine and packages."""
    listings = {
        result.store.system: result.store.listing
        for outcome in outcomes
        for result in outcome.results
    }
    lines = [
        f"Medians of each timed call; in brackets, the ratio to **cleveragents-core** on the "
        f"same backend (below 1x is faster than it). Growth is the median append at "
        f"{_count(plan.long)} messages divided by the median append at {_count(plan.short)}.",
        "",
        *table(plan, outcomes),
        "",
        f"{NO_PAGING} The store's listing has no paging: the figure is its listing of all "
        f"{_count(plan.listed)} sessions.  ",
        f"{NO_LISTING} The store has no call that lists sessions.",
        "",
        "How each system lists sessions:",
        "",
    ]
    for system, listing in listings.items():
        lines.append(f"- {system}: {listing or 'no listing call'}")
    for outcome in outcomes:
        if outcome.skipped:
            lines += ["", f"{outcome.backend} was not measured: {outcome.skipped}"]
    lines += [
        "",
        f"Sizes: {plan.appends} durable appends per store; {plan.growth_appends} appends timed "
        f"at each length; {plan.read_rounds} listings and latest-window reads, "
        f"{plan.history_rounds} full-history reads and {plan.deletes} deletes per store, "
        "interleaved across the stores call by call.",
        "",
        "Machine:",
        "",
        *(f"- {what}: {value}" for what, value in machine),
        "",
        "Packages: " + ", ".join(f"{name} {version}" for name, version in packages) + ".",
        "",
        f"Reproduce with `{COMMAND}` (this run took {minutes:.1f} minutes).",
    ]
    return "\n".join(lines) + "\n"
