"""Developer and CI tasks. ``nox`` runs the default set; ``nox -s NAME`` runs one.

Tests use SQLite unless ``CLEVERAGENTS_TEST_DATABASE_URL`` names another database
(for example ``postgresql+psycopg://postgres@127.0.0.1:5432/test``). To test several backends
in one run, ``CLEVERAGENTS_TEST_DATABASE_URLS`` lists databases separated by spaces (``sqlite``
stands for temporary SQLite files): every backend listed gets the whole suite, and the feature
files of a backend are shared among its databases, ``CLEVERAGENTS_TEST_JOBS`` processes at a
time (default: the number of CPUs).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import nox

# Sessions run side by side (nox's --parallel), so the tests start first and the sessions
# that need no test database share the cores with them; the sessions that use the run's
# databases outside the tests' process pool (integration, migrations, package) run alone.
nox.needs_version = ">=2026.10.20"
# uv installs without bytecode unless asked; where PYTHONDONTWRITEBYTECODE is set, every test
# process, worker and command would then compile its dependencies again on each start.
os.environ.setdefault("UV_COMPILE_BYTECODE", "1")
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.reuse_venv = "yes"
nox.options.parallel = 3
nox.options.sessions = [
    "tests",
    "typecheck",
    "benchmark",
    "docs",
    "lint",
    "lowest",
    "integration",
    "migrations",
    "package",
    "coverage_report",
]

TEST_DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
TEST_DATABASE_URLS_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URLS"
TEST_JOBS_VARIABLE = "CLEVERAGENTS_TEST_JOBS"
# The cross-backend scenarios reach every server themselves: one backend's run is enough.
CROSS_BACKEND_VARIABLE_PREFIX = "CLEVERAGENTS_SAMENESS_"
DATABASE_URL_VARIABLE = "CLEVERAGENTS_DATABASE_URL"
REPORTS = Path("build/test-reports")
COVERAGE_DATA = Path("build/coverage")
JOB_LOGS = Path("build/test-logs")
FEATURES = Path("features")
# Feature files whose time goes to child processes (worker processes, the installed command,
# the documentation's examples): each group gets a process of its own and starts first. The
# other files are shared out by size among a few processes, since each process pays a few
# seconds of imports before its first scenario.
CHILD_PROCESS_GROUPS = (
    ("concurrency", "crash_atomicity", "adk_concurrency", "concurrent_upgrade", "adk_runner"),
    ("cli", "cli_streams", "cli_confirmation", "cli_missing_database", "cli_extra", "version"),
    ("documentation", "migrations"),
)
LIGHT_FEATURE_GROUPS = 2
# The @conformance scenarios run a second time through AsyncPersistentSessionService, except
# those tagged @facade_independent, which check worker processes, framework adapters or
# migrations rather than the run's service.
ASYNC_FACADE_TAGS = "@conformance and not @facade_independent"
ASYNC_FEATURE_GROUPS = 2


def backend_name(url: str | None = None) -> str:
    """The backend a test database URL names, as it appears in report names."""
    if url is None:
        url = os.environ.get(TEST_DATABASE_URL_VARIABLE, "sqlite")
    return url.split(":", 1)[0].split("+", 1)[0]


def test_databases() -> dict[str, list[str]]:
    """The test databases of this run by backend, in the order given; ``sqlite`` stands for
    temporary files, one per process."""
    listed = os.environ.get(TEST_DATABASE_URLS_VARIABLE, "").split()
    if not listed:
        listed = [os.environ.get(TEST_DATABASE_URL_VARIABLE) or "sqlite"]
    databases: dict[str, list[str]] = {}
    for url in listed:
        databases.setdefault(backend_name(url), []).append(url)
    return databases


def server_urls() -> list[str]:
    """One database of each server backend of this run, for checks that need each server once."""
    return [urls[0] for backend, urls in test_databases().items() if backend != "sqlite"]


@dataclass
class TestJob:
    """One test process: a runner's command on one backend, with its report directory."""

    backend: str
    label: str
    command: list[str]
    uses_server: bool
    environment: dict[str, str] = field(default_factory=dict)
    # False keeps the cross-backend scenarios' databases away from this job.
    cross_backend: bool = True


