Feature: The CLI asks before it destroys data
  Deleting a session, purging old ones and downgrading the schema say what they will destroy,
  with counts, and ask. --yes answers for scripts; without a terminal and without --yes the
  command refuses with exit 2 and changes nothing, so a script can never block on a question
  nor destroy what nobody confirmed.

  @conformance @facade_independent
  Scenario Outline: Without a terminal and without --yes, <command> refuses and changes nothing
    Given a session for actor "old-bot" with 2 messages
    And 2 sessions of actor "old-bot" last active 40 days ago with 1 messages each
    When the operator runs "--database-url {run} <command> <arguments>"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "pass --yes to confirm"
    And the database is unchanged

    Examples:
      | command          | arguments         |
      | sessions delete  | {id}              |
      | sessions purge   | --older-than 30d  |
      | db downgrade     | base              |

  Scenario: Deleting names the session and its message count, and does only what was answered
    Given a session for actor "support-bot" with 2 messages
    When the operator answers "n" when running "--database-url {run} sessions delete {id}"
    Then the CLI exits with code 0
    And the CLI error mentions "Delete session {id} of 'support-bot' with 2 messages?"
    And the CLI output mentions "nothing deleted"
    And the database is unchanged
    When the operator answers "y" when running "--database-url {run} sessions delete {id}"
    Then the CLI exits with code 0
    And the CLI output mentions "deleted session"
    And the session can no longer be read

  Scenario: Purging gives the same count as its dry run, and asks
    Given 3 sessions of actor "old-bot" last active 40 days ago with 2 messages each
    And a session for actor "old-bot" with 1 messages
    When the operator runs "--database-url {run} sessions purge --older-than 30d --dry-run"
    Then the CLI output mentions "would purge 3 sessions inactive for more than 30d"
    When the operator answers "n" when running "--database-url {run} sessions purge --older-than 30d"
    Then the CLI exits with code 0
    And the CLI error mentions "Purge 3 sessions inactive for more than 30d?"
    And the CLI output mentions "nothing purged"
    And the database is unchanged
    When the operator answers "y" when running "--database-url {run} sessions purge --older-than 30d --json"
    Then the CLI exits with code 0
    And the CLI JSON field "count" equals 3
    And the session still has 1 messages

  Scenario: A downgrade names the database's contents and the revisions, and asks
    Given a session for actor "support-bot" with 2 messages
    When the operator answers "n" when running "--database-url {run} db downgrade base"
    Then the CLI exits with code 0
    And the CLI error mentions "It holds 1 sessions and 2 messages"
    And the CLI error mentions "to base?"
    And the CLI output mentions "nothing changed"
    And the database is unchanged
    When the operator runs "--database-url {run} db check"
    Then the CLI exits with code 0

  @own_sqlite_files
  Scenario: A downgrade of a file whose schema is older says its sessions cannot be counted
    Given an empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} db upgrade a7_001_session_persistence"
    Then the CLI exits with code 0
    When the operator answers "n" when running "--database-url {fresh} db downgrade base"
    Then the CLI error mentions "cannot be counted"
    And the CLI output mentions "nothing changed"
    When the operator answers "y" when running "--database-url {fresh} db downgrade base --json"
    Then the CLI exits with code 0
    And the CLI JSON field "revision" equals null
