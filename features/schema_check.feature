@conformance
Feature: A service refuses a schema it was not built for
  The library never creates or alters tables on its own. Opening a service on a database whose
  schema is missing, behind or unknown fails at once with SchemaOutOfDateError naming the
  revision found, the one needed and the commands that upgrade it.

  Scenario Outline: Opening a service on a database at <state> is refused
    Given a SQLite file whose library schema is at <state>
    When I try to open a service on that file
    Then the opening fails with SchemaOutOfDateError mentioning "<found>"
    And the opening fails with SchemaOutOfDateError mentioning "this library needs a7_004_adk_state"
    And the opening fails with SchemaOutOfDateError mentioning "cleveragents db upgrade"

    Examples:
      | state                        | found                                     |
      | no revision                  | at revision none (no library tables)      |
      | revision b1_001 only         | at revision b1_001_resource_registry      |
      | revision a7_001 only         | at revision a7_001_session_persistence    |
      | an unknown newer revision    | at revision zz_from_the_future            |

  Scenario: After the upgrade the same file opens
    Given a SQLite file whose library schema is at revision b1_001 only
    When the file is upgraded and a service is opened on it
    Then the service works on the file

  Scenario: Opening a service and using it never loads the migration machinery
    Given a SQLite file whose library schema is at the newest revision
    When a fresh process opens a service on that file, appends and reads a message
    Then that process never imported Alembic
