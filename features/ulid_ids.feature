@no_run_database
Feature: The library's ids are ULIDs that keep increasing within one millisecond
  Session and message ids are ULIDs: 48 bits of the creation millisecond, then 80 random
  bits, written as 26 Crockford base-32 characters, so ids sort by creation time. Ids made
  in the same millisecond continue from the last one, so they keep their order too; when
  the random bits of a millisecond would run out, the next id draws fresh ones instead of
  spilling into the timestamp. Here the clock and the random source are fixed, so every
  id is known in advance and read back with an independent ULID implementation.

  Scenario Outline: An id spells out its millisecond and its random bits as the ULID specification does (<when>)
    Given the clock stands at <nanoseconds> nanoseconds and random bytes count up from 1
    When the library makes one id
    Then the id decodes to the millisecond <millisecond> and random bits 0x0102030405060708090a

    Examples:
      | when                                | nanoseconds           | millisecond     |
      | 2023                                | 1700000000123456789   | 1700000000123   |
      | the last millisecond a ULID holds   | 281474976710655999999 | 281474976710655 |
      | 2604, bit 44 of the millisecond set | 20015998343868999999  | 20015998343868  |

  Scenario: Ids made within one millisecond follow each other, singly and in batches
    Given the clock stands at 1700000000123456789 nanoseconds and random bytes count up from 1
    When the library makes one id, a batch of 3 ids and one id more
    Then the 5 ids are consecutive values of the millisecond 1700000000123

  Scenario: An id of a new millisecond starts from fresh random bits
    Given the clock stands at 1700000000123456789 nanoseconds and random bytes count up from 1
    When the library makes one id, the clock moves on by 1 millisecond and it makes one more
    Then the second id decodes to the millisecond 1700000000124 and random bits 0x0102030405060708090a

  Scenario: The last random value of a millisecond is used, and the id after it draws fresh bits
    Given the clock stands at 1700000000122456789 nanoseconds and random bytes are all 0xff but the last, 0xfe
    When the library makes 3 ids one by one
    Then the ids have the random bits 0xfffffffffffffffffffe, 0xffffffffffffffffffff and 0xfffffffffffffffffffe
    And every id decodes to the millisecond 1700000000122
