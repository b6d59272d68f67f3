Feature: The CLI reads and writes streams a script can use
  Export writes the document to standard output with `-o -` and import reads one from
  standard input with `-`, so sessions move through pipes. `sessions show` prints a session
  a batch of messages at a time, or only a window of it, and `sessions list --json` gives the
  page and the cursor of the next one in one JSON object. On a terminal, long exports, imports
  and purges draw a progress bar on stderr; on a pipe stderr stays empty.

  Scenario: Exporting to standard output and importing from standard input
    Given a session for actor "support-bot" with 3 messages
    When the operator runs "--database-url {run} sessions export {id} -o -"
    Then the CLI exits with code 0
    And the CLI output is an export document of 3 messages
    And the work directory gets the CLI output as "piped.json"
    When the operator runs "--database-url {run} sessions import -" with the file "piped.json" on standard input
    Then the CLI exits with code 0
    And the session printed by the CLI holds the same messages as the original

  Scenario: A broken document on standard input is bad input and stores nothing
    Given a session for actor "support-bot" with 1 messages
    And the work directory holds a file "broken.json" reading "{"format": "cleveragents.session-export", "messages": ["
    When the operator runs "--database-url {run} sessions import -" with the file "broken.json" on standard input
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "export document"
    And the database is unchanged

  Scenario: A file over the import limit is refused from its size, in MiB
    Given a session for actor "support-bot" with 1 messages
    And the work directory holds a file of 129 MiB named "huge.json"
    When the operator runs "--database-url {run} sessions import {work}/huge.json"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "(129 MiB); the limit is 128 MiB"
    And the database is unchanged

  Scenario Outline: Showing <window> of a 12-message session
    Given a session for actor "support-bot" with 12 messages
    When the operator runs "--database-url {run} sessions show {id} <options> --json"
    Then the CLI exits with code 0
    And the CLI shows the messages with sequences <first> to <last>
    And the CLI JSON field "message_count" equals 12

    Examples:
      | window                  | options               | first | last |
      | everything              |                       | 0     | 11   |
      | the latest 3            | --last 3              | 9     | 11   |
      | more than there is      | --last 50             | 0     | 11   |
      | a page                  | --limit 4 --offset 2  | 2     | 5    |
      | the tail from an offset | --offset 10           | 10    | 11   |

  Scenario: Showing no messages at all
    Given a session for actor "support-bot" with 3 messages
    When the operator runs "--database-url {run} sessions show {id} --last 0 --json"
    Then the CLI exits with code 0
    And the CLI shows no messages
    When the operator runs "--database-url {run} sessions show {id} --limit 0"
    Then the CLI exits with code 0
    And the CLI output mentions "messages: 3"

  Scenario: The text view shows each message on its own line, long contents included
    Given a session for actor "support-bot" with 3 messages
    When the operator runs "--database-url {run} sessions show {id} --last 2"
    Then the CLI exits with code 0
    And the CLI output mentions "#1 assistant: message 1 of support-bot"
    And the CLI output mentions "#2 tool: message 2 of support-bot"

  Scenario Outline: A window that contradicts itself is bad input
    Given a session for actor "support-bot" with 3 messages
    When the operator runs "--database-url {run} sessions show {id} <options>"
    Then the CLI exits with code 2
    And the database is unchanged

    Examples:
      | options              |
      | --last 2 --limit 1   |
      | --last 2 --offset 1  |
      | --last -1            |

  Scenario: Long transfers show a progress bar on a terminal, and none on a pipe
    Given a session for actor "support-bot" with 10000 messages of 500 bytes each
    When the operator runs "--database-url {run} sessions export {id} -o {work}/long.json" watching stderr on a terminal
    Then the CLI exits with code 0
    And the CLI error mentions "exporting 10000 messages"
    When the operator runs "--database-url {run} sessions import {work}/long.json" watching stderr on a terminal
    Then the CLI exits with code 0
    And the CLI error mentions "importing long.json"
    When the operator runs "--database-url {run} sessions import {work}/long.json"
    Then the CLI exits with code 0
    And the CLI printed nothing on stderr

  Scenario: A long purge shows its progress on a terminal, and none on a pipe
    Given 1000 sessions of actor "old-bot" last active 40 days ago with 1 messages each
    When the operator runs "--database-url {run} sessions purge --older-than 30d --yes" watching stderr on a terminal
    Then the CLI exits with code 0
    And the CLI error mentions "purging 1000 sessions"
    And the CLI output mentions "purged 1000 sessions inactive for more than 30d"
    Given 1000 sessions of actor "old-bot" last active 40 days ago with 1 messages each
    When the operator runs "--database-url {run} sessions purge --older-than 30d --yes"
    Then the CLI exits with code 0
    And the CLI printed nothing on stderr
    And the CLI output mentions "purged 1000 sessions inactive for more than 30d"
