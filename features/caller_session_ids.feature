@conformance
Feature: Sessions stored under the caller's own ids
  Agent frameworks name their conversations themselves. A runtime passes that name as
  session_id when it creates the session and uses it everywhere afterwards: any string of 1
  to 128 characters without control characters. An id that is taken is refused with
  SessionAlreadyExistsError and nothing is written; without an id the session gets a ULID.

  Scenario Outline: A session created under the id <id> is found and used under it
    When I create a session for actor "framework" with the id <id>
    Then the created session has the id <id>
    And the session with the id <id> can be read, appended to and listed

    Examples:
      | id                                        |
      | "thread-42"                               |
      | "user:7/conversation:3"                   |
      | "  spaced  out  "                         |
      | "日本語のスレッド 🧵"                        |
      | "x"                                       |
      | 128 times "z"                             |

  Scenario: A session under the longest id a caller may choose exports and imports
    Given a session for actor "framework" created with the id 128 times "z" and 3 messages
    When I export the session and import the document as JSON text
    Then the imported session has a new id and the same actor, title, metadata and tokens
    And the imported messages have new ids and the same sequences, roles, contents, metadata, token counts and timestamps
    And the original session is unchanged

  Scenario: Ids that differ only by trailing spaces or case are different sessions
    When I create sessions for actor "framework" with the ids "thread" and "thread "
    And I create sessions for actor "cased" with the ids "Thread" and "THREAD"
    Then each of them is found under its own id only

  Scenario: A session created under a taken id is refused and nothing changes
    Given a session for actor "first" created with the id "thread-42" and 2 messages
    When I try to create a session for actor "second" with the id "thread-42"
    Then the call fails with SessionAlreadyExistsError mentioning "'thread-42' already exists"
    And the database is unchanged
    And the session with the id "thread-42" belongs to actor "first" with 2 messages

  Scenario: An id freed by deleting its session can be used again
    Given a session for actor "first" created with the id "thread-42" and 2 messages
    When I delete the session with the id "thread-42"
    And I create a session for actor "second" with the id "thread-42"
    Then the session with the id "thread-42" belongs to actor "second" with 0 messages

  Scenario Outline: The id <description> is refused before anything is written
    Given a session for actor "bystander"
    When I try to create a session for actor "framework" with the id <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | description              | value               | message                              |
      | that is empty            | ""                  | session_id must not be empty         |
      | with a newline           | "line\nbreak"       | control character '\n' at index 4    |
      | with a tab               | "tab\tbed"          | control character '\t' at index 3    |
      | with a DEL               | "del\x7f"           | control character '\x7f' at index 3  |
      | with a C1 control        | "next\x85line"      | control character '\x85' at index 4  |
      | with a NUL               | "nul\x00"           | contains a NUL character             |
      | with a lone surrogate    | "half\ud800"        | lone surrogate at index 4            |
      | of 129 characters        | 129 times "a"       | 129 characters long; the limit is 128 |
      | that is a number         | the number 42       | session_id must be a string, got int |

  Scenario: An id of spaces only is the caller's to choose, and kept exactly
    Given a session for actor "bystander"
    When I create a session for actor "framework" with the id "   "
    Then the session with the id "   " belongs to actor "framework" with 0 messages

  Scenario: Without an id a session still gets a ULID
    When I create a session for actor "framework" without an id
    Then the created session's id is a 26-character ULID
