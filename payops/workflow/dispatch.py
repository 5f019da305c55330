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
import functools
import logging

from django.conf import settings
from django.db import transaction

from payops.workflow.models import StepRun

logger = logging.getLogger(__name__)


def schedule_step(step: StepRun, *, now: dt.datetime) -> None:
    """Send ``step`` to a worker after the current transaction commits, if it is due soon."""
    if step.due_at is None:
        return
    delay = max((step.due_at - now).total_seconds(), 0.0)
    if delay > settings.PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS or (delay > 0 and _runs_in_process()):
        # In process (embedded profile, unit tests) a delayed message would run at once and find
        # the step not yet due; the sweep picks it up when it is.
        return
    step.dispatched_at = now
    StepRun.objects.filter(pk=step.pk).update(dispatched_at=now)
    # robust: a broker that is down must not undo the committed step; the sweep sends it later.
    transaction.on_commit(functools.partial(send_step, step.pk, delay), robust=True)


def send_step(step_id: int, delay: float = 0.0) -> None:
    from payops.workflow.tasks import run_step

    if delay > 0:
        run_step.apply_async(args=(step_id,), countdown=delay)
    else:
        run_step.apply_async(args=(step_id,))


def _runs_in_process() -> bool:
    from payops.celery import app

    return bool(app.conf.task_always_eager)
