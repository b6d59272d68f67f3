@no_run_database
Feature: The command line says what to install when its extra is missing
  The library core needs only SQLAlchemy, Alembic and python-ulid; the operator CLI comes with
  the cli extra. Without it, both the cleveragents command and python -m cleveragents print
  the same one-line hint and exit 2, instead of a traceback.

  Scenario Outline: <program> without Typer installed
    When I run <program> in a process where Typer cannot be imported
    Then the process exits with status 2 and says in one line to install "cleveragents-core[cli]"

    Examples:
      | program                  |
      | python -m cleveragents   |
      | the cleveragents command |
