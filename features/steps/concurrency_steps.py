"""Steps that run many writers at once against the run's database."""

from __future__ import annotations

import multiprocessing
import threading
from multiprocessing.connection import Connection as Pipe

from behave import then, when
from behave.runner import Context

from cleveragents.application.services import PersistentSessionService


def append_from_thread(
    service: PersistentSessionService, session_id: str, writer: int, count: int, out: list
) -> None:
    try:
        for index in range(count):
            message = service.append_message(session_id, "user", f"writer {writer} #{index}")
            out.append((message.id, message.sequence, message.content))
    except Exception as error:
        out.append(("error", -1, repr(error)))


def append_from_process(url: str, session_id: str, writer: int, count: int, pipe: Pipe) -> None:
    acknowledged: list[tuple[str, int, str]] = []
    try:
        with PersistentSessionService.from_url(url) as service:
            for index in range(count):
                message = service.append_message(session_id, "user", f"writer {writer} #{index}")
                service.update_token_usage(session_id, input_tokens=1, output_tokens=2)
                acknowledged.append((message.id, message.sequence, message.content))
    except Exception as error:
        acknowledged.append(("error", -1, repr(error)))
    pipe.send(acknowledged)
    pipe.close()


@when("{threads:d} threads sharing the service each append {count:d} messages to it")
def when_threads_append(context: Context, threads: int, count: int) -> None:
    results: list[list[tuple[str, int, str]]] = [[] for _ in range(threads)]
    workers = [
        threading.Thread(
            target=append_from_thread,
            args=(context.service, context.session.id, writer, count, results[writer]),
        )
        for writer in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    context.acknowledged = [item for result in results for item in result]


@when(
    "{processes:d} processes each append {count:d} messages and add {i:d} input and "
    "{o:d} output tokens per message"
)
def when_processes_append(context: Context, processes: int, count: int, i: int, o: int) -> None:
    assert (i, o) == (1, 2), "the worker adds 1 input and 2 output tokens per message"
    # fork keeps the step module's functions callable in the children; each child opens its
    # own service and never touches the parent's pooled connections.
    fork = multiprocessing.get_context("fork")
    pipes, workers = [], []
    for writer in range(processes):
        receiver, sender = fork.Pipe(duplex=False)
        worker = fork.Process(
            target=append_from_process,
            args=(context.database_url, context.session.id, writer, count, sender),
        )
        worker.start()
        pipes.append(receiver)
        workers.append(worker)
    context.acknowledged = [item for pipe in pipes for item in pipe.recv()]
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0, f"writer exited with {worker.exitcode}"


@then("the session holds {count:d} messages with sequences 0 to {last:d} and no duplicate")
def then_contiguous(context: Context, count: int, last: int) -> None:
    stored = context.service.get_messages(context.session.id)
    sequences = [message.sequence for message in stored]
    assert sequences == list(range(last + 1)), f"{len(sequences)} messages: {sequences[:20]}..."
    assert len({message.id for message in stored}) == count
    assert context.service.get(context.session.id).message_count == count
    context.stored = stored


@then("every acknowledged message is stored with its content")
def then_acknowledged_stored(context: Context) -> None:
    stored = {(m.id, m.sequence, m.content) for m in context.stored}
    missing = [item for item in context.acknowledged if item not in stored]
    assert not missing, f"acknowledged but not stored: {missing[:5]}"


@then("the session's token totals are {i:d} in, {o:d} out and {total:d} in all")
def then_token_totals(context: Context, i: int, o: int, total: int) -> None:
    session = context.service.get(context.session.id)
    seen = (session.input_tokens, session.output_tokens, session.total_tokens)
    assert seen == (i, o, total), f"saw {seen}"


@then("no writer saw an error")
def then_no_errors(context: Context) -> None:
    errors = [item[2] for item in context.acknowledged if item[0] == "error"]
    assert not errors, errors
