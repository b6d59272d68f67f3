"""Steps for ADK Runner turns over CleverAgentsSessionService, in this process or a new one."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from behave import then, when
from behave.runner import Context

WORKER = Path(__file__).resolve().parent.parent / "workers" / "adk_turn.py"
sys.path.insert(0, str(WORKER.parent))

import adk_turn  # noqa: E402  (a worker script, importable once its folder is on the path)


@when('the agent runs the turn "{message}" in session "{session_id}"')
def when_turn(context: Context, message: str, session_id: str) -> None:
    context.turn = asyncio.run(adk_turn.turn(context.database_url, session_id, message))


@when('the agent runs the turn "{message}" in session "{session_id}" in a new process')
def when_turn_in_process(context: Context, message: str, session_id: str) -> None:
    finished = subprocess.run(
        [sys.executable, str(WORKER), context.database_url, session_id, message],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert finished.returncode == 0, finished.stderr
    context.turn = json.loads(finished.stdout.splitlines()[-1])


@then('the reply is "{text}"')
def then_reply(context: Context, text: str) -> None:
    assert context.turn["reply"] == text, context.turn


@then('the reply mentions "{first}" and "{second}"')
def then_reply_mentions(context: Context, first: str, second: str) -> None:
    reply = context.turn["reply"]
    assert first in reply and second in reply, reply


@then('session "{session_id}" holds events by {authors}')
def then_authors(context: Context, session_id: str, authors: str) -> None:
    expected = [author.strip().strip('"') for author in authors.split(",")]
    assert context.turn["authors"] == expected, context.turn["authors"]


@then('session "{session_id}" has state {state}')
def then_turn_state(context: Context, session_id: str, state: str) -> None:
    assert context.turn["state"] == json.loads(state), context.turn["state"]
