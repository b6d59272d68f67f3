@conformance
Feature: Concurrent writers never lose, duplicate, reorder or orphan anything
  Agent runtimes write one store from many processes and threads at once. An append takes
  the next sequence in one atomic update of the session row, token counts are added inside
  the database, a delete takes the session's messages with it, and an import writes a whole
  session in one transaction. These scenarios try hard to break those promises on the run's
  backend (SQLite unless CLEVERAGENTS_TEST_DATABASE_URL names another database).

  Writers are separate processes running features/workers/append_worker.py or
  import_worker.py with the interpreter that runs behave. Each opens its own service, whose
  pool fills lazily: a single-threaded worker holds one connection, so a server's default
  connection limit is never approached. All workers of a step are released together once
  every one is ready, and each reports, as JSON lines, what every call gave back. Busy
  databases, deadlocks and serialization failures are the library's to retry: any error
  other than the one a scenario names, reaching any caller, fails the scenario.

  Sizes are read from the environment when a step runs (default in brackets):
    $PROCESSES        CLEVERAGENTS_TORTURE_PROCESSES        (8)    worker processes per step
    $APPENDS          CLEVERAGENTS_TORTURE_APPENDS          (250)  appends per process
    $SESSIONS         CLEVERAGENTS_TORTURE_SESSIONS         (50)   sessions appended at random
    $THREADS          CLEVERAGENTS_TORTURE_THREADS          (32)   threads sharing one service
    $THREAD_APPENDS   CLEVERAGENTS_TORTURE_THREAD_APPENDS   (50)   appends per thread
    $TOKEN_UPDATES    CLEVERAGENTS_TORTURE_TOKEN_UPDATES    (1000) token updates per process
    $DOOMED_SESSIONS  CLEVERAGENTS_TORTURE_DOOMED_SESSIONS  (20)   sessions deleted under appends
    $IMPORT_MESSAGES  CLEVERAGENTS_CRASH_MESSAGES           (5000) messages in the imported document
  CLEVERAGENTS_TORTURE_SEED fixes the random choices (the seed used is printed);
  CLEVERAGENTS_TORTURE_TIMEOUT (300) bounds each step's wait for its workers, in seconds.

  @facade_independent
  Scenario: Processes appending to one session take every sequence exactly once
    Given a session for actor "swarm"
    When $PROCESSES worker processes each append $APPENDS messages to that session
    Then no caller saw an error
    And the session holds $PROCESSES x $APPENDS messages with sequences 0 upward and no duplicate
    And every acknowledged message is stored with its sequence and content

  @facade_independent
  Scenario: Processes appending to random sessions keep every session contiguous
    Given $SESSIONS sessions for actor "crowd"
    When $PROCESSES worker processes each append $APPENDS messages, each to a random one of those sessions
    Then no caller saw an error
    And every session's messages have sequences 0 upward with no gap or duplicate, matching its message_count
    And the sessions hold $PROCESSES x $APPENDS messages in all, as many as were acknowledged
    And every acknowledged message is stored with its sequence and content

  Scenario: Threads sharing one service instance append to one session
    Given a session for actor "swarm"
    When $THREADS threads sharing the scenario's service each append $THREAD_APPENDS messages to that session
    Then no caller saw an error
    And the session holds $THREADS x $THREAD_APPENDS messages with sequences 0 upward and no duplicate
    And every acknowledged message is stored with its sequence and content

  @facade_independent
  Scenario: Token updates interleaved with appends add up exactly
    Given a session for actor "meter"
    When $PROCESSES worker processes each add 1 input and 2 output tokens $TOKEN_UPDATES times, with $APPENDS appends spread among the updates
    Then no caller saw an error
    And the session's token totals are $PROCESSES x $TOKEN_UPDATES in, twice that out and three times that in all
    And the session holds $PROCESSES x $APPENDS messages with sequences 0 upward and no duplicate
    And every acknowledged message is stored with its sequence and content

  @facade_independent
  Scenario: Deleting sessions while processes append to them leaves no orphan and no stray error
    Given $DOOMED_SESSIONS sessions for actor "doomed"
    When $PROCESSES worker processes keep appending to each of those sessions in turn while I delete them one by one
    Then no caller saw any error but SessionNotFoundError
    And every delete reported True and took the session with it
    And no message row is left whose session row is gone
    And every acknowledged append began before its session's delete returned
    And every refused append ended after its session's delete was called
    And each deleted session's acknowledged sequences ran from 0 with no gap or duplicate

  @facade_independent
  Scenario: Processes importing one document at once each get a whole new session
    Given an export document of a session with $IMPORT_MESSAGES messages in the work directory
    When $PROCESSES worker processes import that document at once
    Then no caller saw an error
    And there are $PROCESSES new sessions, each a whole copy of the document
    And the original session's export is unchanged
    And no message row is left whose session row is gone

  @facade_independent
  Scenario: Processes creating the same session ids at once create each id exactly once
    When $PROCESSES worker processes each create the sessions "race-0" to "race-49" at once
    Then no caller saw an error
    And each of those 50 ids was created by exactly one process and refused as existing to every other
    And exactly those 50 sessions are stored, each owned by the process that created it

  @facade_independent
  Scenario: Processes popping one session receive each message exactly once
    Given a session for actor "stack" with 200 messages
    When $PROCESSES worker processes each pop that session's last message until it is empty
    Then no caller saw an error
    And every one of its 200 messages was popped by exactly one process
    And the session holds no messages with message_count 0
