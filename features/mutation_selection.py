"""The scenarios that test each module of the domain and the use cases, for mutation testing.

A mutant of one module is tested by that module's features only (``mutation_scenarios.py``),
minus the scenarios tagged ``@slow``: what a few seconds of scenarios can catch. The features
come first that fail soonest on a typical mutant, as the run stops at the first failure. Every
module of ``domain/`` and ``application/`` has an entry, new ones too
(``features/mutation_selection.feature`` checks it), so no mutant runs without scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The scenarios each mutant runs: all of the module's features except the slow scenarios.
MUTATION_TAGS = "not @slow"
MUTATED_PACKAGES = ("src/cleveragents/domain", "src/cleveragents/application")


@dataclass(frozen=True)
class Scenarios:
    """The features that test one module, and the facade to run them through."""

    features: tuple[str, ...]
    facade: str = "sync"


def features(*names: str) -> tuple[str, ...]:
    """``features/NAME.feature`` for each name."""
    return tuple(f"features/{name}.feature" for name in names)


# The features that test the service's rules through its synchronous facade; most modules
# are reached only through them.
SERVICE_RULES = features(
    "session_errors",
    "session_persistence",
    "batch_append",
    "append_safety",
)
ASYNC_FACADE = Scenarios(features("async_service", "session_persistence"), facade="async")

MODULE_SCENARIOS: dict[str, Scenarios] = {
    "src/cleveragents/domain/__init__.py": Scenarios(features("session_persistence")),
    "src/cleveragents/domain/async_session_service.py": Scenarios(
        features("service_contract", "async_service")
    ),
    "src/cleveragents/domain/errors.py": Scenarios(features("session_errors", "no_secrets")),
    "src/cleveragents/domain/limits.py": Scenarios(
        features("session_errors", "message_windows", "import_validation", "import_limits")
        + features("session_listing", "migrations")
    ),
    "src/cleveragents/domain/scoped_state.py": Scenarios(
        features("scoped_state", "immutable_entities")
    ),
    "src/cleveragents/domain/session.py": Scenarios(
        features("immutable_entities", "service_contract", "session_persistence", "statistics")
    ),
    "src/cleveragents/domain/session_service.py": Scenarios(
        features("service_contract", "streaming_export")
    ),
    "src/cleveragents/domain/stored_fields.py": Scenarios(
        features("import_validation", "loud_reads", "session_persistence")
    ),
    "src/cleveragents/application/__init__.py": Scenarios(features("session_persistence")),
    "src/cleveragents/application/services/__init__.py": Scenarios(features("session_persistence")),
    "src/cleveragents/application/services/async_facade.py": ASYNC_FACADE,
    "src/cleveragents/application/services/async_persistent_session_service.py": ASYNC_FACADE,
    "src/cleveragents/application/services/async_scoped_state_service.py": Scenarios(
        features("scoped_state"), facade="async"
    ),
    "src/cleveragents/application/services/blocking_calls.py": ASYNC_FACADE,
    "src/cleveragents/application/services/export_document.py": Scenarios(
        features("import_validation", "export_signing", "loud_reads", "import_limits")
        + features("session_persistence", "immutable_entities")
    ),
    "src/cleveragents/application/services/export_stream.py": Scenarios(
        features("streaming_export", "streaming_hostile", "import_limits", "export_signing")
        + features("import_validation")
    ),
    "src/cleveragents/application/services/identifiers.py": Scenarios(
        features("ulid_ids", "session_persistence", "batch_append", "caller_session_ids")
    ),
    "src/cleveragents/application/services/input_rules.py": Scenarios(
        features("import_validation", "message_windows", "session_listing", "retention")
        + features("caller_session_ids", "export_signing")
        + SERVICE_RULES
    ),
    "src/cleveragents/application/services/json_stream.py": Scenarios(
        features("streaming_hostile", "streaming_export", "import_limits", "import_validation")
    ),
    "src/cleveragents/application/services/persistent_session_service.py": Scenarios(
        SERVICE_RULES
        + features(
            "service_contract",
            "message_windows",
            "session_listing",
            "retention",
            "statistics",
            "clear_messages",
            "pop_last_message",
            "loud_reads",
        )
    ),
    "src/cleveragents/application/services/scoped_state_service.py": Scenarios(
        features("scoped_state", "adk_session_service")
    ),
    "src/cleveragents/application/services/sequence_rules.py": Scenarios(
        features("message_windows", "loud_reads", "append_safety", "pop_last_message")
        + features("session_persistence")
    ),
    "src/cleveragents/application/services/session_cursor.py": Scenarios(
        features("message_windows", "session_listing")
    ),
}


def modules_without_scenarios(root: Path) -> list[str]:
    """The Python modules under ``MUTATED_PACKAGES`` that ``MODULE_SCENARIOS`` leaves out."""
    modules = (
        path.relative_to(root).as_posix()
        for package in MUTATED_PACKAGES
        for path in (root / package).rglob("*.py")
    )
    return sorted(module for module in modules if module not in MODULE_SCENARIOS)


def missing_features(root: Path) -> list[str]:
    """The feature files ``MODULE_SCENARIOS`` names that do not exist."""
    named = {feature for scenarios in MODULE_SCENARIOS.values() for feature in scenarios.features}
    return sorted(feature for feature in named if not (root / feature).is_file())
