"""Driving executions in tests: a deterministic stand-in for Celery workers and beat.

Unit tests run inside a transaction that never commits, so no step message is ever sent;
``run_due`` plays the workers, running every step that is due at the fake clock's time.
"""

from __future__ import annotations

from typing import Any

from payops.workflow.models import ExecutionStatus, StepRun, StepStatus, WorkflowExecution
from payops.workflow.runner import step_run


def run_due(*, limit: int = 200) -> list[str]:
    """Run due steps (and the steps they make due) until nothing is due now."""
    from payops.workflow import clock

    outcomes: list[str] = []
    for _ in range(limit):
        step = (
            StepRun.objects.filter(
                status__in=[StepStatus.SCHEDULED, StepStatus.WAITING],
                due_at__lte=clock.now(),
                execution__status=ExecutionStatus.RUNNING,
                execution__paused_at__isnull=True,
            )
            .order_by("due_at", "pk")
            .first()
        )
        if step is None:
            return outcomes
        outcomes.append(step_run(step_id=step.pk))
    raise AssertionError(f"still running after {limit} steps: {outcomes[-5:]}")


def steps_of(execution: WorkflowExecution) -> list[tuple[str, int, str]]:
    """(state, attempt, status) of every step, in order."""
    return list(execution.steps.order_by("sequence").values_list("state", "attempt", "status"))


def reload(execution: WorkflowExecution) -> WorkflowExecution:
    execution.refresh_from_db()
    return execution


def open_step(execution: WorkflowExecution) -> StepRun:
    return execution.steps.get(status__in=[StepStatus.SCHEDULED, StepStatus.RUNNING, StepStatus.WAITING])


class Calls:
    """A task double: records its inputs, fails as told, returns what it is given."""

    def __init__(self, result: Any = None, failures: list[BaseException] | None = None) -> None:
        self.result = result
        self.failures = list(failures or [])
        self.inputs: list[Any] = []
        self.__name__ = self.__qualname__ = "calls"

    def __call__(self, ctx: Any) -> Any:
        self.inputs.append(ctx.input)
        if self.failures:
            raise self.failures.pop(0)
        return self.result(ctx) if callable(self.result) else self.result
