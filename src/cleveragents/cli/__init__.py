"""The operator CLI ``cleveragents``: migrations and session housekeeping from a shell.

Needs the ``cli`` extra (Typer and Rich); the library itself never imports this package.
"""
