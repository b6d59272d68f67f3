@conformance
Feature: Appends that know what they overwrite and never write twice
  A runtime that resumes a conversation may race another worker; an optimistic append lets it
  notice. A retried append whose first commit landed but whose answer was lost must not store
  the message a second time.

  Scenario: An optimistic append at the expected sequence is stored
    Given a session for actor "optimist" with 2 messages
    When I append "third" expecting the next sequence to be 2
    Then the optimistic message was stored at sequence 2
    And the session has 3 messages

  Scenario: An optimistic append behind another writer is refused with the actual sequence
    Given a session for actor "optimist" with 3 messages
    When I append "stale" expecting the next sequence to be 2
    Then the call fails with SequenceConflictError mentioning "expected next sequence 2, but it is 3"
    And the conflict says the next sequence is 3
    And the database is unchanged

  Scenario: An optimistic append to an unknown session reports the session, not a conflict
    Given a session for actor "optimist" with 1 messages
    When I append "lost" to session "01ARZ3NDEKTSV4RRFFQ69G5FAV" expecting the next sequence to be 0
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  Scenario: A retried append whose first commit was not acknowledged stores one message
    Given a session for actor "flaky" with 2 messages
    And a service whose first commit succeeds but loses its acknowledgement
    When that service appends "only once"
    Then the session's messages end with exactly one "only once" at sequence 2
    And the session has 3 messages

  Scenario: A retried import whose first commit was not acknowledged creates one session
    Given a session for actor "flaky" with 2 messages
    And a service whose first commit succeeds but loses its acknowledgement
    When that service imports an export of the session
    Then there are 2 sessions of actor "flaky" with 2 messages each
