"""``python -m cleveragents``: the operator CLI."""

from cleveragents.cli.app import main

main()
