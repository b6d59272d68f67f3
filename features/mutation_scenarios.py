"""The test command of mutation testing: Behave on the scenarios of the mutated module only.

cosmic-ray mutates one file of a worker's copy of the tree and runs this command there; it
says nothing of which file, so the module that differs from the pristine copy is the one
mutated. Its scenarios (``mutation_selection.MODULE_SCENARIOS``) run on SQLite, stopping at
the first failure: a few seconds a mutant instead of a minute for one list for all.

Usage: ``python features/mutation_scenarios.py PRISTINE_TREE`` from the worker's tree. With no
module mutated (cosmic-ray's baseline) every listed feature runs, once per facade.
"""

from __future__ import annotations

import filecmp
import os
import subprocess
import sys
from pathlib import Path

from behave.__main__ import main as behave_main
from mutation_selection import MODULE_SCENARIOS, MUTATION_TAGS

# Behave's variables for the database and the facade; the mutation run sets them itself.
DATABASE_URL_VARIABLE = "CLEVERAGENTS_TEST_DATABASE_URL"
FACADE_VARIABLE = "CLEVERAGENTS_TEST_FACADE"


def mutated_modules(tree: Path, pristine: Path) -> list[str]:
    """The listed modules whose text in ``tree`` differs from ``pristine``."""
    return [
        module
        for module in MODULE_SCENARIOS
        if not filecmp.cmp(tree / module, pristine / module, shallow=False)
    ]


def behave_arguments(features: tuple[str, ...]) -> list[str]:
    """Behave's arguments for ``features``: the fast subset, stopping at the first failure."""
    return [
        "--stop",
        # The failing step and its error, in the run's record of the mutant.
        "--format=plain",
        "--no-skipped",
        "--no-summary",
        f"--tags={MUTATION_TAGS}",
        *features,
    ]


def use_sqlite_and(facade: str) -> None:
    """Set this process's environment for Behave: SQLite, and the facade to test."""
    os.environ.pop(DATABASE_URL_VARIABLE, None)
    os.environ[FACADE_VARIABLE] = facade


def baseline() -> int:
    """Every listed feature, one Behave process per facade: all pass on the unmutated tree."""
    for facade in sorted({scenarios.facade for scenarios in MODULE_SCENARIOS.values()}):
        features = {
            feature
            for scenarios in MODULE_SCENARIOS.values()
            if scenarios.facade == facade
            for feature in scenarios.features
        }
        use_sqlite_and(facade)
        command = [sys.executable, "-m", "behave", *behave_arguments(tuple(sorted(features)))]
        status = subprocess.run(command, check=False).returncode
        if status != 0:
            return status
    return 0


def main(arguments: list[str]) -> int:
    # cosmic-ray keeps the command's standard output only.
    sys.stderr = sys.stdout
    if len(arguments) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    mutated = mutated_modules(Path.cwd(), Path(arguments[0]))
    if not mutated:
        return baseline()
    if len(mutated) > 1:
        # Never the case with cosmic-ray; the status says so instead of guessing.
        print(f"more than one module mutated: {', '.join(mutated)}")
        return 2
    scenarios = MODULE_SCENARIOS[mutated[0]]
    use_sqlite_and(scenarios.facade)
    return behave_main(behave_arguments(scenarios.features))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
