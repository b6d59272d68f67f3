@openai_agents @facade_independent
Feature: An OpenAI Agents SDK session kept by the library
  A runtime on the OpenAI Agents SDK gives the Runner a CleverAgentsSession instead of the SDK's
  SQLiteSession and keeps every turn in the library's database: the same items back, the same
  answers as SQLiteSession for every call, shared by every process on that database.

  Background:
    Given the async service on the run's database

  @conformance
  Scenario: Every kind of item the SDK produces comes back equal
    Given an Agents SDK session "support-chat-7" on the run's database
    When I add one item of every kind the SDK produces
    Then reading the session's items gives every item back equal as JSON, in order
    And the library session "support-chat-7" is owned by "openai-agents" and holds messages with roles user, assistant, function_call, function_call_output, reasoning, item_reference

  Scenario: A session opened from a URL owns its service; one given a service leaves it open
    When I add item 1 through an Agents SDK session "own-2" opened from the URL in an async with block
    And I leave an async with block of an Agents SDK session "own-2" on the run's service
    Then the run's service still reads item 1 of "own-2"

  Scenario: An agent can continue a session written through the library's own API
    Given a library session "handover-1" with a user message "Where is my order?"
    When I open an Agents SDK session "handover-1" on the run's database
    Then reading the session's items gives exactly one item: role "user", content "Where is my order?"

  Scenario Outline: get_items(limit=<limit>) answers as SQLiteSession does: <answer>
    Given an Agents SDK session "window" on the run's database holding items 0 to 4
    When I read the session's items with limit <limit>
    Then I get items <items>

    Examples:
      | limit | items         | answer                      |
      | 2     | 3, 4          | the latest two, oldest first |
      | 5     | 0, 1, 2, 3, 4 | all five                    |
      | 9     | 0, 1, 2, 3, 4 | all five, no more exist     |
      | 0     | none          | nothing                     |
      | -1    | 0, 1, 2, 3, 4 | everything, as SQLite's LIMIT -1 |

  Scenario: The session's settings give the default limit
    Given an Agents SDK session "window" on the run's database with settings limit 2, holding items 0 to 4
    When I read the session's items without a limit
    Then I get items 3, 4

  Scenario: Popping removes the latest item each time, then finds nothing
    Given an Agents SDK session "undo" on the run's database holding items 0 to 1
    When I pop an item 3 times
    Then the pops gave items 1, 0 and then nothing
    And reading the session's items gives no items
    And the library session "undo" has 0 messages

  Scenario: Clearing empties the history but keeps the library session; the next item is sequence 0
    Given an Agents SDK session "restart" on the run's database holding items 0 to 3
    When I clear the session
    And I add item 9
    Then reading the session's items gives items 9
    And the library session "restart" has 1 message, at sequence 0

  Scenario: A session that does not exist yet reads, pops and clears as empty, writing nothing
    Given an Agents SDK session "not-yet" on the run's database
    When I read, pop and clear it
    Then every call found nothing
    And the database is unchanged

  @conformance
  Scenario: Two first writers at once both succeed and share one session
    Given 2 Agents SDK sessions "race-1" on the run's database, each with its own service
    When both add 5 items at the same moment
    Then both calls succeeded
    And the library has exactly one session "race-1", holding all 10 items

  @conformance
  Scenario Outline: Bad input is refused before anything is written (<input>)
    Given an Agents SDK session "guarded" on the run's database holding items 0 to 1
    When I add a batch of a good item and <input>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"
    And the database is unchanged

    Examples:
      | input                            | mention                             |
      | an item holding a Python object  | items[1] is not JSON-serialisable   |
      | an item holding a NaN            | items[1] is not JSON-serialisable   |
      | a list instead of an item        | items[1] must be a dict             |
      | an item nested 100,000 levels deep | items[1] is nested too deeply to store |

  Scenario: An over-long session id is refused before any connection is made
    When I open an Agents SDK session with an id of 129 characters
    Then the call fails with InvalidSessionDataError mentioning "129 characters"
    And the database is unchanged

  @conformance
  Scenario: Random sequences of add, get, pop and clear answer as SQLiteSession does
    When a random sequence of add_items, get_items(limit), pop_item and clear_session runs on this store and on the SDK's SQLiteSession alike
    Then every call gave the same result on both

  Scenario: The Runner keeps an agent's history across turns, and across processes
    Given an Agents SDK session "runner-1" on the run's database
    When the Runner runs a turn that calls a tool, with a scripted model and the session
    And the Runner runs a second turn with the session
    Then the model's input on the second turn held the first turn's items, read from the database
    And a new process that opens the session on the database and runs a third turn sees them too
