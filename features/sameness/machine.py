"""A Hypothesis state machine whose every step is one public call, run on every backend.

The machine remembers the ids of the sessions it made; each rule picks a remembered id, one
of its other spellings (a trailing space, lower case, a combining accent), or an id no
session has. Every rule goes through :meth:`Differential.same`, so the first call whose
answer differs between backends fails the program, and Hypothesis shrinks it to the
shortest sequence of calls that still differs.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any, ClassVar

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from cleveragents.domain import NewMessage, SessionService
from sameness import inputs
from sameness.differential import Differential

ORDERS = ["created_at", "updated_at", "created", "UPDATED_AT"]
SIGNING_KEY = b"sameness"


def follow_listing(
    differential: Differential, *, limit: int, actor: str | None, order: str, same_moment: bool
) -> None:
    """List page after page through the cursors, comparing each page, until the last."""
    cursor: str | None = None
    for page_number in range(60):

        def page(service: SessionService, cursor: str | None = cursor) -> Any:
            return service.list(limit=limit, actor_name=actor, order_by=order, cursor=cursor)

        outcome = differential.same(
            f"list(limit={limit!r}, actor_name={actor!r}, order_by={order!r}, page={page_number})",
            page,
            same_moment=same_moment,
        )
        if outcome.failed:
            return
        cursor = outcome.value[1]
        if cursor is None:
            return
    raise AssertionError("the listing did not end after 60 pages")


class SamenessMachine(RuleBasedStateMachine):
    """Random programs of public calls; the backends must agree on every answer."""

    differential: ClassVar[Differential]

    def __init__(self) -> None:
        super().__init__()
        self.session_ids: list[str] = []

    @initialize()
    def start_empty(self) -> None:
        self.differential.empty()

    # --- choosing what to act on ---------------------------------------------------------

    def target_id(self, data: st.DataObject) -> str:
        if not self.session_ids or data.draw(st.integers(0, 9), label="stranger") == 0:
            return data.draw(st.sampled_from(["", " ", "01ARZ3NDEKTSV4RRFFQ69G5FAV", "x" * 129]))
        session_id = data.draw(st.sampled_from(self.session_ids), label="session")
        if data.draw(st.integers(0, 5), label="respelled") == 0:
            return data.draw(st.sampled_from(inputs.id_spellings(session_id)), label="spelling")
        return session_id

    def same(self, label: str, call: Any, *, same_moment: bool = False) -> Any:
        return self.differential.same(label, call, same_moment=same_moment)

    # --- the rules -----------------------------------------------------------------------

    @rule(
        actor=inputs.actor_names(),
        title=inputs.titles(),
        metadata=inputs.metadata(),
        same_moment=st.booleans(),
    )
    def create(self, *, actor: str, title: str | None, metadata: Any, same_moment: bool) -> None:
        outcome = self.same(
            f"create({actor!r}, title={title!r}, metadata={metadata!r})",
            lambda s: s.create(actor, title=title, metadata=metadata),
            same_moment=same_moment,
        )
        if not outcome.failed:
            self.session_ids.append(outcome.value.id)

    @rule(
        actor=st.sampled_from(["alpha", "alpha ", "Alpha", f"caf{inputs.NFC_E_ACUTE}"]),
        same_moment=st.booleans(),
    )
    def create_near_twin(self, *, actor: str, same_moment: bool) -> None:
        """Sessions of actors whose names differ by one space, case or normal form: the
        cases collations get wrong, made often enough that listings and purges meet them."""
        self.create(actor=actor, title=None, metadata=None, same_moment=same_moment)

    @rule(data=st.data())
    def get(self, data: st.DataObject) -> None:
        session_id = self.target_id(data)
        self.same(f"get({session_id!r})", lambda s: s.get(session_id))

    @rule(
        data=st.data(),
        role=inputs.roles(),
        content=inputs.contents(),
        metadata=inputs.metadata(),
        token_count=inputs.counts(),
        expected=st.none() | inputs.window_values(),
        same_moment=st.booleans(),
    )
    def append_message(
        self,
        *,
        data: st.DataObject,
        role: str,
        content: str,
        metadata: Any,
        token_count: Any,
        expected: Any,
        same_moment: bool,
    ) -> None:
        session_id = self.target_id(data)
        self.same(
            f"append_message({session_id!r}, {role!r}, {content[:40]!r}, metadata={metadata!r}, "
            f"token_count={token_count!r}, expected_sequence={expected!r})",
            lambda s: s.append_message(
                session_id,
                role,
                content,
                metadata=metadata,
                token_count=token_count,
                expected_sequence=expected,
            ),
            same_moment=same_moment,
        )

    @rule(
        data=st.data(),
        batch=st.lists(
            st.tuples(inputs.roles(), inputs.contents(), inputs.metadata(), inputs.counts()),
            max_size=4,
        ),
        as_mappings=st.booleans(),
        expected=st.none() | inputs.window_values(),
    )
    def append_messages(
        self,
        *,
        data: st.DataObject,
        batch: list[tuple[str, str, Any, Any]],
        as_mappings: bool,
        expected: Any,
    ) -> None:
        session_id = self.target_id(data)
        items: list[Any] = [
            {"role": r, "content": c, "metadata": m, "token_count": t}
            if as_mappings
            else NewMessage(r, c, m, t)
            for r, c, m, t in batch
        ]
        self.same(
            f"append_messages({session_id!r}, {items!r:.300}, expected_sequence={expected!r})",
            lambda s: s.append_messages(session_id, items, expected_sequence=expected),
        )

    @rule(
        data=st.data(),
        window=st.dictionaries(
            st.sampled_from(["limit", "offset", "after_sequence", "before_sequence", "last"]),
            inputs.window_values(),
            max_size=2,
        ),
    )
    def get_messages(self, *, data: st.DataObject, window: dict[str, Any]) -> None:
        session_id = self.target_id(data)
        self.same(
            f"get_messages({session_id!r}, **{window!r})",
            lambda s: s.get_messages(session_id, **window),
        )

    @rule(
        limit=st.sampled_from([1, 2, 3, 7, 50]) | inputs.window_values(),
        actor=st.none() | inputs.actor_names(),
        order=st.sampled_from(ORDERS),
    )
    def list_through_cursors(self, *, limit: Any, actor: str | None, order: str) -> None:
        follow_listing(self.differential, limit=limit, actor=actor, order=order, same_moment=False)

    @rule(
        limit=inputs.window_values(), offset=inputs.window_values(), order=st.sampled_from(ORDERS)
    )
    def list_with_offset(self, *, limit: Any, offset: Any, order: str) -> None:
        self.same(
            f"list(limit={limit!r}, offset={offset!r}, order_by={order!r})",
            lambda s: s.list(limit=limit, offset=offset, order_by=order),
        )

    @rule(
        data=st.data(),
        spent=st.tuples(inputs.counts(), inputs.counts()),
        same_moment=st.booleans(),
    )
    def update_token_usage(
        self, *, data: st.DataObject, spent: tuple[Any, Any], same_moment: bool
    ) -> None:
        session_id = self.target_id(data)
        given = {"input_tokens": spent[0] or 0, "output_tokens": spent[1] or 0}
        self.same(
            f"update_token_usage({session_id!r}, **{given!r})",
            lambda s: s.update_token_usage(session_id, **given),
            same_moment=same_moment,
        )

    @rule(data=st.data(), signed=st.booleans(), twice=st.booleans())
    def export_and_import(self, *, data: st.DataObject, signed: bool, twice: bool) -> None:
        session_id = self.target_id(data)
        key = SIGNING_KEY if signed else None
        exported = self.same(
            f"export_session({session_id!r}, signed={signed})",
            lambda s: s.export_session(session_id, signing_key=key),
        )
        if exported.failed:
            return
        document = exported.value
        # Imports of one document keep its timestamps: twins tie on time, ids decide.
        for _ in range(2 if twice else 1):
            imported = self.same(
                f"import_session(export of {session_id!r})",
                lambda s: s.import_session(document, signing_key=key),
            )
            if not imported.failed:
                self.session_ids.append(imported.value.id)

    @rule(data=st.data(), field=st.sampled_from(["actor_name", "title", "metadata", "created_at"]))
    def import_altered_document(self, *, data: st.DataObject, field: str) -> None:
        session_id = self.target_id(data)
        exported = self.same(
            f"export_session({session_id!r})", lambda s: s.export_session(session_id)
        )
        if exported.failed:
            return
        altered = json.loads(json.dumps(exported.value))
        altered["session"][field] = data.draw(inputs.actor_names(), label="altered value")
        self.same(
            f"import_session(export of {session_id!r} with {field} altered)",
            lambda s: s.import_session(altered),
        )

    @rule(data=st.data())
    def export_to_file_and_back(self, data: st.DataObject) -> None:
        session_id = self.target_id(data)

        def round_trip(service: SessionService) -> tuple[bytes, Any]:
            file = io.BytesIO()
            service.export_session_to_file(session_id, file)
            written = file.getvalue()
            file.seek(0)
            return written, service.import_session_from_file(file)

        outcome = self.same(f"export_session_to_file({session_id!r}) and back", round_trip)
        if not outcome.failed:
            self.session_ids.append(outcome.value[1].id)

    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        session_id = self.target_id(data)
        self.same(f"delete({session_id!r})", lambda s: s.delete(session_id))

    @rule(
        seconds=st.sampled_from([0, 1, 2, 5, 30, 3600, -1]),
        actor=st.none() | inputs.actor_names(),
        dry_run=st.booleans(),
        same_moment=st.booleans(),
    )
    def purge(self, *, seconds: int, actor: str | None, dry_run: bool, same_moment: bool) -> None:
        age = timedelta(seconds=seconds)
        self.same(
            f"purge_sessions({age!r}, actor_name={actor!r}, dry_run={dry_run})",
            lambda s: s.purge_sessions(age, actor_name=actor, dry_run=dry_run),
            same_moment=same_moment,
        )

    @invariant()
    def statistics_agree(self) -> None:
        self.same("statistics()", lambda s: s.statistics(), same_moment=True)
