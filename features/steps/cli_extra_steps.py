"""Steps that run the CLI entry point in a process lacking the cli extra."""

from __future__ import annotations

import subprocess
import sys

from behave import then, when
from behave.runner import Context

# Marking the module as missing makes every import of it fail, as in a core-only install.
WITHOUT_TYPER = (
    "import sys, runpy; sys.modules['typer'] = None; "
    "runpy.run_module('cleveragents', run_name='__main__')"
)


@when("I run python -m cleveragents in a process where Typer cannot be imported")
def when_run_without_typer(context: Context) -> None:
    context.completed = subprocess.run(
        [sys.executable, "-c", WITHOUT_TYPER],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@then('the process exits with a non-zero status and says to install "{extra}"')
def then_install_hint(context: Context, extra: str) -> None:
    completed = context.completed
    assert completed.returncode != 0, completed
    assert extra in completed.stderr, completed.stderr
    assert "Traceback" not in completed.stderr, completed.stderr
