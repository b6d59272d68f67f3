Feature: Unusual and hostile files given to a stream import
  import_session_from_file reads its file piece by piece, so it parses the outer document
  itself. Whatever the file holds and however the file hands it over, a defect is refused with
  a specific error and the database stays exactly as it was; a good document imports the same
  however it arrives.

  Background:
    Given a stored session with a title, metadata and 40 messages, exported as a document

  Scenario Outline: A file holding <case> is refused
    When I try to stream-import a file holding <case>
    Then the call fails with <error> mentioning "<mention>"
    And the database is unchanged

    Examples:
      | case                                      | error                      | mention                                        |
      | nothing at all                            | InvalidExportDocumentError | expected a JSON object                         |
      | an object cut off after a key             | InvalidExportDocumentError | the document ends where a value was expected   |
      | an empty object                           | InvalidExportDocumentError | lacks required field(s): schema_version        |
      | a number as an object key                 | InvalidExportDocumentError | expected a string as object key                |
      | two members without a comma               | InvalidExportDocumentError | expected ',' or '}' in an object               |
      | a key without a colon                     | InvalidExportDocumentError | expected ':' after an object key               |
      | a duplicate key inside the session        | InvalidExportDocumentError | duplicate key 'title'                          |
      | NaN as the session's input tokens         | InvalidExportDocumentError | NaN is not a JSON number                       |
      | a message nested 100000 levels deep       | InvalidExportDocumentError | nested too deeply                              |
      | no messages member                        | InvalidExportDocumentError | lacks required field(s): messages              |
      | messages but no session member            | InvalidExportDocumentError | lacks required field(s): session               |
      | messages twice                            | InvalidExportDocumentError | duplicate key 'messages'                       |
      | a list instead of a document              | InvalidExportDocumentError | expected a JSON object                         |

  Scenario: A reader that returns something other than text or bytes is refused
    When I try to stream-import from a reader whose read() returns None
    Then the call fails with InvalidExportDocumentError mentioning "export file must be opened for reading"
    And the database is unchanged

  Scenario: A file over the importer's size limit is refused once the limit is passed
    Given an importer whose size limit is one byte below the document's UTF-8 size
    When I try to stream-import the document with the limited importer
    Then the call fails with ExportDocumentTooLargeError mentioning "the limit is"
    And the database is unchanged

  Scenario: Messages before the header are counted against the limit too
    Given an importer that accepts at most 10 messages per document
    When I try to stream-import the document with its messages first with the limited importer
    Then the call fails with ExportDocumentTooLargeError mentioning "more than 10 messages"
    And the database is unchanged

  Scenario Outline: A document imports the same <delivery>
    When I stream-import the document <delivery>
    Then the streamed import holds the same 40 messages as the document

    Examples:
      | delivery                                   |
      | from a file that hands out 7 bytes per read |
      | from a text file                           |
      | from a text file that hands out 5 characters per read |

  Scenario: A session larger than the write buffer streams out whole and back
    Given a session for actor "verbose" whose 24 messages hold 12 KiB each
    When I export that session to a binary file and stream it back in
    Then the copy holds the same 24 messages, byte for byte