def shared_out(paths: list[Path], count: int) -> list[list[str]]:
    """``paths`` in ``count`` groups of about equal size in bytes, biggest files placed first."""
    groups: list[list[str]] = [[] for _ in range(min(count, len(paths)))]
    sizes = [0] * len(groups)
    for path in sorted(paths, key=lambda path: -path.stat().st_size):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(str(path))
        sizes[smallest] += path.stat().st_size
    return [sorted(group) for group in groups if group]


def feature_groups() -> list[list[str]]:
    """Feature files in the order to start them: the child-process groups, then the rest."""
    every = sorted(FEATURES.glob("*.feature"))
    named = {name for group in CHILD_PROCESS_GROUPS for name in group}
    groups = [
        [str(path) for name in group for path in every if path.stem == name]
        for group in CHILD_PROCESS_GROUPS
    ]
    light = [path for path in every if path.stem not in named]
    return [group for group in groups if group] + shared_out(light, LIGHT_FEATURE_GROUPS)


def feature_tags(path: Path) -> set[str]:
    """The tags written above a feature file's ``Feature:`` line."""
    tags: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("Feature:"):
            break
        tags.update(word for word in line.split() if word.startswith("@"))
    return tags


def async_feature_groups() -> list[list[str]]:
    """The feature files with scenarios for the async facade run, in groups."""
    chosen = [
        path
        for path in sorted(FEATURES.glob("*.feature"))
        if "@conformance" in path.read_text(encoding="utf-8")
        and "@facade_independent" not in feature_tags(path)
    ]
    return shared_out(chosen, ASYNC_FEATURE_GROUPS)


def job_environment(backend: str, url: str | None, first_backend: bool) -> dict[str, str]:
    """The environment of a test process on ``url`` (None: SQLite files of its own)."""
    environment = dict(os.environ)
    environment.pop(TEST_DATABASE_URL_VARIABLE, None)
    if url is not None:
        environment[TEST_DATABASE_URL_VARIABLE] = url
    if not first_backend:
        for name in [
            name for name in environment if name.startswith(CROSS_BACKEND_VARIABLE_PREFIX)
        ]:
            del environment[name]
    return environment


def run_jobs(session: nox.Session, jobs: list[TestJob]) -> None:
    """Run the jobs, ``CLEVERAGENTS_TEST_JOBS`` at a time, each server database used by one
    job at a time; print each job's output when it ends and fail if any failed."""
    limit = int(os.environ.get(TEST_JOBS_VARIABLE) or os.cpu_count() or 1)
    free = {backend: list(urls) for backend, urls in test_databases().items()}
    first = next(iter(free))
    waiting = list(jobs)
    running: list[tuple[TestJob, subprocess.Popen[bytes], str | None, Path, float]] = []
    failed: list[str] = []
    JOB_LOGS.mkdir(parents=True, exist_ok=True)
    path = os.pathsep.join([session.bin, os.environ.get("PATH", "")])
    while waiting or running:
        startable = [job for job in waiting if not job.uses_server or free.get(job.backend)]
        while startable and len(running) < limit:
            job = startable.pop(0)
            waiting.remove(job)
            url = free[job.backend].pop(0) if job.uses_server else None
            log = JOB_LOGS / f"{session.name}-{job.backend}-{len(jobs) - len(waiting)}.log"
            environment = job_environment(
                job.backend, url, job.cross_backend and job.backend == first
            )
            environment.update(
                job.environment, PATH=path, VIRTUAL_ENV=str(Path(session.bin).parent)
            )
            with log.open("wb") as output:
                process = subprocess.Popen(
                    job.command, stdout=output, stderr=subprocess.STDOUT, env=environment
                )
            session.log(f"started {job.backend}: {job.label}")
            running.append((job, process, url, log, time.monotonic()))
        time.sleep(0.2)
        for entry in list(running):
            job, process, url, log, started = entry
            # wait4 rather than poll: it also tells the CPU time of the job and its children,
            # which says more than the seconds on a shared machine.
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid == 0:
                continue
            process.returncode = os.waitstatus_to_exitcode(status)
            running.remove(entry)
            if url is not None:
                free[job.backend].append(url)
            seconds = time.monotonic() - started
            cpu = usage.ru_utime + usage.ru_stime
            outcome = "passed" if process.returncode == 0 else f"FAILED ({process.returncode})"
            print(log.read_text(errors="replace"), flush=True)
            session.log(
                f"{outcome} in {seconds:.0f} s (CPU {cpu:.0f} s), {job.backend}: {job.label}"
            )
            if process.returncode != 0:
                failed.append(f"{job.backend}: {job.label}")
    if failed:
        session.error(f"{len(failed)} test processes failed: {', '.join(failed)}")


