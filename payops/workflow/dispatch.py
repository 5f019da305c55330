"""Getting a due step to a worker: a Celery message after commit, delayed to the step's due time.

Messages are a shortcut, not the record: the step row says what is due, and the sweep
(``workflow_recover``) sends again whatever is due and was not run, so a lost message, a broker
restart or every worker being down only delays an execution.

Steps due further ahead than ``PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS`` get no message now: a
worker would hold a far-future ETA message in memory, and Redis redelivers unacknowledged ones
after its visibility timeout anyway. The sweep sends them when they are due.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings

from payops.after_commit import TaskHook, send_after_commit_robustly
from payops.celery import app as celery_app
from payops.workflow.models import StepRun

logger = logging.getLogger(__name__)


def plan_dispatch(step: StepRun, *, now: dt.datetime) -> float | None:
    """Whether ``step`` gets a message now, and its delay in seconds. Sets ``dispatched_at``, to
    be saved with the step; then ``send_after_commit``."""
    if step.due_at is None:
        return None
    delay = max((step.due_at - now).total_seconds(), 0.0)
    if delay > settings.PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS or (delay > 0 and _runs_in_process()):
        # In process (embedded profile, unit tests) a delayed message would run at once and find
        # the step not yet due; the sweep picks it up when it is.
        return None
    step.dispatched_at = now
    return delay


def send_after_commit(step: StepRun, delay: float) -> None:
    # robust: a broker that is down must not undo the committed step; the sweep sends it later.
    send_after_commit_robustly(send_step, step.pk, step.execution_id, delay)


def schedule_step(step: StepRun, *, now: dt.datetime) -> None:
    """Send a step that is already saved to a worker after commit, if it is due soon."""
    delay = plan_dispatch(step, now=now)
    if delay is not None:
        StepRun.objects.filter(pk=step.pk).update(dispatched_at=now)
        send_after_commit(step, delay)


# The task that runs one step (WorkflowConfig.ready() connects it).
run_step_hook = TaskHook("run a workflow step")


def send_step(step_id: int, execution_id: int | None = None, delay: float = 0.0) -> None:
    if delay > 0:
        run_step_hook.apply_async(args=(step_id, execution_id), countdown=delay)
    else:
        run_step_hook.apply_async(args=(step_id, execution_id))


def _runs_in_process() -> bool:
    return bool(celery_app.conf.task_always_eager)
