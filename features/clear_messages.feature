@conformance
Feature: Clearing a session's history
  clear_messages deletes every message of a session in one transaction and returns how many
  it deleted. The session itself stays, with its id, actor, title, metadata and token
  totals; its next sequence goes back to 0.

  Scenario: Clearing deletes the messages, keeps the session and restarts the sequences
    Given a session for actor "reset" with 5 messages and token usage 100 in, 20 out
    When I clear the messages of that session
    Then the call returned 5
    And the session holds no messages with message_count 0
    And the session's title, metadata and token totals are as before
    And the next append to that session gets sequence 0

  Scenario: Clearing leaves other sessions whole
    Given a session for actor "reset" with 3 messages
    And another session for actor "keep" with 4 messages
    When I clear the messages of that session
    Then the second session still has 4 messages in order

  Scenario: Clearing an empty session deletes nothing and keeps it
    Given a session for actor "empty"
    When I clear the messages of that session
    Then the call returned 0
    And the session holds no messages with message_count 0

  Scenario: Clearing an unknown session is refused and changes nothing
    Given a session for actor "bystander" with 2 messages
    When I try to clear the messages of session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  Scenario: Appends racing clears are each either cleared or kept, never lost or half-counted
    Given a session for actor "race" with 10 messages
    When 4 threads append 10 messages each while another thread clears the session 5 times
    Then the session's messages have sequences 0 upward with no gap, matching its message_count
    And the messages the clears deleted and the messages left add up to every message appended