def behave_jobs(
    groups: list[list[str]], arguments: list[str], reports_prefix: str = "behave"
) -> Iterator[TestJob]:
    """Behave under coverage for each group of feature files on each backend of the run, with
    JUnit reports in build/test-reports/<reports_prefix>-<backend>/."""
    for group in groups:
        for backend in test_databases():
            reports = REPORTS / f"{reports_prefix}-{backend}"
            yield TestJob(
                backend=backend,
                label=" ".join(Path(name).stem for name in group) or "as asked",
                command=[
                    "coverage",
                    "run",
                    "-m",
                    "behave",
                    "--format=progress",
                    "--junit",
                    f"--junit-directory={reports}",
                    *arguments,
                    *group,
                ],
                uses_server=backend != "sqlite",
            )


@nox.session(allow_parallel=True)
def lint(session: nox.Session) -> None:
    """Ruff lint and format check, and the import-layer contracts."""
    session.install("-e", ".[lint]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")


@nox.session(allow_parallel=True)
def typecheck(session: nox.Session) -> None:
    """mypy --strict on the library and this file."""
    session.install("-e", ".[typecheck,postgresql,mysql]")
    session.run("mypy", *session.posargs)


def async_facade_jobs(groups: list[list[str]], arguments: list[str]) -> list[TestJob]:
    """The @conformance scenarios through the async service, reported as behave-async-*."""
    jobs = list(
        behave_jobs(
            groups, [f"--tags={ASYNC_FACADE_TAGS}", *arguments], reports_prefix="behave-async"
        )
    )
    for job in jobs:
        job.environment["CLEVERAGENTS_TEST_FACADE"] = "async"
    return jobs


@nox.session(allow_parallel=True)
def tests(session: nox.Session) -> None:
    """Behave scenarios under coverage on every test database of the run, and the @conformance
    scenarios again through the async service, all in one pool of processes.

    Arguments after ``--`` go to Behave and replace the split into feature groups: ``nox -s
    tests -- features/retention.feature`` runs that file once per backend and facade.
    """
    session.install("-e", ".[test]")
    # The library's own bytecode too: hundreds of processes import it.
    session.run("python", "-m", "compileall", "-q", "src")
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    if session.posargs:
        jobs = list(behave_jobs([[]], session.posargs))
        jobs += async_facade_jobs([[]], session.posargs)
    else:
        jobs = list(behave_jobs(feature_groups(), []))
        jobs += async_facade_jobs(async_feature_groups(), [])
    run_jobs(session, jobs)


@nox.session
def conformance_async(session: nox.Session) -> None:
    """Only the async facade's share of ``tests``: the @conformance scenarios through
    AsyncPersistentSessionService (reports in build/test-reports/behave-async-*)."""
    session.install("-e", ".[test]")
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    groups = [[]] if session.posargs else async_feature_groups()
    run_jobs(session, async_facade_jobs(groups, session.posargs))


# The lowest-versions pass: the command line's scenarios on SQLite, and the @conformance
# scenarios of the features that lean on the dependencies with floors: on each server named in
# CLEVERAGENTS_LOWEST_DATABASE_URLS (databases of their own, since the pass runs beside the
# tests) statements and types, driver errors and retries, the asyncio driver; on SQLite those
# and the engine's connection settings, the migrations and the concurrency scenarios. The
# latest versions run every scenario.
LOWEST_DATABASE_URLS_VARIABLE = "CLEVERAGENTS_LOWEST_DATABASE_URLS"
LOWEST_CLI_FEATURES = (
    "cli",
    "cli_confirmation",
    "cli_extra",
    "cli_missing_database",
    "cli_streams",
)
LOWEST_DRIVER_FEATURES = (
    "session_persistence",
    "database_retry",
    "backend_portability",
    "unreachable_database",
    "async_service",
    "caller_session_ids",
    "pop_last_message",
    "streaming_export",
)
LOWEST_SQLITE_FEATURES = (
    *LOWEST_DRIVER_FEATURES,
    "sqlite_engine",
    "migrations",
    "schema_check",
    "concurrency",
    "concurrent_upgrade",
)

