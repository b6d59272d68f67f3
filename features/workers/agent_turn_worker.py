"""One agent turn on a CleverAgentsSession, with a scripted model: no network, no API key.

Imported by the OpenAI Agents scenarios for the turns they run themselves, and run as
``python agent_turn_worker.py URL SESSION_ID QUESTION`` for a turn in a process of its own:
it opens the session on the database at URL, runs one turn whose model answers "Anything
else?", and prints the model's input items as one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from typing import Any

from agents import Agent, ModelResponse, RunConfig, Runner, Session, Usage, function_tool
from agents.items import TResponseInputItem, TResponseOutputItem, TResponseStreamEvent
from agents.models.interface import Model
from agents.testing import assistant_message

from cleveragents.integrations.openai_agents import CleverAgentsSession


class RecordingModel(Model):
    """A model that answers from a script, one list of output items per call, and keeps the
    input of every call so that a scenario can see what history the Runner gave it."""

    def __init__(self, script: list[list[TResponseOutputItem]]) -> None:
        self.script = list(script)
        self.inputs: list[list[TResponseInputItem]] = []

    async def get_response(
        self,
        system_instructions: str | None,
        input: str | list[TResponseInputItem],
        *args: Any,
        **kwargs: Any,
    ) -> ModelResponse:
        self.inputs.append(
            [{"role": "user", "content": input}] if isinstance(input, str) else list(input)
        )
        return ModelResponse(output=self.script.pop(0), usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> AsyncIterator[TResponseStreamEvent]:
        raise NotImplementedError("the scenarios do not stream")


@function_tool
def lookup_order(order: int) -> str:
    """Look up an order's status."""
    return json.dumps({"order": order, "status": "shipped"})


async def run_turn(session: Session, model: RecordingModel, question: str) -> str:
    """Run one turn of the support agent with ``session``; return its final answer."""
    agent = Agent(
        name="support", instructions="Help with orders.", model=model, tools=[lookup_order]
    )
    result = await Runner.run(
        agent, question, session=session, run_config=RunConfig(tracing_disabled=True)
    )
    return str(result.final_output)


async def turn_in_own_process(url: str, session_id: str, question: str) -> None:
    model = RecordingModel([[assistant_message("Anything else?")]])
    async with CleverAgentsSession.from_url(session_id, url) as session:
        await run_turn(session, model, question)
    print(json.dumps(model.inputs[0]), flush=True)


if __name__ == "__main__":
    asyncio.run(turn_in_own_process(*sys.argv[1:4]))
