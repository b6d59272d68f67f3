"""Steps for CleverAgentsChatMessageHistory, the LangChain chat history kept by the library."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

from behave import given, then, when
from behave.runner import Context
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)
from langchain_core.chat_history import InMemoryChatMessageHistory
from langchain_core.language_models.fake_chat_models import FakeMessagesListChatModel
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    ChatMessage,
    FunctionMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
    messages_to_dict,
)
from langchain_core.prompt_values import PromptValue
from langchain_core.prompts import ChatPromptTemplate, MessagesPlaceholder
from langchain_core.runnables import RunnableLambda
from langchain_core.runnables.history import RunnableWithMessageHistory

from cleveragents.domain import SessionPersistenceError
from cleveragents.integrations.langchain import CleverAgentsChatMessageHistory

DEADLOCK_SECONDS = 60


class CriticMessage(BaseMessage):
    """A message type of the application's own, which LangChain cannot read back."""

    type: str = "critic"


def every_kind() -> list[BaseMessage]:
    return [
        HumanMessage("Book a table for two, Ünïcode 😀", id="m1", name="ada"),
        AIMessage(
            "",
            tool_calls=[{"name": "book", "args": {"people": 2, "time": "19:30"}, "id": "call_1"}],
            usage_metadata={"input_tokens": 31, "output_tokens": 12, "total_tokens": 43},
            response_metadata={"model_name": "scripted"},
            additional_kwargs={"refusal": None},
        ),
        SystemMessage([{"type": "text", "text": "Be brief."}]),
        ToolMessage('{"booked": true}', tool_call_id="call_1", artifact={"table": 12}),
        ChatMessage("Looks fine.", role="critic"),
        FunctionMessage('{"ok": 1}', name="legacy_function"),
    ]


def numbered(number: int) -> BaseMessage:
    return (HumanMessage if number % 2 == 0 else AIMessage)(f"message {number}")


def contents(messages: list[BaseMessage]) -> list[Any]:
    return [message.content for message in messages]


def capture(context: Context, call: Any) -> Any:
    context.error = None
    try:
        return call()
    except SessionPersistenceError as error:
        context.error = error
        return None


def open_history(context: Context, session_id: str) -> CleverAgentsChatMessageHistory:
    history = CleverAgentsChatMessageHistory(session_id, context.async_service)
    context.add_cleanup(history.close)
    return history


def on_a_running_loop(call: Any) -> Any:
    """Run a synchronous call from inside a coroutine, as async code that calls sync code does.

    The loop runs on a thread of its own, so a deadlock fails the step instead of hanging it.
    """
    outcome: dict[str, Any] = {}

    async def inside() -> None:
        asyncio.get_running_loop()
        outcome["result"] = call()

    thread = threading.Thread(target=lambda: asyncio.run(inside()), daemon=True)
    thread.start()
    thread.join(timeout=DEADLOCK_SECONDS)
    assert not thread.is_alive(), f"the sync call did not return in {DEADLOCK_SECONDS} s"
    assert "result" in outcome, "the sync call raised (see the thread's traceback above)"
    return outcome["result"]


# --- Given ------------------------------------------------------------------------------


@given('a LangChain history "{session_id}" on the run\'s database')
@when('I open a LangChain history "{session_id}" on the run\'s database')
def given_history(context: Context, session_id: str) -> None:
    context.history = open_history(context, session_id)


@given('a LangChain history "{session_id}" on the run\'s database holding {count:d} messages')
def given_history_with(context: Context, session_id: str, count: int) -> None:
    context.history = open_history(context, session_id)
    context.run_async(context.history.aadd_messages([numbered(n) for n in range(count)]))
    context.fingerprint = context.database_fingerprint()


@given('a library session "{session_id}" with messages by user, assistant and tool')
def given_library_messages(context: Context, session_id: str) -> None:
    async def write() -> None:
        await context.async_service.create("support", session_id=session_id)
        for role in ("user", "assistant", "tool"):
            await context.async_service.append_message(session_id, role, f"said by {role}")

    context.run_async(write())


# --- When -------------------------------------------------------------------------------


@when("I add one message of every kind LangChain has, asynchronously")
def when_add_every_kind(context: Context) -> None:
    context.run_async(context.history.aadd_messages(every_kind()))


@when("I add 2 messages synchronously outside any event loop")
def when_add_sync(context: Context) -> None:
    context.history.add_messages([numbered(0), numbered(1)])


@when("I add 2 messages synchronously from a coroutine running on an event loop")
def when_add_sync_in_loop(context: Context) -> None:
    on_a_running_loop(lambda: context.history.add_messages([numbered(2), numbered(3)]))


