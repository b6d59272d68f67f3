Feature: A database that is not there is reported at once, and never created by accident
  Only `db upgrade` creates a database. Every other command on a SQLite path where no file
  exists says so, with the path, exits 4 and leaves neither file nor directory behind. A
  database the server does not have, a role it does not know and a host name with no address
  are permanent failures: reported at once with exit 4, never retried.

  @own_sqlite_files
  Scenario Outline: <command> on a mistyped SQLite path reports the missing file and creates nothing
    Given a SQLite URL for the operator naming "no-such-dir/sessions.db" in the work directory
    When the operator runs "--database-url {fresh} <command>"
    Then the CLI exits with code 4
    And the CLI error is one line mentioning "no such database file: {work}/no-such-dir/sessions.db"
    And the operator's SQLite file does not exist, nor does its directory unless it did before

    Examples:
      | command                                     |
      | db current                                  |
      | db check                                    |
      | db downgrade base --yes                     |
      | sessions list                               |
      | sessions show 01ARZ3NDEKTSV4RRFFQ69G5FAV    |
      | sessions export 01ARZ3NDEKTSV4RRFFQ69G5FAV -o {work}/out.json |
      | sessions delete 01ARZ3NDEKTSV4RRFFQ69G5FAV --yes |
      | sessions purge --older-than 30d --yes       |
      | stats                                       |

  Scenario: Importing into a missing SQLite file creates nothing
    Given a session for actor "support-bot" with 1 messages
    When the operator runs "--database-url {run} sessions export {id} -o {work}/one.json"
    And the operator runs "--database-url sqlite:///{work}/no-such-dir/x.db sessions import {work}/one.json"
    Then the CLI exits with code 4
    And the CLI error is one line mentioning "no such database file"

  @own_sqlite_files
  Scenario: Only db upgrade creates the database, directory included
    Given a SQLite URL for the operator naming "new-dir/sessions.db" in the work directory
    When the operator runs "--database-url {fresh} db upgrade"
    Then the CLI exits with code 0
    And the operator's SQLite file exists
    When the operator runs "--database-url {fresh} db check"
    Then the CLI exits with code 0

  Scenario Outline: A permanent failure (<failure>) exits 4 at once, without a retry
    Given a database URL for the operator with <failure>
    When the operator runs "--database-url {fresh} --verbose stats"
    Then the CLI exits with code 4
    And the CLI error is one line mentioning "<text>"
    And neither CLI output nor error contains "s3cret-pw"

    Examples:
      | failure                                 | text                |
      | a host name that has no address         | database unavailable |
      | a database the run's server does not have | cleveragents_no_such_database |
      | a user the run's server does not know   | database unavailable |
