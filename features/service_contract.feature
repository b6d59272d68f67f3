@no_run_database
Feature: The services take the arguments their contracts declare, with the same defaults
  Code written against SessionService or AsyncSessionService reads the contract's signatures
  (in help(), in an IDE) and leaves out what it does not need. The library's services must
  take the same parameters with the same defaults: one that listed 49 sessions a page where
  the contract says 50, or started a page at another offset, would give such code other
  results than it was written for. The same holds for the contract's values: a TokenUsage
  built without counts, as code adding usage up starts from, holds no tokens.

  Scenario Outline: Every method of <contract> has the parameters and defaults of <service>
    Then every abstract method of <contract> has the parameter names, kinds and defaults of <service>

    Examples:
      | contract            | service                       |
      | SessionService      | PersistentSessionService      |
      | AsyncSessionService | AsyncPersistentSessionService |

  Scenario: Token usage built without counts holds none
    Then a TokenUsage built without arguments has 0 input, 0 output and 0 total tokens
