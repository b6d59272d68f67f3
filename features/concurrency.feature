Feature: Concurrent writers never lose, duplicate or reorder messages
  Agent runtimes append from many workers at once. Each append takes the next sequence from
  one atomic update of the session row, so writers queue instead of colliding.

  Scenario: Threads sharing one service append to one session
    Given a session for actor "swarm"
    When 8 threads sharing the service each append 50 messages to it
    Then the session holds 400 messages with sequences 0 to 399 and no duplicate
    And every acknowledged message is stored with its content
    And no writer saw an error

  Scenario: Processes append and count tokens on one session
    Given a session for actor "swarm"
    When 4 processes each append 50 messages and add 1 input and 2 output tokens per message
    Then the session holds 200 messages with sequences 0 to 199 and no duplicate
    And the session's token totals are 200 in, 400 out and 600 in all
    And no writer saw an error
