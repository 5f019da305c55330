from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from payops.workflow.clock import FakeClock, use_clock
from payops.workflow.definition import Workflow
from payops.workflow.registry import register, unregister


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    with use_clock(FakeClock()) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def registered() -> Iterator[Callable[[Workflow], Workflow]]:
    """Register test workflows for one test only."""
    names: list[str] = []

    def add(workflow: Workflow) -> Workflow:
        names.append(workflow.name)
        return register(workflow)

    yield add
    for name in names:
        unregister(name)
