@conformance
Feature: No password or message content in logs, errors or reprs
  Conversations hold private data and URLs hold credentials. Neither may reach a log record,
  an exception text or a repr, even when the database refuses a write.

  Scenario: A refused write does not echo the message it was writing
    Given every log record is being collected
    And a session for actor "private" with 1 messages
    And the stored message_count has been set to 0 behind the library's back
    When I try to append the private message "TOP-SECRET-CONTENT-4711"
    Then the call fails with DatabaseError mentioning "database error"
    And neither the error, its cause nor any log record contains "TOP-SECRET-CONTENT-4711"
    And the error's cause says the SQL parameters were hidden

  Scenario: The service and its engine do not show the password of their URL
    Given every log record is being collected
    When I open a service on the run's database with the password "hunter2-secret" in its URL
    Then neither the service, its engine nor its URL shows "hunter2-secret"
