@no_run_database
Feature: One version, reported the same everywhere
  The version is written once, as cleveragents.__version__; the package metadata and the
  operator CLI report that same value. (nox -s package checks the built wheel and sdist too.)

  Scenario: cleveragents --version prints the package name and its version
    When the operator runs "--version"
    Then the CLI exits with code 0
    And the CLI output is exactly the package name and cleveragents.__version__

  Scenario: --version answers before any database is opened
    When the operator runs "--database-url postgresql+psycopg://nobody@127.0.0.1:1/none --version"
    Then the CLI exits with code 0
    And the CLI output is exactly the package name and cleveragents.__version__
