@conformance @facade_independent
Feature: Migrations that rebuild tables keep every message
  SQLite cannot alter most of a table in place, so migrations rebuild it: copy, drop the old
  table, rename. With foreign keys on, dropping the old sessions table would cascade-delete
  every message. The library's migration environment turns foreign keys off for the run, so a
  rebuild keeps all data, and turns them back on afterwards.

  Scenario: Upgrade, downgrade and upgrade through a table rebuild keep every session intact
    Given a SQLite database with 100 sessions of 100 messages each
    And a migration after the newest one that rebuilds the sessions table both ways
    When I upgrade through the rebuild and downgrade below it, twice
    Then every session's export is identical to its export before the migrations
    And the database's integrity and foreign key checks are clean
    And connections opened afterwards still enforce foreign keys

  Scenario: The same rebuild with foreign keys on would have deleted the messages
    Given a SQLite database with 10 sessions of 10 messages each
    When the sessions table is rebuilt the same way with foreign keys on
    Then no message is left in the database
