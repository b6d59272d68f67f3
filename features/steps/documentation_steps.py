"""Steps that run the README's examples as a user would."""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import tempfile
from pathlib import Path
from typing import Any

from behave import then, when
from behave.runner import Context

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", markdown, flags=re.DOTALL)


def scoped_environment(context: Context, **values: str | None) -> None:
    """Set environment variables for one scenario and restore them afterwards."""
    for name, value in values.items():
        previous = os.environ.get(name)
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
        context.add_cleanup(
            lambda n=name, p=previous: (
                os.environ.__setitem__(n, p) if p is not None else os.environ.pop(n, None)
            )
        )


@when("I run the Python examples from the README in order in an empty directory")
def when_run_quickstart(context: Context) -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    directory = tempfile.mkdtemp(dir=context.work_directory)
    previous = Path.cwd()
    os.chdir(directory)
    context.add_cleanup(os.chdir, previous)
    namespace: dict[str, Any] = {}
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        for block in blocks:
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
    context.quickstart = namespace


@then("its imported copy holds the same {count:d} messages as the original session")
def then_quickstart_copy(context: Context, count: int) -> None:
    namespace = context.quickstart
    service = namespace["PersistentSessionService"].from_url(namespace["url"])
    context.add_cleanup(service.close)
    original = service.get_messages(namespace["session"].id)
    copied = service.get_messages(namespace["copy"].id)
    assert len(original) == count, original
    assert [(m.role, m.content) for m in copied] == [(m.role, m.content) for m in original]
    context.quickstart_service = service


@then("its session has {i:d} input tokens and {o:d} output tokens")
def then_quickstart_tokens(context: Context, i: int, o: int) -> None:
    session = context.quickstart_service.get(context.quickstart["session"].id)
    assert (session.input_tokens, session.output_tokens) == (i, o), session


@when("I run the demo with the default database under a fresh data directory")
def when_run_demo(context: Context) -> None:
    context.data_home = tempfile.mkdtemp(dir=context.work_directory)
    scoped_environment(context, XDG_DATA_HOME=context.data_home, CLEVERAGENTS_DATABASE_URL=None)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        runpy.run_module("cleveragents.demo", run_name="__main__")
    context.demo_output = output.getvalue()


@then("the demo's database file exists under that data directory")
def then_demo_file(context: Context) -> None:
    path = Path(context.data_home) / "cleveragents" / "sessions.db"
    assert path.is_file(), context.demo_output
    assert str(path) in context.demo_output, context.demo_output


@then(
    "the demo reports {count:d} appended messages, {tokens:d} tokens and an imported copy "
    "with the same contents"
)
def then_demo_report(context: Context, count: int, tokens: int) -> None:
    output = context.demo_output
    assert f"#{count - 1} " in output, output
    assert f"= {tokens}" in output, output
    assert f"with {count} messages, same contents: True" in output, output
