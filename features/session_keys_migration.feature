@conformance @facade_independent
Feature: The session-keys migration keeps every stored row and refuses a lossy way back
  a7_003_session_keys widens session ids to 128 characters and makes every key compare byte
  for byte (a binary NO PAD collation on MariaDB/MySQL, "C" on PostgreSQL). On a database that
  already holds conversations, upgrading and downgrading leave every row exactly as written;
  a downgrade that would cut an id short, or merge two keys the older collation finds equal,
  is refused before anything changes.

  Scenario: Sessions written at a7_002 survive the upgrade to the session keys and the way back
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "a7_002_session_listing_indexes"
    And the scratch database holds 30 sessions of 20 messages each, written at that revision
    When I upgrade the scratch database to "head"
    Then the scratch database's sessions and messages are exactly as written
    And comparing the scratch database with the models finds no difference
    And a service on the scratch database pages through all 30 sessions by last activity
    When I downgrade the scratch database to "a7_002_session_listing_indexes"
    Then the scratch database's sessions and messages are exactly as written
    And the scratch database's version table holds "a7_002_session_listing_indexes"

  Scenario: After the upgrade a session id of 128 characters is stored and found only as written
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "head"
    When the scratch database stores a session whose id is 128 characters long, with 2 messages
    Then a service on the scratch database reads that session and its 2 messages
    And a service on the scratch database finds no session under that id with a space after it

  Scenario: A downgrade is refused while a session id is longer than the older schema holds
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "a7_003_session_keys"
    And the scratch database stores a session whose id is 27 characters long, with 1 messages
    When I try to downgrade the scratch database to "a7_002_session_listing_indexes"
    Then the call fails with SchemaDowngradeRefusedError mentioning "longer than 26 characters"
    And the scratch database is unchanged
    And the scratch database's version table holds "a7_003_session_keys"

  Scenario: A downgrade is refused while two keys differ only by trailing spaces
    Given a scratch database on the run's backend
    And the scratch database is upgraded to "a7_003_session_keys"
    And ResourceModel registers a "tool" resource "search" in the scratch database
    And ResourceModel registers a "tool" resource "search  " in the scratch database
    When I try to downgrade the scratch database to "a7_002_session_listing_indexes"
    Then the call fails with SchemaDowngradeRefusedError mentioning "differ only by trailing spaces"
    And the scratch database is unchanged
    And the scratch database's version table holds "a7_003_session_keys"
