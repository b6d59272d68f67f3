Feature: Sessions owned by a user, with state at actor, user and session scope
  ScopedStateService is the framework-neutral core under the Google ADK store: a session of an
  actor owned by a user, state shared by the actor's sessions, by the user's, and the
  session's own, and appends that carry a state change. Bad input is refused before anything
  is written.

  Scenario: A change at each scope is seen by the sessions that share that scope
    Given a scoped session "a1" of actor "shop" and user "ann" with actor state {"currency": "EUR"}
    And a scoped session "a2" of actor "shop" and user "ann" with actor state {}
    And a scoped session "b1" of actor "shop" and user "bob" with actor state {}
    When I append to scoped session "a1" a message changing user state {"tier": "gold"} and session state {"cart": 2}
    Then scoped session "a2" has actor state {"currency": "EUR"}, user state {"tier": "gold"} and session state {}
    And scoped session "b1" has actor state {"currency": "EUR"}, user state {} and session state {}
    And scoped session "a1" has actor state {"currency": "EUR"}, user state {"tier": "gold"} and session state {"cart": 2}

  Scenario Outline: Input that cannot be stored is refused before anything is written (<problem>)
    Given a scoped session "a1" of actor "shop" and user "ann" with actor state {}
    When I try the scoped call "<call>" with <problem>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"
    And the database is unchanged

    Examples:
      | call                              | problem                    | mention                                      |
      | create a scoped session           | a value that is not JSON   | session state key 'tags' holds a value that is not JSON data |
      | create a scoped session           | a user state that is a list | user state must be a mapping                 |
      | create a scoped session           | a blank user id            | user_id must not be empty or blank           |
      | append to scoped session a1       | a number JSON cannot carry | user state key 'score' holds a value that is not JSON data |
      | append to scoped session a1       | a value that is not JSON   | session state key 'tags' holds a value that is not JSON data |
      | read scoped session a1            | a naive since              | since must be a timezone-aware datetime      |

  @postgresql_only
  Scenario: On PostgreSQL a listing looks each session up by its key, whatever the table statistics say
    Tables filled since their last ANALYZE are estimated at a few rows. Planned as joins, a
    listing of such tables compared every session with every owner: seconds at 10,000.
    Given a schema named for this scenario, upgraded
    And 300 scoped sessions of actor "planner" and user "ann" in that schema, each with its own state
    When the scoped sessions of actor "planner" in that schema are listed for user "ann" and for all users
    Then both listings hold the 300 sessions, each with its own state
    And no statement of either listing is planned as a join comparing every row with every row
