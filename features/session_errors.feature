@conformance
Feature: Bad arguments are refused with a specific error and change nothing
  Every service call checks its arguments before it writes. A call with a bad argument
  raises InvalidSessionDataError (or SessionNotFoundError for an id naming no session) with
  a message that names the argument and the problem, and leaves every stored row as it was.

  Values in the tables are Python literals, as a caller would pass them: "a" * 256 is a
  string of 256 letters, "\x00" holds a NUL character, "\ud800" a lone surrogate.

  # --- Unknown and malformed session ids --------------------------------------------------

  Scenario Outline: A call naming no stored session fails with SessionNotFoundError
    Given a session for actor "keeper" with 2 messages
    When I try to <operation> session id "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "session '01ARZ3NDEKTSV4RRFFQ69G5FAV' does not exist"
    And the database is unchanged

    Examples:
      | operation           |
      | append a message to |
      | add token usage to  |
      | export              |

  Scenario Outline: An id longer than any stored one names no session (<operation>)
    Ids up to 255 characters are looked up, though none longer than 128 is ever stored.
    Given a session for actor "keeper" with 2 messages
    When I try to <operation> session id "x" * 200
    Then the call fails with SessionNotFoundError mentioning "does not exist"
    And the database is unchanged

    Examples:
      | operation           |
      | append a message to |
      | add token usage to  |
      | export              |

  Scenario Outline: A session id that is not a string is refused
    Given a session for actor "keeper" with 2 messages
    When I try to <operation> session id <value>
    Then the call fails with InvalidSessionDataError mentioning "session_id must be a string, got <type>"
    And the database is unchanged

    Examples:
      | operation            | value                  | type     |
      | read                 | 42                     | int      |
      | delete               | 42                     | int      |
      | append a message to  | 42                     | int      |
      | add token usage to   | 42                     | int      |
      | export               | 42                     | int      |
      | read the messages of | 42                     | int      |
      | delete               | None                   | NoneType |
      | append a message to  | b"01ARZ3NDEKTSV4RRFF" | bytes    |

  Scenario Outline: A session id that no database could store is refused, not looked up
    Given a session for actor "keeper" with 2 messages
    When I try to <operation> session id <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | operation            | value         | message                                               |
      | read                 | "01\x00ARZ"   | session_id contains a NUL character                   |
      | delete               | "01\x00ARZ"   | session_id contains a NUL character                   |
      | append a message to  | "01\ud800"    | session_id is not valid Unicode text (lone surrogate |
      | read the messages of | "01\ud800"    | session_id is not valid Unicode text (lone surrogate |
      | export               | "x" * 256     | session_id is 256 characters long; the limit is 255   |

  # --- Creating a session -----------------------------------------------------------------

  Scenario Outline: A bad actor_name is refused (<case>)
    Given a session for actor "keeper" with 2 messages
    When I try to create a session with actor_name <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | case       | value        | message                                              |
      | empty      | ""           | actor_name must not be empty or blank                |
      | blank      | " \t\n "     | actor_name must not be empty or blank                |
      | too long   | "a" * 256    | actor_name is 256 characters long; the limit is 255  |
      | an integer | 42           | actor_name must be a string, got int                 |
      | None       | None         | actor_name must be a string, got NoneType            |
      | bytes      | b"planner"   | actor_name must be a string, got bytes               |
      | NUL        | "plan\x00ner" | actor_name contains a NUL character                  |
      | surrogate  | "plan\ud800" | actor_name is not valid Unicode text (lone surrogate |

  Scenario Outline: A bad title is refused (<case>)
    Given a session for actor "keeper" with 2 messages
    When I try to create a session with title <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | case       | value       | message                                          |
      | too long   | "t" * 1025  | title is 1025 characters long; the limit is 1024 |
      | an integer | 7           | title must be a string, got int                  |
      | NUL        | "a\x00b"    | title contains a NUL character                   |

  Scenario Outline: Session metadata that is not a JSON object is refused (<case>)
    Given a session for actor "keeper" with 2 messages
    When I try to create a session with metadata <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | case                | value                           | message                                          |
      | holding an object() | {"handle": object()}            | metadata is not JSON-serialisable                |
      | holding a set       | {"tags": {"a", "b"}}            | metadata is not JSON-serialisable                |
      | holding NaN         | {"score": float("nan")}         | metadata is not JSON-serialisable                |
      | holding Infinity    | {"score": float("inf")}         | metadata is not JSON-serialisable                |
      | holding a surrogate | {"text": "\ud800"}              | metadata is not JSON-serialisable                |
      | with a tuple key    | {(1, 2): "pair"}                | metadata is not JSON-serialisable                |
      | a list              | ["not", "a", "dict"]            | metadata must be a JSON object (dict), got list  |
      | a string            | "{}"                            | metadata must be a JSON object (dict), got str   |
      | larger than a row   | {"blob": "x" * (8 * 1024 * 1024)} | title and metadata take 8388620 bytes          |

  # --- Appending a message ----------------------------------------------------------------

  Scenario Outline: A bad message argument is refused (<case>)
    Given a session for actor "keeper" with 2 messages
    When I try to append a message with <argument> <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | case                  | argument    | value                           | message                                                   |
      | empty role            | role        | ""                              | role must not be empty or blank                           |
      | blank role            | role        | "   "                           | role must not be empty or blank                           |
      | role of 65 characters | role        | "r" * 65                        | role is 65 characters long; the limit is 64               |
      | role not a string     | role        | 1                               | role must be a string, got int                            |
      | NUL in role           | role        | "us\x00er"                      | role contains a NUL character                             |
      | content not a string  | content     | 5                               | content must be a string, got int                         |
      | content None          | content     | None                            | content must be a string, got NoneType                    |
      | content as bytes      | content     | b"hello"                        | content must be a string, got bytes                       |
      | NUL in content        | content     | "hello\x00world"                | content contains a NUL character                          |
      | surrogate in content  | content     | "hello \ud800 world"            | content is not valid Unicode text (lone surrogate at index 6) |
      | content over 16 Mi    | content     | "x" * (16 * 1024 * 1024 + 1)    | content is 16777217 characters long; the limit is 16777216 |
      | content past a row    | content     | "x" * (8 * 1024 * 1024 - 64 * 1024 - 1) | content and metadata take 8323073 bytes; the limit is 8323072 bytes |
      | emoji past a row      | content     | "\U0001F600" * (2 * 1024 * 1024 - 16 * 1024) | content and metadata take 8323074 bytes |
      | metadata past a row   | metadata    | {"blob": "x" * (8 * 1024 * 1024)} | content and metadata take 8388625 bytes |
      | metadata object()     | metadata    | {"handle": object()}            | metadata is not JSON-serialisable                         |
      | metadata set          | metadata    | {"tags": {"a"}}                 | metadata is not JSON-serialisable                         |
      | metadata NaN          | metadata    | {"score": float("nan")}         | metadata is not JSON-serialisable                         |
      | metadata a list       | metadata    | [1, 2]                          | metadata must be a JSON object (dict), got list           |
      | negative token_count  | token_count | -1                              | token_count must not be negative, got -1                  |
      | token_count True      | token_count | True                            | token_count must be an integer, got bool                  |
      | token_count 1.5       | token_count | 1.5                             | token_count must be an integer, got float                 |
      | token_count "3"       | token_count | "3"                             | token_count must be an integer, got str                   |
      | token_count too large | token_count | 2 ** 31                         | token_count is 2147483648; the limit is 2147483647        |

  # --- Token usage ------------------------------------------------------------------------

  Scenario Outline: A bad token count is refused (<argument> <value>)
    Given a session for actor "keeper" with 2 messages
    When I try to add token usage with <argument> <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | argument      | value   | message                                                  |
      | input_tokens  | -1      | input_tokens must not be negative, got -1                |
      | output_tokens | -1      | output_tokens must not be negative, got -1               |
      | input_tokens  | 1.5     | input_tokens must be an integer, got float               |
      | output_tokens | 1.5     | output_tokens must be an integer, got float              |
      | input_tokens  | "3"     | input_tokens must be an integer, got str                 |
      | output_tokens | "3"     | output_tokens must be an integer, got str                |
      | input_tokens  | True    | input_tokens must be an integer, got bool                |
      | output_tokens | None    | output_tokens must be an integer, got NoneType           |
      | input_tokens  | 2 ** 63 | input_tokens is 9223372036854775808; the limit is 9223372036854775807 |

  # --- Paging -----------------------------------------------------------------------------

  Scenario Outline: A bad session page is refused (<argument> <value>)
    Given a session for actor "keeper" with 2 messages
    When I try to list sessions with <argument> <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | argument | value | message                               |
      | limit    | 0     | limit must be at least 1, got 0       |
      | limit    | -1    | limit must not be negative, got -1    |
      | limit    | 2.0   | limit must be an integer, got float   |
      | limit    | None  | limit must be an integer, got NoneType |
      | offset   | -1    | offset must not be negative, got -1   |
      | offset   | "1"   | offset must be an integer, got str    |

  Scenario Outline: A bad message page is refused (<argument> <value>)
    Given a session for actor "keeper" with 2 messages
    When I try to read the messages with <argument> <value>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | argument | value | message                              |
      | limit    | -1    | limit must not be negative, got -1   |
      | limit    | True  | limit must be an integer, got bool   |
      | offset   | -1    | offset must not be negative, got -1  |
      | offset   | None  | offset must be an integer, got NoneType |

  # --- Values at the edge that are accepted -----------------------------------------------

  Scenario: Empty content is a message
    Given a session for actor "keeper" with 2 messages
    When I try to append a message with content ""
    Then the call succeeds
    And the result reads back the same from the database
    And the session has 3 messages

  Scenario: An actor_name of exactly 255 characters is accepted
    Given a session for actor "keeper" with 2 messages
    When I try to create a session with actor_name "a" * 255
    Then the call succeeds
    And the created session's actor_name is the 255 characters given
    And the result reads back the same from the database

  Scenario Outline: Other values exactly at a limit are accepted (<argument>)
    Given a session for actor "keeper" with 2 messages
    When I try to append a message with <argument> <value>
    Then the call succeeds
    And the result reads back the same from the database
    And the session has 3 messages

    Examples:
      | argument    | value                      |
      | role        | "r" * 64                   |
      | token_count | 2 ** 31 - 1                |
      | token_count | 0                          |
      | metadata    | {}                         |
      | content     | "\n" * (8 * 1024 * 1024 - 64 * 1024 - 2) |

  Scenario: A title of exactly 1024 characters is accepted
    Given a session for actor "keeper" with 2 messages
    When I try to create a session with title "t" * 1024
    Then the call succeeds
    And the result reads back the same from the database

  Scenario: Reading a message page of size 0 gives an empty list
    Given a session for actor "keeper" with 2 messages
    When I try to read the messages with limit 0
    Then the call returns an empty list
    And the database is unchanged
