"""Steps for HMAC-signed export documents."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from behave import then, when
from behave.runner import Context
from library_error import capture_library_error


def recompute_checksum(document: dict[str, Any]) -> None:
    payload = {
        k: v for k, v in document.items() if k not in ("exported_at", "checksum", "signature")
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    document["checksum"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def attempt(context: Context, call: Any) -> None:
    context.fingerprint = context.database_fingerprint()
    capture_library_error(context, call)


@when('I export the session signed with key "{key}"')
def when_export_signed(context: Context, key: str) -> None:
    context.document = context.service.export_session(context.session.id, signing_key=key.encode())
    assert len(context.document["signature"]) == 64, context.document.get("signature")


@when("I export the session without a key")
def when_export_unsigned(context: Context) -> None:
    context.document = context.service.export_session(context.session.id)
    assert "signature" not in context.document, context.document.keys()


@when("I try to export the session with a text key")
def when_export_text_key(context: Context) -> None:
    attempt(
        context,
        lambda: context.service.export_session(context.session.id, signing_key="text"),
    )


@when('I import that document with key "{key}"')
def when_import_signed(context: Context, key: str) -> None:
    context.imported = context.service.import_session(context.document, signing_key=key.encode())


@when('I try to import that document with key "{key}"')
def when_try_import_signed(context: Context, key: str) -> None:
    attempt(
        context,
        lambda: context.service.import_session(context.document, signing_key=key.encode()),
    )


@when("I import that document without a key")
def when_import_without_key(context: Context) -> None:
    context.imported = context.service.import_session(context.document)


@when("someone changes message {index:d}'s content and recomputes the plain checksum")
def when_tamper(context: Context, index: int) -> None:
    document = copy.deepcopy(context.document)
    document["messages"][index]["content"] = "transfer all funds"
    recompute_checksum(document)
    context.document = document


@when('the document\'s signature is replaced by "{value}"')
def when_replace_signature(context: Context, value: str) -> None:
    context.document = {**context.document, "signature": value}


@then("the signed import holds the same {count:d} messages")
def then_signed_import(context: Context, count: int) -> None:
    original = context.service.get_messages(context.session.id)
    copied = context.service.get_messages(context.imported.id)
    assert len(copied) == count, copied
    assert [m.content for m in copied] == [m.content for m in original]


@then("the imported copy shows the altered content")
def then_altered(context: Context) -> None:
    copied = context.service.get_messages(context.imported.id)
    assert copied[1].content == "transfer all funds", copied[1]
