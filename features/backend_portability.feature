@conformance
Feature: Every backend stores and reports the same way
  The same call gives the same result on SQLite, PostgreSQL and MariaDB. What differs between
  the backends (zone support in timestamps, UPDATE ... RETURNING, the drivers' error codes) is
  handled in one place each; these scenarios pin that handling down for every dialect, on
  whichever database the run uses.

  Scenario Outline: Timestamps are stored as UTC and come back timezone-aware on <dialect>
    Given the UTC timestamp column type as <dialect> sees it
    When a timestamp of 2026-03-01 10:30:00.123456 at +02:00 is bound for storage
    Then <dialect> is given 2026-03-01 08:30:00.123456 <stored_zone>
    And a stored value of 2026-03-01 08:30:00.123456 <read_zone> reads back as 2026-03-01 08:30:00.123456 UTC
    And a timestamp without a timezone is refused before it reaches <dialect>

    Examples:
      | dialect    | stored_zone   | read_zone     |
      | sqlite     | without zone  | without zone  |
      | postgresql | at UTC        | at +05:00     |
      | mysql      | without zone  | without zone  |

  Scenario: MariaDB and MySQL keep microseconds
    Given the UTC timestamp column type as mysql sees it
    Then its storage type is DATETIME(6)

  Scenario Outline: Driver error <error> is <verdict> and reported as <reported>
    When the <driver> driver raises <error>
    Then the library calls it <verdict>
    And once retries are over it is reported as <reported> mentioning "<mentioning>"

    Examples:
      | driver   | error                                   | verdict       | reported                 | mentioning             |
      | sqlite3  | OperationalError SQLITE_BUSY            | transient     | DatabaseUnavailableError | after 5 attempt(s)     |
      | sqlite3  | OperationalError SQLITE_LOCKED          | transient     | DatabaseUnavailableError | database is locked     |
      | sqlite3  | OperationalError no such column         | not transient | SchemaOutOfDateError     | alembic upgrade head   |
      | sqlite3  | IntegrityError                          | not transient | DatabaseError            | IntegrityError         |
      | psycopg  | SerializationFailure                    | transient     | DatabaseUnavailableError | code 40001             |
      | psycopg  | DeadlockDetected                        | transient     | DatabaseUnavailableError | code 40P01             |
      | psycopg  | LockNotAvailable                        | transient     | DatabaseUnavailableError | code 55P03             |
      | psycopg  | AdminShutdown                           | transient     | DatabaseUnavailableError | code 57P01             |
      | psycopg  | ConnectionFailure                       | transient     | DatabaseUnavailableError | code 08006             |
      | psycopg  | OperationalError without SQLSTATE       | transient     | DatabaseUnavailableError | connection refused     |
      | psycopg  | UndefinedTable                          | not transient | SchemaOutOfDateError     | upgrade_database(url)  |
      | psycopg  | UndefinedColumn                         | not transient | SchemaOutOfDateError     | alembic upgrade head   |
      | psycopg  | UniqueViolation                         | not transient | DatabaseError            | code 23505             |
      | pymysql  | OperationalError 1213 deadlock          | transient     | DatabaseUnavailableError | code 1213              |
      | pymysql  | OperationalError 1205 lock wait timeout | transient     | DatabaseUnavailableError | code 1205              |
      | pymysql  | OperationalError 2003 connection refused| transient     | DatabaseUnavailableError | Can't connect          |
      | pymysql  | OperationalError 1142 command denied    | not transient | DatabaseError            | code 1142              |
      | pymysql  | ProgrammingError 1146 no such table     | not transient | SchemaOutOfDateError     | alembic upgrade head   |
      | pymysql  | IntegrityError 1062 duplicate entry     | not transient | DatabaseError            | code 1062              |

  Scenario: A duplicate entry never shows the duplicated value
    When the pymysql driver raises IntegrityError 1062 duplicate entry
    Then once retries are over the message does not contain "secret-content"

  Scenario: Running out of pooled connections is retried and then reported as unavailable
    When the connection pool times out
    Then the library calls it transient
    And once retries are over it is reported as DatabaseUnavailableError mentioning "TimeoutError"

  Scenario: Appends and token updates work without UPDATE ... RETURNING
    Given the run's database is used as if it had no UPDATE ... RETURNING
    And a session for actor "portable" with 2 messages
    When I append a "user" message "third"
    And I add token usage 4 in, 6 out
    Then the session has 3 messages
    And the session has 4 input tokens, 6 output tokens and 10 total tokens
    When I pop the last message of that session
    Then the popped message is sequence 2 with content "third"
    And the session holds sequences 0 to 1 with message_count 2

  Scenario: Without RETURNING popping an empty or unknown session still answers right
    Given the run's database is used as if it had no UPDATE ... RETURNING
    And a session for actor "portable"
    When I try to pop the last message of that session
    Then the call returned nothing
    When I try to pop the last message of session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged

  Scenario: Without RETURNING an optimistic append still detects the other writer
    Given the run's database is used as if it had no UPDATE ... RETURNING
    And a session for actor "portable" with 3 messages
    When I append "stale" expecting the next sequence to be 1
    Then the call fails with SequenceConflictError mentioning "but it is 3"
    And the database is unchanged

  Scenario: Without RETURNING unknown sessions are still reported
    Given the run's database is used as if it had no UPDATE ... RETURNING
    When I add token usage 1 in, 1 out to session "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    Then the call fails with SessionNotFoundError mentioning "01ARZ3NDEKTSV4RRFFQ69G5FAV"
    And the database is unchanged
