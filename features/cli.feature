Feature: The cleveragents operator CLI
  Operators upgrade and check the schema and look after sessions from a shell; scripts get
  JSON and exit codes that tell failures apart: 0 ok, 1 failure, 2 bad input, 3 not found,
  4 database unavailable, 5 schema out of date. Every scenario runs the installed command
  as a separate process on the run's database.

  @no_run_database
  Scenario: The help lists the commands and the exit codes
    When the operator runs "--help"
    Then the CLI exits with code 0
    And the CLI output mentions "sessions"
    And the CLI output mentions "4 database unavailable"

  @own_sqlite_files
  Scenario: Upgrading, checking and downgrading a fresh SQLite file
    Given an existing but empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} db current"
    Then the CLI exits with code 0
    And the CLI output mentions "none"
    When the operator runs "--database-url {fresh} db check"
    Then the CLI exits with code 5
    And the CLI error mentions "add_table sessions"
    When the operator runs "--database-url {fresh} db check --json"
    Then the CLI exits with code 5
    And the CLI JSON field "up_to_date" equals false
    And the CLI JSON field "revision" equals null
    When the operator runs "--database-url {fresh} db upgrade"
    Then the CLI exits with code 0
    And the CLI output mentions "is at revision"
    When the operator runs "--database-url {fresh} db current --json"
    Then the CLI exits with code 0
    And the CLI JSON field "revision" is the newest revision
    When the operator runs "--database-url {fresh} db check"
    Then the CLI exits with code 0
    And the CLI output mentions "up to date"
    When the operator runs "--database-url {fresh} db check --json"
    Then the CLI exits with code 0
    And the CLI JSON field "differences" equals []
    When the operator runs "--database-url {fresh} db downgrade base --yes --json"
    Then the CLI exits with code 0
    And the CLI JSON field "revision" equals null
    When the operator runs "--database-url {fresh} db upgrade head --json"
    Then the CLI exits with code 0
    And the CLI JSON field "revision" is the newest revision

  Scenario: The run's database is reported up to date
    When the operator runs "--database-url {run} db check --json"
    Then the CLI exits with code 0
    And the CLI JSON field "up_to_date" equals true

  @own_sqlite_files
  Scenario: Downgrade needs an explicit revision
    Given an empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} db downgrade"
    Then the CLI exits with code 2

  @own_sqlite_files
  Scenario: Session commands on a database never upgraded ask for an upgrade
    Given an existing but empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} sessions list"
    Then the CLI exits with code 5
    And the CLI error is one line mentioning "cleveragents db upgrade"

  @no_run_database
  Scenario: An unreachable database exits 4 without showing the password
    When the operator runs "--database-url postgresql+psycopg://agent:s3cret-pw@127.0.0.1:1/x db current"
    Then the CLI exits with code 4
    And the CLI error is one line mentioning "unavailable"
    And neither CLI output nor error contains "s3cret-pw"
    When the operator runs "--database-url postgresql+psycopg://agent:s3cret-pw@127.0.0.1:1/x --verbose stats --json"
    Then the CLI exits with code 4
    And the CLI error mentions "retry"
    And neither CLI output nor error contains "s3cret-pw"

  @no_run_database
  Scenario: A malformed database URL is bad input and is not echoed
    When the operator runs "--database-url not-a-url://s3cret-pw stats"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "database URL is not valid"
    And neither CLI output nor error contains "s3cret-pw"

  Scenario: Listing sessions as a table and as JSON, filtered and paged
    Given a session for actor "support-bot" with 3 messages and token usage 100 in, 20 out
    And another session for actor "billing-bot" with 2 messages
    When the operator runs "--database-url {run} sessions list --json"
    Then the CLI exits with code 0
    And the CLI JSON page holds 2 sessions
    And the CLI JSON gives no next cursor
    When the operator runs "--database-url {run} sessions list --actor support-bot --json"
    Then the CLI JSON page holds 1 sessions
    And the CLI JSON field "sessions.0.total_tokens" equals 120
    And the CLI JSON field "sessions.0.message_count" equals 3
    When the operator runs "--database-url {run} sessions list --limit 1 --offset 1 --json"
    Then the CLI JSON page holds 1 sessions
    And the CLI JSON field "sessions.0.actor_name" equals "support-bot"
    When the operator runs "--database-url {run} sessions list"
    Then the CLI exits with code 0
    And the CLI output mentions "billing-bot"
    And the CLI output mentions "{id}"

  Scenario: Listing by last activity, page after page with the printed cursor
    Given sessions were created for actors "p1", "p2", "p3" in that order
    When a message is appended to the session of "p1"
    And the operator runs "--database-url {run} sessions list --order updated --limit 2 --json"
    Then the CLI exits with code 0
    And the CLI JSON field "sessions.0.actor_name" equals "p1"
    And the CLI JSON field "sessions.1.actor_name" equals "p3"
    And the CLI JSON gives the cursor of the next page
    When the operator runs "--database-url {run} sessions list --order updated --limit 2 --cursor {cursor} --json"
    Then the CLI exits with code 0
    And the CLI JSON page holds 1 sessions
    And the CLI JSON field "sessions.0.actor_name" equals "p2"
    And the CLI JSON gives no next cursor
    When the operator runs "--database-url {run} sessions list --order updated --limit 2"
    Then the CLI exits with code 0
    And the CLI printed the cursor of the next page
    When the operator runs "--database-url {run} sessions list --order updated --limit 2 --cursor {cursor}"
    Then the CLI output mentions "p2"
    And the CLI printed no cursor
    When the operator runs "--database-url {run} sessions list --order created --limit 2 --cursor {cursor}"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "cursor was issued for a listing ordered by 'updated_at'"

  Scenario: A bad page size is bad input
    When the operator runs "--database-url {run} sessions list --limit 0"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "limit"

  Scenario: Showing a session with its messages
    Given a session for actor "support-bot" with 3 messages and token usage 7 in, 5 out
    When the operator runs "--database-url {run} sessions show {id} --json"
    Then the CLI exits with code 0
    And the CLI JSON field "actor_name" equals "support-bot"
    And the CLI JSON field "total_tokens" equals 12
    And the CLI JSON field "messages.2.sequence" equals 2
    And the CLI JSON field "messages.1.role" equals "assistant"
    And the CLI JSON field "messages.0.content" equals "message 0 of support-bot"
    And the CLI JSON field "messages.0.created_at" is an ISO 8601 timestamp
    And the CLI JSON field "updated_at" is an ISO 8601 timestamp
    When the operator runs "--database-url {run} sessions show {id}"
    Then the CLI exits with code 0
    And the CLI output mentions "#2 tool: message 2 of support-bot"
    And the CLI output mentions "7 in + 5 out = 12"

  Scenario Outline: Unknown session ids exit 3
    When the operator runs "--database-url {run} sessions <command> 01ARZ3NDEKTSV4RRFFQ69G5FAV <extra>"
    Then the CLI exits with code 3
    And the CLI error is one line mentioning "does not exist"

    Examples:
      | command | extra                    |
      | show    | --json                   |
      | export  | -o {work}/missing.json   |
      | delete  | --yes                    |

  Scenario: Stored rows that contradict each other are a generic failure
    Given a session for actor "support-bot" with 2 messages
    And the stored message count of that session is off by one
    When the operator runs "--database-url {run} sessions show {id}"
    Then the CLI exits with code 1
    And the CLI error is one line mentioning "error:"

  Scenario: Export to a file and import it back as a new session
    Given a session for actor "support-bot" with 4 messages
    When the operator runs "--database-url {run} sessions export {id} -o {work}/round-trip.json"
    Then the CLI exits with code 0
    And the CLI output mentions "4 messages"
    And the work directory holds "round-trip.json" with format "cleveragents.session-export"
    When the operator runs "--database-url {run} sessions import {work}/round-trip.json"
    Then the CLI exits with code 0
    And the session printed by the CLI holds the same messages as the original
    When the operator runs "--database-url {run} sessions import {work}/round-trip.json --json"
    Then the CLI exits with code 0
    And the CLI JSON field "message_count" equals 4
    And the CLI JSON field "actor_name" equals "support-bot"

  Scenario: A signed export imports only with the same key
    Given a session for actor "support-bot" with 2 messages
    And the operator's environment variable CLI_SIGNING_KEY holds "team-secret"
    And the operator's environment variable CLI_OTHER_KEY holds "another-secret"
    When the operator runs "--database-url {run} sessions export {id} -o {work}/signed.json --signing-key-env CLI_SIGNING_KEY --json"
    Then the CLI exits with code 0
    And the CLI JSON field "messages" equals 2
    When the operator runs "--database-url {run} sessions import {work}/signed.json --signing-key-env CLI_OTHER_KEY"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "signature"
    When the operator runs "--database-url {run} sessions import {work}/signed.json --signing-key-env CLI_SIGNING_KEY --json"
    Then the CLI exits with code 0
    And the CLI JSON field "message_count" equals 2
    When the operator runs "--database-url {run} sessions import {work}/signed.json --signing-key-env CLI_UNSET_KEY"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "CLI_UNSET_KEY"

  Scenario Outline: Bad files are bad input
    Given a session for actor "support-bot" with 1 messages
    And the work directory holds a file "not-json.txt" reading "this is not JSON"
    When the operator runs "<arguments>"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "<text>"

    Examples:
      | arguments                                                                    | text         |
      | --database-url {run} sessions import {work}/no-such-file.json                | cannot read  |
      | --database-url {run} sessions import {work}                                  | cannot read  |
      | --database-url {run} sessions import {work}/not-json.txt                     | export document |
      | --database-url {run} sessions export {id} -o {work}/no-such-dir/out.json      | cannot write |

  Scenario: Deleting with --yes and JSON output
    Given a session for actor "support-bot" with 2 messages
    When the operator runs "--database-url {run} sessions delete {id} --yes --json"
    Then the CLI exits with code 0
    And the CLI JSON field "deleted" equals true
    And the session can no longer be read

  Scenario: Purging old sessions, dry run first
    Given 3 sessions of actor "old-bot" last active 40 days ago with 2 messages each
    And 2 sessions of actor "other-bot" last active 40 days ago with 1 messages each
    And a session for actor "old-bot" with 1 messages
    When the operator runs "--database-url {run} sessions purge --older-than 30d --dry-run --json"
    Then the CLI exits with code 0
    And the CLI JSON field "count" equals 5
    And the CLI JSON field "dry_run" equals true
    When the operator runs "--database-url {run} sessions purge --older-than 4w --actor old-bot --dry-run"
    Then the CLI output mentions "would purge 3 sessions of 'old-bot' inactive for more than 4w"
    When the operator runs "--database-url {run} sessions purge --older-than 30d --actor old-bot --yes"
    Then the CLI exits with code 0
    And the CLI output mentions "purged 3 sessions of 'old-bot' inactive for more than 30d"
    When the operator runs "--database-url {run} sessions purge --older-than 720h --yes --json"
    Then the CLI JSON field "count" equals 2
    And the CLI JSON field "dry_run" equals false
    When the operator runs "--database-url {run} sessions purge --older-than 720h"
    Then the CLI exits with code 0
    And the CLI output mentions "nothing purged"
    When the operator runs "--database-url {run} sessions list --json"
    Then the CLI JSON page holds 1 sessions

  Scenario Outline: Bad purge input is exit 2
    When the operator runs "--database-url {run} sessions purge <options>"
    Then the CLI exits with code 2

    Examples:
      | options                   |
      | --older-than 30 days      |
      | --older-than 3y           |
      | --dry-run                 |

  Scenario: Statistics per actor, as a table and as JSON
    Given a session for actor "support-bot" with 3 messages and token usage 100 in, 20 out
    And another session for actor "billing-bot" with 2 messages
    When the operator runs "--database-url {run} stats --json"
    Then the CLI exits with code 0
    And the CLI JSON field "totals.session_count" equals 2
    And the CLI JSON field "totals.message_count" equals 5
    And the CLI JSON field "totals.total_tokens" equals 120
    And the CLI JSON field "actors.0.actor_name" equals "billing-bot"
    When the operator runs "--database-url {run} stats"
    Then the CLI exits with code 0
    And the CLI output mentions "support-bot"
    And the CLI output mentions "2 sessions, 5 messages, 120 tokens"

  @own_sqlite_files
  Scenario: The demo runs on the database given on the command line
    Given an empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} demo"
    Then the CLI exits with code 0
    And the CLI output mentions "same contents: True"
    And the CLI output mentions "cleveragents sessions delete"
    When the operator runs "--database-url {fresh} sessions list --json"
    Then the CLI JSON page holds 2 sessions

  @own_sqlite_files
  Scenario: Without --database-url the demo keeps to a file of its own
    Given an empty SQLite database file for the operator
    And the operator's environment variable CLEVERAGENTS_DATABASE_URL holds "{fresh}"
    When the operator runs "demo"
    Then the CLI exits with code 0
    And the CLI output mentions "remove it with: rm "
    And the demo's own database file exists under the operator's data directory
    And the operator's SQLite file does not exist, nor does its directory unless it did before

  @own_sqlite_files
  Scenario: An empty database lists nothing
    Given an empty SQLite database file for the operator
    When the operator runs "--database-url {fresh} db upgrade"
    Then the CLI exits with code 0
    And the operator's SQLite file exists
    When the operator runs "--database-url {fresh} sessions list --json"
    Then the CLI exits with code 0
    And the CLI JSON page holds 0 sessions
    When the operator runs "--database-url {fresh} stats --json"
    Then the CLI exits with code 0
    And the CLI JSON field "totals.session_count" equals 0
    And the CLI JSON field "actors" equals []
