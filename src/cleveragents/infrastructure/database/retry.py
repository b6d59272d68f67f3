"""``@database_retry``: re-run a whole unit of work when the database fails transiently."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import exc

from cleveragents.infrastructure.database.error_translation import describe, is_transient, translate

logger = logging.getLogger("cleveragents.database")


@dataclass(slots=True)
class Attempt:
    """Which run of one unit of work this is, given to the methods that act on it.

    A commit can succeed and its acknowledgement still be lost with the connection; a retried
    write uses this to look for its own earlier success before writing a second time. Only
    after ``previous_commit_unknown`` may it read "already done" into state it cannot tell
    apart from "never existed": the attempt before broke off while committing, so its writes
    may or may not have landed.
    """

    number: int = 1
    previous_commit_unknown: bool = False
    # Set by the transaction when this attempt's COMMIT fails.
    commit_unknown: bool = False

    @property
    def is_retry(self) -> bool:
        """True while the unit of work runs again after a transient failure."""
        return self.number > 1


P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a unit of work is re-run.

    The delay before retry ``n`` is a random fraction of ``base_delay * 2**(n-1)``, capped at
    ``max_delay`` ("full jitter"), so colliding writers spread out instead of colliding again.
    """

    attempts: int = 5
    base_delay: float = 0.02
    max_delay: float = 1.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"RetryPolicy.attempts must be at least 1, got {self.attempts}")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("RetryPolicy delays must not be negative")

    def delay_before(self, retry_number: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * 2 ** (retry_number - 1))
        return random.uniform(0, ceiling)


class RetriesTransactions(Protocol):
    """Anything whose methods each run one complete transaction under ``retry_policy``."""

    @property
    def retry_policy(self) -> RetryPolicy: ...

    @property
    def server(self) -> str | None:
        """``host:port`` of the database server, named in unavailable-database errors."""
        ...

    def pause(self, seconds: float) -> None:
        """Wait before a retry, in whatever way does not stall the caller's other work."""
        ...


S = TypeVar("S", bound=RetriesTransactions)


def database_retry(
    method: Callable[Concatenate[S, P], R],
) -> Callable[Concatenate[S, P], R]:
    """Retry a repository method that opens, commits and closes its own transaction.

    Only transient failures are retried (busy or locked SQLite, serialization failures,
    deadlocks, dropped connections); the failed transaction has been rolled back by then, so
    the whole method runs again from its first statement. Anything else is raised at once,
    translated to the library's errors. Library errors raised by the method pass unchanged.
    """

    @functools.wraps(method)
    def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        return _retried(self, method.__qualname__, lambda _: method(self, *args, **kwargs))

    return run  # type: ignore[return-value]  # functools.wraps hides the ParamSpec


def database_retry_with_attempt(
    method: Callable[Concatenate[S, Attempt, P], R],
) -> Callable[Concatenate[S, P], R]:
    """``database_retry`` for a method that acts differently on a retry: it receives the
    :class:`Attempt` as its first argument, and callers do not pass it. The method hands
    the attempt to its transaction, which records a COMMIT that failed."""

    @functools.wraps(method)
    def run(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        return _retried(
            self, method.__qualname__, lambda attempt: method(self, attempt, *args, **kwargs)
        )

    return run  # type: ignore[return-value]  # functools.wraps hides the ParamSpec


def _retried(owner: RetriesTransactions, name: str, work: Callable[[Attempt], R]) -> R:
    """Run ``work`` until it returns, fails for good, or the policy's attempts are spent."""
    policy = owner.retry_policy
    attempt = Attempt()
    while True:
        try:
            return work(attempt)
        except exc.SQLAlchemyError as error:
            if attempt.number >= policy.attempts or not is_transient(error):
                raise translate(error, attempts=attempt.number, server=owner.server) from error
            delay = policy.delay_before(attempt.number)
            logger.warning(
                "transient database error in %s (%s); retry %d of %d in %.3fs",
                name,
                describe(error),
                attempt.number,
                policy.attempts - 1,
                delay,
            )
            owner.pause(delay)
            attempt = Attempt(attempt.number + 1, previous_commit_unknown=attempt.commit_unknown)
