"""Calling the library from a When step and keeping the error it raised, for the Then steps.

The one catch scope of the step modules: the library's own errors (``SessionPersistenceError``
and its subclasses) are kept on ``context.error``; anything else propagates and fails the
scenario with its traceback, because the library promises to raise nothing else. Then steps
take the error through :func:`raised_error`, which fails when the call did not fail at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from behave.runner import Context

from cleveragents.domain import SessionPersistenceError


def capture_library_error(context: Context, call: Callable[[], Any]) -> Any:
    """Run ``call``; keep its result on ``context.result``, or its library error on
    ``context.error``, and return the result (None when it failed)."""
    context.error = None
    context.result = None
    try:
        context.result = call()
    except SessionPersistenceError as error:
        context.error = error
    return context.result


def raised_error(context: Context) -> SessionPersistenceError:
    """The library error the When step captured; fails the step if the call succeeded."""
    error = context.error
    assert error is not None, "the call succeeded, but the scenario expects it to fail"
    return error
