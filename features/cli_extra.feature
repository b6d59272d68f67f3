Feature: The command line says what to install when its extra is missing
  The library core needs only SQLAlchemy, Alembic and python-ulid; the operator CLI comes with
  the cli extra. Without it, python -m cleveragents says how to get it instead of a traceback.

  Scenario: python -m cleveragents without Typer installed
    When I run python -m cleveragents in a process where Typer cannot be imported
    Then the process exits with a non-zero status and says to install "cleveragents-core[cli]"
