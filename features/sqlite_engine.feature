@conformance @own_sqlite_files
Feature: The embedded SQLite engine
  Without configuration the library keeps its sessions in a SQLite file. Every connection it
  opens enforces foreign keys (without them ON DELETE CASCADE does nothing), journals with
  WAL, syncs every commit and waits for locks; a write transaction takes the write lock when
  it begins. These scenarios use their own SQLite files, whatever backend the run uses.

  # --- Connection settings --------------------------------------------------------------

  Scenario: Every pooled connection enforces foreign keys, journals with WAL and syncs fully
    Given a fresh SQLite file upgraded to the library's schema
    When 6 threads each hold a connection of the SQLite engine at once and read its pragmas
    Then the 6 threads used 6 distinct DBAPI connections
    And every connection reports foreign_keys 1, journal_mode "wal", busy_timeout 5000 and synchronous 2

  Scenario: An in-memory database gets the same foreign keys and busy timeout
    When I open a library engine on "sqlite://" and read its pragmas
    Then every connection reports foreign_keys 1, journal_mode "memory", busy_timeout 5000 and synchronous 2

  Scenario: Deleting a session with 1000 messages leaves no orphan rows
    Given a fresh SQLite file upgraded to the library's schema
    And a service on the SQLite file that makes at most 3 attempts per call
    And that service holds a session with 1000 messages
    When the library deletes that session from the SQLite file
    Then the SQLite file holds no session row for it
    And the SQLite file holds 0 messages of that session

  Scenario: Without the library's settings the same delete would leave orphan rows
    Given a fresh SQLite file upgraded to the library's schema
    And a service on the SQLite file that makes at most 3 attempts per call
    And that service holds a session with 1000 messages
    When a plain SQLAlchemy engine without the library's settings deletes that session row
    Then the control engine's connection had foreign_keys 0
    And the SQLite file holds no session row for it
    And the SQLite file holds 1000 messages of that session

  # --- Where the default database lives -------------------------------------------------

  Scenario: CLEVERAGENTS_DATABASE_URL names the default database
    Given the environment variable CLEVERAGENTS_DATABASE_URL is "postgresql+psycopg://app@db.example/sessions"
    And the environment variable XDG_DATA_HOME is "$WORK/ignored-data-home"
    When I ask for the default database URL
    Then the default database URL is "postgresql+psycopg://app@db.example/sessions"

  Scenario: Without CLEVERAGENTS_DATABASE_URL the file lives under XDG_DATA_HOME
    Given the environment variable CLEVERAGENTS_DATABASE_URL is unset
    And the environment variable XDG_DATA_HOME is "$WORK/xdg-data"
    When I ask for the default database URL
    Then the default database URL is "sqlite:///$WORK/xdg-data/cleveragents/sessions.db"

  Scenario Outline: With <xdg> XDG_DATA_HOME the file lives under ~/.local/share
    Given the environment variable CLEVERAGENTS_DATABASE_URL is empty
    And the environment variable XDG_DATA_HOME is <value>
    And the environment variable HOME is "$WORK/home-<xdg>"
    When I ask for the default database URL
    Then the default database URL is "sqlite:///$WORK/home-<xdg>/.local/share/cleveragents/sessions.db"

    Examples:
      | xdg   | value |
      | unset | unset |
      | empty | empty |

  Scenario: The default database's directory is created and the database is used
    Given the environment variable CLEVERAGENTS_DATABASE_URL is unset
    And the environment variable XDG_DATA_HOME is "$WORK/new-data-home"
    And the directory "$WORK/new-data-home" does not exist
    When I upgrade the default database and create a session for actor "local" with a service given no URL
    Then the directory "$WORK/new-data-home/cleveragents" exists
    And the file "$WORK/new-data-home/cleveragents/sessions.db" holds that session

  Scenario: An engine for a SQLite file in a missing directory creates the directory
    Given the directory "$WORK/deep/er/still" does not exist
    When I create a library engine for "sqlite:///$WORK/deep/er/still/app.db" without connecting
    Then the directory "$WORK/deep/er/still" exists

  Scenario: A SQLite file that cannot be opened makes upgrade_database fail with the library's error
    When I run upgrade_database on "sqlite:///file:$WORK/missing-dir/app.db?mode=ro&uri=true"
    Then the call fails with DatabaseUnavailableError mentioning "unable to open database file"
    And the directory "$WORK/missing-dir" was not created

  # --- Locking --------------------------------------------------------------------------

  Scenario Outline: A <kind> transaction <effect>
    Given a fresh SQLite file upgraded to the library's schema
    When another connection tries BEGIN IMMEDIATE without waiting while the library holds a <kind> transaction on the SQLite file
    Then the other connection was <outcome>

    Examples:
      | kind  | effect                                  | outcome                                  |
      | write | takes the write lock when it begins     | refused: database is locked (code 5)     |
      | read  | leaves the write lock to other writers  | got the write lock                       |

  Scenario: A write waits for another writer's lock and is stored once it is released
    Given a fresh SQLite file upgraded to the library's schema
    And a service on the SQLite file that makes at most 1 attempt per call
    And that service holds a session with 0 messages
    And another connection holds the write lock on the SQLite file
    And that connection releases the lock 0.3 seconds after the service asks for it
    When the service appends a "user" message "worth the wait" to that session
    Then the append asked for the lock while it was held and succeeded only after its release
    And the SQLite file holds 1 message of that session
    And the database log holds 0 retry warnings

  Scenario: A writer that never gets the lock ends with DatabaseUnavailableError after its retries
    Given a fresh SQLite file upgraded to the library's schema
    And a service on the SQLite file that makes at most 3 attempts per call
    And that service holds a session with 0 messages
    And connections of that service wait at most 50 ms for a lock
    And another connection holds the write lock on the SQLite file
    When the service appends a "user" message "never stored" to that session
    Then the call fails with DatabaseUnavailableError mentioning "after 3 attempt(s): OperationalError: database is locked"
    And the database log holds 2 retry warnings
    And the SQLite file holds 0 messages of that session

  Scenario: A file another connection is writing in rollback-journal mode goes to WAL once it commits
    # SQLite refuses the switch to WAL at once, without waiting, while another connection
    # writes; workers upgrading a fresh file together at start-up met this at random.
    Given a SQLite file in rollback-journal mode that another connection is writing to
    And that connection commits 0.3 seconds later
    When I upgrade that SQLite file to the newest revision
    Then the upgrade succeeded, finishing after the other connection committed
    And the SQLite file journals with WAL and keeps the other connection's row

  # --- A database nobody upgraded -------------------------------------------------------

  Scenario Outline: A SQLite file without the schema is refused with a hint to upgrade it (<action>)
    Given a fresh SQLite file in the work directory
    When a service on the scratch database tries to <action>
    Then the call fails with SchemaOutOfDateError mentioning "`alembic upgrade head`"
    And the call fails with SchemaOutOfDateError mentioning "upgrade_database(url)"

    Examples:
      | action           |
      | create a session |
      | read a session   |
      | list sessions    |
      | append a message |
