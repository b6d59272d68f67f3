"""Steps for concurrent ADK writers: processes running ``features/workers/adk_append_worker.py``."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from behave import given, then, when
from behave.runner import Context
from preloaded_processes import PreloadedProcess

from cleveragents.integrations.adk import CleverAgentsSessionService

WORKER = Path(__file__).resolve().parent.parent / "workers" / "adk_append_worker.py"


def with_store(context: Context, call: Any) -> Any:
    """Run ``call(store)`` on a store of this process, opened and closed around it."""

    async def run() -> Any:
        store = CleverAgentsSessionService(context.database_url)
        try:
            return await call(store)
        finally:
            await store.close()

    return asyncio.run(run())


def run_workers(context: Context, mode: str, session_ids: list[str], count: int) -> None:
    """Start one worker per session id, release them together, and keep what they printed."""
    workers = [
        PreloadedProcess(WORKER, [context.database_url, mode, session_id, str(n), str(count)])
        for n, session_id in enumerate(session_ids)
    ]
    for worker in workers:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    context.worker_reports = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        assert worker.returncode == 0, err
        context.worker_reports.append(json.loads(out.splitlines()[-1]))


@given('ADK session "{session_id}" of app "{app}" and user "{user}" in the library\'s store')
def given_library_session(context: Context, session_id: str, app: str, user: str) -> None:
    with_store(
        context,
        lambda store: store.create_session(app_name=app, user_id=user, session_id=session_id),
    )


@when(
    '{workers:d} processes each append {count:d} events to session "{session_id}", counting in it'
)
def when_shared_workers(context: Context, workers: int, count: int, session_id: str) -> None:
    run_workers(context, "shared", [session_id] * workers, count)


@when(
    "{workers:d} processes each append {count:d} events to a session of their own "
    'of app "{app}" and user "{user}"'
)
def when_own_workers(context: Context, workers: int, count: int, app: str, user: str) -> None:
    context.crowd = [f"crowd-{n}" for n in range(workers)]
    for session_id in context.crowd:
        given_library_session(context, session_id, app, user)
    run_workers(context, "own", context.crowd, count)


def get(context: Context, app: str, user: str, session_id: str) -> Any:
    return with_store(
        context,
        lambda store: store.get_session(app_name=app, user_id=user, session_id=session_id),
    )


@then('session "{session_id}" holds {total:d} events, each worker\'s {count:d} in its own order')
def then_shared_events(context: Context, session_id: str, total: int, count: int) -> None:
    context.crowd_session = get(context, "crowd", "ann", session_id)
    events = context.crowd_session.events
    assert len(events) == total, len(events)
    by_worker: dict[str, list[str]] = {}
    for event in events:
        by_worker.setdefault(event.author, []).append(event.invocation_id)
    for author, invocations in by_worker.items():
        worker = author.removeprefix("worker_")
        assert invocations == [f"w{worker}-{n}" for n in range(count)], invocations


@then('its state counts "total" {total:d} and {count:d} for each of the {workers:d} workers')
def then_shared_counters(context: Context, total: int, count: int, workers: int) -> None:
    state = context.crowd_session.state
    expected = {"total": total, **{f"w{n}": count for n in range(workers)}}
    assert state == expected, f"{state}; stale refusals {context.worker_reports}"


@then('each of the {workers:d} sessions of app "{app}" and user "{user}" holds {count:d} events')
def then_own_events(context: Context, workers: int, app: str, user: str, count: int) -> None:
    for session_id in context.crowd:
        assert len(get(context, app, user, session_id).events) == count, session_id
    assert len(context.crowd) == workers


def written_keys(workers: int, total: int) -> dict[str, int]:
    per_worker = total // workers
    return {f"w{n}_{k}": k for n in range(workers) for k in range(per_worker)}


@then('the user state of "{user}" in app "{app}" holds the {total:d} keys the workers wrote')
def then_user_keys(context: Context, user: str, app: str, total: int) -> None:
    state = with_store(context, lambda store: store.get_user_state(app_name=app, user_id=user))
    assert state == written_keys(len(context.crowd), total), sorted(state)


@then('the state of app "{app}" holds the {total:d} keys the workers wrote')
def then_app_keys(context: Context, app: str, total: int) -> None:
    session = get(context, app, "ann", context.crowd[0])
    app_state = {
        key.removeprefix("app:"): value
        for key, value in session.state.items()
        if key.startswith("app:")
    }
    expected = {
        key: int(key[1 : key.index("_")]) for key in written_keys(len(context.crowd), total)
    }
    assert app_state == expected, sorted(app_state)
