@conformance
Feature: Export documents signed with a shared key
  The SHA-256 checksum catches corruption, but anyone who edits a document can recompute it.
  Runtimes that move sessions between machines they trust can share a key: export signs the
  payload with HMAC-SHA-256, and import with the key accepts only documents signed with it.

  Scenario: A signed document imports under its key
    Given a session for actor "courier" with 3 messages
    When I export the session signed with key "alpha-key"
    And I import that document with key "alpha-key"
    Then the signed import holds the same 3 messages

  Scenario: A document signed with one key is refused under another
    Given a session for actor "courier" with 3 messages
    When I export the session signed with key "alpha-key"
    And I try to import that document with key "beta-key"
    Then the call fails with SignatureMismatchError mentioning "signed with another key or altered after signing"
    And the database is unchanged

  Scenario: A tampered document whose checksum was recomputed is refused under the key
    Given a session for actor "courier" with 3 messages
    When I export the session signed with key "alpha-key"
    And someone changes message 1's content and recomputes the plain checksum
    And I try to import that document with key "alpha-key"
    Then the call fails with SignatureMismatchError mentioning "altered after signing"
    And the database is unchanged

  Scenario: The same tampered document passes the plain checksum, which is why keys exist
    Given a session for actor "courier" with 3 messages
    When I export the session signed with key "alpha-key"
    And someone changes message 1's content and recomputes the plain checksum
    And I import that document without a key
    Then the imported copy shows the altered content

  Scenario: An unsigned document is refused when a key is required
    Given a session for actor "courier" with 1 messages
    When I export the session without a key
    And I try to import that document with key "alpha-key"
    Then the call fails with SignatureMismatchError mentioning "is not signed"
    And the database is unchanged

  Scenario: A malformed signature is refused as a bad field
    Given a session for actor "courier" with 1 messages
    When I export the session signed with key "alpha-key"
    And the document's signature is replaced by "not-a-signature"
    And I try to import that document with key "alpha-key"
    Then the call fails with InvalidExportDocumentError mentioning "signature must be 64 lowercase hexadecimal digits"
    And the database is unchanged

  Scenario: A key must be bytes
    Given a session for actor "courier" with 1 messages
    When I try to export the session with a text key
    Then the call fails with InvalidSessionDataError mentioning "signing_key must be non-empty bytes"
