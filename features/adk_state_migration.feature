@conformance @facade_independent
Feature: The scoped state migration keeps every conversation, both ways
  a7_004_adk_state adds the tables of scoped state (session_users, actor_state, user_state,
  session_state). On a database holding ADK sessions with state at every scope, downgrading
  drops exactly those tables and upgrading again brings them back empty; every session and
  message stays as written, on every backend.

  Scenario: ADK sessions with state survive the downgrade below the scoped state and the way back
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "head"
    And the scratch database holds 5 sessions of 4 messages each with state at every scope
    When I downgrade the scratch database to "a7_003_session_keys"
    Then the scratch database still holds the same sessions and messages
    And the scratch database has none of the scoped state tables
    When I upgrade the scratch database to "head"
    Then the scratch database still holds the same sessions and messages
    And the scratch database's scoped state tables are empty
    And a scoped state service on the scratch database creates and reads a session with state
