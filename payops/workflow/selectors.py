"""Reading executions for people: the timeline of one execution (dashboard, API, command) and
the executions waiting for someone's approval."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet

from payops.workflow.definition import Approval, DefinitionError
from payops.workflow.models import ExecutionStatus, StepRun, StepStatus, WorkflowExecution
from payops.workflow.paths import get_path, has_path
from payops.workflow.registry import get_workflow


@dataclass(frozen=True)
class TimelineStep:
    sequence: int
    state: str
    kind: str
    status: str
    attempt: int
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    duration_ms: int | None
    # When something happens next to an open step, and what: "runs at", "retry at",
    # "lease ends", "waits until", "approval times out", "signal times out".
    due_at: dt.datetime | None
    due_label: str
    input: Any
    output: Any
    error: str
    cause: str
    decision: str
    decided_by: str
    decision_note: str


@dataclass(frozen=True)
class Timeline:
    execution_id: int
    workflow: str
    version: str
    order_id: int | None
    order_number: str
    status: str
    current_state: str
    paused_at: dt.datetime | None
    pause_reason: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str
    cause: str
    data: Any
    output: Any
    steps: list[TimelineStep]

    def as_json(self) -> dict[str, Any]:
        """Plain JSON types (timestamps as ISO 8601), for the API and the dashboard."""
        result: dict[str, Any] = json.loads(json.dumps(asdict(self), cls=DjangoJSONEncoder))
        return result


@dataclass(frozen=True)
class PendingApproval:
    execution_id: int
    workflow: str
    order_id: int | None
    order_number: str
    state: str
    prompt: str
    details: Any
    waiting_since: dt.datetime | None
    times_out_at: dt.datetime | None
    default: str
    paused: bool


def execution_timeline(*, execution_id: int) -> Timeline:
    execution = WorkflowExecution.objects.select_related("order").get(pk=execution_id)
    steps = StepRun.objects.filter(execution=execution).select_related("decided_by").order_by("sequence")
    return Timeline(
        execution_id=execution.pk,
        workflow=execution.workflow,
        version=execution.version,
        order_id=execution.order_id,
        order_number=execution.order.number if execution.order else "",
        status=execution.status,
        current_state=execution.current_state,
        paused_at=execution.paused_at,
        pause_reason=execution.pause_reason,
        started_at=execution.started_at,
        finished_at=execution.finished_at,
        error=execution.error,
        cause=execution.cause,
        data=execution.data,
        output=execution.output,
        steps=[_timeline_step(step) for step in steps],
    )


def _timeline_step(step: StepRun) -> TimelineStep:
    duration = None
    if step.started_at and step.finished_at:
        duration = int((step.finished_at - step.started_at).total_seconds() * 1000)
    return TimelineStep(
        sequence=step.sequence,
        state=step.state,
        kind=step.kind,
        status=step.status,
        attempt=step.attempt,
        started_at=step.started_at,
        finished_at=step.finished_at,
        duration_ms=duration,
        due_at=step.due_at if step.status in (StepStatus.SCHEDULED, StepStatus.RUNNING, StepStatus.WAITING) else None,
        due_label=_due_label(step),
        input=step.input,
        output=step.output,
        error=step.error,
        cause=step.cause,
        decision=step.decision,
        decided_by=step.decided_by.get_username() if step.decided_by else "",
        decision_note=step.decision_note,
    )


def _due_label(step: StepRun) -> str:
    if step.status == StepStatus.SCHEDULED:
        return "retry at" if step.attempt > 1 else "runs at"
    if step.status == StepStatus.RUNNING:
        return "lease ends"
    if step.status != StepStatus.WAITING:
        return ""
    return {"wait": "waits until", "approval": "approval times out"}.get(step.kind, "signal times out")


def executions_for_order(*, order_id: int) -> QuerySet[WorkflowExecution]:
    return WorkflowExecution.objects.filter(order_id=order_id).order_by("pk")


def executions_awaiting_approval(*, workflow: str | None = None) -> list[PendingApproval]:
    steps = (
        StepRun.objects.filter(kind="approval", status=StepStatus.WAITING, execution__status=ExecutionStatus.RUNNING)
        .select_related("execution", "execution__order")
        .order_by("due_at", "pk")
    )
    if workflow:
        steps = steps.filter(execution__workflow=workflow)
    return [_pending(step) for step in steps]


def _pending(step: StepRun) -> PendingApproval:
    execution = step.execution
    try:
        state = get_workflow(execution.workflow).states.get(step.state)
    except DefinitionError:
        state = None
    approval = state if isinstance(state, Approval) else Approval(on_approve="", on_reject="")
    details = None
    if approval.details_path and has_path(execution.data, approval.details_path):
        details = get_path(execution.data, approval.details_path)
    return PendingApproval(
        execution_id=execution.pk,
        workflow=execution.workflow,
        order_id=execution.order_id,
        order_number=execution.order.number if execution.order else "",
        state=step.state,
        prompt=approval.prompt,
        details=details,
        waiting_since=step.created_at,
        times_out_at=step.due_at,
        default=approval.default,
        paused=execution.paused_at is not None,
    )
