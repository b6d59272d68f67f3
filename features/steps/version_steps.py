"""Steps for the version: what ``cleveragents --version`` prints, against ``__version__``."""

from __future__ import annotations

from behave import then
from behave.runner import Context

import cleveragents


@then("the CLI output is exactly the package name and cleveragents.__version__")
def then_version_output(context: Context) -> None:
    expected = f"cleveragents-core {cleveragents.__version__}\n"
    assert context.cli.stdout == expected, f"expected {expected!r}, got:\n{context.cli}"
