@own_sqlite_files
Feature: The README's and the documentation site's examples work as written
  A new user copies the quickstart and runs the demo first, then learns from the pages under
  docs/; every example there must work unchanged. Each page's Python, sh and console examples
  run in order in a fresh directory (see run_page_examples in documentation_steps.py for which
  fences run), so a stale example fails the scenario that names its page. The examples use
  SQLite files of their own, so they run in the SQLite test run only.

  Scenario: The README quickstart runs and keeps what it wrote
    When I run each Python example of the README on its own, in an empty directory
    Then its imported copy holds the same 2 messages as the original session
    And its session has 180 input tokens and 9 output tokens

  Scenario: The demo runs on a SQLite file of its own and says how to remove it
    When I run the demo with the default database under a fresh data directory
    Then the demo's own database file exists under that data directory, and no other
    And the demo reports 5 appended messages, 508 tokens and an imported copy with the same contents

  Scenario Outline: The examples of <page> run as written
    When I run the code examples of the documentation page "<page>" in a fresh directory
    Then every example of the page ran without an error

    Examples: documentation pages
      | page                                 |
      | docs/index.md                        |
      | docs/getting-started.md              |
      | docs/concepts.md                     |
      | docs/guides/reading-history.md       |
      | docs/guides/asyncio.md               |
      | docs/guides/bring-your-own-engine.md |
      | docs/guides/migrations.md            |
      | docs/guides/postgresql-mariadb.md    |
      | docs/guides/retention.md             |
      | docs/guides/cli.md                   |
      | docs/integrations/openai-agents.md   |
      | docs/integrations/langchain.md       |
      | docs/integrations/adk.md             |
      | docs/testing.md                      |
      | docs/reference/domain.md             |
      | docs/reference/services.md           |
      | docs/reference/database.md           |
      | docs/reference/database_schema.md    |
      | docs/guarantees.md                   |
      | docs/performance.md                  |

  Scenario: Every documentation page has its examples run
    Then every page under docs/ has a row in the page examples of this feature
