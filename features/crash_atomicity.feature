@conformance @facade_independent
Feature: An import killed at any moment leaves the whole session or nothing
  import_session writes a session and all its messages in one transaction, so a process
  that dies in the middle, with no chance to roll back or clean up, must leave either the
  complete session or no trace of it, and the database must stay sound.

  The importers are separate processes. features/workers/import_worker.py --fork-server,
  started with the interpreter that runs behave, reads a large export document from the work
  directory once, pays Python's start-up once and forks a fresh importer for every
  iteration. Each importer builds its own engine after the fork, says it is ready and waits
  for SIGUSR1. Once released it prints a marker just before import_session, at the
  transaction's first INSERT, just before COMMIT and when import_session returned, and it is
  killed with SIGKILL after a random delay. Three un-killed imports are timed first (a
  first, colder import can be much slower than the rest); the delays are drawn from 5 % of
  the median one's duration before its start to 15 % after its end, so most kills land
  inside the import, and the markers tell where each one landed (reported; a quarter of the
  kills must hit the import, a twentieth its write transaction). After every kill each
  session in the database is checked, through a plain SQLAlchemy engine, to be either
  absent or whole: all its messages, sequences 0 upward, its message_count, and the
  document's contents.

  Sizes are read from the environment when a step runs (default in brackets):
    $IMPORT_MESSAGES   CLEVERAGENTS_CRASH_MESSAGES            (5000) messages in the document
    $CRASH_ITERATIONS  CLEVERAGENTS_CRASH_ITERATIONS_SQLITE   (100)  kills on SQLite
                       CLEVERAGENTS_CRASH_ITERATIONS_SERVER   (25)   kills on PostgreSQL, MariaDB
  CLEVERAGENTS_TORTURE_SEED fixes the kill delays (the seed used is printed).

  Scenario: Importers killed with SIGKILL at random moments never leave a partial session
    Given an export document of a session with $IMPORT_MESSAGES messages in the work directory
    And 3 import workers have run to the end untouched, to time the import
    When $CRASH_ITERATIONS import workers are each killed with SIGKILL at a random moment
    Then after every kill each session in the database was either whole or absent
    And some kills landed while the import's transaction was being written
    And every import that reported done is stored as a whole copy of the document
    And only imports killed while committing left a session besides those
    And no message row is left whose session row is gone
    And the database's own consistency checks pass
