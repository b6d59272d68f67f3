"""The ``cleveragents`` command and ``python -m cleveragents``: the operator CLI.

The CLI needs the optional ``cli`` extra; without it both spellings print the same one-line
hint and exit 2 (a usage problem), instead of a traceback.
"""

import sys

# Exit status for a command that cannot run as installed, as for any usage error.
MISSING_EXTRA_EXIT_CODE = 2
CLI_EXTRA_MODULES = frozenset({"typer", "rich", "click"})


def main() -> None:
    """The console script's entry point."""
    try:
        from cleveragents.cli.app import main as run
    except ImportError as missing:  # Typer and Rich come with cleveragents-core[cli] only
        if (missing.name or "").partition(".")[0] not in CLI_EXTRA_MODULES:
            raise
        print(
            f'the cleveragents command needs {missing.name}: pip install "cleveragents-core[cli]"',
            file=sys.stderr,
        )
        sys.exit(MISSING_EXTRA_EXIT_CODE)
    run()


if __name__ == "__main__":
    main()
