@conformance
Feature: Bring your own engine
  An application that already has a SQLAlchemy engine or sessionmaker hands it to the library,
  which then uses the application's connection pool and leaves the engine to its owner.

  Scenario: A service on the caller's engine uses it and leaves it open
    Given the application's own engine on the run's database
    When I open a service on that engine and use it
    Then the session it stored is read back through the application's engine
    And after the service is closed the application's engine still works

  Scenario: A service on the caller's sessionmaker uses the engine it is bound to
    Given the application's own engine on the run's database
    When I open a service on a sessionmaker bound to that engine and use it
    Then the session it stored is read back through the application's engine

  Scenario: A sessionmaker without an engine is refused
    When I try to open a service on a sessionmaker bound to nothing
    Then the opening fails with DatabaseConfigurationError mentioning "not bound to an Engine"

  Scenario: A SQLite engine that leaves foreign keys off is refused before anything is lost
    Given a plain SQLite engine without the foreign-keys pragma on a migrated file
    When I try to open a service on that engine
    Then the opening fails with DatabaseConfigurationError mentioning "foreign keys are off"

  Scenario: A SQLite engine that turns foreign keys on itself is accepted
    Given a plain SQLite engine that turns foreign keys on in a connect listener on a migrated file
    When I open a service on that engine and use it
    Then the session it stored is read back through the application's engine
