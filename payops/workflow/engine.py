"""Moving an execution through its states: entering a state, finishing a step, routing an
error through Retry and Catch, firing timers.

Every function here runs inside a transaction that holds the execution row
(``select_for_update``). Nothing here locks an order or calls out of the process: task code runs
outside these transactions (``runner.py``), so the lock order is always order → execution when a
domain service signals an execution, and never the reverse.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder

from payops.workflow.definition import (
    ALL,
    DATA_LIMIT,
    RUNTIME,
    TASK_FAILED,
    TIMEOUT,
    Approval,
    Choice,
    Done,
    Fail,
    State,
    Succeed,
    Task,
    Wait,
    Workflow,
    seconds,
)
from payops.workflow.dispatch import plan_dispatch, send_after_commit
from payops.workflow.models import ExecutionStatus, StepRun, StepStatus, WorkflowExecution
from payops.workflow.paths import PathError, get_path, set_path
from payops.workflow.registry import get_workflow
from payops.workflow.rules import choose

# A Choice that loops onto itself must not spin forever inside one transaction.
MAX_INLINE_TRANSITIONS = 100
_random = random.Random()


@dataclass(frozen=True)
class ErrorInfo:
    """An error as ASL sees it: a name to match Retry/Catch on, and a cause for people."""

    name: str
    cause: str
    # Further names that match: the exception's base classes (a catch on "GatewayError" also
    # takes GatewayUnavailable).
    aliases: tuple[str, ...] = ()

    @classmethod
    def from_exception(cls, exc: BaseException) -> ErrorInfo:
        classes = [k.__name__ for k in type(exc).__mro__ if k not in (Exception, BaseException, object)]
        name = getattr(exc, "error", None) or type(exc).__name__
        cause = getattr(exc, "cause", None) or str(exc) or type(exc).__name__
        return cls(str(name), str(cause)[:4000], tuple(classes))

    def matches(self, names: tuple[str, ...]) -> bool:
        if self.name == RUNTIME:
            return False  # as in Step Functions: neither retried nor caught
        for wanted in names:
            if wanted == ALL or (wanted == TASK_FAILED and self.name != TIMEOUT):
                return True
            if wanted == self.name or wanted in self.aliases:
                return True
        return False


def lock_execution(execution_id: int) -> WorkflowExecution:
    return WorkflowExecution.objects.select_for_update().get(pk=execution_id)


def open_step(execution: WorkflowExecution) -> StepRun | None:
    return (
        StepRun.objects.select_for_update()
        .filter(execution=execution, status__in=[StepStatus.SCHEDULED, StepStatus.RUNNING, StepStatus.WAITING])
        .first()
    )


def workflow_of(execution: WorkflowExecution) -> Workflow:
    return get_workflow(execution.workflow)


def enter(execution: WorkflowExecution, name: str, data: Any, *, now: dt.datetime) -> None:
    """Enter state ``name`` with ``data``; run the states that need no worker (Choice, Succeed,
    Fail) at once, and stop at the first one that does (Task, Wait, Approval)."""
    workflow = workflow_of(execution)
    for _ in range(MAX_INLINE_TRANSITIONS):
        if name not in workflow.states:
            finish(execution, ExecutionStatus.FAILED, now=now, error=RUNTIME, cause=f"no state {name!r}")
            return
        state = workflow.states[name]
        execution.current_state, execution.data = name, data
        step = _new_step(execution, name, state, now=now)
        if isinstance(state, Choice):
            target = choose(state, data)
            if target is None:
                _close(step, StepStatus.FAILED, now=now, error="States.NoChoiceMatched")
                finish(execution, ExecutionStatus.FAILED, now=now, error="States.NoChoiceMatched", cause=name)
                return
            _close(step, StepStatus.SUCCEEDED, now=now, output={"next": target}, input=data)
            name = target
            continue
        if isinstance(state, Succeed):
            _close(step, StepStatus.SUCCEEDED, now=now, input=data, output=data)
            finish(execution, ExecutionStatus.SUCCEEDED, now=now, output=data)
            return
        if isinstance(state, Fail):
            _close(step, StepStatus.FAILED, now=now, input=data, error=state.error, cause=state.cause)
            finish(execution, ExecutionStatus.FAILED, now=now, error=state.error, cause=state.cause)
            return
        try:
            delay = _open(step, state, data, now=now)
        except PathError as exc:
            _close(step, StepStatus.FAILED, now=now, error=RUNTIME, cause=str(exc))
            finish(execution, ExecutionStatus.FAILED, now=now, error=RUNTIME, cause=f"{name}: {exc}")
            return
        save_execution(execution)
        if delay is not None:
            send_after_commit(step, delay)
        return
    finish(execution, ExecutionStatus.FAILED, now=now, error=RUNTIME, cause="too many transitions without a step")


def _new_step(execution: WorkflowExecution, name: str, state: State, *, now: dt.datetime) -> StepRun:
    execution.last_step_sequence += 1
    sequence = execution.last_step_sequence
    return StepRun(execution=execution, sequence=sequence, visit=sequence, state=name, kind=state.kind, created_at=now)


def _open(step: StepRun, state: State, data: Any, *, now: dt.datetime) -> float | None:
    """Save ``step`` as the execution's open step: due to run (Task) or waiting (Wait, Approval).
    Returns the delay of its message, if it gets one now."""
    if isinstance(state, Task):
        step.status, step.due_at, step.input = StepStatus.SCHEDULED, now, get_path(data, state.input_path)
    elif isinstance(state, Wait):
        step.status, step.due_at, step.input = StepStatus.WAITING, wait_until(state, data, now=now), data
    elif isinstance(state, Approval):
        step.input = data
        step.status, step.due_at = StepStatus.WAITING, now + dt.timedelta(seconds=seconds(state.timeout_seconds))
    delay = plan_dispatch(step, now=now)
    step.save()
    return delay


def wait_until(state: Wait, data: Any, *, now: dt.datetime) -> dt.datetime:
    if state.seconds is not None:
        return now + dt.timedelta(seconds=seconds(state.seconds))
    if state.seconds_path is not None:
        value = get_path(data, state.seconds_path)
        if not isinstance(value, int | float) or isinstance(value, bool) or value < 0:
            raise PathError(f"{state.seconds_path} is not a number of seconds: {value!r}")
        return now + dt.timedelta(seconds=value)
    if state.timestamp is not None:
        return state.timestamp
    value = get_path(data, state.timestamp_path or "$")
    parsed = dt.datetime.fromisoformat(value) if isinstance(value, str) else None
    if parsed is None or parsed.tzinfo is None:
        raise PathError(f"{state.timestamp_path} is not an ISO 8601 timestamp with a time zone: {value!r}")
    return parsed


def _close(step: StepRun, status: str, *, now: dt.datetime, **fields: Any) -> None:
    step.status, step.finished_at = status, now
    if step.started_at is None:
        step.started_at = now
    for name, value in fields.items():
        setattr(step, name, value)
    step.save()


def save_execution(execution: WorkflowExecution) -> None:
    # Not ``input`` (it never changes) nor the pause fields (only the services set those).
    fields = ["status", "current_state", "data", "output", "error", "cause", "last_step_sequence", "finished_at"]
    execution.save(update_fields=[*fields, "updated_at"])


def finish(
    execution: WorkflowExecution, status: str, *, now: dt.datetime, output: Any = None, error: str = "", cause: str = ""
) -> None:
    execution.status, execution.finished_at = status, now
    execution.output, execution.error, execution.cause = output, error[:128], cause
    save_execution(execution)


def result_document(result: Any) -> tuple[Any, ErrorInfo | None]:
    """A task's result as stored JSON, or why it cannot be stored."""
    try:
        text = json.dumps(result, cls=DjangoJSONEncoder)
    except (TypeError, ValueError) as exc:
        return None, ErrorInfo(RUNTIME, f"the result is not JSON: {exc}")
    if len(text) > settings.PAYOPS_WORKFLOW_MAX_RESULT_BYTES:
        return None, ErrorInfo(DATA_LIMIT, "the result is larger than the limit")
    return json.loads(text), None


