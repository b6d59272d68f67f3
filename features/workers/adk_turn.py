"""One turn of a real ADK ``Runner`` over ``CleverAgentsSessionService``, with a scripted model.

Run as ``python adk_turn.py URL SESSION_ID MESSAGE`` (the session is created when missing);
prints one JSON line: the reply, the session's state and its events' authors and texts as
the store gives them back after the turn. The scenarios run the first turn in-process and
the second in a process of its own, on the same database.

The model answers without a network: asked to remember a colour, it calls the
``remember_colour`` tool, which writes ``user:colour``; asked anything else, it replies with
what its instruction says about the colour and how many earlier contents it was given, so a
turn shows whether it saw the state and history of the turns before it.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncGenerator
from typing import Any

from google.adk.agents import LlmAgent
from google.adk.models.base_llm import BaseLlm
from google.adk.models.llm_request import LlmRequest
from google.adk.models.llm_response import LlmResponse
from google.adk.runners import Runner
from google.adk.tools.tool_context import ToolContext
from google.genai import types

from cleveragents.integrations.adk import CleverAgentsSessionService

APP = "colour_keeper"
USER = "ann"


class ScriptedModel(BaseLlm):
    """Answers from a script: a tool call when asked to remember, text otherwise."""

    model: str = "scripted"

    @classmethod
    def supported_models(cls) -> list[str]:
        return ["scripted"]

    async def generate_content_async(
        self, llm_request: LlmRequest, stream: bool = False
    ) -> AsyncGenerator[LlmResponse, None]:
        last = llm_request.contents[-1]
        if last.parts and last.parts[0].function_response is not None:
            yield reply("Noted.")
            return
        said = "".join(part.text or "" for part in last.parts or [])
        if said.startswith("remember "):
            call = types.FunctionCall(name="remember_colour", args={"colour": said.split()[-1]})
            yield LlmResponse(
                content=types.Content(role="model", parts=[types.Part(function_call=call)])
            )
            return
        instruction = str(llm_request.config.system_instruction or "")
        yield reply(f"{instruction} I was given {len(llm_request.contents)} contents.")


def reply(text: str) -> LlmResponse:
    return LlmResponse(content=types.Content(role="model", parts=[types.Part(text=text)]))


def remember_colour(colour: str, tool_context: ToolContext) -> dict[str, Any]:
    """Remember the user's favourite colour for every later session."""
    tool_context.state["user:colour"] = colour
    tool_context.state["turns_with_tools"] = tool_context.state.get("turns_with_tools", 0) + 1
    return {"remembered": colour}


def agent() -> LlmAgent:
    return LlmAgent(
        name="keeper",
        model=ScriptedModel(),
        instruction="Favourite colour: {user:colour?}.",
        tools=[remember_colour],
    )


async def turn(url: str, session_id: str, message: str) -> dict[str, Any]:
    store = CleverAgentsSessionService(url)
    try:
        if await store.get_session(app_name=APP, user_id=USER, session_id=session_id) is None:
            await store.create_session(app_name=APP, user_id=USER, session_id=session_id)
        runner = Runner(app_name=APP, agent=agent(), session_service=store)
        texts = []
        async for event in runner.run_async(
            user_id=USER,
            session_id=session_id,
            new_message=types.Content(role="user", parts=[types.Part(text=message)]),
        ):
            if event.content and event.content.parts:
                texts.extend(part.text for part in event.content.parts if part.text)
        session = await store.get_session(app_name=APP, user_id=USER, session_id=session_id)
        assert session is not None
        return {
            "reply": texts[-1] if texts else None,
            "state": session.state,
            "authors": [event.author for event in session.events],
        }
    finally:
        await store.close()


if __name__ == "__main__":
    print(json.dumps(asyncio.run(turn(*sys.argv[1:4]))))
