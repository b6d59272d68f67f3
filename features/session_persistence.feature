@conformance
Feature: Session persistence
  An agent runtime keeps its conversations: it creates sessions, appends messages as the
  agent runs, reads the history back, tracks token usage and moves sessions between
  machines as checked export documents.

  # --- Creation ---------------------------------------------------------------------------

  Scenario: Creating a session stores it with a fresh ULID and zero counters
    When I create a session for actor "planner"
    Then the session has a 26-character ULID id
    And the session has actor "planner", 0 messages and 0 total tokens
    And the session's created_at and updated_at are equal UTC timestamps
    And reading the session back gives the same session

  Scenario: Creating a session keeps its title and metadata
    When I create a session for actor "planner" titled "Trip to Lisbon" with metadata:
      """
      {"model": "gpt-x", "tags": ["travel", "ünïcödé 😀"], "depth": {"a": [1, 2.5, null, true]}}
      """
    Then reading the session back gives title "Trip to Lisbon" and that metadata

  Scenario: A blank title is the caller's to choose, and kept as given
    When I create a session for actor "planner" titled " " with metadata:
      """
      {}
      """
    Then reading the session back gives title " " and that metadata

  Scenario: Every session gets its own id
    When I create 20 sessions for actor "planner"
    Then the 20 sessions have 20 distinct ids

  # --- Listing ----------------------------------------------------------------------------

  Scenario: Listing gives the newest sessions first
    Given sessions were created for actors "a", "b", "c" in that order
    When I list sessions
    Then the listed actors are "c", "b", "a"

  Scenario: Listing can be filtered by actor
    Given sessions were created for actors "alice", "bob", "alice", "carol", "alice" in that order
    When I list sessions of actor "alice"
    Then 3 sessions are listed, all of actor "alice", newest first

  Scenario: Sessions created at the same instant are ordered by id
    Given 5 sessions for actor "twin" share one creation time
    When I list sessions
    Then the listed sessions are ordered by id, highest first

  Scenario: Listing an empty store gives an empty list
    When I list sessions
    Then 0 sessions are listed

  # --- Deletion ---------------------------------------------------------------------------

  Scenario: Deleting a session removes it and its messages
    Given a session for actor "cleaner" with 30 messages
    When I delete that session
    Then the deletion reports true
    And the session can no longer be read
    And no message of that session remains in the database

  Scenario: Deleting an unknown session reports false and changes nothing
    Given a session for actor "keeper" with 3 messages
    When I delete the session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the deletion reports false
    And the database is unchanged

  Scenario: Deleting one session leaves the others whole
    Given a session for actor "first" with 4 messages
    And another session for actor "second" with 6 messages
    When I delete the first session
    Then the second session still has 6 messages in order

  # --- Message append ---------------------------------------------------------------------

  Scenario: Appending numbers messages from 0 without gaps
    Given a session for actor "chatter"
    When I append these messages:
      | role      | content                   |
      | system    | You are a helpful agent.  |
      | user      | What is the weather?      |
      | assistant | Let me check.             |
      | tool      | {"temp_c": 21}            |
      | assistant | It is 21 °C.              |
    Then the messages have sequences 0, 1, 2, 3, 4
    And reading the messages back gives the same roles and contents in order
    And the session has 5 messages

  Scenario: A message may have no text, as a tool call often has none
    Given a session for actor "caller"
    When I append these messages:
      | role      | content |
      | assistant |         |
      | tool      | 21      |
    Then the messages have sequences 0, 1
    And reading the messages back gives the same roles and contents in order

  Scenario: Appending a message updates the session's activity time
    Given a session for actor "chatter"
    When I append a "user" message "hello"
    Then the session's updated_at equals the message's created_at
    And the session's updated_at is later than its created_at

  Scenario: A message keeps its metadata, token count and exact content
    Given a session for actor "chatter"
    When I append a "tool" message with content "🙂 שלום e\u0301 \u202e" metadata {"call_id": "c-1", "ok": true} and 42 tokens
    Then reading the message back gives that content, metadata and 42 tokens

  Scenario: Appending to an unknown session fails and writes nothing
    When I append a "user" message "lost" to session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  # --- Pagination -------------------------------------------------------------------------

  Scenario: Session pages do not overlap and cover every session
    Given 23 sessions for actor "pager"
    When I list sessions in pages of 5
    Then the pages hold 5, 5, 5, 5, 3 sessions
    And together the pages hold all 23 sessions exactly once, newest first

  Scenario: Message pages follow the sequence
    Given a session for actor "pager" with 12 messages
    When I read messages with limit 5 and offset 5
    Then I get the messages with sequences 5, 6, 7, 8, 9

  Scenario: Reading past the end gives an empty page
    Given a session for actor "pager" with 3 messages
    When I read messages with limit 5 and offset 10
    Then I get no messages

  # --- Export and import ------------------------------------------------------------------

  Scenario: An export document holds the session and its messages in order
    Given a session for actor "exporter" with 4 messages and token usage 120 in, 30 out
    When I export the session
    Then the document has format "cleveragents.session-export" and schema_version 1
    And the document's session and messages match what is stored
    And the document survives a JSON round trip unchanged
    And the document's checksum is the SHA-256 of its canonical payload

  Scenario: Exporting twice gives the same checksum
    Given a session for actor "exporter" with 3 messages
    When I export the session twice
    Then both documents have the same checksum

  Scenario: Importing creates a new session with fresh ids and the same history
    Given a session for actor "traveller" with 6 messages and token usage 10 in, 5 out
    When I export the session and import the document as JSON text
    Then the imported session has a new id and the same actor, title, metadata and tokens
    And the imported messages have new ids and the same sequences, roles, contents, metadata, token counts and timestamps
    And the original session is unchanged

  Scenario: Importing the same document twice gives two independent sessions
    Given a session for actor "traveller" with 2 messages
    When I export the session and import the document twice
    Then there are 3 sessions of actor "traveller" with 2 messages each

  Scenario: Importing an empty session
    Given a session for actor "empty"
    When I export the session and import the document as bytes
    Then the imported session has 0 messages

  # --- Token usage ------------------------------------------------------------------------

  Scenario: Token usage accumulates
    Given a session for actor "counter"
    When I add token usage 100 in, 20 out
    And I add token usage 50 in, 5 out
    Then the session has 150 input tokens, 25 output tokens and 175 total tokens

  Scenario: Adding zero tokens changes no counter
    Given a session for actor "counter" with token usage 7 in, 3 out
    When I add token usage 0 in, 0 out
    Then the session has 7 input tokens, 3 output tokens and 10 total tokens

  Scenario: A total that would pass the 64-bit limit is refused and nothing changes
    Given a session for actor "counter" with token usage 9223372036854775806 in, 5 out
    When I try to add token usage 2 in, 0 out
    Then the call fails with InvalidSessionDataError mentioning "9223372036854775807"
    And the database is unchanged

  Scenario: Token usage of an unknown session fails and writes nothing
    When I add token usage 1 in, 1 out to session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  # --- ORM round trip ---------------------------------------------------------------------

  Scenario: A session written through the service reads back through the ORM models
    Given a session for actor "orm" with 3 messages
    When I load the session through SessionModel
    Then the model's messages are ordered by sequence and match the service's
    And the model's timestamps are timezone-aware UTC

  Scenario: Models written through the ORM are read by the service
    When I add a SessionModel with 2 SessionMessageModels through an ORM session
    Then the service reads that session with its 2 messages in order

  Scenario: Timestamps keep microseconds through the database
    Given a session for actor "clock"
    When I append a "user" message "tick"
    Then reading the message back gives the same created_at to the microsecond
