Feature: Listing sessions by owner and activity, page after page by cursor
  An operator or a runtime lists one actor's sessions by creation or by last activity.
  Each page carries an opaque next_cursor; the page after a cursor is one range read of an
  index, so a deep page costs what the first costs, and rows added meanwhile never shift it.

  Scenario: Cursor pages of one actor's sessions cover them all once, newest first
    Given 7 sessions for actor "alpha"
    And 3 sessions for actor "beta" created after them
    When I list the sessions of actor "alpha" in cursor pages of 3
    Then the cursor pages hold 3, 3, 1 sessions and the last page has no next cursor
    And together the cursor pages hold every session of actor "alpha" once, newest created first

  Scenario: Ordering by last activity puts the sessions just used first
    Given sessions were created for actors "s1", "s2", "s3", "s4", "s5" in that order
    When a message is appended to the session of "s2"
    And token usage is added to the session of "s4"
    And I list the sessions by last activity
    Then the sessions come in the actor order "s4", "s2", "s5", "s3", "s1"
    And listing them by creation gives the actor order "s5", "s4", "s3", "s2", "s1"

  Scenario: Cursor pages by last activity of one actor cover them all once
    Given 9 sessions for actor "gamma"
    And each session of actor "gamma" gets a message in a shuffled order
    When I list the sessions of actor "gamma" by last activity in cursor pages of 2
    Then together the cursor pages hold every session of actor "gamma" once, most recently active first

  Scenario: Sessions that share a creation time are paged by id without loss or repeat
    Given 5 sessions for actor "twin" share one creation time
    When I list the sessions of actor "twin" in cursor pages of 2
    Then the cursor pages hold 2, 2, 1 sessions and the last page has no next cursor
    And together the cursor pages hold every session of actor "twin" once, newest created first

  Scenario: Sessions under ids that are not ASCII are paged by cursor like any other
    Given 5 sessions for actor "umlaut" under the ids "größe-1" upward
    When I list the sessions of actor "umlaut" in cursor pages of 2
    Then the cursor pages hold 2, 2, 1 sessions and the last page has no next cursor
    And together the cursor pages hold every session of actor "umlaut" once, newest created first

  Scenario: A page size of sys.maxsize, meaning "all of them", lists every session on every backend
    Given 4 sessions for actor "delta"
    When I list the sessions of actor "delta" in cursor pages of 9223372036854775807
    Then the cursor pages hold 4 sessions and the last page has no next cursor

  Scenario: A page that ends exactly at the last session has no next cursor
    Given 4 sessions for actor "delta"
    When I list the sessions of actor "delta" in cursor pages of 4
    Then the cursor pages hold 4 sessions and the last page has no next cursor

  Scenario: An actor without sessions gives one empty page without a cursor
    Given 2 sessions for actor "delta"
    When I list the sessions of actor "nobody" in cursor pages of 10
    Then the cursor pages hold 0 sessions and the last page has no next cursor

  Scenario: Sessions created while paging do not shift the pages after a cursor
    Given 6 sessions for actor "epsilon"
    When I take the first cursor page of 3 sessions of actor "epsilon"
    And 2 more sessions of actor "epsilon" are created
    And I take the next cursor page
    Then the two pages hold the 6 original sessions once each

  Scenario Outline: A cursor is refused for <misuse>
    Given 5 sessions for actor "zeta"
    And the next cursor of the first page of 2 sessions of actor "zeta"
    When I try to continue the listing with <misuse>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"

    Examples:
      | misuse                          | mention                                              |
      | another actor                   | cursor was issued for a listing ordered by 'created_at' with actor_name 'zeta' |
      | another order                   | it cannot continue one ordered by 'updated_at'      |
      | a cursor cut short              | cursor is not one this library issued               |
      | a garbled cursor                | cursor is not one this library issued               |
      | a number                        | cursor must be a string, got int                    |
      | an unknown order                | order_by must be one of created_at, updated_at, got 'title' |
      | an empty cursor                 | cursor is not one this library issued               |
      | a cursor of another version     | cursor is not one this library issued               |
      | a forged cursor without an id   | cursor is not one this library issued               |
      | a forged cursor with a bad time | cursor is not one this library issued               |
      | a forged cursor with a naive time | cursor is not one this library issued             |
