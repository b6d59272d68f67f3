Feature: The README's examples work as written
  A new user copies the quickstart and runs the demo first; both must work unchanged.

  Scenario: The README quickstart runs and keeps what it wrote
    When I run the Python examples from the README in order in an empty directory
    Then its imported copy holds the same 2 messages as the original session
    And its session has 180 input tokens and 9 output tokens

  Scenario: The demo runs on an embedded SQLite file and reports what happened
    When I run the demo with the default database under a fresh data directory
    Then the demo's database file exists under that data directory
    And the demo reports 5 appended messages, 508 tokens and an imported copy with the same contents