@when("I add 2 messages asynchronously")
def when_add_async(context: Context) -> None:
    context.run_async(context.history.aadd_messages([numbered(4), numbered(5)]))


@when("I clear the history asynchronously")
def when_aclear(context: Context) -> None:
    context.run_async(context.history.aclear())


@when(
    'I add {count:d} messages through a LangChain history "{session_id}" opened from the URL'
    " in a with block"
)
def when_add_owned(context: Context, count: int, session_id: str) -> None:
    with CleverAgentsChatMessageHistory.from_url(session_id, context.database_url) as history:
        history.add_messages([numbered(n) for n in range(count)])


@when(
    'I read "{session_id}" through a LangChain history opened from the URL in an async with block'
)
def when_read_owned(context: Context, session_id: str) -> None:
    async def read() -> list[BaseMessage]:
        history = CleverAgentsChatMessageHistory.from_url(session_id, context.database_url)
        async with history:
            return await history.aget_messages()

    context.read = context.run_async(read())


@then("that read gave the {count:d} messages")
def then_owned_read(context: Context, count: int) -> None:
    assert contents(context.read) == [f"message {n}" for n in range(count)], context.read


BAD_MESSAGES: dict[str, Any] = {
    "a message of a type LangChain lacks": CriticMessage("keep it short"),
    "a message holding a Python object": HumanMessage("hi", additional_kwargs={"x": object()}),
    "a plain string": "hello",
}


@when("I add a batch of a good message and {kind}")
def when_add_bad(context: Context, kind: str) -> None:
    batch = [numbered(9), BAD_MESSAGES[kind]]
    capture(context, lambda: context.history.add_messages(batch))


@when("I open a LangChain history with an id of {length:d} characters")
def when_long_id(context: Context, length: int) -> None:
    context.fingerprint = context.database_fingerprint()
    capture(
        context, lambda: CleverAgentsChatMessageHistory.from_url("x" * length, context.database_url)
    )


# --- Then -------------------------------------------------------------------------------


@then("reading the history asynchronously gives them back equal as dictionaries")
def then_async_equal(context: Context) -> None:
    read = context.run_async(context.history.aget_messages())
    assert messages_to_dict(read) == messages_to_dict(every_kind()), messages_to_dict(read)


@then("reading the history synchronously gives them back equal as dictionaries")
def then_sync_equal(context: Context) -> None:
    read = context.history.messages
    assert messages_to_dict(read) == messages_to_dict(every_kind()), messages_to_dict(read)


@then("reading the history synchronously from a coroutine gives the {count:d} messages in order")
def then_sync_in_loop(context: Context, count: int) -> None:
    read = on_a_running_loop(lambda: context.history.messages)
    assert contents(read) == [f"message {n}" for n in range(count)], contents(read)


@then("clearing it synchronously from a coroutine leaves no messages")
def then_clear_in_loop(context: Context) -> None:
    on_a_running_loop(context.history.clear)
    assert context.history.messages == []


@then("reading the history gives a human, an AI and a tool chat message with those contents")
def then_plain_history(context: Context) -> None:
    read = context.history.messages
    assert [type(m).__name__ for m in read] == ["HumanMessage", "AIMessage", "ChatMessage"], read
    assert contents(read) == ["said by user", "said by assistant", "said by tool"], read
    assert read[2].role == "tool", read[2]


@then("reading the history gives no messages")
def then_no_messages(context: Context) -> None:
    assert context.history.messages == []


@then('a LangChain history "{session_id}" reads empty and clears without writing anything')
def then_unknown_history(context: Context, session_id: str) -> None:
    before = context.database_fingerprint()
    history = open_history(context, session_id)
    assert history.messages == [] and context.run_async(history.aget_messages()) == []
    history.clear()
    context.run_async(history.aclear())
    assert context.database_fingerprint() == before


# --- The differential machine -------------------------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
IDS = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8)
MESSAGES = st.one_of(
    st.builds(HumanMessage, content=TEXT),
    st.builds(
        AIMessage,
        content=TEXT,
        tool_calls=st.lists(
            st.fixed_dictionaries(
                {
                    "name": IDS,
                    "args": st.dictionaries(IDS, st.integers() | TEXT, max_size=2),
                    "id": IDS,
                }
            ),
            max_size=2,
        ),
        usage_metadata=st.builds(
            lambda i, o: {"input_tokens": i, "output_tokens": o, "total_tokens": i + o},
            st.integers(0, 10_000),
            st.integers(0, 10_000),
        ),
    ),
    st.builds(SystemMessage, content=TEXT),
    st.builds(ToolMessage, content=TEXT, tool_call_id=IDS),
    st.builds(ChatMessage, content=TEXT, role=IDS),
)


