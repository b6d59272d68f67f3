@conformance
Feature: An export is one consistent picture while others keep writing
  An export reads the session and its messages from one snapshot of the database. Whatever
  other writers do meanwhile, the document shows the session as it was at one moment.

  Scenario: Messages appended during an export are left for the next export
    Given a session for actor "busy" with 3 messages
    And another writer appends 2 messages just after the export has read the session
    When I export the session
    Then the document holds 3 messages with sequences 0 to 2 and says so
    And the session now has 5 messages

  Scenario: A session deleted during an export is exported as it was when the export began
    Given a session for actor "doomed" with 3 messages
    And another writer deletes the session just after the export has read it
    When I export the session
    Then the document holds 3 messages with sequences 0 to 2 and says so
    And the session can no longer be read
