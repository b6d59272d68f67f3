@conformance
Feature: What the service returns cannot be changed in place
  Sessions, messages, token usage and statistics are values: a caller that keeps one cannot
  alter it by mistake and so believe it changed what is stored. Changing stored data goes
  through the service. The import limits a service is given are a value too: changing them
  after the service opened cannot change what it accepts. Values keep their fields in slots: a listing of thousands of sessions
  or messages carries no dictionary per value.

  Scenario Outline: Assigning to a field of a returned <entity> is refused and the database does not change
    Given a session for actor "planner" with 2 messages and token usage 10 in, 5 out
    When I assign <value> to the field <field> of the returned <entity>
    Then the assignment is refused as a change to a frozen value
    And the database is unchanged

    Examples:
      | entity           | field         | value     |
      | session          | title         | "renamed" |
      | session          | input_tokens  | 99        |
      | message          | content       | "edited"  |
      | token usage      | output_tokens | 99        |
      | actor statistics | session_count | 99        |
      | new message      | content       | "edited"  |
      | scoped state     | user          | {}        |
      | user session     | user_id       | "eve"     |
      | import limits    | max_messages  | 10        |

  Scenario Outline: A returned <entity> keeps its fields in slots, without a dictionary of its own
    Given a session for actor "planner" with 2 messages and token usage 10 in, 5 out
    Then the returned <entity> has slots for its fields and no attribute dictionary

    Examples:
      | entity           |
      | session          |
      | message          |
      | token usage      |
      | actor statistics |
      | new message      |
      | scoped state     |
      | user session     |
