"""Steps for database URLs: what the library takes, and how it refuses what it cannot use."""

from __future__ import annotations

from typing import Any

from behave import then, when
from behave.runner import Context
from sqlalchemy.engine import make_url

from cleveragents import domain
from cleveragents.application.services import PersistentSessionService
from cleveragents.infrastructure.database import create_database_engine

LIBRARY_DRIVERS = {"sqlite": "pysqlite", "postgresql": "psycopg", "mysql": "pymysql"}


def try_open(context: Context, url: Any) -> None:
    context.error = None
    try:
        service = PersistentSessionService.from_url(url)
    except domain.SessionPersistenceError as error:
        context.error = error
    else:
        service.close()


@when('I try to open a service on the URL "{url}"')
def when_open_url(context: Context, url: str) -> None:
    try_open(context, url)


@when("I try to open a service on the URL {number:d}")
def when_open_number(context: Context, number: int) -> None:
    try_open(context, number)


@when("I open a service on the run's database URL with the driver left out")
def when_open_bare(context: Context) -> None:
    url = make_url(context.database_url)
    bare = url.set(drivername=url.get_backend_name()).render_as_string(hide_password=False)
    context.bare_service = PersistentSessionService.from_url(bare)
    context.add_cleanup(context.bare_service.close)


@then("that service uses the library's driver for the backend and lists sessions")
def then_library_driver(context: Context) -> None:
    engine = context.bare_service._database.engine
    assert engine.url.get_driver_name() == LIBRARY_DRIVERS[context.backend], engine.url
    assert context.bare_service.list() == []


@when('I try to build an engine for the run\'s database with the option "{option}"')
def when_engine_option(context: Context, option: str) -> None:
    context.error = None
    try:
        create_database_engine(context.database_url, **{option: 5}).dispose()
    except domain.SessionPersistenceError as error:
        context.error = error
