@conformance @facade_independent
Feature: The listing-index migration keeps every stored row
  a7_002_session_listing_indexes only adds and drops indexes on sessions. On a database that
  already holds conversations, upgrading to it and downgrading from it leave every session
  and message exactly as written, on every backend.

  Scenario: Sessions written at a7_001 survive the upgrade to the listing indexes and the way back
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "a7_001_session_persistence"
    And the scratch database holds 30 sessions of 20 messages each, written at that revision
    When I upgrade the scratch database to "head"
    Then the scratch database's sessions and messages are exactly as written
    And a service on the scratch database pages through all 30 sessions by last activity
    When I downgrade the scratch database to "a7_001_session_persistence"
    Then the scratch database's sessions and messages are exactly as written
    And the scratch database's version table holds "a7_001_session_persistence"
