@adk @facade_independent
Feature: A real ADK Runner keeps its conversations in this library
  An LlmAgent with a scripted model (no network) and a tool that writes user: state runs
  turns through ADK's Runner over CleverAgentsSessionService. Each turn must see the events
  and state of the turns before it, in the same process and after the database is opened
  again by a process of its own.

  @conformance
  Scenario: Later turns see earlier turns' events and user state, also from a new process
    When the agent runs the turn "remember blue" in session "run-1"
    Then the reply is "Noted."
    And session "run-1" holds events by "user", "keeper", "keeper", "keeper"
    And session "run-1" has state {"user:colour": "blue", "turns_with_tools": 1}
    When the agent runs the turn "which colour?" in session "run-1"
    Then the reply mentions "Favourite colour: blue." and "I was given 5 contents"
    When the agent runs the turn "which colour now?" in session "run-1" in a new process
    Then the reply mentions "Favourite colour: blue." and "I was given 7 contents"
    And session "run-1" holds events by "user", "keeper", "keeper", "keeper", "user", "keeper", "user", "keeper"
    When the agent runs the turn "which colour?" in session "run-2" in a new process
    Then the reply mentions "Favourite colour: blue." and "I was given 1 contents"
    And session "run-2" has state {"user:colour": "blue"}
