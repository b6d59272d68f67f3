Feature: Reading a long history by cursor and by latest window
  A runtime reloads its context every turn and pages through long histories. Sequence
  cursors (after_sequence, before_sequence) and the latest-N window (last=N) are each one
  indexed range read, so the page after sequence 100,000 costs what the first page costs.

  Background:
    Given a session for actor "reader" with 10 messages

  Scenario Outline: A sequence range <range> gives <sequences>
    When I read the messages <range>
    Then I get the messages with sequences <sequences>

    Examples:
      | range                                  | sequences           |
      | after sequence 3 with limit 3          | 4, 5, 6             |
      | after sequence 3                       | 4, 5, 6, 7, 8, 9    |
      | before sequence 3                      | 0, 1, 2             |
      | after sequence 2 and before sequence 6 | 3, 4, 5             |
      | after sequence 2 with limit 2 offset 1 | 4, 5                |
      | before sequence 1                      | 0                   |
      | the latest 3                           | 7, 8, 9             |
      | the latest 1                           | 9                   |
      | the latest 3 before sequence 5         | 2, 3, 4             |
      | the latest 4 after sequence 7          | 8, 9                |
      | the latest 20                          | 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 |

  Scenario Outline: A range past an edge is empty, not an error (<range>)
    When I read the messages <range>
    Then I get no messages

    Examples:
      | range                                  |
      | after sequence 9                       |
      | after sequence 500                     |
      | before sequence 0                      |
      | after sequence 4 and before sequence 5 |
      | the latest 3 before sequence 0         |

  Scenario: Paging forward by cursor visits every message once, in order
    When I page forward through the messages 4 at a time by after_sequence
    Then the forward pages hold 4, 4, 2 messages and then none
    And together the pages hold sequences 0 to 9 once each, in order

  Scenario: Paging backward from the latest window visits every message once
    When I page backward through the messages 4 at a time from the latest window
    Then the backward pages hold sequences "6-9", "2-5", "0-1" and then none

  Scenario: The latest window of a long history is the tail of the whole history
    Given a session for actor "long-runner" with 300 messages appended in batches
    When I read the latest 50 messages of that session
    Then they are the last 50 messages of its full history, in chronological order
    And the latest-window read sent one SELECT

  Scenario: An empty session and an unknown session give empty windows
    Given a session for actor "quiet"
    Then the latest 5 messages of that session are none
    And the latest 5 messages of session "01ARZ3NDEKTSV4RRFFQ69G5FAV" are none

  Scenario Outline: Bad window arguments are refused with a clear error (<arguments>)
    When I ask for a message window with <arguments>
    Then the call fails with InvalidSessionDataError mentioning "<mention>"

    Examples:
      | arguments              | mention                                   |
      | last 0                 | last must be at least 1                   |
      | last -2                | last must not be negative                 |
      | last 3 and limit 3     | last cannot be combined with limit or offset |
      | last 3 and offset 1    | last cannot be combined with limit or offset |
      | after_sequence -1      | after_sequence must not be negative       |
      | before_sequence "5"    | before_sequence must be an integer        |
      | last True              | last must be an integer                   |
      | last 2147483648        | last is 2147483648; the limit is 2147483647 |
      | after_sequence 2147483648 | after_sequence is 2147483648; the limit is 2147483647 |
