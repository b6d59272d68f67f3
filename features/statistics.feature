Feature: Totals per actor
  Operators want to know who uses how much: sessions, messages and tokens per actor.

  Scenario: Statistics add up every session of each actor
    Given a session for actor "alpha" with 3 messages and token usage 10 in, 5 out
    And a session for actor "alpha" with 2 messages and token usage 1 in, 1 out
    And a session for actor "beta" with 4 messages and token usage 7 in, 0 out
    When I ask for statistics
    Then the statistics read:
      | actor | sessions | messages | input | output | total |
      | alpha | 2        | 5        | 11    | 6      | 17    |
      | beta  | 1        | 4        | 7     | 0      | 7     |

  Scenario: One actor's totals add up exactly past the largest BIGINT
    Given a session for actor "heavy" with token usage 9223372036854775807 in, 1 out
    And a session for actor "heavy" with token usage 9223372036854775807 in, 2 out
    And a session for actor "light" with token usage 1 in, 9223372036854775807 out
    When I ask for statistics
    Then the statistics read:
      | actor | sessions | messages | input                | output              | total                |
      | heavy | 2        | 0        | 18446744073709551614 | 3                   | 18446744073709551617 |
      | light | 1        | 0        | 1                    | 9223372036854775807 | 9223372036854775808  |

  Scenario: An empty store has no statistics
    When I ask for statistics
    Then there are no statistics
