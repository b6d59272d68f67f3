@conformance
Feature: A bad export document is refused whole, with the error that names its defect
  import_session checks a document completely before it writes anything: its size, that it
  is JSON, its schema version, its top-level shape, every field, and last its checksum. A
  rejected document raises the most specific SessionImportError subclass, with a message
  naming the defect, and leaves the database exactly as it was, the session it was exported
  from included.

  Each scenario starts from a valid export of a stored session (title, metadata, three
  messages with metadata and token counts) and breaks one thing. Field values set on the
  document are Python literals; text written into the JSON text is raw JSON.

  Background:
    Given a stored session with a title, metadata and 3 messages, exported as a document

  Scenario: The untouched document imports (the starting point is valid)
    When I try to import the document
    Then the import gives a new session with 3 messages
    And the original session is unchanged

  # --- Not a JSON object ------------------------------------------------------------------

  Scenario Outline: Text that is not a JSON object is refused (<case>)
    When I try to import the raw JSON text <text>
    Then the call fails with InvalidExportDocumentError mentioning "<message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | case             | text              | message                                             |
      | not JSON         | {nope             | export document is not valid JSON                   |
      | a JSON array     | [1, 2, 3]         | export document must be a JSON object, got list     |
      | a JSON string    | "a session"       | export document must be a JSON object, got str      |
      | a JSON number    | 42                | export document must be a JSON object, got int      |
      | JSON null        | null              | export document must be a JSON object, got NoneType |
      | an empty object  | {}                | export document lacks required field(s): schema_version |

  Scenario: A truncated JSON text is refused
    When I try to import the document's JSON text cut after 200 characters
    Then the call fails with InvalidExportDocumentError mentioning "export document is not valid JSON"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: A document that is neither a dict, a str nor bytes is refused (<value>)
    When I try to import the Python value <value>
    Then the call fails with InvalidExportDocumentError mentioning "export document must be a dict, str or bytes, got <type>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | value      | type     |
      | 42         | int      |
      | None       | NoneType |
      | [1, 2]     | list     |
      | 1.5        | float    |

  Scenario Outline: Bytes that are not UTF-8 are refused (<bytes>)
    When I try to import the document as UTF-8 bytes with the bytes <bytes> inside messages[1].content
    Then the call fails with InvalidExportDocumentError mentioning "<message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | bytes    | message                                                            |
      | FF       | export document is not valid JSON: 'utf-8' codec can't decode byte 0xff |
      | C3 28    | export document is not valid JSON: 'utf-8' codec can't decode byte 0xc3 |
      | ED A0 80 | export document is not valid JSON: 'utf-8' codec can't decode byte 0xed |

  # --- JSON syntax that Python would accept but JSON does not -----------------------------

  Scenario Outline: A key written twice is refused (<path>)
    When I try to import the document's JSON text with <path> written twice
    Then the call fails with InvalidExportDocumentError mentioning "export document is not valid JSON: duplicate key '<key>'"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path               | key        |
      | format             | format     |
      | checksum           | checksum   |
      | session.actor_name | actor_name |
      | messages[2].role   | role       |

  Scenario Outline: NaN and Infinity are not JSON numbers (<literal> in <path>)
    When I try to import the document's JSON text with <path> written as <literal>
    Then the call fails with InvalidExportDocumentError mentioning "export document is not valid JSON: <literal> is not a JSON number"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path                    | literal   |
      | session.input_tokens    | NaN       |
      | messages[0].token_count | Infinity  |
      | session.metadata        | -Infinity |

  Scenario: A 5,000-digit number is refused before it is converted
    When I try to import the document's JSON text with session.output_tokens written as a 5000-digit number
    Then the call fails with InvalidExportDocumentError mentioning "export document is not valid JSON: Exceeds the limit"
    And the database is unchanged
    And the original session is unchanged

  Scenario: A text of 100,000 opening brackets is refused as too deep
    When I try to import the raw JSON text of 100000 opening brackets
    Then the call fails with InvalidExportDocumentError mentioning "export document is nested too deeply"
    And the database is unchanged
    And the original session is unchanged

  Scenario: A value nested 100,000 levels deep inside the document is refused
    When I try to import the document's JSON text with session.metadata nested 100000 levels deep
    Then the call fails with InvalidExportDocumentError mentioning "export document is nested too deeply"
    And the database is unchanged
    And the original session is unchanged

  Scenario: Metadata nested 100,000 levels deep in a dict document is refused
    When I set the document's session.metadata.deep to lists nested 100000 levels deep
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "session.metadata is nested too deeply to serialise"
    And the database is unchanged
    And the original session is unchanged

  Scenario: A lone surrogate written as a JSON escape is refused
    When I try to import the document's JSON text with messages[1].content written as "ok \ud800"
    Then the call fails with InvalidExportDocumentError mentioning "export document field messages[1].content is not valid Unicode text (lone surrogate at index 3)"
    And the database is unchanged
    And the original session is unchanged

  # --- Top-level shape --------------------------------------------------------------------

  Scenario Outline: A document lacking a top-level field is refused (<field>)
    When I remove the document's <field>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document lacks required field(s): <field>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | field          |
      | format         |
      | schema_version |
      | exported_at    |
      | session        |
      | messages       |
      | checksum       |

  Scenario: A document with an unknown top-level field is refused
    When I set the document's comment to "added by hand"
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document has unknown field(s): comment"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: A document of another format is refused (<value>)
    When I set the document's format to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field format must be 'cleveragents.session-export', got <shown>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | value                         | shown                         |
      | "cleveragents.session-backup" | 'cleveragents.session-backup' |
      | ""                            | ''                            |
      | None                          | None                          |
      | "x" * 200                     | 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx... |

  Scenario Outline: An unsupported schema_version is refused (<value>)
    When I set the document's schema_version to <value>
    And I try to import the document
    Then the call fails with UnsupportedSchemaVersionError mentioning "export document schema_version <shown> is not supported (expected 1)"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | value | shown |
      | 0     | 0     |
      | 2     | 2     |
      | "1"   | '1'   |
      | None  | None  |
      | True  | True  |
      | 1.0   | 1.0   |

  Scenario Outline: The session and messages fields must be an object and a list (<path>)
    When I set the document's <path> to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "<message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path     | value      | message                                                     |
      | session  | []         | export document field session must be a JSON object, got [] |
      | session  | "session"  | export document field session must be a JSON object, got 'session' |
      | messages | {}         | export document field messages must be a list, got {}       |
      | messages | None       | export document field messages must be a list, got None     |

  # --- Session fields ---------------------------------------------------------------------

  Scenario Outline: A session lacking a field is refused (<field>)
    When I remove the document's session.<field>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "session lacks required field(s): <field>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | field         |
      | actor_name    |
      | title         |
      | metadata      |
      | message_count |
      | input_tokens  |
      | created_at    |

  Scenario: A session with an unknown field is refused
    When I set the document's session.owner to "someone"
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "session has unknown field(s): owner"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: A session field of the wrong type or value is refused (<path> = <value>)
    When I set the document's <path> to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field <message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path                  | value                   | message                                                    |
      | session.actor_name    | 5                       | session.actor_name must be a string, got int               |
      | session.actor_name    | "   "                   | session.actor_name must not be empty or blank              |
      | session.actor_name    | "a" * 256               | session.actor_name is 256 characters long; the limit is 255 |
      | session.actor_name    | "a\x00b"                | session.actor_name contains a NUL character                |
      | session.title         | 7                       | session.title must be a string, got int                    |
      | session.title         | "t" * 1025              | session.title is 1025 characters long; the limit is 1024   |
      | session.metadata      | ["a", "list"]           | session.metadata must be a JSON object (dict), got list    |
      | session.metadata      | {"x": float("nan")}     | session.metadata is not JSON-serialisable                  |
      | session.metadata      | {"x": "x" * (8 * 1024 * 1024)} | session.title and metadata take                     |
      | session.input_tokens  | "10"                    | session.input_tokens must be an integer, got str           |
      | session.input_tokens  | True                    | session.input_tokens must be an integer, got bool          |
      | session.input_tokens  | 10.0                    | session.input_tokens must be an integer, got float         |
      | session.output_tokens | -1                      | session.output_tokens must not be negative, got -1         |
      | session.output_tokens | 2 ** 63                 | session.output_tokens is 9223372036854775808; the limit is 9223372036854775807 |
      | session.message_count | 4                       | session.message_count does not match the 3 messages in the document, got 4 |
      | session.message_count | 2                       | session.message_count does not match the 3 messages in the document, got 2 |
      | session.message_count | "3"                     | session.message_count must be an integer, got str          |
      | session.id            | 12                      | session.id must be a string, got int                       |
      | session.created_at    | "2026-01-01T00:00:00"   | session.created_at has no timezone; timestamps must be UTC or carry an offset |
      | session.updated_at    | "yesterday"             | session.updated_at is not an ISO 8601 timestamp, got 'yesterday' |
      | session.created_at    | 1767225600              | session.created_at must be an ISO 8601 timestamp string, got 1767225600 |
      | session.created_at    | "0001-01-01T00:00:00+01:00" | session.created_at is outside the representable range once converted to UTC |
      | session.updated_at    | "9999-12-31T23:59:59-01:00" | session.updated_at is outside the representable range once converted to UTC |

  # --- Message fields ---------------------------------------------------------------------

  Scenario Outline: A message lacking a field is refused (<field>)
    When I remove the document's messages[1].<field>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "messages[1] lacks required field(s): <field>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | field       |
      | id          |
      | sequence    |
      | role        |
      | content     |
      | metadata    |
      | token_count |
      | created_at  |

  Scenario Outline: A message field of the wrong type or value is refused (<path> = <value>)
    When I set the document's <path> to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field <message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path                    | value                  | message                                                      |
      | messages[0].sequence    | "0"                    | messages[0].sequence must be an integer, got str             |
      | messages[1].sequence    | True                   | messages[1].sequence must be an integer, got bool            |
      | messages[1].sequence    | 1.0                    | messages[1].sequence must be an integer, got float           |
      | messages[1].role        | None                   | messages[1].role must be a string, got NoneType              |
      | messages[1].role        | ""                     | messages[1].role must not be empty or blank                  |
      | messages[1].role        | "r" * 65               | messages[1].role is 65 characters long; the limit is 64      |
      | messages[2].content     | 5                      | messages[2].content must be a string, got int                |
      | messages[2].content     | "a\x00b"               | messages[2].content contains a NUL character                 |
      | messages[2].content     | "ok \ud800"            | messages[2].content is not valid Unicode text (lone surrogate at index 3) |
      | messages[2].content     | "x" * (8 * 1024 * 1024) | messages[2].content and metadata take                       |
      | messages[0].metadata    | "{}"                   | messages[0].metadata must be a JSON object (dict), got str   |
      | messages[1].metadata    | {"x": float("nan")}    | messages[1].metadata is not JSON-serialisable                |
      | messages[1].metadata    | {"x": {1, 2}}          | messages[1].metadata is not JSON-serialisable                |
      | messages[0].token_count | -1                     | messages[0].token_count must not be negative, got -1         |
      | messages[0].token_count | 2 ** 63                | messages[0].token_count is 9223372036854775808; the limit is 2147483647 |
      | messages[0].token_count | 2 ** 31                | messages[0].token_count is 2147483648; the limit is 2147483647 |
      | messages[0].token_count | "3"                    | messages[0].token_count must be an integer, got str          |
      | messages[2].created_at  | "2026-01-01T00:00:00"  | messages[2].created_at has no timezone                       |
      | messages[2].created_at  | "yesterday"            | messages[2].created_at is not an ISO 8601 timestamp, got 'yesterday' |
      | messages[2].id          | None                   | messages[2].id must be a string, got NoneType                |
      | messages[2].id          | "i" * 65               | messages[2].id is 65 characters long; the limit is 64        |
      | messages[1]             | ["not", "an", "object"] | messages[1] must be a JSON object, got ['not', 'an', 'object'] |

  Scenario: A message with an unknown field is refused
    When I set the document's messages[0].tool_call to {"id": "c-1"}
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "messages[0] has unknown field(s): tool_call"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: Message sequences must run 0, 1, 2 in order (<case>)
    When I set the document's <path> to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field <message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | case      | path                 | value | message                                                          |
      | duplicate | messages[1].sequence | 0     | messages[1].sequence must be 1: sequences start at 0 and follow each other without gaps, got 0 |
      | gapped    | messages[2].sequence | 3     | messages[2].sequence must be 2: sequences start at 0 and follow each other without gaps, got 3 |
      | from one  | messages[0].sequence | 1     | messages[0].sequence must be 0: sequences start at 0 and follow each other without gaps, got 1 |

  Scenario: Messages out of order are refused
    When I swap the document's messages 0 and 1
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field messages[0].sequence must be 0: sequences start at 0 and follow each other without gaps, got 1"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: A bad exported_at is refused, though the checksum does not cover it (<value>)
    When I set the document's exported_at to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field exported_at <message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | value                 | message                                                         |
      | "2026-01-01T00:00:00" | has no timezone; timestamps must be UTC or carry an offset      |
      | "yesterday"           | is not an ISO 8601 timestamp, got 'yesterday'                   |
      | None                  | must be an ISO 8601 timestamp string, got None                  |

  # --- The field checks stand on their own: a valid checksum does not excuse a bad field --

  Scenario Outline: A bad field is refused even with a recomputed checksum (<path> = <value>)
    When I set the document's <path> to <value>
    And I recompute the document's checksum
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field <message>"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path                    | value                 | message                                                       |
      | session.actor_name      | 5                     | session.actor_name must be a string, got int                  |
      | session.input_tokens    | "10"                  | session.input_tokens must be an integer, got str              |
      | session.input_tokens    | True                  | session.input_tokens must be an integer, got bool             |
      | session.metadata        | ["a", "list"]         | session.metadata must be a JSON object (dict), got list       |
      | session.title           | 7                     | session.title must be a string, got int                       |
      | session.message_count   | 4                     | session.message_count does not match the 3 messages in the document, got 4 |
      | session.created_at      | "2026-01-01T00:00:00" | session.created_at has no timezone                            |
      | messages[1].sequence    | 0                     | messages[1].sequence must be 1                                |
      | messages[2].sequence    | 3                     | messages[2].sequence must be 2                                |
      | messages[1].role        | None                  | messages[1].role must be a string, got NoneType               |
      | messages[2].content     | 5                     | messages[2].content must be a string, got int                 |
      | messages[0].token_count | -1                    | messages[0].token_count must not be negative, got -1          |
      | messages[0].token_count | 2 ** 63               | messages[0].token_count is 9223372036854775808; the limit is 2147483647 |
      | messages[2].created_at  | "yesterday"           | messages[2].created_at is not an ISO 8601 timestamp           |

  Scenario: Messages out of order are refused even with a recomputed checksum
    When I swap the document's messages 1 and 2
    And I recompute the document's checksum
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field messages[1].sequence must be 1"
    And the database is unchanged
    And the original session is unchanged

  Scenario: A missing field is refused even with a recomputed checksum
    When I remove the document's messages[0].role
    And I recompute the document's checksum
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "messages[0] lacks required field(s): role"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: Empty objects, lists and texts in a document are read whole (<form>)
    When I set the document's messages[0].metadata to {}
    And I set the document's messages[1].metadata to {"empty": {}, "none": [], "after": 1}
    And I set the document's messages[2].content to ""
    And I recompute the document's checksum
    And I try to import the document as <form>
    Then the import gives a new session with 3 messages
    And the imported messages' metadata are {}, {"empty": {}, "none": [], "after": 1} and {"index": 2}

    Examples:
      | form                                     |
      | JSON text                                |
      | a binary file                            |
      | a binary file that gives one byte a read |

  Scenario Outline: A second messages field after the messages is refused as a duplicate key (<form>)
    When I try to import the document with a second, empty messages field at its end as <form>
    Then the call fails with InvalidExportDocumentError mentioning "duplicate key 'messages'"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form          |
      | JSON text     |
      | a binary file |

  Scenario: A recomputed checksum over a well-formed edit is accepted
    When I set the document's session.title to "Edited by hand"
    And I recompute the document's checksum
    And I try to import the document
    Then the import gives a new session with 3 messages
    And the original session is unchanged

  # --- Checksum ---------------------------------------------------------------------------

  Scenario Outline: A malformed checksum is refused (<case>)
    When I set the document's checksum to <value>
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field checksum must be 64 lowercase hexadecimal digits"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | case               | value        |
      | too short          | "abc123"     |
      | 65 digits          | "a" * 65     |
      | not hexadecimal    | "g" * 64     |
      | empty              | ""           |
      | a number           | 12345        |
      | None               | None         |

  Scenario: A checksum in uppercase hexadecimal is refused
    When I write the document's checksum in uppercase
    And I try to import the document
    Then the call fails with InvalidExportDocumentError mentioning "export document field checksum must be 64 lowercase hexadecimal digits"
    And the database is unchanged
    And the original session is unchanged

  Scenario Outline: An edit kept under the old checksum is detected (<form>)
    When I change the last character of the document's messages[1].content
    And I try to import the document as <form>
    Then the call fails with ChecksumMismatchError mentioning "export document checksum mismatch"
    And the mismatch error gives the document's checksum and the hash of its payload
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form        |
      | JSON text   |
      | UTF-8 bytes |

  Scenario Outline: A tampered value under the old checksum is detected (<path> = <value>)
    When I set the document's <path> to <value>
    And I try to import the document
    Then the call fails with ChecksumMismatchError mentioning "export document checksum mismatch"
    And the mismatch error gives the document's checksum and the hash of its payload
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | path                    | value                         |
      | messages[0].token_count | 999                           |
      | messages[0].token_count | None                          |
      | session.input_tokens    | 121                           |
      | session.actor_name      | "exporter2"                   |
      | messages[2].role        | "system"                      |
      | messages[1].metadata    | {"index": 1, "extra": True}   |
      | checksum                | "0" * 64                      |

  # --- Size limits ------------------------------------------------------------------------

  Scenario Outline: A document one byte over the size limit is refused (<form>)
    Given an importer whose size limit is one byte below the document's UTF-8 size
    When I try to import the document as <form>
    Then the call fails with ExportDocumentTooLargeError mentioning "export document is"
    And the error gives the document's UTF-8 size and a limit one byte below it
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form                                      |
      | JSON text                                 |
      | UTF-8 bytes                               |
      | a file on disk                            |
      | a file on disk that cannot tell its place |

  Scenario: A document of as many characters as the size limit but more UTF-8 bytes is refused
    Given an importer whose size limit is the document's length in characters, below its UTF-8 size
    When I try to import the document as JSON text
    Then the call fails with ExportDocumentTooLargeError mentioning "export document is"
    And the database is unchanged

  Scenario Outline: A streamed document one byte over the size limit is refused (<form>)
    Given an importer whose size limit is one byte below the document's UTF-8 size
    When I try to import the document as <form>
    Then the call fails with ExportDocumentTooLargeError mentioning "export document is over"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form                                     |
      | a binary file                            |
      | a binary file that gives one byte a read |

  Scenario Outline: A document exactly at the size limit is accepted (<form>)
    Given an importer whose size limit is exactly the document's UTF-8 size
    When I try to import the document as <form>
    Then the import gives a new session with 3 messages
    And the original session is unchanged

    Examples:
      | form                                               |
      | JSON text                                          |
      | UTF-8 bytes                                        |
      | a file on disk                                     |
      | a file on disk that cannot tell its place          |
      | a file on disk read from where the document starts |
      | a binary file                                      |
      | a binary file that gives one byte a read           |

  Scenario Outline: A document with more messages than allowed is refused (<form>)
    Given an importer that accepts at most 2 messages per document
    When I try to import the document as <form>
    Then the call fails with ExportDocumentTooLargeError mentioning "export document has 3 messages; the limit is 2"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form        |
      | a dict      |
      | JSON text   |
      | UTF-8 bytes |

  Scenario Outline: A streamed document with more messages than allowed is refused (<form>)
    Given an importer that accepts at most 2 messages per document
    When I try to import the document as <form>
    Then the call fails with ExportDocumentTooLargeError mentioning "export document has more than 2 messages; the limit is 2"
    And the database is unchanged
    And the original session is unchanged

    Examples:
      | form                                  |
      | a binary file                         |
      | a binary file with its messages first |

  Scenario Outline: A document with exactly as many messages as allowed is accepted (<form>)
    Given an importer that accepts at most 3 messages per document
    When I try to import the document as <form>
    Then the import gives a new session with 3 messages
    And the original session is unchanged

    Examples:
      | form                                  |
      | a dict                                |
      | UTF-8 bytes                           |
      | a binary file                         |
      | a binary file with its messages first |
