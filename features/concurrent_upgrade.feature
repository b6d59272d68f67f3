@conformance @facade_independent
Feature: Several processes upgrading one fresh database at once
  Deployments often start several workers that each run the migrations at start-up. The
  runners queue behind one lock (SQLite's write lock, a PostgreSQL advisory lock, a MariaDB
  named lock), so one creates the schema and the others find it current.

  Scenario: Four processes upgrade a fresh database at the same moment
    Given a fresh empty database on the run's backend
    When 4 processes upgrade it to the newest revision at once
    Then every process finished without an error
    And the database is at the newest revision with exactly the schema the models describe
    And a service on it stores and reads back a message
