"""Steps that check the list of scenarios mutation testing runs for each module."""

from __future__ import annotations

from pathlib import Path

from behave import then
from behave.runner import Context
from mutation_selection import missing_features, modules_without_scenarios

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@then("every Python module under the mutated packages has features listed for its mutants")
def then_every_module_listed(context: Context) -> None:
    left_out = modules_without_scenarios(PROJECT_ROOT)
    assert not left_out, f"no features listed for {left_out} in features/mutation_selection.py"


@then("every feature listed for mutation testing is a file of the suite")
def then_every_feature_exists(context: Context) -> None:
    missing = missing_features(PROJECT_ROOT)
    assert not missing, f"features/mutation_selection.py names missing files: {missing}"
