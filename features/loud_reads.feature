@conformance
Feature: Damaged data is reported, never skipped
  If stored rows contradict each other (a message missing from the middle of a session, a
  counter that disagrees with the rows, a value that cannot be decoded) the read fails with
  SessionIntegrityError naming the session, instead of returning a shortened history.

  Scenario: A gap in the sequences is reported by a full read and by a page
    Given a session for actor "damaged" with 5 messages
    And the stored message at sequence 2 has been removed behind the library's back
    When I try to read the whole history
    Then the read fails with SessionIntegrityError mentioning "counts 5 messages but 4 are stored"
    When I try to read 3 messages from offset 1
    Then the read fails with SessionIntegrityError mentioning "expected sequence 2, found 3"
    When I try to read the latest 3 messages
    Then the read fails with SessionIntegrityError mentioning "expected sequence 2, found 3"
    When I try to stream the session to a file for the record
    Then the read fails with SessionIntegrityError mentioning "expected sequence 2, found 3"

  Scenario: A counter higher than the rows is reported by reads and exports
    Given a session for actor "damaged" with 3 messages
    And the stored message_count has been set to 7 behind the library's back
    When I try to read the whole history
    Then the read fails with SessionIntegrityError mentioning "counts 7 messages but 3 are stored"
    When I try to export the session for the record
    Then the read fails with SessionIntegrityError mentioning "counts 7 messages but 3 are stored"
    When I try to stream the session to a file for the record
    Then the read fails with SessionIntegrityError mentioning "counts 7 messages but 3 are stored"
    When I try to pop the last message for the record
    Then the read fails with SessionIntegrityError mentioning "counts 7 messages but has none at sequence 6"
    And the database is unchanged

  Scenario: A counter lower than the rows is reported too
    Given a session for actor "damaged" with 3 messages
    And the stored message_count has been set to 1 behind the library's back
    When I try to read the whole history
    Then the read fails with SessionIntegrityError mentioning "counts 1 messages but 3 are stored"

  Scenario: A message whose metadata cannot be decoded is reported
    Given a session for actor "damaged" with 2 messages
    And the stored metadata of the message at sequence 1 has been overwritten with "{not json"
    When I try to read the whole history
    Then the read fails with SessionIntegrityError mentioning "cannot be decoded"
    And the error does not show the stored text
    When I try to stream the session to a file for the record
    Then the read fails with SessionIntegrityError mentioning "cannot be decoded"
    And the error does not show the stored text

  Scenario: A session whose metadata cannot be decoded is reported by reads and listings
    Given a session for actor "damaged" with 1 messages
    And the stored metadata of the session has been overwritten with "[1, 2]"
    When I try to read the session
    Then the read fails with SessionIntegrityError mentioning "a stored session row cannot be decoded"
    When I try to list the sessions
    Then the read fails with SessionIntegrityError mentioning "a stored session row cannot be decoded"
