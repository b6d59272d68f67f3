"""Steps for the cross-backend differential test; the machinery is in ``features/sameness``."""

from __future__ import annotations

import os
import sys

from behave import given, then, when
from behave.runner import Context
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import run_state_machine_as_test
from sameness.backends import close_backends, open_backends
from sameness.differential import Differential
from sameness.fixed_program import run_fixed_program
from sameness.machine import SamenessMachine

# A larger random budget for a soak run, e.g. CLEVERAGENTS_SAMENESS_PROGRAMS=500.
PROGRAMS_VARIABLE = "CLEVERAGENTS_SAMENESS_PROGRAMS"
# Shrinking a failing program to its shortest form can take minutes; CI reports the
# program as found (with the differing call named), a developer sets this to shrink it.
SHRINK_VARIABLE = "CLEVERAGENTS_SAMENESS_SHRINK"

NO_SHRINKING = [Phase.explicit, Phase.reuse, Phase.generate, Phase.target]


@given("a service on each of SQLite, PostgreSQL and MariaDB, compared call by call")
def given_three_backends(context: Context) -> None:
    backends = open_backends(context.work_directory)
    context.add_cleanup(close_backends, backends)
    context.differential = Differential(backends)


@when("the fixed program of awkward inputs runs on all three")
def when_fixed_program(context: Context) -> None:
    run_fixed_program(context.differential)


@when("{programs:d} random programs of up to {steps:d} calls run on all three")
def when_random_programs(context: Context, programs: int, steps: int) -> None:
    machine = type("BoundSamenessMachine", (SamenessMachine,), {})
    machine.differential = context.differential
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=int(os.environ.get(PROGRAMS_VARIABLE) or programs),
            stateful_step_count=steps,
            deadline=None,
            database=None,
            print_blob=True,
            phases=list(Phase) if os.environ.get(SHRINK_VARIABLE) else NO_SHRINKING,
            suppress_health_check=list(HealthCheck),
        ),
    )


@then("the backends agreed on every call, at least {minimum:d} of them")
def then_agreed(context: Context, minimum: int) -> None:
    differential = context.differential
    kinds = ", ".join(f"{name} {count}" for name, count in sorted(differential.compared.items()))
    print(
        f"    [sameness] {differential.calls} calls agreed on "
        f"{', '.join(backend.name for backend in differential.backends)} ({kinds})",
        file=sys.__stderr__,
        flush=True,
    )
    assert differential.calls >= minimum, f"only {differential.calls} calls were compared"
