@sameness @conformance @facade_independent
Feature: The same calls give the same results on every backend
  One program of public calls runs on SQLite, PostgreSQL and MariaDB/MySQL at once, each call
  on all three before the next, with the same clock and the same generated ids. Every result
  (sessions, messages, pages and their cursors, export documents, counts, statistics) and
  every error class must be identical. The inputs are the awkward ones: spaces at either end,
  case, the two Unicode spellings of "é", 4-byte characters, NUL and control characters, text
  at each length limit and one past it, integers past 2^53 and 2^63, floats, odd JSON keys,
  and rows that share one microsecond.

  The servers are dedicated databases named by CLEVERAGENTS_SAMENESS_POSTGRESQL_URL and
  CLEVERAGENTS_SAMENESS_MYSQL_URL (every session in them is deleted); without both variables
  these scenarios are skipped.

  Scenario: Every awkward input, tried once each, gets one answer from all three backends
    Given a service on each of SQLite, PostgreSQL and MariaDB, compared call by call
    When the fixed program of awkward inputs runs on all three
    Then the backends agreed on every call, at least 350 of them

  Scenario: Random programs of public calls get one answer from all three backends
    Given a service on each of SQLite, PostgreSQL and MariaDB, compared call by call
    When 60 random programs of up to 40 calls run on all three
    Then the backends agreed on every call, at least 300 of them
