"""Fixtures for the state-machine tests: the real ASL executed by moto's interpreter, with the
real handlers, the stack deployed from template.yaml and the EMR side emulated."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import pytest
from hippolyte_local.session import LocalSession, local_session

from tests.statemachine.fleet_support import TEST_PARAMETERS
from tests.support.aws_rules import FakeClock, StrictAws


@pytest.fixture
def stack_parameters() -> dict[str, str]:
    """The stack's parameters for the session fixtures below (a module may override it: the emr
    engine runs the Data Pipeline scenarios again with its own)."""
    return TEST_PARAMETERS


@pytest.fixture
def session(stack_parameters: dict[str, str]) -> Iterator[LocalSession]:
    """A fresh deployed stack in in-memory AWS."""
    with local_session(parameters=stack_parameters) as deployed:
        yield deployed


@pytest.fixture
def session_factory(stack_parameters: dict[str, str]) -> Iterator[Any]:
    """Deploys a stack with custom options (fault hooks, EMR behaviour); torn down after the test."""
    with ExitStack() as stack:

        def make(**options: Any) -> LocalSession:
            options.setdefault("parameters", stack_parameters)
            return stack.enter_context(local_session(**options))

        yield make


@pytest.fixture
def strict_session(stack_parameters: dict[str, str]) -> Iterator[Callable[..., tuple[LocalSession, StrictAws]]]:
    """A deployed stack under StrictAws; its fake clock is the run's one time source.

    Whatever the fault, no pipeline may be activated twice: AWS would cancel its running exports
    and start them over (StrictAws records each such call).
    """
    made: list[StrictAws] = []
    with ExitStack() as stack:

        def make(start: datetime | None = None, **options: Any) -> tuple[LocalSession, StrictAws]:
            strict = StrictAws(auto_advance_on_describe=True, clock=FakeClock(start) if start else None)
            made.append(strict)
            options.setdefault("parameters", stack_parameters)
            session = stack.enter_context(
                local_session(extra=lambda s: s.enter_context(strict), clock=strict.clock, **options)
            )
            return session, strict

        yield make
    for strict in made:
        assert strict.reactivations == [], "a pipeline was activated again: AWS re-runs it from the start"