# The torture scenarios keep their processes but do a fifth of their work on the lowest
# versions: they check that the floors hold under concurrency and kills, while the full-size
# runs of the tests session measure the guarantees.
LOWEST_TORTURE_SIZES = {
    "CLEVERAGENTS_TORTURE_APPENDS": "50",
    "CLEVERAGENTS_TORTURE_TOKEN_UPDATES": "200",
    "CLEVERAGENTS_CRASH_ITERATIONS_SQLITE": "20",
}


def feature_paths(names: tuple[str, ...]) -> list[str]:
    return [str(FEATURES / f"{name}.feature") for name in names]


def lowest_jobs(arguments: list[str]) -> list[TestJob]:
    """Behave on the lowest versions, reported as behave-lowest-*, without coverage (the tests
    session measures it). ``arguments`` replace the feature files of the @conformance runs."""
    servers = os.environ.get(LOWEST_DATABASE_URLS_VARIABLE, "").split()
    runs: list[tuple[str | None, str, list[str]]] = [
        (None, "the command line", feature_paths(LOWEST_CLI_FEATURES)),
        (None, "@conformance", arguments or feature_paths(LOWEST_SQLITE_FEATURES)),
    ]
    runs += [
        (url, "@conformance", arguments or feature_paths(LOWEST_DRIVER_FEATURES)) for url in servers
    ]
    jobs = []
    for url, label, words in runs:
        backend = backend_name(url or "sqlite")
        tags = ["--tags=conformance"] if label.startswith("@conformance") else []
        job = TestJob(
            backend=backend,
            label=f"lowest versions: {label}",
            command=[
                "behave",
                "--format=progress",
                "--junit",
                f"--junit-directory={REPORTS / f'behave-lowest-{backend}'}",
                *tags,
                *words,
            ],
            uses_server=False,  # its own databases, outside the tests' pool
            cross_backend=False,
        )
        job.environment.update(LOWEST_TORTURE_SIZES)
        if url is not None:
            job.environment[TEST_DATABASE_URL_VARIABLE] = url
        jobs.append(job)
    return jobs


@nox.session(allow_parallel=True)
def lowest(session: nox.Session) -> None:
    """The demo and the scenarios of ``lowest_jobs`` on the lowest versions the metadata
    allows (uv's ``--resolution lowest-direct``), so every declared floor is one that works.

    Arguments after ``--`` go to Behave's @conformance runs (for example a feature file).
    """
    session.install("uv")
    python = Path(session.bin) / "python"
    session.run_install(
        "uv",
        "pip",
        "install",
        "--python",
        str(python),
        "--resolution",
        "lowest-direct",
        "-e",
        ".[test,postgresql,mysql]",
    )
    session.run("uv", "pip", "list", "--python", str(python))
    with tempfile.TemporaryDirectory(prefix="cleveragents-lowest-") as directory:
        session.run("python", "-m", "cleveragents.demo", f"sqlite:///{directory}/demo.db")
    run_jobs(session, lowest_jobs(session.posargs))


@nox.session
def integration(session: nox.Session) -> None:
    """Robot Framework integration tests on a database upgraded by the alembic command, on
    every backend of the run at once."""
    session.install("-e", ".[test]")
    COVERAGE_DATA.mkdir(parents=True, exist_ok=True)
    jobs = [
        TestJob(
            backend=backend,
            label="robot",
            command=[
                "coverage",
                "run",
                "-m",
                "robot",
                "--outputdir",
                str(REPORTS / f"robot-{backend}"),
                "--xunit",
                "xunit.xml",
                *session.posargs,
                "robot",
            ],
            uses_server=backend != "sqlite",
        )
        for backend in test_databases()
    ]
    run_jobs(session, jobs)


