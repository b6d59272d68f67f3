@langchain @facade_independent
Feature: A LangChain chat message history kept by the library
  A LangChain application gives its chains a CleverAgentsChatMessageHistory instead of an
  in-memory history and keeps every message in the library's database, from sync and async
  code alike.

  Background:
    Given the async service on the run's database

  @conformance
  Scenario: Every kind of LangChain message comes back equal, from async and from sync code
    Given a LangChain history "support-42" on the run's database
    When I add one message of every kind LangChain has, asynchronously
    Then reading the history asynchronously gives them back equal as dictionaries
    And reading the history synchronously gives them back equal as dictionaries
    And the library session "support-42" is owned by "langchain" and holds messages with roles human, ai, system, tool, chat, function

  Scenario: Synchronous calls work in plain code and from inside a running event loop
    Given a LangChain history "mixed" on the run's database
    When I add 2 messages synchronously outside any event loop
    And I add 2 messages synchronously from a coroutine running on an event loop
    And I add 2 messages asynchronously
    Then reading the history synchronously from a coroutine gives the 6 messages in order
    And clearing it synchronously from a coroutine leaves no messages

  Scenario: A history opened from a URL owns its service, in sync and in async code
    When I add 2 messages through a LangChain history "own-1" opened from the URL in a with block
    And I read "own-1" through a LangChain history opened from the URL in an async with block
    Then that read gave the 2 messages

  Scenario: A history written through the library's own API reads as LangChain messages
    Given a library session "handover-2" with messages by user, assistant and tool
    When I open a LangChain history "handover-2" on the run's database
    Then reading the history gives a human, an AI and a tool chat message with those contents

  Scenario: Clearing keeps the library session, and a cleared or unknown history reads empty
    Given a LangChain history "restart" on the run's database holding 3 messages
    When I clear the history asynchronously
    Then reading the history gives no messages
    And the library session "restart" has 0 messages
    And a LangChain history "never-written" reads empty and clears without writing anything

  @conformance
  Scenario Outline: Bad input is refused before anything is written (<input>)
    Given a LangChain history "guarded" on the run's database holding 3 messages
    When I add a batch of a good message and <input>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"
    And the database is unchanged

    Examples:
      | input                                 | mention                                 |
      | a message of a type LangChain lacks   | messages[1] of type 'critic' cannot be read back |
      | a message holding a Python object     | messages[1] is not JSON-serialisable    |
      | a plain string                        | messages[1] must be a LangChain BaseMessage |

  Scenario: An over-long session id is refused before any connection is made
    When I open a LangChain history with an id of 129 characters
    Then the call fails with InvalidSessionDataError mentioning "129 characters"
    And the database is unchanged

  @conformance
  Scenario: Random sequences of adds, reads and clears answer as InMemoryChatMessageHistory does
    When random sequences of sync and async adds, reads and clears run on this history and on InMemoryChatMessageHistory alike
    Then every read gave the same messages on both

  Scenario: A chain keeps its conversation across two invocations through the history
    Given a chain of a prompt with history and a fake chat model, wrapped with RunnableWithMessageHistory on this store
    When I invoke the chain with "My name is Ada." in session "chain-1"
    And I invoke the chain with "What is my name?" in session "chain-1"
    Then the model's prompt on the second invocation held the first exchange, read from the database
    And the history of "chain-1" holds 4 messages: human, ai, human, ai
