@conformance
Feature: Taking back the last message
  A runtime that retracts a turn (an undo, a regenerated answer) pops the newest message:
  pop_last_message removes the message with the highest sequence and returns it, and the
  session's next sequence goes back with it in the same transaction, so the history stays
  gap-free and the next append takes the freed sequence. Poppers queue on the session row
  like appenders do, so each message is handed to exactly one of them.

  Scenario: Popping returns the newest message and gives its sequence back
    Given a session for actor "undo" with 3 messages
    When I pop the last message of that session
    Then the popped message is sequence 2 with content "message 2 of undo"
    And the session holds sequences 0 to 1 with message_count 2
    And the next append to that session gets sequence 2

  Scenario: Popping every message, one by one, returns them newest first and empties the session
    Given a session for actor "undo" with 3 messages
    When I pop the last message of that session 4 times
    Then the pops returned sequences 2, 1, 0 and then nothing
    And the session holds no messages with message_count 0
    And the session's title, metadata and token totals are as before

  Scenario: Popping an empty session returns nothing and changes nothing
    Given a session for actor "empty"
    When I try to pop the last message of that session
    Then the call returned nothing
    And the database is unchanged

  Scenario: Popping from an unknown session is refused and changes nothing
    Given a session for actor "bystander" with 2 messages
    When I try to pop the last message of session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  Scenario: Concurrent poppers receive each message exactly once
    Given a session for actor "stack" with 40 messages
    When 8 threads sharing the scenario's service each pop the last message 6 times
    Then every one of the 40 messages was popped by exactly one thread
    And 8 pops returned nothing
    And the session holds no messages with message_count 0

  # @slow: threads racing for seconds; mutation testing leaves it to the full suite.
  @slow
  Scenario: Poppers and appenders at once leave a gap-free history
    Given a session for actor "churn" with 20 messages
    When 4 threads pop the last message 10 times each while 4 threads append 10 messages each
    Then no message was popped twice
    And the session's messages have sequences 0 upward with no gap, matching its message_count
    And the stored messages are exactly the appended ones that were not popped
