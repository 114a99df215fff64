"""Fixtures for the state-machine tests: the real ASL executed by moto's interpreter, with the
real handlers, the stack deployed from template.yaml and the EMR side emulated."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from hippolyte.local.session import LocalSession, local_session

from tests.statemachine.fleet_support import TEST_PARAMETERS


@pytest.fixture
def session() -> Iterator[LocalSession]:
    """A fresh deployed stack in in-memory AWS."""
    with local_session(parameters=TEST_PARAMETERS) as deployed:
        yield deployed


@pytest.fixture
def session_factory() -> Iterator[Any]:
    """Deploys a stack with custom options (fault hooks, EMR behaviour); torn down after the test."""
    with ExitStack() as stack:

        def make(**options: Any) -> LocalSession:
            options.setdefault("parameters", TEST_PARAMETERS)
            return stack.enter_context(local_session(**options))

        yield make
