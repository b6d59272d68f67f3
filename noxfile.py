"""Developer and CI tasks. ``nox`` runs the default set; ``nox -s NAME`` runs one.

Tests use SQLite unless ``CLEVERAGENTS_TEST_DATABASE_URL`` names another database
(for example ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import nox

nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.sessions = [
    "lint",
    "typecheck",
    "tests",
    "integration",
    "migrations",
    "benchmark",
    "coverage_report",
]

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
REPORTS = Path("build/test-reports")
COVERAGE_DATA = Path("build/coverage")


def backend_name() -> str:
    """The backend the tests run on, as it appears in report names."""
    url = os.environ.get(TEST_DATABASE_URL_VARIABLE, "sqlite")
    return url.split(":", 1)[0].split("+", 1)[0]


@nox.session
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and the import-layer contracts."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library and this file."""
    session.install("-e", ".[typecheck,postgresql,mysql]")
    session.run("mypy", *session.posargs)


@nox.session
def tests(session: nox.Session) -> None:
    """Behave scenarios, under coverage."""
    session.install("-e", ".[test]")
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    reports = REPORTS / f"behave-{backend_name()}"
    session.run(
        "coverage",
        "run",
        "-m",
        "behave",
        "--format=progress",
        "--junit",
        f"--junit-directory={reports}",
        *session.posargs,
        "features",
    )


@nox.session
def integration(session: nox.Session) -> None:
    """Robot Framework integration tests on a database upgraded by the alembic command."""
    session.install("-e", ".[test]")
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    output = REPORTS / f"robot-{backend_name()}"
    session.run(
        "coverage",
        "run",
        "-m",
        "robot",
        "--outputdir",
        str(output),
        "--xunit",
        "xunit.xml",
        *session.posargs,
        "robot",
    )


@nox.session
def migrations(session: nox.Session) -> None:
    """``alembic`` from the repo root: upgrade, drift check, downgrade to base, upgrade again."""
    session.install("-e", ".[postgresql,mysql]")
    with tempfile.TemporaryDirectory() as directory:
        url = os.environ.get(TEST_DATABASE_URL_VARIABLE) or f"sqlite:///{directory}/nox.db"
        env = {"CLEVERAGENTS_DATABASE_URL": url}
        session.run("alembic", "upgrade", "head", env=env)
        session.run("alembic", "check", env=env)
        session.run("alembic", "downgrade", "base", env=env)
        session.run("alembic", "upgrade", "head", env=env)
        session.run("alembic", "current", env=env)


@nox.session
def benchmark(session: nox.Session) -> None:
    """ASV benchmarks, quick mode, in this session's environment (no builds from history)."""
    session.install("-e", ".[benchmark]")
    session.run("asv", "machine", "--yes")
    session.run(
        "asv",
        "run",
        "--environment",
        "existing:python",
        "--quick",
        "--show-stderr",
        *session.posargs,
    )


@nox.session(requires=["tests", "integration"])
def coverage_report(session: nox.Session) -> None:
    """Combined Behave + Robot coverage; writes build/coverage.xml, fails under 97%."""
    session.install("coverage[toml]>=7.4")
    session.run("coverage", "combine")
    session.run("coverage", "xml", "--fail-under=0")
    session.run("coverage", "report")
