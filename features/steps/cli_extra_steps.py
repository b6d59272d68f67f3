"""Steps that run the CLI's entry points in a process lacking the cli extra."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from behave import then, when
from behave.runner import Context

# Marking the module as missing makes every import of it fail, as in a core-only install.
BLOCK_TYPER = "import sys, runpy; sys.modules['typer'] = None; "
PROGRAMS = {
    "python -m cleveragents": "runpy.run_module('cleveragents', run_name='__main__')",
    # The console script pip installed, run as the script it is.
    "the cleveragents command": (
        f"sys.argv = [{str(Path(sys.executable).parent / 'cleveragents')!r}]; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    ),
}


@when("I run {program} in a process where Typer cannot be imported")
def when_run_without_typer(context: Context, program: str) -> None:
    context.completed = subprocess.run(
        [sys.executable, "-c", BLOCK_TYPER + PROGRAMS[program]],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
    )


@then('the process exits with status {status:d} and says in one line to install "{extra}"')
def then_install_hint(context: Context, status: int, extra: str) -> None:
    completed = context.completed
    assert completed.returncode == status, completed
    assert completed.stderr.splitlines() == [
        f'the cleveragents command needs typer: pip install "{extra}"'
    ], completed.stderr
    assert completed.stdout == "", completed.stdout