@nox.session
def migrations(session: nox.Session) -> None:
    """``alembic`` from the repo root: upgrade, drift check, downgrade to base, upgrade again."""
    session.install("-e", ".[postgresql,mysql]")
    for backend, urls in test_databases().items():
        with tempfile.TemporaryDirectory() as directory:
            url = urls[0] if backend != "sqlite" else f"sqlite:///{directory}/nox.db"
            env = {"CLEVERAGENTS_DATABASE_URL": url}
            session.log(f"migrations on {backend}")
            session.run("alembic", "upgrade", "head", env=env)
            session.run("alembic", "check", env=env)
            session.run("alembic", "downgrade", "base", env=env)
            session.run("alembic", "upgrade", "head", env=env)
            session.run("alembic", "current", env=env)


PACKAGE_EXTRAS = ("postgresql", "mysql", "cli", "adk")
PACKAGED_MIGRATIONS = "cleveragents/infrastructure/database/migrations"


def migration_files() -> list[str]:
    """The migration files every distribution must carry, relative to ``migrations/``."""
    versions = sorted(path.name for path in Path("migrations/versions").glob("*.py"))
    return ["env.py", "script.py.mako", *(f"versions/{name}" for name in versions)]


def source_version() -> str:
    """The version as written in its one place, ``cleveragents.__version__``."""
    text = Path("src/cleveragents/__init__.py").read_text(encoding="utf-8")
    found = re.search(r'^__version__ = "([^"]+)"$', text, re.MULTILINE)
    if found is None:
        raise RuntimeError("src/cleveragents/__init__.py does not set __version__")
    return found.group(1)


def require(session: nox.Session, holds: bool, problem: str) -> None:
    """Fail the session with ``problem`` unless ``holds``."""
    if not holds:
        session.error(f"package check failed: {problem}")


def missing_and_stray(names: list[str], required: list[str]) -> tuple[list[str], list[str]]:
    """Required names absent from an archive, and bytecode or databases that slipped in."""
    present = set(names)
    missing = [name for name in required if name not in present]
    stray = [
        name
        for name in names
        if "__pycache__" in name or name.endswith((".pyc", ".db", ".db-wal", ".db-shm"))
    ]
    return missing, stray


def check_wheel(session: nox.Session, wheel: Path, version: str) -> None:
    """The wheel holds the package, its type marker, every migration and the right metadata."""
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = f"cleveragents_core-{version}.dist-info/METADATA"
        require(session, metadata_name in names, f"{wheel.name} has no {metadata_name}")
        metadata = archive.read(metadata_name).decode()
    required = [
        "cleveragents/__init__.py",
        "cleveragents/py.typed",
        "cleveragents/demo.py",
        "cleveragents/cli/app.py",
        f"cleveragents_core-{version}.dist-info/licenses/LICENSE",
        *(f"{PACKAGED_MIGRATIONS}/{name}" for name in migration_files()),
    ]
    missing, stray = missing_and_stray(names, required)
    require(session, not missing, f"{wheel.name} lacks {missing}")
    require(session, not stray, f"{wheel.name} holds build leftovers {stray}")
    fields = [line.split(": ", 1) for line in metadata.splitlines() if ": " in line]
    extras = {value for key, value in fields if key == "Provides-Extra"}
    absent = sorted(set(PACKAGE_EXTRAS) - extras)
    require(session, not absent, f"{wheel.name} does not offer the extras {absent}")
    require(
        session,
        ["Version", version] in fields,
        f"{wheel.name} metadata does not give version {version}",
    )
    session.log(f"{wheel.name}: {len(names)} files, migrations, py.typed and extras present")


def check_sdist(session: nox.Session, sdist: Path, version: str) -> None:
    """The sdist holds the sources, migrations, Alembic settings and the documents."""
    top = f"cleveragents_core-{version}"
    with tarfile.open(sdist) as archive:
        names = [name.removeprefix(f"{top}/") for name in archive.getnames()]
    required = [
        "PKG-INFO",
        "pyproject.toml",
        "README.md",
        "CHANGELOG.md",
        "LICENSE",
        "alembic.ini",
        "src/cleveragents/__init__.py",
        "src/cleveragents/py.typed",
        *(f"migrations/{name}" for name in migration_files()),
    ]
    missing, stray = missing_and_stray(names, required)
    require(session, not missing, f"{sdist.name} lacks {missing}")
    require(session, not stray, f"{sdist.name} holds build leftovers {stray}")
    session.log(f"{sdist.name}: {len(names)} entries, sources, migrations and documents present")


