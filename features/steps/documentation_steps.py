"""Steps that run the README's and the documentation site's examples as a user would.

Run as a script, this module runs the examples of one documentation page in the current
directory (``python features/steps/documentation_steps.py docs/PAGE.md``); the page
scenarios start it that way, as a subprocess of the test interpreter.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import runpy
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from behave import then, when
from behave.model import ScenarioOutline
from behave.runner import Context

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
# Only a guard against a hung example: the CLI page starts dozens of processes, and on a
# 2-core machine shared with other test processes it took over 300 s.
PAGE_TIMEOUT_SECONDS = 900


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


@when("I run each Python example of the README on its own, in an empty directory")
def when_run_quickstart(context: Context) -> None:
    """Each block gets a fresh namespace and directory, as a reader who copies only that one
    block gets; the quickstart's own directory is the current one afterwards."""
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    previous = Path.cwd()
    context.add_cleanup(os.chdir, previous)
    namespaces: list[tuple[str, dict[str, Any]]] = []
    for block in blocks:
        directory = tempfile.mkdtemp(dir=context.work_directory)
        os.chdir(directory)
        namespace: dict[str, Any] = {}
        with contextlib.redirect_stdout(io.StringIO()):
            exec(compile(block, str(README), "exec"), namespace)  # noqa: S102 - our own README
        namespaces.append((directory, namespace))
    # The synchronous quickstart is the block that exports and imports a copy.
    directory, context.quickstart = next((d, n) for d, n in namespaces if "copy" in n)
    os.chdir(directory)


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
    arguments = sys.argv
    sys.argv = ["demo"]  # as `python -m cleveragents.demo` with no URL
    context.add_cleanup(setattr, sys, "argv", arguments)
    with contextlib.redirect_stdout(output):
        runpy.run_module("cleveragents.demo", run_name="__main__")
    context.demo_output = output.getvalue()


@then("the demo's own database file exists under that data directory, and no other")
def then_demo_file(context: Context) -> None:
    path = Path(context.data_home) / "cleveragents" / "demo.db"
    assert path.is_file(), context.demo_output
    assert f"remove it with: rm {path}" in context.demo_output, context.demo_output
    default = Path(context.data_home) / "cleveragents" / "sessions.db"
    assert not default.exists(), f"the demo wrote into the default database {default}"


@then(
    "the demo reports {count:d} appended messages, {tokens:d} tokens and an imported copy "
    "with the same contents"
)
def then_demo_report(context: Context, count: int, tokens: int) -> None:
    output = context.demo_output
    assert f"#{count - 1} " in output, output
    assert f"= {tokens}" in output, output
    assert f"with {count} messages, same contents: True" in output, output


# -- The documentation site ------------------------------------------------------------------

