"""Running one step in a worker, and the sweep that recovers what workers lost.

A step runs in three parts:

1. claim (a transaction holding the execution): the step must be scheduled and due, and the
   execution running and not paused; it becomes ``running`` with a lease of the task's timeout;
2. run the task callable, with no transaction and no lock held (it may call Stripe);
3. record (a transaction holding the execution), only if the step is still ``running``.

A worker that dies between 2 and 3 leaves the step ``running``. When its lease ends the sweep
fails it with ``States.Timeout`` and Retry runs the task again, so tasks make their side effects
idempotent with keys derived from ``StepContext.idempotency_key``: the second run finds the
refund, the mail or the event it made the first time and does not make another.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from payops.workflow import clock
from payops.workflow.definition import RUNTIME, TIMEOUT, DefinitionError, Done, StepContext, Task, seconds
from payops.workflow.dispatch import schedule_step, send_step
from payops.workflow.engine import (
    ErrorInfo,
    complete_task,
    fail_step,
    finish,
    fire_timer,
    lock_execution,
    record_success,
    workflow_of,
)
from payops.workflow.models import ExecutionStatus, StepRun, StepStatus, WorkflowExecution

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Claim:
    execution_id: int
    step_id: int
    task: Task
    context: StepContext


def step_run(*, step_id: int, execution_id: int | None = None) -> str:
    """Run step ``step_id`` if it is due; returns what happened. Safe to call twice."""
    claim = _claim(step_id, execution_id)
    if isinstance(claim, str):
        return claim
    try:
        result = claim.task.run(claim.context)
    except Exception as exc:
        logger.warning("workflow step %s (%s) failed: %r", claim.step_id, claim.context.state, exc)
        return _record(claim, error=ErrorInfo.from_exception(exc))
    return _record(claim, result=result)


@transaction.atomic
def _claim(step_id: int, execution_id: int | None) -> _Claim | str:
    if execution_id is None:  # a message without it (sent by an older payops)
        execution_id = StepRun.objects.filter(pk=step_id).values_list("execution_id", flat=True).first()
        if execution_id is None:
            return "no such step"
    execution = lock_execution(execution_id)
    # Read after the lock, in a statement of its own, so it sees what the previous holder of the
    # lock committed (a step fetched in the locking statement could be older). Every change of a
    # step is made holding its execution's lock.
    step = StepRun.objects.filter(pk=step_id, execution_id=execution_id).first()
    if step is None:
        return "no such step"
    now = clock.now()
    if execution.status != ExecutionStatus.RUNNING:
        return f"execution {execution.status}"
    if execution.paused_at is not None:
        return "execution paused"
    if step.due_at is not None and step.due_at > now:
        return f"step {step.status}, due later"
    if step.status == StepStatus.WAITING:
        fire_timer(execution, step, now=now)
        return "timer fired"
    if step.status == StepStatus.RUNNING:
        _lease_expired(execution, step, now=now)
        return "lease expired"
    if step.status != StepStatus.SCHEDULED:
        return f"step {step.status}"
    try:
        task = workflow_of(execution).state(step.state)
    except DefinitionError as exc:
        finish(execution, ExecutionStatus.FAILED, now=now, error=RUNTIME, cause=str(exc))
        return "definition missing"
    assert isinstance(task, Task)
    step.status, step.started_at = StepStatus.RUNNING, now
    step.due_at = now + dt.timedelta(seconds=seconds(task.timeout_seconds))
    step.save(update_fields=["status", "started_at", "due_at"])
    context = StepContext(
        execution_id=execution.pk,
        order_id=execution.order_id,
        state=step.state,
        attempt=step.attempt,
        visit=step.visit,
        input=step.input,
        now=now,
    )
    return _Claim(execution.pk, step.pk, task, context)


@transaction.atomic
def _record(claim: _Claim, *, result: Any = None, error: ErrorInfo | None = None) -> str:
    execution = lock_execution(claim.execution_id)
    now = clock.now()
    if error is None and not claim.task.callback and execution.status == ExecutionStatus.RUNNING:
        # The common case in one statement: the step is still ours (running) → succeeded.
        recorded = record_success(execution, claim.step_id, claim.task, result, now=now)
        if recorded is not None:
            return "succeeded" if recorded else "result dropped"
    step = StepRun.objects.get(pk=claim.step_id)
    if step.status != StepStatus.RUNNING or execution.status != ExecutionStatus.RUNNING:
        # Our lease ran out and the sweep gave the step to a retry, or the execution was stopped.
        logger.warning("workflow step %s finished after it was given up (%s); result dropped", step.pk, step.status)
        return "result dropped"
    if error is not None:
        fail_step(execution, step, error, now=now)
        return f"failed: {error.name}"
    if claim.task.callback and not isinstance(result, Done):
        return _await_signal(execution, step, claim.task, now=now)
    complete_task(execution, step, result.output if isinstance(result, Done) else result, now=now)
    return "succeeded"


def _await_signal(execution: WorkflowExecution, step: StepRun, task: Task, *, now: dt.datetime) -> str:
    signal = step.early_signal
    if signal is not None:  # it arrived while the task was running
        if "error" in signal:
            fail_step(execution, step, ErrorInfo(signal["error"], signal.get("cause", "")), now=now)
            return "failed by signal"
        complete_task(execution, step, signal.get("output"), now=now)
        return "succeeded by signal"
    step.status = StepStatus.WAITING
    step.due_at = (step.started_at or now) + dt.timedelta(seconds=seconds(task.callback_timeout_seconds))
    step.save(update_fields=["status", "due_at"])
    schedule_step(step, now=now)
    return "waiting for signal"


def _lease_expired(execution: WorkflowExecution, step: StepRun, *, now: dt.datetime) -> None:
    held = int((now - (step.started_at or now)).total_seconds())
    cause = f"no result after {held} s: the step ran past its timeout or its worker stopped"
    fail_step(execution, step, ErrorInfo(TIMEOUT, cause), now=now)


# --- the sweep ----------------------------------------------------------------------------------


def workflow_recover(*, limit: int = 500) -> dict[str, int]:
    """Periodic: fail steps whose worker's lease ran out, and send every due step whose message
    is missing or late (lost, purged, or no worker was up when it was due)."""
    now = clock.now()
    outcome = {"timed_out": 0, "sent": 0}
    expired = StepRun.objects.filter(
        status=StepStatus.RUNNING, due_at__lt=now, execution__status=ExecutionStatus.RUNNING
    ).values_list("pk", flat=True)
    for step_id in list(expired[:limit]):
        outcome["timed_out"] += _expire(step_id, now=now)
    late = now - dt.timedelta(seconds=settings.PAYOPS_WORKFLOW_REDISPATCH_SECONDS)
    due = (
        StepRun.objects.filter(
            status__in=[StepStatus.SCHEDULED, StepStatus.WAITING],
            due_at__lte=now,
            execution__status=ExecutionStatus.RUNNING,
            execution__paused_at__isnull=True,
        )
        .filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=late, due_at__lte=late))
        .order_by("due_at")
        .values_list("pk", "execution_id")
    )
    for step_id, execution_id in list(due[:limit]):
        StepRun.objects.filter(pk=step_id).update(dispatched_at=now)
        send_step(step_id, execution_id)
        outcome["sent"] += 1
    if any(outcome.values()):
        logger.info("workflow sweep: %s", outcome)
    return outcome


@transaction.atomic
def _expire(step_id: int, *, now: dt.datetime) -> int:
    execution = lock_execution(StepRun.objects.values_list("execution_id", flat=True).get(pk=step_id))
    step = StepRun.objects.select_for_update().get(pk=step_id)
    if step.status != StepStatus.RUNNING or step.due_at is None or step.due_at >= now:
        return 0
    _lease_expired(execution, step, now=now)
    return 1
