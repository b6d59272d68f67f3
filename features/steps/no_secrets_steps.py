"""Steps that look for private data where it must never appear."""

from __future__ import annotations

import logging

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error, raised_error
from sqlalchemy.engine import make_url

from cleveragents.application.services import PersistentSessionService


class CollectingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@given("every log record is being collected")
def given_collect_logs(context: Context) -> None:
    handler = CollectingHandler()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    context.add_cleanup(root.setLevel, previous)
    context.add_cleanup(root.removeHandler, handler)
    context.log_handler = handler


@when('I try to append the private message "{content}"')
def when_append_private(context: Context, content: str) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(
        context, lambda: context.service.append_message(context.session.id, "user", content)
    )


@then('neither the error, its cause nor any log record contains "{secret}"')
def then_nowhere(context: Context, secret: str) -> None:
    error = raised_error(context)
    places = [str(error), repr(error), str(error.__cause__), repr(error.__cause__)]
    places += context.log_handler.texts
    leaks = [place for place in places if secret in place]
    assert not leaks, leaks


@then("the error's cause says the SQL parameters were hidden")
def then_parameters_hidden(context: Context) -> None:
    cause = str(raised_error(context).__cause__)
    assert "parameters hidden" in cause, cause


@when('I open a service on the run\'s database with the password "{password}" in its URL')
def when_open_with_password(context: Context, password: str) -> None:
    url = make_url(context.database_url)
    if context.backend == "postgresql":
        # Trust authentication ignores the password, so a real service opens with one in its
        # URL; MariaDB would refuse it (features/unreachable_database.feature covers MariaDB).
        url = url.set(password=password)
    context.password_url = url
    context.secret_service = PersistentSessionService.from_url(
        url.render_as_string(hide_password=False)
    )
    context.add_cleanup(context.secret_service.close)
    context.secret_service.list(limit=1)


@then('neither the service, its engine nor its URL shows "{password}"')
def then_password_hidden(context: Context, password: str) -> None:
    engine = context.secret_service._database.engine
    shown = [repr(context.secret_service), repr(engine), str(engine.url), repr(engine.url)]
    shown += context.log_handler.texts
    leaks = [text for text in shown if password in text]
    assert not leaks, leaks
