"""What the rest of payops does with workflows: start one, decide an approval, signal a waiting
task, pause, resume or stop an execution. Each call is one transaction holding the execution."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction

from payops.workflow import clock
from payops.workflow.definition import DECISIONS, Approval, Task
from payops.workflow.dispatch import schedule_step
from payops.workflow.engine import (
    ErrorInfo,
    complete_task,
    decide,
    enter,
    fail_step,
    finish,
    lock_execution,
    open_step,
    workflow_of,
)
from payops.workflow.models import ExecutionStatus, StepRun, StepStatus, WorkflowExecution
from payops.workflow.registry import get_workflow


class WorkflowActionNotAllowed(Exception):
    """The execution is not in a place where this can be done (e.g. not waiting for approval)."""


def execution_start(*, workflow: str, input: dict[str, Any], order_id: int | None = None) -> WorkflowExecution:
    """Start ``workflow``; for an order that already has an execution of it, return that one."""
    definition = get_workflow(workflow)
    if order_id is not None:
        existing = WorkflowExecution.objects.filter(workflow=workflow, order_id=order_id).first()
        if existing is not None:
            return existing
    now = clock.now()
    try:
        with transaction.atomic():
            execution = WorkflowExecution.objects.create(
                workflow=workflow,
                version=definition.version,
                order_id=order_id,
                input=input,
                data=input,
                current_state=definition.start_at,
                started_at=now,
            )
            enter(execution, definition.start_at, input, now=now)
    except IntegrityError:
        if order_id is None:
            raise
        return WorkflowExecution.objects.get(workflow=workflow, order_id=order_id)  # started at the same moment
    return execution


@transaction.atomic
def approval_decide(
    *, execution_id: int, decision: str, user: AbstractBaseUser | None, note: str = ""
) -> WorkflowExecution:
    """A person approves or rejects the execution's current Approval state."""
    if decision not in DECISIONS:
        raise ValueError(f"decision must be one of {DECISIONS}")
    execution = lock_execution(execution_id)
    step = open_step(execution)
    state = workflow_of(execution).states.get(step.state) if step else None
    if step is None or step.status != StepStatus.WAITING or not isinstance(state, Approval):
        where = f"at {execution.current_state}" if execution.status == ExecutionStatus.RUNNING else execution.status
        raise WorkflowActionNotAllowed(f"execution {execution.pk} is not waiting for approval ({where})")
    decide(execution, step, state, decision, user=user, note=note, now=clock.now())
    return execution


@transaction.atomic
def execution_send_success(*, execution_id: int, state: str, output: Any = None) -> bool:
    """A callback task's awaited event happened (ASL SendTaskSuccess). False if the execution is
    not at ``state`` (the task will find the event itself when it gets there)."""
    execution = lock_execution(execution_id)
    step = _callback_step(execution, state)
    if step is None:
        return False
    if step.status == StepStatus.RUNNING:
        step.early_signal = {"output": output}
        step.save(update_fields=["early_signal"])
        return True
    complete_task(execution, step, output, now=clock.now())
    return True


@transaction.atomic
def execution_send_failure(*, execution_id: int, state: str, error: str, cause: str = "") -> bool:
    """A callback task's awaited work failed (ASL SendTaskFailure): Retry/Catch decide."""
    execution = lock_execution(execution_id)
    step = _callback_step(execution, state)
    if step is None:
        return False
    if step.status == StepStatus.RUNNING:
        step.early_signal = {"error": error, "cause": cause}
        step.save(update_fields=["early_signal"])
        return True
    fail_step(execution, step, ErrorInfo(error, cause), now=clock.now())
    return True


def _callback_step(execution: WorkflowExecution, state: str) -> StepRun | None:
    if execution.status != ExecutionStatus.RUNNING or execution.current_state != state:
        return None
    definition = workflow_of(execution).states.get(state)
    step = open_step(execution)
    if step is None or not isinstance(definition, Task) or not definition.callback:
        return None
    return step if step.status in (StepStatus.RUNNING, StepStatus.WAITING) else None


@transaction.atomic
def execution_pause(*, execution_id: int, reason: str) -> bool:
    """Hold the execution: no step starts and no timer fires until it is resumed."""
    execution = lock_execution(execution_id)
    if execution.status != ExecutionStatus.RUNNING or execution.paused_at is not None:
        return False
    execution.paused_at, execution.pause_reason = clock.now(), reason[:255]
    execution.save(update_fields=["paused_at", "pause_reason", "updated_at"])
    return True


@transaction.atomic
def execution_resume(*, execution_id: int) -> bool:
    """Let the execution go on. Timers stopped while it was paused: a wait or an approval gets
    back the time the pause took, so a long dispute does not turn into an approval timeout."""
    execution = lock_execution(execution_id)
    if execution.status != ExecutionStatus.RUNNING or execution.paused_at is None:
        return False
    now = clock.now()
    paused_for = now - execution.paused_at
    execution.paused_at, execution.pause_reason = None, ""
    execution.save(update_fields=["paused_at", "pause_reason", "updated_at"])
    step = open_step(execution)
    if step is not None and step.status != StepStatus.RUNNING:
        if step.status == StepStatus.WAITING and step.due_at is not None:
            step.due_at += paused_for
            step.save(update_fields=["due_at"])
        schedule_step(step, now=now)
    return True


@transaction.atomic
def execution_stop(*, execution_id: int, error: str, cause: str) -> bool:
    """End a running execution where it is (ASL StopExecution); its open step is cancelled."""
    execution = lock_execution(execution_id)
    if execution.status != ExecutionStatus.RUNNING:
        return False
    now = clock.now()
    step = open_step(execution)
    if step is not None:
        step.status, step.finished_at, step.cause = StepStatus.CANCELLED, now, cause
        step.save(update_fields=["status", "finished_at", "cause"])
    finish(execution, ExecutionStatus.ABORTED, now=now, error=error, cause=cause)
    return True
