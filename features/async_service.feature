Feature: The async service for agent runtimes on an event loop
  AsyncPersistentSessionService offers every method of the session contract as a coroutine,
  with the same arguments, results and errors (the conformance scenarios run through it
  too, with CLEVERAGENTS_TEST_FACADE=async). On PostgreSQL it drives psycopg's asyncio mode
  on the event loop; on SQLite and MariaDB it runs the calls on worker threads of its own.
  Either way the loop keeps serving other tasks while the database works, and a call whose
  waiter is cancelled still runs to its end.

  Scenario: A runtime keeps a conversation through the async service
    When a runtime opens the async service with "async with" and uses every method of the contract
    Then every call gave the answer the synchronous service gives
    And the runtime's conversation is stored

  @conformance
  Scenario: Appends cancelled at random moments leave a whole, gap-free history
    Given a session for actor "cancelled"
    When 8 tasks each append 25 messages through the async service while random tasks are cancelled at random moments
    Then some appends were cancelled and some acknowledged
    And the session's messages have sequences 0 upward with no gap, matching its message_count
    And every acknowledged append is stored once, with its sequence and content
    And no message is stored twice

  @conformance
  Scenario: An append whose waiter is cancelled after it started still lands whole
    Given a session for actor "cancelled"
    When a task starts an append through the async service and is cancelled before the answer
    Then the task saw its cancellation
    And once the service is closed the message is stored once, at sequence 0

  @conformance
  Scenario: While a call waits to retry, the event loop serves other tasks
    Given an async service whose retries wait 0.3 seconds, on an engine whose next "INSERT INTO session_messages" fails transiently
    When a task appends through it while another task counts its turns on the loop
    Then the append was stored once, after one retry
    And the counting task took at least 3 turns between the failure and the retry

  Scenario: Opening the async service on a database that is not upgraded is refused, and works once it is
    Given a scratch database on the run's backend
    When a runtime opens the async service on the scratch database with "async with"
    Then the opening fails with SchemaOutOfDateError mentioning "upgrade"
    When the scratch database is upgraded and the same service is used again
    Then the service creates a session there

  Scenario: The application's own engine and sessionmaker serve the async service
    When the async service is opened on the application's engine, its sessionmaker and, on PostgreSQL, its asyncio engine and async_sessionmaker
    Then each service works and leaves the engines open to their owner

  Scenario: Something that is not an engine is refused with DatabaseConfigurationError
    When the async service is opened on an unbound sessionmaker and on a string
    Then each opening fails with DatabaseConfigurationError

  Scenario: A closed async service refuses further calls
    When a runtime closes the async service and then calls it
    Then the call fails with DatabaseUnavailableError mentioning "closed"

  Scenario: Closing the async service waits for its calls, closes its connections and leaves no error unretrieved
    Given a session for actor "closing"
    When a runtime starts 4 appends and an append to a missing session, abandons that one and closes the service
    Then the 4 appends were stored before the closing returned
    And every connection the service opened was closed by then
    And the event loop was told of no unretrieved error

  Scenario: Connections opened for a burst of calls stay open for the next one
    A pool that closes what it opened beyond its first five made every call of a busy
    runtime open a new connection (several milliseconds on a server).
    Given a session for actor "burst"
    When a runtime makes 12 appends at once through one async service, twice
    Then after each burst more than 5 of its connections were still open, and at most 12
    And the session holds the 24 messages in order
