@conformance @facade_independent
Feature: Schema migrations
  The library's schema is built by its Alembic migrations, kept in its own version table
  (cleveragents_alembic_version) so a host application's migrations never collide with it.
  The migrated schema is exactly what the models describe. Destructive checks run on a
  scratch database on the run's backend (a fresh SQLite file, a fresh PostgreSQL schema, or a
  fresh MariaDB database on the run's server); the run's shared database is only compared and
  upgraded in place.

  # --- The schema the migrations build --------------------------------------------------

  Scenario: The run's database has exactly the schema the models describe
    Then comparing the run's database with the models finds no difference

  Scenario Outline: <place> upgraded to head has exactly the schema the models describe
    Given <place>
    When I upgrade the scratch database to "head"
    Then comparing the scratch database with the models finds no difference
    And the scratch database holds exactly the tables "cleveragents_alembic_version", "resource_registry", "sessions", "session_messages", "session_users", "actor_state", "user_state", "session_state"
    And the scratch database's version table holds "a7_004_adk_state"

    @own_sqlite_files
    Examples: a file of its own
      | place                                     |
      | a fresh SQLite file in the work directory |

    Examples: the run's backend
      | place                                   |
      | a scratch database on the run's backend |

  Scenario: The comparison notices a schema that is behind the models
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "b1_001_resource_registry"
    Then comparing the scratch database with the models reports only the missing tables "sessions", "session_messages", "session_users", "actor_state", "user_state", "session_state"

  # --- The revisions --------------------------------------------------------------------

  Scenario: The revisions form one chain from the resource registry to the scoped state
    Then the head revision is "a7_004_adk_state"
    And the revision a service requires at start-up is the head revision
    And the migration chain from base to head is "b1_001_resource_registry", "a7_001_session_persistence", "a7_002_session_listing_indexes", "a7_003_session_keys", "a7_004_adk_state"

  Scenario: Downgrading to base removes every library table and upgrading restores them
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "head"
    When I downgrade the scratch database to "base"
    Then the scratch database holds exactly the tables "cleveragents_alembic_version"
    And the scratch database's version table holds no revision
    When I upgrade the scratch database to "head"
    Then comparing the scratch database with the models finds no difference
    And the scratch database's version table holds "a7_004_adk_state"

  Scenario: Downgrading session persistence keeps the resource registry and its rows
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "head"
    And ResourceModel registers a "tool" resource "web-search" in the scratch database
    When I downgrade the scratch database to "b1_001_resource_registry"
    Then the scratch database holds exactly the tables "cleveragents_alembic_version", "resource_registry"
    And the scratch database's version table holds "b1_001_resource_registry"
    And the scratch database registers 1 "tool" resource named "web-search"
    When I upgrade the scratch database to "head"
    Then the scratch database's version table holds "a7_004_adk_state"
    And the scratch database registers 1 "tool" resource named "web-search"

  # --- Upgrading a database that is already current -------------------------------------

  Scenario Outline: Upgrading the run's database again, passing <form>, changes nothing
    Given ResourceModel registers a "tool" resource "calculator" in the run's database
    And a session for actor "keeper" with 5 messages
    When I upgrade the run's database to head again, passing <form>
    Then the database is unchanged

    Examples:
      | form                    |
      | its URL as a string     |
      | its URL as a URL object |
      | a library engine        |

  Scenario Outline: A database nobody upgraded is refused with a hint to upgrade it (<action>)
    Given a scratch database on the run's backend
    When a service on the scratch database tries to <action>
    Then the call fails with SchemaOutOfDateError mentioning "`alembic upgrade head`"

    Examples:
      | action           |
      | create a session |
      | list sessions    |

  # --- The alembic command line ---------------------------------------------------------

  Scenario Outline: The alembic command line migrates <place> from the repository root
    Given <place>
    When I run "alembic upgrade head" from the repository root on the scratch database
    Then alembic exits with 0 and its output mentions "Running upgrade b1_001_resource_registry -> a7_001_session_persistence"
    And alembic exits with 0 and its output mentions "Running upgrade a7_001_session_persistence -> a7_002_session_listing_indexes"
    And alembic exits with 0 and its output mentions "Running upgrade a7_002_session_listing_indexes -> a7_003_session_keys"
    And alembic exits with 0 and its output mentions "Running upgrade a7_003_session_keys -> a7_004_adk_state"
    When I run "alembic current" from the repository root on the scratch database
    Then alembic exits with 0 and its output mentions "a7_004_adk_state (head)"
    And comparing the scratch database with the models finds no difference
    When I run "alembic downgrade base" from the repository root on the scratch database
    And I run "alembic current" from the repository root on the scratch database
    Then alembic exits with 0 and its output does not mention "a7_001_session_persistence"
    And the scratch database holds exactly the tables "cleveragents_alembic_version"

    @own_sqlite_files
    Examples: a file of its own
      | place                                     |
      | a fresh SQLite file in the work directory |

    Examples: the run's backend
      | place                                   |
      | a scratch database on the run's backend |

  @own_sqlite_files
  Scenario: The alembic command line refuses offline SQL generation
    Given a fresh SQLite file in the work directory
    When I run "alembic upgrade head --sql" from the repository root on the scratch database
    Then alembic exits with 1 and its output mentions "offline (--sql) mode is not supported"

  # --- Living next to a host application ------------------------------------------------

  Scenario Outline: A host application's alembic_version table on <place> is left alone
    Given <place>
    And the scratch database has a host table "alembic_version" holding "host_rev"
    When I upgrade the scratch database to "head"
    Then the host table "alembic_version" still holds only "host_rev"
    And the scratch database's version table holds "a7_004_adk_state"
    When I downgrade the scratch database to "base"
    Then the host table "alembic_version" still holds only "host_rev"

    @own_sqlite_files
    Examples: a file of its own
      | place                                     |
      | a fresh SQLite file in the work directory |

    Examples: the run's backend
      | place                                   |
      | a scratch database on the run's backend |

  # --- The resource registry ------------------------------------------------------------

  Scenario: The resource registry refuses a second resource of the same kind and name
    Given ResourceModel registers a "tool" resource "web-search" in the run's database
    When ResourceModel registers a "tool" resource "web-search" in the run's database once more
    Then the ORM refused it with an IntegrityError
    And the run's database registers 1 "tool" resource named "web-search"

  Scenario: The same name under another kind is another resource
    Given ResourceModel registers a "tool" resource "web-search" in the run's database
    When ResourceModel registers a "dataset" resource "web-search" in the run's database once more
    Then the ORM accepted it
    And the run's database registers 1 "dataset" resource named "web-search"
