@conformance @own_sqlite_files @facade_independent
Feature: SQLite writers take the lock before they read
  Two SQLite transactions that both read and then both try to write cannot both upgrade their
  locks: one fails at once with "database is locked", whatever the busy timeout, because
  waiting could never help. The library's write transactions begin IMMEDIATE, taking the write
  lock before the first read, so writers queue behind the busy timeout instead.

  Scenario: Deferred read-then-write transactions fail at once despite a long busy timeout
    Given two raw connections to a SQLite session database with a 5 second busy timeout
    When both begin deferred transactions, read the session and then both update it
    Then the second update fails with "database is locked" in well under the busy timeout

  Scenario: The library's writers on the same database simply queue
    Given two raw connections to a SQLite session database with a 5 second busy timeout
    When two services append to the session from two threads 50 times each
    Then the session holds 100 messages numbered 0 to 99
