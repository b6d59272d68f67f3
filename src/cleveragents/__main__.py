"""``python -m cleveragents``: the operator CLI, which needs the optional ``cli`` extra."""

import sys

try:
    from cleveragents.cli.app import main
except ImportError as missing:  # Typer and Rich come with cleveragents-core[cli] only
    sys.exit(
        f"the cleveragents command needs {missing.name or 'typer'}: "
        'pip install "cleveragents-core[cli]"'
    )

main()