class FreshEnvironment:
    """A virtual environment outside the checkout, run from a directory outside it too."""

    def __init__(self, session: nox.Session, location: Path, work: Path) -> None:
        self.session, self.location, self.work = session, location, work
        scripts = self.location / ("Scripts" if sys.platform == "win32" else "bin")
        self.python = scripts / "python"
        self.command = scripts / "cleveragents"
        python = Path(session.bin) / "python"
        session.run("uv", "venv", "--quiet", "--python", str(python), str(location))

    def install(self, requirement: str) -> None:
        self.session.run("uv", "pip", "install", "--python", str(self.python), requirement)

    def run(
        self, *arguments: str | Path, success: int = 0, env: dict[str, str] | None = None
    ) -> str:
        """Run a program of this environment; return what it printed (stdout and stderr)."""
        environment: dict[str, str | None] = {
            "PYTHONPATH": None,
            "VIRTUAL_ENV": str(self.location),
            DATABASE_URL_VARIABLE: None,
            **(env or {}),
        }
        with self.session.chdir(self.work):
            output = self.session.run(
                *(str(argument) for argument in arguments),
                env=environment,
                silent=True,
                success_codes=[success],
                external=True,
            )
        assert isinstance(output, str)
        for line in output.splitlines():
            self.session.log(f"  | {line}")
        return output

    def check_imports_from_itself(self, *modules: str) -> None:
        """``cleveragents`` (and ``modules``) load from this environment, not the checkout."""
        names = ", ".join(("cleveragents", *modules))
        location = self.run(
            self.python, "-c", f"import {names}; print(cleveragents.__file__)"
        ).strip()
        require(
            self.session,
            Path(location).resolve().is_relative_to(self.location.resolve()),
            f"cleveragents was imported from {location}, not from {self.location}",
        )


def check_cli_database(session: nox.Session, environment: FreshEnvironment, url: str) -> None:
    """``cleveragents db upgrade`` then ``db check`` on ``url``, given as the environment's."""
    upgraded = environment.run(
        environment.command, "db", "upgrade", env={DATABASE_URL_VARIABLE: url}
    )
    require(session, "is at revision" in upgraded, f"db upgrade printed {upgraded!r}")
    checked = environment.run(environment.command, "db", "check", env={DATABASE_URL_VARIABLE: url})
    require(session, "up to date" in checked, f"db check printed {checked!r}")


