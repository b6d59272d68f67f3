"""``python -m benchmarks.peers``: run the comparison and write ``build/peers/peers.md``.

Run through ``nox -s compare_peers``, which installs the peers in the session's own
environment. The PostgreSQL half uses ``CLEVERAGENTS_PEERS_DATABASE_URL`` (default
``postgresql://postgres@127.0.0.1:5432/cleveragents_peers``), creating the database if missing
and giving each system a fresh schema; it is skipped, saying why, if the server is unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.peers import machine, postgres
from benchmarks.peers.adapter_stores import AgentsAdapterStore, LangChainAdapterStore
from benchmarks.peers.adk_library_store import CleverAgentsAdkStore
from benchmarks.peers.adk_stores import AdkDatabaseStore, AdkSqliteStore
from benchmarks.peers.library_store import LibraryStore
from benchmarks.peers.openai_stores import AgentsSqlAlchemyStore, AgentsSqliteStore
from benchmarks.peers.report import BackendOutcome, render
from benchmarks.peers.settings import sqlite_url
from benchmarks.peers.store import POSTGRESQL, SQLITE, SessionStore
from benchmarks.peers.workloads import QUICK_PLAN, BackendRun, Plan

SCHEMAS = {
    "library": "peers_cleveragents",
    "adk": "peers_adk",
    "openai": "peers_openai",
    "adapters": "peers_cleveragents_adapters",
    "library_adk": "peers_cleveragents_adk",
}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def sqlite_stores(directory: Path) -> list[SessionStore[Any]]:
    """Every store on its own SQLite file in ``directory``, this library first."""
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    return [
        LibraryStore(SQLITE, sqlite_url(directory / "cleveragents.db")),
        CleverAgentsAdkStore(SQLITE, sqlite_url(directory / "cleveragents-adk.db")),
        AdkDatabaseStore.on_sqlite(directory / "adk-database.db"),
        AdkDatabaseStore.on_sqlite(directory / "adk-database-wal.db", match_library=True),
        AdkSqliteStore(directory / "adk-sqlite.db"),
        AdkSqliteStore(directory / "adk-sqlite-wal.db", match_library=True),
        AgentsSqliteStore(directory / "openai-sqlite.db"),
        AgentsSqlAlchemyStore.on_sqlite(directory / "openai-sqlalchemy.db"),
        AgentsAdapterStore(SQLITE, sqlite_url(directory / "cleveragents-agents.db")),
        LangChainAdapterStore(SQLITE, sqlite_url(directory / "cleveragents-langchain.db")),
    ]


def postgresql_stores(target: postgres.PostgresTarget) -> list[SessionStore[Any]]:
    """Every store that runs on PostgreSQL, each in its own schema, this library first."""
    asyncpg_url = target.url_for("asyncpg")
    return [
        LibraryStore(POSTGRESQL, target.url_for("psycopg", schema=SCHEMAS["library"])),
        CleverAgentsAdkStore(POSTGRESQL, target.url_for("psycopg", schema=SCHEMAS["library_adk"])),
        AdkDatabaseStore.on_postgresql(asyncpg_url, SCHEMAS["adk"]),
        AgentsSqlAlchemyStore.on_postgresql(asyncpg_url, SCHEMAS["openai"]),
        AgentsAdapterStore(POSTGRESQL, target.url_for("psycopg", schema=SCHEMAS["adapters"])),
        LangChainAdapterStore(POSTGRESQL, target.url_for("psycopg", schema=SCHEMAS["adapters"])),
    ]


def chosen(stores: list[SessionStore[Any]], only: str | None) -> list[SessionStore[Any]]:
    """The stores named in ``only`` (comma-separated, as the report names them), or all."""
    if only is None:
        return stores
    names = {name.strip() for name in only.split(",")}
    return [store for store in stores if store.name in names]


async def compare(
    plan: Plan, output: Path, only: str | None = None
) -> tuple[list[BackendOutcome], str | None]:
    outcomes = []
    log("SQLite (one file per store, same directory):")
    stores = chosen(sqlite_stores(output / "sqlite"), only)
    sqlite_results = await BackendRun(stores, plan, log).run()
    outcomes.append(BackendOutcome(SQLITE, sqlite_results))

    try:
        target = postgres.prepare(postgres.configured_url())
    except postgres.PostgresUnavailableError as reason:
        log(f"PostgreSQL half skipped: {reason}")
        outcomes.append(BackendOutcome(POSTGRESQL, skipped=str(reason)))
        return outcomes, None
    log(f"PostgreSQL {target.server_version} (fsync={target.fsync}), one schema per system:")
    target.fresh_schemas(*SCHEMAS.values())
    try:
        stores = chosen(postgresql_stores(target), only)
        pg_results = await BackendRun(stores, plan, log).run()
    finally:
        target.drop_schemas(*SCHEMAS.values())
    outcomes.append(BackendOutcome(POSTGRESQL, pg_results))
    return outcomes, f"{target.server_version} (fsync={target.fsync})"


def samples(outcomes: list[BackendOutcome]) -> list[dict[str, Any]]:
    """Every timed call, in seconds, for anyone who wants more than medians."""
    return [
        {
            "backend": outcome.backend,
            "system": result.store.name,
            "settings": result.durability.label(),
            "seconds": result.samples,
        }
        for outcome in outcomes
        for result in outcome.results
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--output", type=Path, default=Path("build/peers"))
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes, to check the harness (not for figures)"
    )
    parser.add_argument(
        "--listed", type=int, help="sessions in the listing workload (default: the plan's)"
    )
    parser.add_argument(
        "--only", help="only these stores, comma-separated, named as the report names them"
    )
    parser.add_argument(
        "--sizes",
        default="",
        help="comma-separated NAME=N overrides of the plan, e.g. deletes=1,read_rounds=10",
    )
    arguments = parser.parse_args(argv)
    plan = QUICK_PLAN if arguments.quick else Plan()
    if arguments.listed is not None:
        plan = dataclasses.replace(plan, listed=arguments.listed)
    overrides = dict(item.split("=", 1) for item in arguments.sizes.split(",") if item)
    plan = dataclasses.replace(plan, **{name: int(value) for name, value in overrides.items()})
    output: Path = arguments.output
    started = time.monotonic()
    outcomes, postgresql_version = asyncio.run(compare(plan, output, arguments.only))
    minutes = (time.monotonic() - started) / 60
    report = render(
        plan, outcomes, machine.describe(postgresql_version), machine.package_versions(), minutes
    )
    output.mkdir(parents=True, exist_ok=True)
    (output / "peers.md").write_text(report, encoding="utf-8")
    (output / "peers.json").write_text(json.dumps(samples(outcomes), indent=1), encoding="utf-8")
    print(report)
    log(f"written to {output / 'peers.md'} and {output / 'peers.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
