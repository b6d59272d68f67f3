@conformance
Feature: A database URL that cannot be used says which part is wrong
  Every URL the library cannot parse or use is refused with DatabaseConfigurationError before
  anything connects. The message names the part that is wrong (the port, the backend, the
  driver and the extra that installs it) and a URL that would work, and never repeats the
  URL, which may hold a password. The bare postgresql:// and mysql:// spellings use the
  drivers the library installs (psycopg 3, PyMySQL), whatever SQLAlchemy's own default.

  @no_run_database
  Scenario Outline: <problem> is refused, naming what is wrong
    When I try to open a service on the URL "<url>"
    Then the opening fails with DatabaseConfigurationError mentioning "<message>"
    And the error text does not contain "s3cret"

    Examples:
      | problem                                 | url                                                     | message                                                     |
      | A port that is not a number             | postgresql+psycopg://agent:s3cret@127.0.0.1:notaport/x  | the database URL is not valid: its port is not a number     |
      | A password where the host should be     | postgresql://agent:s3cret/x                             | its port is not a number                                    |
      | A port past 65535                       | mysql+pymysql://agent:s3cret@127.0.0.1:70000/x          | its port 70000 is outside 1 to 65535                        |
      | Text that is no URL                     | s3cret                                                  | it cannot be parsed as backend+driver://                    |
      | A scheme SQLAlchemy does not know       | postgres://agent:s3cret@127.0.0.1/x                     | its backend 'postgres' is not one this library supports     |
      | A backend the library does not support  | mssql+pyodbc://agent:s3cret@127.0.0.1/x                 | use postgresql+psycopg://user:password@host:5432/database   |
      | A driver SQLAlchemy does not know       | postgresql+pg9000://agent:s3cret@127.0.0.1/x            | 'pg9000' is not a PostgreSQL driver SQLAlchemy knows        |
      | An asyncio driver                       | postgresql+asyncpg://agent:s3cret@127.0.0.1/x           | 'asyncpg' is an asyncio driver                              |
      | An asyncio SQLite driver                | sqlite+aiosqlite:///sessions.db                         | use sqlite:///path/to/sessions.db                           |
      | A PostgreSQL driver that is not installed | postgresql+psycopg2://agent:s3cret@127.0.0.1/x        | pip install 'cleveragents-core[postgresql]'                 |
      | A MySQL driver that is not installed    | mysql+mysqldb://agent:s3cret@127.0.0.1/x                | use mysql+pymysql:// (pip install 'cleveragents-core[mysql]') |

  @no_run_database
  Scenario: A URL that is not text is refused, naming its type
    When I try to open a service on the URL 5432
    Then the opening fails with DatabaseConfigurationError mentioning "must be a string or a sqlalchemy URL, not int"

  Scenario: The run's database opens through its URL written without a driver
    When I open a service on the run's database URL with the driver left out
    Then that service uses the library's driver for the backend and lists sessions

  @no_run_database
  Scenario: The command line reports a URL with a bad port as bad input, without a traceback
    When the operator runs "--database-url postgresql+psycopg://agent:s3cret-pw@127.0.0.1:notaport/x sessions list"
    Then the CLI exits with code 2
    And the CLI error is one line mentioning "its port is not a number"
    And neither CLI output nor error contains "s3cret-pw"

  Scenario: An engine option SQLAlchemy does not know is refused, naming the option
    When I try to build an engine for the run's database with the option "pool_sise"
    Then the opening fails with DatabaseConfigurationError mentioning "'pool_sise'"