@nox.session
def package(session: nox.Session) -> None:
    """Build the sdist and wheel, check what they hold, install each in a fresh venv and use it.

    The wheel (built from the sdist) gets the extras and runs the demo, ``cleveragents
    --version`` and ``cleveragents db upgrade``/``db check`` on SQLite and on one database of
    each server backend of the run; the sdist, installed alone, upgrades a SQLite
    file. Everything runs outside the checkout, so nothing comes from the source tree.
    """
    session.install("build[uv]>=1.2")
    version = source_version()
    with tempfile.TemporaryDirectory(prefix="cleveragents-package-") as directory:
        scratch = Path(directory)
        dist = scratch / "dist"
        # With no --sdist/--wheel, build makes the sdist and then the wheel from the sdist.
        session.run("python", "-m", "build", "--installer=uv", f"--outdir={dist}", ".")
        wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
        require(session, len(wheels) == 1 and len(sdists) == 1, f"built {wheels + sdists}")
        wheel, sdist = wheels[0], sdists[0]
        require(
            session,
            wheel.name == f"cleveragents_core-{version}-py3-none-any.whl"
            and sdist.name == f"cleveragents_core-{version}.tar.gz",
            f"{wheel.name} and {sdist.name} do not carry version {version}",
        )
        check_wheel(session, wheel, version)
        check_sdist(session, sdist, version)

        work = scratch / "work"
        work.mkdir()
        full = FreshEnvironment(session, scratch / "venv-wheel", work)
        full.install(f"{wheel}[{','.join(PACKAGE_EXTRAS)}]")
        full.check_imports_from_itself(
            "typer", "rich", "psycopg", "pymysql", "cleveragents.integrations.adk"
        )
        reported = full.run(
            full.python,
            "-c",
            "import importlib.metadata, cleveragents; "
            "print(cleveragents.__version__, importlib.metadata.version('cleveragents-core'))",
        ).split()
        require(session, reported == [version, version], f"installed versions {reported}")
        printed = full.run(full.command, "--version").strip()
        require(
            session,
            printed == f"cleveragents-core {version}",
            f"cleveragents --version printed {printed!r}",
        )

        data_home = scratch / "data"
        tour = full.run(
            full.python, "-m", "cleveragents.demo", env={"XDG_DATA_HOME": str(data_home)}
        )
        demo_database = data_home / "cleveragents" / "demo.db"
        require(session, demo_database.is_file(), f"the demo wrote no {demo_database}")
        require(session, f"rm {demo_database}" in tour, "the demo did not say how to remove it")
        require(session, "same contents: True" in tour, "the demo's imported copy differs")

        check_cli_database(session, full, f"sqlite:///{scratch / 'cli.db'}")
        for server_url in server_urls():
            check_cli_database(session, full, server_url)

        core = FreshEnvironment(session, scratch / "venv-sdist", work)
        core.install(str(sdist))
        core.check_imports_from_itself()
        revision = core.run(
            core.python,
            "-c",
            "import sys; from cleveragents.infrastructure.database import "
            "current_revision, head_revision, upgrade_database; "
            "upgrade_database(sys.argv[1]); "
            "assert current_revision(sys.argv[1]) == head_revision(); "
            "print(current_revision(sys.argv[1]))",
            f"sqlite:///{scratch / 'sdist.db'}",
        ).strip()
        require(session, bool(revision), "the sdist's upgrade_database left no revision")
        for command in ((core.python, "-m", "cleveragents"), (core.command,)):
            hint = core.run(*command, success=2)
            require(
                session,
                'pip install "cleveragents-core[cli]"' in hint,
                f"{command[-1]} without the cli extra printed {hint!r}",
            )
    session.log(f"cleveragents-core {version}: wheel and sdist built, checked and run")


@nox.session(allow_parallel=True)
def benchmark(session: nox.Session) -> None:
    """ASV benchmarks, quick mode, in this session's environment (no builds from history).

    The 100,000-row fixtures run at a fiftieth of their size here, as a smoke test that every
    benchmark still does and checks its work (``CLEVERAGENTS_BENCHMARK_SCALE``; set it to 1
    for the sizes docs/performance.md reports).
    """
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
        env={
            "CLEVERAGENTS_BENCHMARK_SCALE": os.environ.get("CLEVERAGENTS_BENCHMARK_SCALE", "0.02")
        },
    )


@nox.session
def compare_peers(session: nox.Session) -> None:
    """This library and its framework stores beside the stores of Google ADK and the OpenAI
    Agents SDK.

    Not a default session: it installs the peers in its own environment and writes
    build/peers/peers.md. The PostgreSQL half uses CLEVERAGENTS_PEERS_DATABASE_URL (default
    postgresql://postgres@127.0.0.1:5432/cleveragents_peers, created if missing) and is skipped,
    saying why, when the server cannot be reached. ``-- --quick`` checks the harness only.
    """
    session.install(
        "-e",
        ".[postgresql,openai-agents,langchain]",
        "google-adk",
        "openai-agents[sqlalchemy]",
        "aiosqlite",
        "asyncpg",
    )
    session.run("python", "-m", "benchmarks.peers", *session.posargs)


SCALE_DATABASE_URL_VARIABLE = "CLEVERAGENTS_SCALE_DATABASE_URL"
SCALE_DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/cleveragents_scale"


@nox.session
def scale(session: nox.Session) -> None:
    """Per-call cost at a tenth of the size and at full size, with the query plans: 1,000,000
    sessions and 10,000,000 messages on PostgreSQL (CLEVERAGENTS_SCALE_DATABASE_URL, created if
    missing), then 1,000,000 messages on a temporary SQLite file.

    Not a default session: it takes minutes and gigabytes. ``-- --messages N`` sets both sizes.
    """
    session.install("-e", ".[postgresql]")
    url = os.environ.get(SCALE_DATABASE_URL_VARIABLE) or SCALE_DEFAULT_DATABASE_URL
    session.run("python", "-m", "benchmarks.scale", url, *session.posargs)
    with tempfile.TemporaryDirectory(prefix="cleveragents-scale-") as directory:
        sqlite_size = session.posargs or ["--messages", "1000000"]
        session.run(
            "python", "-m", "benchmarks.scale", f"sqlite:///{directory}/scale.db", *sqlite_size
        )


