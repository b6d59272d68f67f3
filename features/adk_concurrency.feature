@adk @facade_independent
Feature: Concurrent ADK writers lose no event, no state key and no increment
  Eight processes, released at the same moment, append events with state deltas through
  their own CleverAgentsSessionService. Writers of one session read-modify-write counters
  from their copy of it: the stale-session check, decided by the sequence, refuses every
  outdated copy, so each increment lands exactly once. Writers of one user's sessions write
  keys of the shared user and app state side by side: every key lands.

  @conformance
  Scenario: Eight processes counting in one session lose no event and no increment
    Given ADK session "crowd-1" of app "crowd" and user "ann" in the library's store
    When 8 processes each append 12 events to session "crowd-1", counting in it
    Then session "crowd-1" holds 96 events, each worker's 12 in its own order
    And its state counts "total" 96 and 12 for each of the 8 workers

  @conformance
  Scenario: Eight processes writing one user's state from their own sessions lose no key
    When 8 processes each append 12 events to a session of their own of app "crowd" and user "ann"
    Then each of the 8 sessions of app "crowd" and user "ann" holds 12 events
    And the user state of "ann" in app "crowd" holds the 96 keys the workers wrote
    And the state of app "crowd" holds the 96 keys the workers wrote
