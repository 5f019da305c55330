"""Row locks under real concurrency (PostgreSQL): duplicate step messages, simultaneous starts,
a decision racing its own timeout."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from payops.workflow import dispatch
from payops.workflow.definition import Approval, Fail, Succeed, Task, Workflow
from payops.workflow.models import StepRun, WorkflowExecution
from payops.workflow.runner import step_run
from payops.workflow.services import WorkflowActionNotAllowed, approval_decide, execution_start
from tests.factories import make_order
from tests.markers import requires_postgres
from tests.workflow.helpers import open_step, reload

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(n: int, action: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = []

    def run() -> None:
        try:
            barrier.wait()
            results.append(action())
        except Exception as exc:
            results.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_ten_deliveries_of_one_step_message_run_the_task_once(clock, registered, monkeypatch):
    monkeypatch.setattr(dispatch, "send_step", lambda step_id, execution_id=None, delay=0.0: None)  # the test delivers
    runs: list[int] = []

    def slow(ctx):
        runs.append(ctx.attempt)
        time.sleep(0.3)
        return "done"

    registered(Workflow("dup", "Slow", {"Slow": Task(run=slow, next="Done"), "Done": Succeed()}))
    execution = execution_start(workflow="dup", input={})
    step_id = open_step(execution).pk

    outcomes = at_once(10, lambda: step_run(step_id=step_id, execution_id=execution.pk))

    assert runs == [1]
    assert outcomes.count("succeeded") == 1
    assert reload(execution).status == "succeeded"
    assert StepRun.objects.filter(execution=execution, state="Slow").count() == 1


def test_simultaneous_starts_for_one_order_make_one_execution(clock, registered):
    registered(
        Workflow("once", "Gate", {"Gate": Approval(on_approve="Yes", on_reject="No"), "Yes": Succeed(), "No": Fail()})
    )
    order = make_order(status="paid")

    results = at_once(8, lambda: execution_start(workflow="once", input={}, order_id=order.pk).pk)

    assert len(set(results)) == 1, results
    assert WorkflowExecution.objects.filter(order=order).count() == 1
    assert StepRun.objects.filter(execution_id=results[0]).count() == 1


def test_a_decision_racing_the_timeout_has_exactly_one_outcome(clock, registered, django_user_model):
    staff = django_user_model.objects.create_user("clerk", is_staff=True)
    registered(
        Workflow(
            "race",
            "Gate",
            {"Gate": Approval(on_approve="Yes", on_reject="No", timeout_seconds=60), "Yes": Succeed(), "No": Fail()},
        )
    )
    execution = execution_start(workflow="race", input={})
    gate = open_step(execution).pk
    clock.advance(60)

    def decide_or_time_out() -> Any:
        if threading.current_thread().name.endswith(("0", "2", "4", "6", "8")):
            try:
                return approval_decide(execution_id=execution.pk, decision="approved", user=staff).pk
            except WorkflowActionNotAllowed:
                return "too late"
        return step_run(step_id=gate)

    at_once(10, decide_or_time_out)

    execution = reload(execution)
    assert execution.status in ("succeeded", "failed")
    assert execution.steps.filter(state="Gate").count() == 1
    assert execution.steps.filter(state__in=["Yes", "No"]).count() == 1