def complete_task(execution: WorkflowExecution, step: StepRun, result: Any, *, now: dt.datetime) -> None:
    """A task's step succeeded with ``result``: put it at ResultPath and go on."""
    state = workflow_of(execution).state(step.state)
    assert isinstance(state, Task)
    output, error = result_document(result)
    if error is not None:
        fail_step(execution, step, error, now=now)
        return
    _close(step, StepStatus.SUCCEEDED, now=now, output=output)
    advance(execution, state, set_path(execution.data, state.result_path, output), now=now)


def record_success(
    execution: WorkflowExecution, step_id: int, state: Task, result: Any, *, now: dt.datetime
) -> bool | None:
    """``complete_task`` for a step known only by id, in one UPDATE: True when recorded, False
    when the step is no longer running (given up meanwhile), None when the result needs the
    slow path (it cannot be stored: the step fails)."""
    output = result.output if isinstance(result, Done) else result
    output, error = result_document(output)
    if error is not None:
        return None
    closed = StepRun.objects.filter(pk=step_id, status=StepStatus.RUNNING).update(
        status=StepStatus.SUCCEEDED, output=output, finished_at=now
    )
    if not closed:
        return False
    advance(execution, state, set_path(execution.data, state.result_path, output), now=now)
    return True


def advance(execution: WorkflowExecution, state: Task | Wait, data: Any, *, now: dt.datetime) -> None:
    if state.end:
        finish(execution, ExecutionStatus.SUCCEEDED, now=now, output=data)
    else:
        assert state.next is not None
        enter(execution, state.next, data, now=now)


