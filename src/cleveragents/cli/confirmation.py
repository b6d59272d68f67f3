"""Asking before a command destroys data, and refusing when there is no one to ask."""

from __future__ import annotations

import sys

from cleveragents.cli.exit_codes import BadInputError


def confirmed(command: str, question: str, *, yes: bool) -> bool:
    """True when ``--yes`` was given or the person at the terminal answers yes.

    ``question`` names what will be destroyed, with counts. Without a terminal on stdin and
    without ``--yes`` the command is refused (exit 2), so a script never blocks on a prompt
    nor destroys data nobody confirmed. The question goes to stderr: stdout stays the
    command's answer.
    """
    if yes:
        return True
    if not sys.stdin.isatty():
        raise BadInputError(
            f"{command} destroys data and asks first, but there is no terminal to ask on: "
            "pass --yes to confirm"
        )
    # Asked by hand: click's prompt echoes a space to stdout even when the question goes to
    # stderr, and stdout must stay exactly the command's answer.
    sys.stderr.write(f"{question} [y/N]: ")
    sys.stderr.flush()
    return sys.stdin.readline().strip().lower() in ("y", "yes")
