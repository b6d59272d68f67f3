Feature: The library's tables in a PostgreSQL schema of the caller's choice
  An application keeps its own tables in `public` and the library's in a schema it names.
  The scenarios tagged postgresql_only check on PostgreSQL that the schema is used; SQLite and
  MariaDB/MySQL have no schemas, and their own scenario checks that every call naming one is
  refused with DatabaseConfigurationError before anything is touched.

  @postgresql_only
  Scenario: Upgrading puts every table, index, constraint and the version table in the schema
    Given a schema named for this scenario
    When the run's database is upgraded into that schema
    Then that schema holds the library's tables, indexes, foreign key and version table at the newest revision
    And the default schema holds the same tables and rows as before

  @postgresql_only
  Scenario: The service keeps its sessions in the schema
    Given a schema named for this scenario, upgraded
    When a service opened on that schema stores a session with two messages and imports its export
    Then a service opened on that schema again reads both sessions with the same messages
    And that schema's tables hold 2 sessions and 4 messages
    And the default schema holds the same tables and rows as before

  @postgresql_only
  Scenario: Services on the application's own engine and sessionmaker use the schema and leave the engine as it was
    Given a schema named for this scenario, upgraded
    When services in that schema are opened on the application's engine and on a sessionmaker bound to it
    Then each service reads the session the other stored
    And the application's engine still works on its default schema with its own execution options

  @postgresql_only
  Scenario: Two schemas in one database are independent
    Given a schema named for this scenario, upgraded
    And a second schema named for this scenario, upgraded
    When a session is stored in the first schema and the second schema is downgraded to base
    Then the first schema still holds its session at the newest revision
    And the second schema holds no library table and no revision

  @postgresql_only
  Scenario: The host application's alembic_version in the default schema is left untouched
    Given the host application's own alembic_version table holding "host_0042"
    And a schema named for this scenario
    When the run's database is upgraded into that schema
    Then the host application's alembic_version table still holds only "host_0042"
    And the default schema holds the same tables and rows as before

  @postgresql_only
  Scenario: Opening a service on a schema that is missing or behind names the command, and creates nothing
    Given a schema named for this scenario
    When a service is opened on that schema before anything created it
    Then opening was refused with SchemaOutOfDateError naming the upgrade command with that schema
    And that schema still does not exist
    When that schema is upgraded to "b1_001_resource_registry" only and a service is opened on it
    Then opening was refused with SchemaOutOfDateError naming the upgrade command with that schema

  @postgresql_only
  Scenario: Concurrent upgraders of one new schema queue behind the migration lock
    Given a schema named for this scenario
    When 3 upgraders upgrade that schema at the same moment
    Then every upgrader finished and that schema is at the newest revision

  @postgresql_only
  Scenario: The operator CLI works in the schema named by --schema or CLEVERAGENTS_DATABASE_SCHEMA
    Given a schema named for this scenario
    When the operator runs these commands with --schema naming that schema
      | arguments            | on PostgreSQL the output holds          |
      | db upgrade           | (schema {schema}) is at revision {head} |
      | db current           | {head}                                  |
      | db check             | schema is up to date                    |
      | sessions list --json | []                                      |
      | stats                | 0 sessions                              |
      | demo                 | (schema {schema})                       |
    And the operator runs "db current" with CLEVERAGENTS_DATABASE_SCHEMA naming that schema
    Then every command succeeded with that output

  @postgresql_only
  Scenario: The alembic command honours -x schema=NAME and CLEVERAGENTS_DATABASE_SCHEMA
    Given a schema named for this scenario
    When alembic runs from the repository root with "-x schema={schema} upgrade head"
    And alembic runs from the repository root with "-x schema={schema} check"
    And alembic runs from the repository root with "current" and CLEVERAGENTS_DATABASE_SCHEMA naming that schema
    Then each alembic run succeeded and the last printed the newest revision
    And the default schema holds the same tables and rows as before

  @postgresql_only
  Scenario: The README's schema example runs as written, on the run's database
    Given a schema named for this scenario
    When the README's example for tables in a PostgreSQL schema runs on the run's database in that schema
    Then that schema's tables hold 1 sessions and 0 messages
    And the default schema holds the same tables and rows as before

  @backends_without_schemas
  Scenario: Without schemas (SQLite, MariaDB/MySQL) every call naming one is refused before anything is touched
    Given a schema named for this scenario
    When every entry point is given the schema name "agent_sessions"
    And the operator runs "db current" with CLEVERAGENTS_DATABASE_SCHEMA naming that schema
    And alembic runs from the repository root with "-x schema={schema} upgrade head"
    And alembic runs from the repository root with "current" and CLEVERAGENTS_DATABASE_SCHEMA naming that schema
    Then each refused it with DatabaseConfigurationError saying "a schema is a PostgreSQL option"
    And every command exited 2 saying "a schema is a PostgreSQL option"
    And each alembic run failed saying "a schema is a PostgreSQL option"
    And the database is exactly as it was, with no new schema

  Scenario Outline: A schema name that is not a plain identifier is refused by every entry point, before anything is touched
    Given a schema named for this scenario
    When every entry point is given the schema name "<name>"
    Then each refused it with DatabaseConfigurationError saying "<reason>"
    And the database is exactly as it was, with no new schema

    Examples:
      | name                                                             | reason                   |
      | 1agents                                                          | not a plain identifier   |
      | agent-sessions                                                   | not a plain identifier   |
      | agent sessions                                                   | not a plain identifier   |
      | agents;DROP TABLE sessions                                       | not a plain identifier   |
      | "agents"                                                         | not a plain identifier   |
      | sessions_ü                                                       | not a plain identifier   |
      | a234567890123456789012345678901234567890123456789012345678901234 | not a plain identifier   |
      | pg_agents                                                        | reserves for itself      |
