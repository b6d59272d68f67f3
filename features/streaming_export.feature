Feature: Streaming a session to and from a file
  export_session_to_file writes the same document as export_session, message by message,
  and import_session_from_file reads it back piece by piece, so memory stays flat however
  long the session. The stream import checks the count, the checksum and the signature
  before its one transaction commits: a faulty file leaves the database as it was.

  Background:
    Given a stored session with a title, metadata and 150 messages, exported as a document

  Scenario Outline: A <mode> file holds exactly the dict document, checksum included
    When I export the session to a <mode> file
    Then the file parses to the dict document apart from exported_at
    And the returned checksum is the dict document's checksum

    Examples:
      | mode   |
      | binary |
      | text   |

  Scenario Outline: The stream round trip equals the dict round trip (<mode> file)
    When I export the session to a <mode> file
    And I import that file as a stream
    And I import the dict document the usual way
    Then the two imported sessions hold the same fields and the same 150 messages

    Examples:
      | mode   |
      | binary |
      | text   |

  Scenario: import_session also accepts an open file
    When I export the session to a binary file
    And I hand the open file to import_session
    Then the imported session has 150 messages

  Scenario: A signed stream export imports with its key and is refused with another
    When I export the session to a binary file signed with key "k-one"
    And I import that file as a stream with key "k-one"
    Then the imported session has 150 messages
    When I try to import that file as a stream with key "k-two"
    Then the call fails with SignatureMismatchError mentioning "signed with another key"

  Scenario: A document whose messages come before its header still imports
    When I write the dict document to a file with its messages first
    And I import that file as a stream
    Then the imported session has 150 messages

  Scenario: A messages-first document with a broken message is refused like any other
    When I write the dict document to a file with its messages first and a lone surrogate in message 5
    And I try to import that file as a stream
    Then the call fails with InvalidExportDocumentError mentioning "messages[5].content is not valid Unicode text"
    And the database is unchanged

  Scenario: An empty session streams out and back
    Given an empty session for actor "quiet" exported to a binary file
    When I import that file as a stream
    Then the imported session has 0 messages

  Scenario Outline: A faulty file is refused and the database stays as it was (<fault>)
    When I export the session to a binary file
    And I damage the file: <fault>
    And I try to import that file as a stream
    Then the call fails with <error> mentioning "<mention>"
    And the database is unchanged

    Examples:
      | fault                                 | error                       | mention                              |
      | the content of message 120 is changed | ChecksumMismatchError       | checksum mismatch                    |
      | it is cut off inside message 100      | InvalidExportDocumentError  | not valid JSON                       |
      | it is cut off after the last message  | InvalidExportDocumentError  | not valid JSON                       |
      | message 140 loses its role            | InvalidExportDocumentError  | messages[140] lacks required field(s): role |
      | message 70 has sequence 71            | InvalidExportDocumentError  | messages[70].sequence must be 70     |
      | the session declares 151 messages     | InvalidExportDocumentError  | does not match the 150 messages      |
      | schema_version is 2                   | UnsupportedSchemaVersionError | schema_version 2 is not supported |
      | a second checksum key follows         | InvalidExportDocumentError  | duplicate key 'checksum'             |
      | text follows the document             | InvalidExportDocumentError  | extra data after the document        |
      | it is not UTF-8                       | InvalidExportDocumentError  | not UTF-8                            |
      | messages is an object                 | InvalidExportDocumentError  | messages must be a list              |
      | message 30's metadata has a lone surrogate | InvalidExportDocumentError | messages[30].metadata is not JSON-serialisable |

  Scenario: A stream over the importer's limits is refused part way and nothing is kept
    Given an importer that accepts at most 100 messages per document
    When I export the session to a binary file
    And I try to import that file as a stream with the limited importer
    Then the call fails with ExportDocumentTooLargeError mentioning "more than 100 messages"
    And the database is unchanged

  Scenario: Exporting a session that does not exist writes nothing
    When I try to export the session "01ARZ3NDEKTSV4RRFFQ69G5FAV" to a binary file
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the file is still empty
