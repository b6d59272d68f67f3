@conformance
Feature: An import killed at any moment leaves the whole session or nothing
  import_session writes a session and all its messages in one transaction, so a process
  that dies in the middle, with no chance to roll back or clean up, must leave either the
  complete session or no trace of it, and the database must stay sound.

  A worker process (features/workers/import_worker.py, run with the interpreter that runs
  behave) reads a large export document from the work directory, opens its own service,
  says it is ready and waits for the word. Once released it prints a marker just before
  import_session, at the transaction's first INSERT, just before COMMIT and when
  import_session returned, and is killed with SIGKILL after a random delay. One un-killed
  import is timed first; the delays are drawn from 5 % before its start to 15 % after its
  end, so most kills land inside the import, and the markers tell where each one landed.
  After every kill each session in the database is checked, through a plain SQLAlchemy
  engine, to be either absent or whole (all its messages, sequences 0 upward, its
  message_count, and the document's contents).

  Sizes are read from the environment when a step runs (default in brackets):
    $IMPORT_MESSAGES   CLEVERAGENTS_CRASH_MESSAGES            (5000) messages in the document
    $CRASH_ITERATIONS  CLEVERAGENTS_CRASH_ITERATIONS_SQLITE   (100)  kills on SQLite
                       CLEVERAGENTS_CRASH_ITERATIONS_SERVER   (25)   kills on PostgreSQL, MariaDB
  CLEVERAGENTS_TORTURE_SEED fixes the kill delays (the seed used is printed).

  Scenario: Importers killed with SIGKILL at random moments never leave a partial session
    Given an export document of a session with $IMPORT_MESSAGES messages in the work directory
    And one import worker has run to the end untouched, to time the import
    When $CRASH_ITERATIONS import workers are each killed with SIGKILL at a random moment
    Then after every kill each session in the database was either whole or absent
    And some kills landed while the import's transaction was being written
    And every import that reported done is stored as a whole copy of the document
    And no message row is left whose session row is gone
    And the database's own consistency checks pass
