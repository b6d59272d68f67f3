Feature: Retention: purging sessions that have been inactive too long
  Session tables should not grow forever. purge_sessions deletes whole sessions (their messages
  go with them) whose last activity is older than an age or a moment, in bounded batches so a
  large purge never holds one giant transaction.

  Background:
    Given 5 sessions of actor "archivist" last active 40 days ago with 2 messages each
    And 3 sessions of actor "courier" last active 40 days ago with 2 messages each
    And 4 sessions of actor "archivist" last active 2 days ago with 2 messages each

  Scenario: Sessions inactive for longer than the age are deleted with their messages
    When I purge sessions older than 30 days
    Then 8 sessions were purged
    And the purge reported batches of 8
    And 4 sessions remain, all active 2 days ago
    And no message is left without its session

  Scenario: A purge can be limited to one actor
    When I purge sessions of actor "courier" older than 30 days
    Then 3 sessions were purged
    And 9 sessions remain

  Scenario: A dry run counts and deletes nothing
    When I take a dry run of purging sessions older than 30 days
    Then 8 sessions were purged
    And 12 sessions remain
    And the database is unchanged

  Scenario: A purge runs in bounded batches, each its own transaction
    Given the service purges at most 3 sessions per transaction
    When I purge sessions older than 30 days
    Then 8 sessions were purged
    And the purge took 3 delete transactions
    And the purge reported batches of 3, 3 and 2
    And 4 sessions remain

  Scenario: An age of zero purges every session inactive until now
    When I purge sessions older than 0 days
    Then 12 sessions were purged
    And 0 sessions remain

  Scenario: A purge before a moment uses that moment
    When I purge sessions last active before 10 days ago as a timezone-aware moment
    Then 8 sessions were purged

  Scenario Outline: A purge limit that makes no sense is refused and nothing is deleted
    When I try to purge sessions older than <limit>
    Then the call fails with InvalidSessionDataError mentioning "<message>"
    And the database is unchanged

    Examples:
      | limit                 | message                            |
      | a negative age        | older_than must not be a negative age |
      | a naive datetime      | older_than must be timezone-aware  |
      | the number 30         | older_than must be a timedelta or a datetime, got int |

  Scenario: A purge batch size below one session is refused when the service opens
    When I try to open a service that purges at most 0 sessions per transaction
    Then the call fails with InvalidSessionDataError mentioning "purge_batch_size must be at least 1, got 0"
