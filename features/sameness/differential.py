"""Running one public call on every backend and insisting on one answer.

Each backend gets the call with the same replayed times and ids, so the results must be
equal, not merely alike: the same sessions, messages, pages, cursors, documents and counts,
or the same error class (and, for errors the library raises before touching a database, the
same message). An error outside the library's vocabulary fails the test even when every
backend raises it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from cleveragents.domain import DatabaseError, SessionPage, SessionPersistenceError, SessionService
from sameness.backends import Backend
from sameness.replay import ReplayedSource, replayed

Call = Callable[[SessionService], Any]
SAME_MICROSECOND = timedelta(0)
NEXT_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True)
class Outcome:
    """What a call gave: a result, or an error by class (and message, when deterministic)."""

    kind: str
    value: Any

    @property
    def failed(self) -> bool:
        return self.kind != "result"


class BackendsDisagreeError(AssertionError):
    """The backends answered one call differently."""


@dataclass
class Differential:
    """The backends under comparison, driven call by call."""

    backends: list[Backend]
    source: ReplayedSource = field(default_factory=ReplayedSource)
    calls: int = 0
    moment: int = 0
    compared: dict[str, int] = field(default_factory=dict)

    def same(self, label: str, call: Call, *, same_moment: bool = False) -> Outcome:
        """Run ``call`` on every backend; return the one outcome they all gave.

        ``same_moment`` keeps the clock where the previous call left it and hands every
        timestamp of this call the same microsecond, so rows tie on time.
        """
        self.calls += 1
        self.moment += 0 if same_moment else 1
        tick = SAME_MICROSECOND if same_moment else NEXT_MICROSECOND
        outcomes = []
        with replayed(self.source):
            for backend in self.backends:
                self.source.rewind(self.moment, ids=self.calls, tick=tick)
                outcomes.append(outcome_of(call, backend.service))
        kind = re.match(r"[a-z_]*", label).group()  # type: ignore[union-attr]
        self.compared[kind] = self.compared.get(kind, 0) + 1
        reference = outcomes[0]
        if any(outcome != reference for outcome in outcomes[1:]):
            shown = "\n".join(
                f"  {backend.name}: {shorten(outcome)}"
                for backend, outcome in zip(self.backends, outcomes, strict=True)
            )
            raise BackendsDisagreeError(f"{label} differs between backends:\n{shown}")
        if reference.kind == "crash":
            raise AssertionError(f"{label} raised outside the library's errors: {reference.value}")
        return reference

    def empty(self) -> None:
        for backend in self.backends:
            backend.empty()


def outcome_of(call: Call, service: SessionService) -> Outcome:
    try:
        return Outcome("result", comparable(call(service)))
    except DatabaseError as error:
        # Driver wording differs between servers; the class is the contract.
        return Outcome("error", type(error).__name__)
    except SessionPersistenceError as error:
        return Outcome("error", (type(error).__name__, str(error)))
    except Exception as error:
        return Outcome("crash", f"{type(error).__module__}.{type(error).__name__}: {error}")


def comparable(result: Any) -> Any:
    """A result as plain values that compare by content (a page keeps its cursor)."""
    if isinstance(result, SessionPage):
        return (list(result), result.next_cursor)
    if isinstance(result, io.BytesIO):
        return result.getvalue()
    return result


def shorten(outcome: Outcome) -> str:
    shown = repr(outcome.value)
    return f"{outcome.kind} {shown if len(shown) <= 600 else shown[:600] + '...'}"
