Feature: An export is one consistent picture while others keep writing
  An export reads the session, then the messages below the count it read. Whatever other
  writers do in between, the document agrees with itself or the export reports the truth.

  Scenario: Messages appended during an export are left for the next export
    Given a session for actor "busy" with 3 messages
    And another writer appends 2 messages just after the export has read the session
    When I export the session
    Then the document holds 3 messages with sequences 0 to 2 and says so
    And the session now has 5 messages

  Scenario: A session deleted during an export is reported as not found
    Given a session for actor "doomed" with 3 messages
    And another writer deletes the session just after the export has read it
    When I try to export the session
    Then the call fails with SessionNotFoundError mentioning "does not exist"
