"""Steps that compare the service contracts' signatures with the library's services."""

from __future__ import annotations

import inspect
from typing import Any

from behave import then
from behave.runner import Context

from cleveragents import domain
from cleveragents.application import services


def parameters(method: Any) -> list[tuple[str, str, object]]:
    """Each parameter's name, kind and default: what a caller relies on (annotations may
    widen in an implementation, as an import taking a file too)."""
    return [
        (parameter.name, parameter.kind.description, parameter.default)
        for parameter in inspect.signature(method).parameters.values()
    ]


@then(
    "every abstract method of {contract} has the parameter names, kinds and defaults of {service}"
)
def then_same_parameters(context: Context, contract: str, service: str) -> None:
    declared, implementation = getattr(domain, contract), getattr(services, service)
    names = sorted(declared.__abstractmethods__)
    assert names, f"{contract} declares no abstract method"
    differences = {
        name: (parameters(getattr(declared, name)), parameters(getattr(implementation, name)))
        for name in names
        if parameters(getattr(declared, name)) != parameters(getattr(implementation, name))
    }
    assert not differences, differences


@then(
    "a TokenUsage built without arguments has {inputs:d} input, {outputs:d} output "
    "and {total:d} total tokens"
)
def then_empty_token_usage(context: Context, inputs: int, outputs: int, total: int) -> None:
    usage = domain.TokenUsage()
    counts = (usage.input_tokens, usage.output_tokens, usage.total_tokens)
    assert counts == (inputs, outputs, total), counts