FENCE = re.compile(
    r"^(?P<indent>[ \t]*)```(?P<language>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$",
    flags=re.MULTILINE | re.DOTALL,
)
RUN_LANGUAGES = frozenset({"python", "sh", "console"})
CLEVERAGENTS_COMMAND = re.compile(r"(?:^|[\s;&|($])cleveragents\s", flags=re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Example:
    """A fenced code block to run: its language, code and the page line its code starts on."""

    language: str
    line: int
    code: str


def page_examples(markdown: str) -> list[Example]:
    """The page's ```python, ```sh and ```console blocks, in the order they appear."""
    examples = []
    for fence in FENCE.finditer(markdown):
        language = fence["language"].lower()
        if language in RUN_LANGUAGES:
            line = markdown.count("\n", 0, fence.start("body")) + 1
            examples.append(Example(language, line, textwrap.dedent(fence["body"])))
    return examples


def shell_script(example: Example) -> str:
    """The commands of a ```sh block, or the ``$ `` lines of a ```console block."""
    if example.language == "sh":
        return example.code
    commands: list[str] = []
    continued = False
    for line in example.code.splitlines():
        if continued or line.startswith("$ "):
            commands.append(line if continued else line[2:])
            continued = line.endswith("\\")
    return "\n".join(commands) + "\n"


def run_page_examples(page: Path) -> None:
    """Run every example of ``page`` in order in the current directory; exit 1 at a failure.

    The convention the pages follow:

    - ```python blocks run in one interpreter, in order, sharing their names as consecutive
      cells of one script do; a traceback names the page and the line of the failure.
    - ```sh blocks and the ``$ `` lines of ```console blocks run with ``bash -euo pipefail``
      once the blocks before them have run; each must call ``cleveragents`` and end with exit
      status 0. The interpreter's directory comes first on ``PATH``, so ``cleveragents`` and
      ``python3`` are the ones under test.
    - Every other fence is shown, never run: ```text for output and anything that is not
      code, ```bash for shell commands that need what a test cannot give (installing packages,
      a checkout of the repository, a database server), ```json, ```ini and so on.
    """
    namespace: dict[str, Any] = {"__name__": "__main__"}
    environment = dict(os.environ)
    environment["PATH"] = os.pathsep.join(
        [str(Path(sys.executable).parent), environment.get("PATH", "")]
    )
    for example in page_examples(page.read_text(encoding="utf-8")):
        where = f"{page}:{example.line}"
        if example.language == "python":
            source = "\n" * (example.line - 1) + example.code  # tracebacks give page lines
            exec(compile(source, str(page), "exec"), namespace)  # noqa: S102 - our own docs
            continue
        script = shell_script(example)
        if not CLEVERAGENTS_COMMAND.search(script):
            sys.exit(
                f"{where}: a ```{example.language} block runs in the tests and must call "
                "cleveragents; fence other shell commands as ```bash and output as ```text"
            )
        sys.stdout.flush()
        finished = subprocess.run(
            ["bash", "-euo", "pipefail", "-xc", script],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        sys.stdout.write(finished.stdout)
        sys.stderr.write(finished.stderr)
        if finished.returncode != 0:
            sys.exit(f"{where}: the shell example exited with status {finished.returncode}")


def scenario_pages(context: Context) -> set[str]:
    """The pages the page outline of this feature lists in its examples tables."""
    return {
        row["page"]
        for scenario in context.feature.scenarios
        if isinstance(scenario, ScenarioOutline)
        for examples in scenario.examples
        for row in examples.table
    }


@when('I run the code examples of the documentation page "{page}" in a fresh directory')
def when_run_page_examples(context: Context, page: str) -> None:
    directory = Path(tempfile.mkdtemp(dir=context.work_directory))
    environment = dict(os.environ)
    # The page's own URLs win; whatever it leaves to the defaults stays in its directory.
    environment["CLEVERAGENTS_DATABASE_URL"] = f"sqlite:///{directory / 'sessions.db'}"
    environment["XDG_DATA_HOME"] = str(directory / "data")
    environment.pop("CLEVERAGENTS_TEST_DATABASE_URL", None)
    context.page = page
    context.page_run = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), str(ROOT / page)],
        cwd=directory,
        env=environment,
        capture_output=True,
        text=True,
        timeout=PAGE_TIMEOUT_SECONDS,
        check=False,
    )


@then("every example of the page ran without an error")
def then_page_examples_ran(context: Context) -> None:
    run = context.page_run
    assert run.returncode == 0, (
        f"an example of {context.page} failed (status {run.returncode}):\n"
        f"--- stdout ---\n{run.stdout[-4000:]}\n--- stderr ---\n{run.stderr[-8000:]}"
    )


@then("every page under docs/ has a row in the page examples of this feature")
def then_every_page_listed(context: Context) -> None:
    pages = {page.relative_to(ROOT).as_posix() for page in DOCS.rglob("*.md")}
    listed = scenario_pages(context)
    assert pages == listed, (
        f"pages without a row: {sorted(pages - listed)}; rows without a page: "
        f"{sorted(listed - pages)}"
    )


if __name__ == "__main__":
    run_page_examples(Path(sys.argv[1]))
