"""Steps that feed oversized documents to an importer and watch its memory."""

from __future__ import annotations

import tracemalloc

from behave import given, then, when
from behave.runner import Context
from library_error import capture_library_error

from cleveragents.application.services import ImportLimits, PersistentSessionService

MIB = 1024 * 1024


@given("an importer capped at {size:d} MiB")
def given_capped_importer(context: Context, size: int) -> None:
    context.cap = size * MIB
    context.importer = PersistentSessionService.from_url(
        context.database_url, import_limits=ImportLimits(max_document_bytes=context.cap)
    )
    context.add_cleanup(context.importer.close)


def padded_document(body_bytes: int, filler: str) -> str:
    """A JSON object whose UTF-8 form is exactly ``body_bytes`` long."""
    width = len(filler.encode("utf-8"))
    room = body_bytes - len('{"padding":""}')
    assert room % width == 0, "filler does not divide the size"
    return '{"padding":"' + filler * (room // width) + '"}'


@given("a {form} one byte over that cap")
def given_oversized(context: Context, form: str) -> None:
    size = context.cap + 1
    if form == "UTF-8 bytes document":
        context.document = padded_document(size, "a").encode("utf-8")
    elif form == "JSON text of ASCII characters":
        context.document = padded_document(size, "a")
    else:
        context.document = padded_document(size - 3, "\U0001f600") + "   "
    document = context.document
    encoded = document if isinstance(document, bytes) else document.encode("utf-8")
    assert len(encoded) == size, len(encoded)


@given("a JSON text of {size:d} MiB")
def given_huge_text(context: Context, size: int) -> None:
    context.document = padded_document(size * MIB, "a")


@when("I import it while measuring memory")
def when_import_measured(context: Context) -> None:
    context.fingerprint = context.database_fingerprint()
    tracemalloc.start()
    try:
        capture_library_error(context, lambda: context.importer.import_session(context.document))
    finally:
        _, context.peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()


@then("the import's peak memory stayed below twice the cap")
def then_peak_under_twice(context: Context) -> None:
    assert context.peak < 2 * context.cap, f"peak {context.peak} bytes"


@then("the import's peak memory stayed below {size:d} MiB")
def then_peak_under(context: Context, size: int) -> None:
    assert context.peak < size * MIB, f"peak {context.peak} bytes"