class AgainstInMemoryHistory(RuleBasedStateMachine):
    """The same calls on this history and on InMemoryChatMessageHistory must read the same."""

    context: Context
    examples = 0

    @initialize()
    def open_both(self) -> None:
        type(self).examples += 1
        session_id = f"differential-{os.getpid()}-{type(self).examples}"
        self.ours = open_history(self.context, session_id)
        self.theirs = InMemoryChatMessageHistory()

    @rule(messages=st.lists(MESSAGES, max_size=4))
    def add(self, messages: list[BaseMessage]) -> None:
        self.ours.add_messages(messages)
        self.theirs.add_messages(messages)

    @rule(messages=st.lists(MESSAGES, max_size=4))
    def add_async(self, messages: list[BaseMessage]) -> None:
        self.context.run_async(self.ours.aadd_messages(messages))
        self.context.run_async(self.theirs.aadd_messages(messages))

    @rule()
    def clear(self) -> None:
        self.ours.clear()
        self.theirs.clear()

    @rule()
    def clear_async(self) -> None:
        self.context.run_async(self.ours.aclear())
        self.context.run_async(self.theirs.aclear())

    @rule()
    def read_async(self) -> None:
        ours = self.context.run_async(self.ours.aget_messages())
        assert messages_to_dict(ours) == messages_to_dict(self.theirs.messages)

    @invariant()
    def same_messages(self) -> None:
        if hasattr(self, "ours"):
            assert messages_to_dict(self.ours.messages) == messages_to_dict(self.theirs.messages)


@when(
    "random sequences of sync and async adds, reads and clears run on this history and on"
    " InMemoryChatMessageHistory alike"
)
def when_differential(context: Context) -> None:
    AgainstInMemoryHistory.context = context
    AgainstInMemoryHistory.examples = 0
    run_state_machine_as_test(
        AgainstInMemoryHistory,
        settings=settings(
            max_examples=20,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )


@then("every read gave the same messages on both")
def then_differential(context: Context) -> None:
    assert AgainstInMemoryHistory.examples >= 10, AgainstInMemoryHistory.examples


# --- A chain --------------------------------------------------------------------------------


@given(
    "a chain of a prompt with history and a fake chat model, wrapped with"
    " RunnableWithMessageHistory on this store"
)
def given_chain(context: Context) -> None:
    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You remember names."),
            MessagesPlaceholder("history"),
            ("human", "{question}"),
        ]
    )
    context.prompts: list[list[BaseMessage]] = []

    def record(value: PromptValue) -> PromptValue:
        context.prompts.append(value.to_messages())
        return value

    model = FakeMessagesListChatModel(
        responses=[AIMessage("Hello, Ada."), AIMessage("Your name is Ada.")]
    )
    context.chain = RunnableWithMessageHistory(
        prompt | RunnableLambda(record) | model,
        lambda session_id: open_history(context, session_id),
        input_messages_key="question",
        history_messages_key="history",
    )
    context.invocations = 0


@when('I invoke the chain with "{question}" in session "{session_id}"')
def when_invoke(context: Context, question: str, session_id: str) -> None:
    config = {"configurable": {"session_id": session_id}}
    context.invocations += 1
    if context.invocations == 1:
        context.chain.invoke({"question": question}, config=config)
    else:  # the second one asynchronously, so both paths of the history serve the chain
        context.run_async(context.chain.ainvoke({"question": question}, config=config))


@then("the model's prompt on the second invocation held the first exchange, read from the database")
def then_second_prompt(context: Context) -> None:
    second = context.prompts[1]
    assert [type(m).__name__ for m in second] == [
        "SystemMessage",
        "HumanMessage",
        "AIMessage",
        "HumanMessage",
    ], second
    assert contents(second) == [
        "You remember names.",
        "My name is Ada.",
        "Hello, Ada.",
        "What is my name?",
    ], second


@then('the history of "{session_id}" holds {count:d} messages: {kinds}')
def then_chain_history(context: Context, session_id: str, count: int, kinds: str) -> None:
    stored = context.run_async(context.async_service.get_messages(session_id))
    assert [m.role for m in stored] == kinds.split(", "), stored
    assert len(stored) == count
    assert json.loads(stored[3].content)["data"]["content"] == "Your name is Ada."
