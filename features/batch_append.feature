Feature: Appending a batch of messages in one transaction
  An agent turn often produces several tool calls and results at once. append_messages stores
  them at contiguous sequences after the session's last message, all or none, in one short
  transaction of two statements however many messages it holds.

  Scenario: A batch lands after the existing messages, in order, with everything it carried
    Given a session for actor "planner" with 2 messages
    When I append a batch of these messages:
      | role      | content                      | metadata                  | token_count |
      | assistant | calling two tools            | {"tool_calls": 2}         | 11          |
      | tool      | {"temperature": 21}          | {"tool": "weather"}       |             |
      | tool      | 3 results \u00e9 😀       | {}                        | 0           |
    Then the batch came back with sequences 2, 3, 4
    And the session has 5 messages
    And reading the session's history gives the batch back exactly after the first 2 messages
    And the session's updated_at equals the batch's created_at

  Scenario: A batch may hold messages with no text, as tool calls often are
    Given a session for actor "planner" with 2 messages
    When I append a batch of these messages:
      | role      | content | metadata            | token_count |
      | assistant |         | {"tool_calls": 1}   | 7           |
      | tool      | 21      | {"tool": "weather"} |             |
    Then the batch came back with sequences 2, 3
    And reading the session's history gives the batch back exactly after the first 2 messages

  Scenario: Items may be NewMessage objects or plain mappings
    Given a session for actor "planner"
    When I append a batch of 1 NewMessage and 1 mapping
    Then the batch came back with sequences 0, 1
    And the session has 2 messages

  Scenario: An empty batch stores nothing and touches nothing
    Given a session for actor "planner" with 3 messages
    When I append an empty batch
    Then the batch came back empty
    And the database is unchanged

  Scenario Outline: A malformed item rejects the whole batch and changes nothing (<defect>)
    Given a session for actor "planner" with 3 messages
    When I try to append a batch whose third item has <defect>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"
    And the database is unchanged

    Examples:
      | defect                                                      | mention                                                                   |
      | a blank role                                                | messages[2].role must not be empty                                        |
      | content that is no text                                     | messages[2].content must be a string                                      |
      | a negative token count                                      | messages[2].token_count must not be negative                              |
      | an unknown field                                            | messages[2] has unknown field(s): colour                                  |
      | no content                                                  | messages[2] lacks required field(s): content                              |
      | metadata that is a list                                     | messages[2].metadata must be a JSON object                                |
      | the wrong type                                              | messages[2] must be a NewMessage or a mapping                             |
      | content under the row limit that its metadata takes over it | messages[2].content and metadata take 8400011 bytes; the limit is 8323072 |

  Scenario Outline: A batch that is not a list of messages is refused (<batch>)
    Given a session for actor "planner" with 1 messages
    When I try to append <batch> as a batch
    Then the call fails with InvalidSessionDataError mentioning "messages must be an iterable of messages, got <type>"
    And the database is unchanged

    Examples:
      | batch               | type |
      | a string            | str  |
      | a single mapping    | dict |
      | a number            | int  |

  Scenario: A batch for a session that does not exist is refused, empty or not
    Given a session for actor "planner" with 1 messages
    When I try to append a batch of 2 messages to the session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    When I try to append a batch of 0 messages to the session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  Scenario: A batch that expects the wrong next sequence is refused whole
    Given a session for actor "planner" with 4 messages
    When I try to append a batch of 3 messages expecting next sequence 3
    Then the call fails with SequenceConflictError mentioning "expected next sequence 3, but it is 4"
    And the database is unchanged
    When I try to append a batch of 3 messages expecting next sequence 4
    Then the batch came back with sequences 4, 5, 6

  Scenario: An empty batch checks the expected next sequence as a full one does
    Given a session for actor "planner" with 4 messages
    When I try to append a batch of 0 messages expecting next sequence 3
    Then the call fails with SequenceConflictError mentioning "expected next sequence 3, but it is 4"
    And the database is unchanged
    When I try to append a batch of 0 messages expecting next sequence 4
    Then the batch came back empty
    And the database is unchanged

  Scenario: A batch costs two statements whatever its size (three without UPDATE ... RETURNING)
    Given a session for actor "planner" with 1 messages
    When I append a batch of 200 messages while counting the statements sent
    Then the batch came back with 200 contiguous sequences from 1
    And the batch sent one counter update and one insert

  # @slow: threads racing for seconds; mutation testing leaves it to the full suite.
  @conformance @slow
  Scenario: Concurrent batches and single appends never interleave or lose a message
    Given a session for actor "swarm"
    When 4 threads each append 25 batches of 4 messages and 10 single messages to that session
    Then the session holds 440 messages with sequences 0 to 439 and no gaps
    And every batch's 4 messages sit at contiguous sequences in their order

  Scenario: Ids of batches and single appends made in the same millisecond never collide
    Given a session for actor "quick"
    When I alternate 150 single appends with 150 batches of 3 messages as fast as I can
    Then the session holds 600 messages with sequences 0 to 599 and no gaps
    And all 600 message ids are distinct ULIDs
