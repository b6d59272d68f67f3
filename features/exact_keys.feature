@conformance
Feature: Keys compare exactly on every backend
  Session ids, actor names and roles are keys. Two keys that differ in any character, a
  trailing space or the case of a letter included, are two keys on SQLite, PostgreSQL and
  MariaDB/MySQL alike, and keys sort by code point everywhere ("Alpha" before "alpha").
  Listing, statistics and purging by actor therefore never reach another actor's sessions.

  Scenario: Actor names that differ only by a trailing space or by case are different actors
    Given a session for actor "alpha" with 1 messages
    And another session for actor "alpha " with 2 messages
    And another session for actor "Alpha" with 3 messages
    When I list sessions of actor "alpha"
    Then 1 sessions are listed, all of actor "alpha", newest first
    When I ask for statistics
    Then the statistics name the actors "Alpha", "alpha", "alpha " with 3, 1, 2 messages

  Scenario: A purge for one actor leaves the actor whose name only adds a trailing space
    Given a session for actor "alpha" with 1 messages
    And another session for actor "alpha " with 2 messages
    When I purge sessions of actor "alpha" older than 0 days
    Then 1 sessions were purged
    And only the sessions of actor "alpha " remain

  Scenario: A session id followed by a space or in other case names no session
    Given a session for actor "alpha" with 2 messages
    Then reading the session by its id followed by a space finds none
    And reading the session by its id in lower case finds none
    And appending to the session by its id followed by a space fails with SessionNotFoundError
    And the database is unchanged
