"""Steps that point the library at servers that are not there."""

from __future__ import annotations

import logging

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error

from cleveragents.infrastructure.database import Database, RetryPolicy, upgrade_database


class RecordingHandler(logging.Handler):
    """Keeps the records of one logger for the scenario to read."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@when('I upgrade the database at "{url}"')
def when_upgrade_unreachable(context: Context, url: str) -> None:
    capture_library_error(context, lambda: upgrade_database(url))


@then('the upgrade fails with {error_name} mentioning "{text}"')
def then_upgrade_fails(context: Context, error_name: str, text: str) -> None:
    error = raised_error(context)
    assert type(error).__name__ == error_name, f"{type(error).__name__}: {error}"
    assert text in str(error), f"message {str(error)!r} lacks {text!r}"


@then('the error text does not contain "{secret}"')
def then_no_secret(context: Context, secret: str) -> None:
    error = raised_error(context)
    shown = f"{error!s} {error!r} {error.__cause__!s}"
    assert secret not in shown, shown


@given('a database "{url}" that is tried {attempts:d} times')
def given_unreachable_database(context: Context, url: str, attempts: int) -> None:
    context.unreachable = Database.from_url(
        url, retry_policy=RetryPolicy(attempts=attempts, base_delay=0)
    )
    context.add_cleanup(context.unreachable.dispose)
    context.retry_log = RecordingHandler()
    logger = logging.getLogger("cleveragents.database")
    logger.addHandler(context.retry_log)
    context.add_cleanup(logger.removeHandler, context.retry_log)


@when("a service is opened on the unreachable database")
def when_unreachable_open(context: Context) -> None:
    capture_library_error(
        context, lambda: context.open_service(context.unreachable).create("nobody-home")
    )


@then("{count:d} retries were logged without the password")
def then_retries_logged(context: Context, count: int) -> None:
    records = context.retry_log.records
    assert len(records) == count, [record.getMessage() for record in records]
    for record in records:
        assert record.levelno == logging.WARNING, record
        assert "s3cret-pw" not in record.getMessage(), record.getMessage()
