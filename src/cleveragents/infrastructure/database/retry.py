"""``@database_retry``: re-run a whole unit of work when the database fails transiently."""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import exc

from cleveragents.infrastructure.database.error_translation import describe, is_transient, translate

logger = logging.getLogger("cleveragents.database")


@dataclass(slots=True)
class _Attempt:
    number: int
    previous_commit_unknown: bool
    commit_unknown: bool = False


_attempt: ContextVar[_Attempt | None] = ContextVar("cleveragents_attempt", default=None)


def is_retry() -> bool:
    """True while a unit of work runs again after a transient failure.

    A commit can succeed and its acknowledgement still be lost with the connection; a retried
    write uses this to look for its own earlier success before writing a second time.
    """
    attempt = _attempt.get()
    return attempt is not None and attempt.number > 1


def previous_commit_unknown() -> bool:
    """True when the failed attempt before this one broke off while committing.

    Its writes may or may not have landed; only then may a retry read "already done" into
    state it cannot tell apart from "never existed".
    """
    attempt = _attempt.get()
    return attempt is not None and attempt.previous_commit_unknown


def note_commit_outcome_unknown() -> None:
    """Record that the current attempt failed during COMMIT (called by the transaction)."""
    attempt = _attempt.get()
    if attempt is not None:
        attempt.commit_unknown = True


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
        policy = self.retry_policy
        attempt = 1
        commit_unknown = False
        while True:
            state = _Attempt(number=attempt, previous_commit_unknown=commit_unknown)
            token = _attempt.set(state)
            try:
                return method(self, *args, **kwargs)
            except exc.SQLAlchemyError as error:
                if attempt >= policy.attempts or not is_transient(error):
                    raise translate(error, attempts=attempt) from error
                delay = policy.delay_before(attempt)
                logger.warning(
                    "transient database error in %s (%s); retry %d of %d in %.3fs",
                    method.__qualname__,
                    describe(error),
                    attempt,
                    policy.attempts - 1,
                    delay,
                )
                self.pause(delay)
                attempt += 1
                commit_unknown = state.commit_unknown
            finally:
                _attempt.reset(token)

    return run  # type: ignore[return-value]  # functools.wraps hides the ParamSpec
