@no_run_database
Feature: Every module that mutation testing changes has scenarios of its own to catch it
  `nox -s mutation` tests a mutant of a module with that module's features only, listed in
  features/mutation_selection.py. A module left out of the list, or a list naming a feature
  that was renamed, would make its mutants fail to run or be caught by nothing; a new module
  must be given its features when it is written.

  Scenario: Each module of the domain and the use cases has features listed for its mutants
    Then every Python module under the mutated packages has features listed for its mutants

  Scenario: Every feature listed for mutation testing exists
    Then every feature listed for mutation testing is a file of the suite
