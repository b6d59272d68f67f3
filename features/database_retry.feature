@conformance
Feature: Retrying a unit of work on transient database errors
  Every repository call is one transaction. When the database fails transiently (a busy or
  locked SQLite file, a PostgreSQL serialization failure or deadlock, a MariaDB deadlock, a
  dropped or killed connection) the library rolls the transaction back and runs the whole
  call again; anything else is raised at once as one of the library's own errors. The errors
  below are the drivers' own exception classes, raised when the statement executes, on
  whichever backend the run uses; MariaDB errors carry the error number and SQLSTATE the
  server sends, or the client error number PyMySQL raises for a broken connection.

  Background:
    Given a service on the run's database that makes at most 3 attempts per call

  # --- One transient failure ------------------------------------------------------------

  Scenario Outline: An append that meets <sqlite error> / <postgresql error> / <mariadb error> once is stored exactly once
    Given a session for actor "writer"
    And the next "INSERT INTO session_messages" statement fails with <sqlite error> on SQLite, <postgresql error> on PostgreSQL or <mariadb error> on MariaDB
    When the service appends a "user" message "the launch code is 0000" to that session
    Then the appended message has sequence 0 and the session's message_count is 1
    And exactly one message is stored for the session, with that content
    And the watched statement ran 2 times
    And the database log holds 1 retry warning
    And each retry warning names the driver error but not the content, the SQL or a password

    Examples:
      | sqlite error         | postgresql error           | mariadb error             |
      | SQLITE_BUSY          | 40P01 DeadlockDetected     | 1213 ER_LOCK_DEADLOCK     |
      | SQLITE_BUSY_SNAPSHOT | 40001 SerializationFailure | 2006 CR_SERVER_GONE_ERROR |
      | SQLITE_LOCKED        | 57P01 AdminShutdown        | 1927 ER_CONNECTION_KILLED |
      | a closed connection  | a lost connection          | 2013 CR_SERVER_LOST       |

  Scenario Outline: "<operation>" is retried invisibly after one transient failure
    Given a session for actor "steady" with 2 messages
    And the next "<statement>" statement fails with <sqlite error> on SQLite, <postgresql error> on PostgreSQL or <mariadb error> on MariaDB
    When the service is asked to <operation>
    Then the call gave the right answer to "<operation>"
    And the watched statement ran 2 times
    And the database log holds 1 retry warning

    Examples:
      | operation                       | statement                        | sqlite error         | postgresql error           | mariadb error             |
      | create a session                | INSERT INTO sessions             | SQLITE_BUSY          | 40001 SerializationFailure | 1213 ER_LOCK_DEADLOCK     |
      | get the session                 | SELECT sessions.id               | SQLITE_BUSY_SNAPSHOT | 40P01 DeadlockDetected     | 2013 CR_SERVER_LOST       |
      | list the sessions               | SELECT sessions.id               | SQLITE_LOCKED        | 57P01 AdminShutdown        | 1927 ER_CONNECTION_KILLED |
      | delete the session              | DELETE FROM sessions             | a closed connection  | a lost connection          | 2006 CR_SERVER_GONE_ERROR |
      | add token usage                 | UPDATE sessions SET input_tokens | SQLITE_BUSY          | 40001 SerializationFailure | 1213 ER_LOCK_DEADLOCK     |
      | import an export of the session | INSERT INTO session_messages     | SQLITE_BUSY          | 40P01 DeadlockDetected     | 1213 ER_LOCK_DEADLOCK     |
      | read the session's messages     | SELECT session_messages.id       | SQLITE_BUSY_SNAPSHOT | 40001 SerializationFailure | 2013 CR_SERVER_LOST       |
      | export the session              | SELECT session_messages.id       | SQLITE_LOCKED        | 40P01 DeadlockDetected     | 1927 ER_CONNECTION_KILLED |
      | pop the last message            | DELETE FROM session_messages     | SQLITE_BUSY          | 40001 SerializationFailure | 1213 ER_LOCK_DEADLOCK     |
      | clear the messages              | DELETE FROM session_messages     | SQLITE_LOCKED        | 57P01 AdminShutdown        | 2013 CR_SERVER_LOST       |

  # --- A commit whose answer is lost ----------------------------------------------------

  Scenario Outline: "<operation>" is not written twice when its commit's acknowledgement is lost
    Given a session for actor "steady" with 2 messages
    And the commit after the next "<statement>" statement succeeds but its acknowledgement is lost with a closed connection on SQLite, a lost connection on PostgreSQL or 2013 CR_SERVER_LOST on MariaDB
    When the service is asked to <operation>
    Then 1 commit acknowledgement was lost
    And the call gave the right answer to "<operation>"
    And the database log holds 1 retry warning

    Examples:
      | operation                       | statement                    |
      | create a session                | INSERT INTO sessions         |
      | create a scoped session         | INSERT INTO sessions         |
      | append a scoped message         | INSERT INTO session_messages |
      | import an export of the session | INSERT INTO session_messages |
      | append a message                | INSERT INTO session_messages |
      | add token usage                 | UPDATE sessions              |
      | delete the session              | DELETE FROM sessions         |
      | create a session under the caller's id | INSERT INTO sessions  |
      | pop the last message            | DELETE FROM session_messages |
      | clear the messages              | DELETE FROM session_messages |

  Scenario: A token update that cannot tell whether it landed says so instead of counting twice
    Given a session for actor "steady" with 2 messages
    And the commit after the next "UPDATE sessions" statement succeeds but its acknowledgement is lost with a closed connection on SQLite, a lost connection on PostgreSQL or 2013 CR_SERVER_LOST on MariaDB
    And another writer appends to the session between that commit and its lost answer
    When the service is asked to add token usage
    Then the call fails with CommitOutcomeUnknownError mentioning "check the session's totals"
    And the session holds the tokens of exactly one update

  Scenario Outline: A <operation> call that cannot tell whether it landed says so instead of doing it twice
    Given a session for actor "steady" with 2 messages
    And the commit after the next "DELETE FROM session_messages" statement succeeds but its acknowledgement is lost with a closed connection on SQLite, a lost connection on PostgreSQL or 2013 CR_SERVER_LOST on MariaDB
    And another writer appends to the session between that commit and its lost answer
    When the service is asked to <operation>
    Then the call fails with CommitOutcomeUnknownError mentioning "<advice>"

    Examples:
      | operation            | advice                                            |
      | pop the last message | read the history before removing another message |
      | clear the messages   | read the history before clearing it again        |

  Scenario: A retried create does not claim a session that another writer put under its id
    Given a session for actor "steady" with 2 messages
    And the commit after the next "INSERT INTO sessions" statement succeeds but its acknowledgement is lost with a closed connection on SQLite, a lost connection on PostgreSQL or 2013 CR_SERVER_LOST on MariaDB
    And another writer puts a session of its own under that id between that commit and its lost answer
    When the service is asked to create a session under the caller's id
    Then the call fails with SessionAlreadyExistsError mentioning "'thread-42' already exists"
    And the session with the id "thread-42" belongs to actor "theirs" with 0 messages

  Scenario: A session insert refused for another reason than a taken id is not reported as one
    Given a session for actor "bystander"
    And every "INSERT INTO sessions" statement fails with SQLITE_CONSTRAINT_FOREIGNKEY on SQLite, 23503 ForeignKeyViolation on PostgreSQL or 1452 ER_NO_REFERENCED_ROW_2 on MariaDB
    When the service is asked to create a session under the caller's id
    Then the call fails with DatabaseError mentioning "database error:"
    And the database is unchanged

  # --- Failures that are not retried ----------------------------------------------------

  Scenario Outline: <sqlite error> / <postgresql error> / <mariadb error> is tried once and surfaces as <library error>
    Given a session for actor "strict"
    And every "UPDATE sessions SET message_count" statement fails with <sqlite error> on SQLite, <postgresql error> on PostgreSQL or <mariadb error> on MariaDB
    When the service appends a "user" message "not stored" to that session
    Then the call fails with <library error> mentioning "<prefix>"
    And the library error wraps the injected driver error and shows no SQL
    And the watched statement ran 1 time
    And the database log holds 0 retry warnings
    And the database is unchanged

    Examples:
      | sqlite error               | postgresql error            | mariadb error       | library error            | prefix                |
      | SQLITE_CONSTRAINT_UNIQUE   | 23505 UniqueViolation       | 1062 ER_DUP_ENTRY   | DatabaseError            | database error:       |
      | a binding ProgrammingError | 42501 InsufficientPrivilege | 1064 ER_PARSE_ERROR | DatabaseError            | database error:       |
      | SQLITE_IOERR               | 53100 DiskFull              | 1021 ER_DISK_FULL   | DatabaseUnavailableError | database unavailable: |

  Scenario Outline: A stream that fails part way is the library's error, not retried (<operation>)
    Given a session for actor "streamer" with 2 messages
    And every "<statement>" statement fails with SQLITE_IOERR on SQLite, 53100 DiskFull on PostgreSQL or 1021 ER_DISK_FULL on MariaDB
    When the service is asked to <operation>
    Then the call fails with DatabaseUnavailableError mentioning "database unavailable:"
    And the library error wraps the injected driver error and shows no SQL
    And the watched statement ran 1 time
    And the database is unchanged

    Examples:
      | operation                               | statement                    |
      | stream the session to a file            | SELECT session_messages.id   |
      | import a streamed export of the session | INSERT INTO session_messages |

  Scenario: A transient failure that persists ends with DatabaseUnavailableError after every attempt
    Given a session for actor "patient"
    And every "UPDATE sessions SET message_count" statement fails with SQLITE_BUSY on SQLite, 40P01 DeadlockDetected on PostgreSQL or 1213 ER_LOCK_DEADLOCK on MariaDB
    When the service appends a "user" message "never stored" to that session
    Then the call fails with DatabaseUnavailableError mentioning "after 3 attempt(s)"
    And the library error wraps the injected driver error and shows no SQL
    And the watched statement ran 3 times
    And the database log holds 2 retry warnings
    And each retry warning names the driver error but not the content, the SQL or a password
    And the database is unchanged

  Scenario: A missing session is the library's own error and is not retried
    Given "UPDATE sessions SET message_count" statements are counted
    When the service appends a "user" message "lost" to session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the watched statement ran 1 time
    And the database log holds 0 retry warnings

  # --- The policy -----------------------------------------------------------------------

  Scenario Outline: A retry policy with <arguments> is refused
    When I build a retry policy with <arguments>
    Then the policy is refused with ValueError mentioning "<text>"

    Examples:
      | arguments       | text                  |
      | attempts=0      | at least 1, got 0     |
      | attempts=-2     | at least 1, got -2    |
      | base_delay=-0.5 | must not be negative  |
      | max_delay=-1.0  | must not be negative  |

  Scenario Outline: The delay before retry <retry> is a random fraction of a doubling ceiling, capped
    When I build a retry policy with attempts=9, base_delay=0.01, max_delay=0.05
    Then 200 delays drawn before retry <retry> lie between 0 and <ceiling> seconds and are not all equal

    Examples:
      | retry | ceiling |
      | 1     | 0.01    |
      | 2     | 0.02    |
      | 3     | 0.04    |
      | 4     | 0.05    |
      | 8     | 0.05    |