def fail_step(execution: WorkflowExecution, step: StepRun, error: ErrorInfo, *, now: dt.datetime) -> None:
    """A task's step failed: the first matching retrier retries it (unless it is used up), else the
    first matching catcher moves on, else the execution fails. Like ASL."""
    _close(step, StepStatus.FAILED, now=now, error=error.name[:128], cause=error.cause)
    state = workflow_of(execution).state(step.state)
    assert isinstance(state, Task)
    for index, retrier in enumerate(state.retry):
        if not error.matches(retrier.errors):
            continue
        used = int(step.retries.get(str(index), 0))
        if used < retrier.max_attempts:
            _schedule_retry(execution, step, index, used + 1, retrier.delay(used + 1, _random.random), now=now)
            return
        break  # the first matching retrier is used up: ASL goes on to Catch, not to the next retrier
    for catcher in state.catch:
        if error.matches(catcher.errors):
            data = set_path(execution.data, catcher.result_path, {"Error": error.name, "Cause": error.cause})
            enter(execution, catcher.next, data, now=now)
            return
    finish(execution, ExecutionStatus.FAILED, now=now, error=error.name, cause=f"{step.state}: {error.cause}")


def _schedule_retry(
    execution: WorkflowExecution, failed: StepRun, index: int, used: int, delay: float, *, now: dt.datetime
) -> None:
    execution.last_step_sequence += 1
    retry = StepRun(
        execution=execution,
        sequence=execution.last_step_sequence,
        visit=failed.visit,
        state=failed.state,
        kind=failed.kind,
        attempt=failed.attempt + 1,
        retries={**failed.retries, str(index): used},
        status=StepStatus.SCHEDULED,
        input=failed.input,
        due_at=now + dt.timedelta(seconds=delay),
        created_at=now,
    )
    message_delay = plan_dispatch(retry, now=now)
    retry.save()
    save_execution(execution)
    if message_delay is not None:
        send_after_commit(retry, message_delay)


def fire_timer(execution: WorkflowExecution, step: StepRun, *, now: dt.datetime) -> None:
    """A waiting step's time has come: a Wait is over, an Approval takes its default, a
    callback that got no signal fails with States.Timeout."""
    state = workflow_of(execution).state(step.state)
    if isinstance(state, Wait):
        _close(step, StepStatus.SUCCEEDED, now=now)
        advance(execution, state, execution.data, now=now)
    elif isinstance(state, Approval):
        timeout = seconds(state.timeout_seconds)
        decide(execution, step, state, state.default, user=None, note=f"no decision within {timeout} s", now=now)
    else:
        fail_step(execution, step, ErrorInfo(TIMEOUT, "no signal arrived before the callback timeout"), now=now)


def decide(
    execution: WorkflowExecution,
    step: StepRun,
    state: Approval,
    decision: str,
    *,
    user: Any,
    note: str,
    now: dt.datetime,
) -> None:
    result = {
        "decision": decision,
        "decided_by": user.pk if user is not None else None,
        "decided_by_name": user.get_username() if user is not None else "",
        "note": note[:500],
        "decided_at": now.isoformat(),
    }
    _close(
        step, StepStatus.SUCCEEDED, now=now, output=result, decision=decision, decided_by=user, decision_note=note[:500]
    )
    target = state.on_approve if decision == "approved" else state.on_reject
    enter(execution, target, set_path(execution.data, state.result_path, result), now=now)
