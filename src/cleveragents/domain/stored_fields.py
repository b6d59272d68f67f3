"""The fields a session and a message store, taken once from the entities themselves.

The row mapping selects its columns by these names, the export document carries them as its
keys, and the Robot keyword library and the benchmark baselines compare and decode by them,
so a field added to an entity reaches every one of them (and a missing column fails at
import).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import fields
from typing import Any, TypeVar

from cleveragents.domain.session import Session, SessionMessage

T = TypeVar("T")

# Declaration order, which is also the order of the table columns and the export document.
SESSION_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(Session))
MESSAGE_FIELDS: tuple[str, ...] = tuple(field.name for field in fields(SessionMessage))


def builder_from_values(
    entity: type[T],
    names: Sequence[str],
    convert: Mapping[str, Callable[[Any], Any]] | None = None,
) -> Callable[[Sequence[Any]], T]:
    """A function building ``entity`` from a sequence of values in ``names`` order.

    ``convert`` names a function to pass some fields' values through first. A sequence of
    the wrong length raises :class:`ValueError`, a rejected value what its converter raises.

    The function is compiled once from its source, as :mod:`dataclasses` compiles
    ``__init__``: it unpacks and passes keywords directly, where a dictionary built per row
    from the names costs about a third more per decoded row on long histories.
    """
    convert = dict(convert or {})
    known = {field.name for field in fields(entity)}  # type: ignore[arg-type]
    unknown = sorted((set(names) - known) | (set(convert) - set(names)))
    if unknown:
        raise ValueError(f"{entity.__name__} is not built from {', '.join(unknown)}")
    arguments = ", ".join(
        f"{name}=_convert_{name}({name})" if name in convert else f"{name}={name}" for name in names
    )
    source = "\n".join(
        (
            "def build(_values):",
            f"    ({', '.join(names)},) = _values",
            f"    return _entity({arguments})",
        )
    )
    namespace: dict[str, Any] = {"_entity": entity}
    namespace.update({f"_convert_{name}": function for name, function in convert.items()})
    # The source is made of the entity's own field names, checked above, never of data.
    exec(source, namespace)  # noqa: S102
    built: Callable[[Sequence[Any]], T] = namespace["build"]
    built.__qualname__ = f"build_{entity.__name__}"
    return built
