"""A writer process for the ADK concurrency scenarios.

Run as ``python adk_append_worker.py URL MODE SESSION_ID WORKER COUNT``. The worker opens
its own ``CleverAgentsSessionService``, prints ``ready`` and waits for one line on stdin so
that every worker starts at the same moment, then appends COUNT events and prints one JSON
line with how many stale-session refusals it met.

``shared``: every worker appends to the one session SESSION_ID. Each event raises the
session counter ``total`` and the worker's own counter ``w<WORKER>`` by one, read from the
worker's copy of the session: a stale copy is refused, reloaded and tried again, so no
increment may be lost. ``own``: the worker appends to its own session SESSION_ID, each event
writing a fresh key of the user's state (``user:w<WORKER>_<n>``) and of the app's.
"""

from __future__ import annotations

import asyncio
import json
import sys

from google.adk.errors import StaleSessionError
from google.adk.events import Event, EventActions

from cleveragents.integrations.adk import CleverAgentsSessionService

APP, USER = "crowd", "ann"


async def work(url: str, mode: str, session_id: str, worker: int, count: int) -> int:
    store = CleverAgentsSessionService(url)
    stale = 0
    try:
        await store.get_user_state(app_name=APP, user_id=USER)  # opens before the start
        print("ready", flush=True)
        sys.stdin.readline()
        session = await store.get_session(app_name=APP, user_id=USER, session_id=session_id)
        done = 0
        while done < count:
            assert session is not None
            if mode == "shared":
                mine = f"w{worker}"
                delta = {"total": session.state.get("total", 0) + 1}
                delta[mine] = session.state.get(mine, 0) + 1
            else:
                delta = {f"user:w{worker}_{done}": done, f"app:w{worker}_{done}": worker}
            event = Event(
                author=f"worker_{worker}",
                invocation_id=f"w{worker}-{done}",
                actions=EventActions(state_delta=delta),
            )
            try:
                await store.append_event(session, event)
            except StaleSessionError:
                stale += 1
                session = await store.get_session(app_name=APP, user_id=USER, session_id=session_id)
                continue
            done += 1
    finally:
        await store.close()
    return stale


if __name__ == "__main__":
    url, mode, session_id, worker, count = sys.argv[1:6]
    refused = asyncio.run(work(url, mode, session_id, int(worker), int(count)))
    print(json.dumps({"stale": refused}), flush=True)
