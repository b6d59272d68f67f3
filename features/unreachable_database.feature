@conformance @no_run_database
Feature: An unreachable database is reported plainly and without secrets
  When the server is down, the runtime gets DatabaseUnavailableError after the configured
  attempts, with a message that names the server (host and port, added by the library, since
  not every driver version says which) and never the password.

  Scenario Outline: Upgrading a database on a server that is down
    When I upgrade the database at "<url>"
    Then the upgrade fails with DatabaseUnavailableError mentioning "<server>"
    And the error text does not contain "s3cret-pw"

    Examples:
      | url                                                        | server                     |
      | postgresql+psycopg://agent:s3cret-pw@127.0.0.1:1/sessions  | (server 127.0.0.1:1)       |
      | mysql+pymysql://agent:s3cret-pw@127.0.0.1:1/sessions       | (server 127.0.0.1:1)       |
      | sqlite:////nonexistent-root/readonly/sessions.db?mode=ro&uri=true | unable to open database |

  Scenario: Opening a service on a server that is down gives up after its attempts
    Given a database "postgresql+psycopg://agent:s3cret-pw@127.0.0.1:1/sessions" that is tried 3 times
    When a service is opened on the unreachable database
    Then the call fails with DatabaseUnavailableError mentioning "after 3 attempt(s)"
    And the call fails with DatabaseUnavailableError mentioning "(server 127.0.0.1:1)"
    And the error text does not contain "s3cret-pw"
    And 2 retries were logged without the password
