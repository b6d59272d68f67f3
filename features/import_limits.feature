@conformance
Feature: An oversized document is refused before it is parsed
  A document over the size cap is refused from its size alone, without building a parsed copy,
  so a hostile upload cannot exhaust the host's memory.

  Scenario Outline: A <form> one byte over an 8 MiB cap is refused with little memory
    Given an importer capped at 8 MiB
    And a <form> one byte over that cap
    When I import it while measuring memory
    Then the call fails with ExportDocumentTooLargeError mentioning "the limit is 8 MiB"
    And the import's peak memory stayed below twice the cap
    And the database is unchanged

    Examples:
      | form                                  |
      | UTF-8 bytes document                  |
      | JSON text of ASCII characters         |
      | JSON text of four-byte characters     |

  Scenario: A text ten times the cap is refused without encoding it
    Given an importer capped at 8 MiB
    And a JSON text of 80 MiB
    When I import it while measuring memory
    Then the call fails with ExportDocumentTooLargeError mentioning "the limit is 8 MiB"
    And the import's peak memory stayed below 1 MiB