MUTATION_CONFIG = Path("mutation.toml")
MUTATION_WORK = Path("build/mutation")
MUTATION_TREE = ("src", "features", "migrations", "alembic.ini", "README.md", "docs")


def copy_tree(destination: Path, names: tuple[str, ...]) -> None:
    """A fresh copy of the named files and directories of the project in ``destination``."""
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    for name in names:
        source = Path(name)
        if source.is_dir():
            bytecode = shutil.ignore_patterns("__pycache__")
            shutil.copytree(source, destination / name, ignore=bytecode)
        else:
            shutil.copy2(source, destination / name)


@nox.session
def mutation(session: nox.Session) -> None:
    """Mutation testing of domain/ and application/ with cosmic-ray (not in the default run).

    Settings in mutation.toml; one worker per URL there, each in its own copy of the source
    tree, so mutants never meet. Results go to build/mutation/session.sqlite; the run resumes
    where it stopped when started again with ``-- resume``, and ``-- retest`` resumes after
    forgetting the survivors, to test them against scenarios added since.
    """
    session.install("-e", ".[test]", "cosmic-ray>=8.7")
    MUTATION_WORK.mkdir(parents=True, exist_ok=True)
    database = str(MUTATION_WORK / "session.sqlite")
    if session.posargs not in (["resume"], ["retest"]):
        session.run("cosmic-ray", "init", str(MUTATION_CONFIG), database, "--force")
        session.run("cr-filter-operators", database, str(MUTATION_CONFIG))
    # Again on resuming: lines marked since the run began are left out too.
    session.run("cr-filter-pragma", database)
    if session.posargs == ["retest"]:
        with sqlite3.connect(database) as results:
            results.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    # The test command finds the mutated module by comparing a worker's tree with this copy.
    copy_tree(MUTATION_WORK / "pristine", ("src",))
    text = MUTATION_CONFIG.read_text(encoding="utf-8")
    ports = re.findall(r"http://127\.0\.0\.1:(\d+)", text)
    workers = []
    for port in ports:
        copy = MUTATION_WORK / f"worker-{port}"
        copy_tree(copy, MUTATION_TREE)
        # Bytecode made now, from the unmutated files, spares each mutant compiling them all;
        # a mutated file no longer matches its bytecode and is compiled afresh.
        session.run("python", "-m", "compileall", "-q", str(copy / "src"), str(copy / "features"))
        environment = {
            **os.environ,
            "PYTHONPATH": "src",
            "PATH": f"{session.bin}{os.pathsep}{os.environ['PATH']}",
        }
        log = (MUTATION_WORK / f"worker-{port}.log").open("wb")
        workers.append(
            subprocess.Popen(
                ["cosmic-ray", "http-worker", "--port", port],
                cwd=copy,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    try:
        time.sleep(3)
        session.run("cosmic-ray", "exec", str(MUTATION_CONFIG), database)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                # A worker in the middle of a mutant may not stop for a signal; its copy
                # of the tree is made afresh by the next run.
                worker.kill()
                worker.wait()
    session.run("cr-report", "--show-pending", database)


@nox.session(requires=["tests", "integration"])
def coverage_report(session: nox.Session) -> None:
    """Combined Behave + Robot coverage; writes build/coverage.xml, fails under 97%."""
    session.install("coverage[toml]>=7.4")
    session.run("coverage", "combine")
    session.run("coverage", "xml", "--fail-under=0")
    session.run("coverage", "report")


@nox.session(allow_parallel=True)
def docs(session: nox.Session) -> None:
    """The documentation site into build/site; any warning (a broken link, a bad docstring)
    fails the build."""
    session.install("-e", ".[docs]")
    session.run("mkdocs", "build", "--strict", "--site-dir", "build/site", *session.posargs)
