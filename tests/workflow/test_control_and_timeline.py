"""Pause, resume and stop; the timeline people see."""

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import call_command

from payops.workflow.definition import Approval, Catch, Fail, Retry, Succeed, Task, Wait, Workflow
from payops.workflow.selectors import execution_timeline
from payops.workflow.services import (
    approval_decide,
    execution_pause,
    execution_resume,
    execution_start,
    execution_stop,
)
from tests.workflow.helpers import Calls, open_step, reload, run_due

pytestmark = pytest.mark.django_db


class Unavailable(Exception):
    pass


@pytest.fixture
def gated(registered):
    ship = Calls(result={"tracking": "T1"})
    registered(
        Workflow(
            "gated",
            "Prepare",
            {
                "Prepare": Task(run=Calls(result="ready"), result_path="$.prepared", next="Approve"),
                "Approve": Approval(on_approve="Ship", on_reject="Rejected", timeout_seconds=600),
                "Ship": Task(
                    run=ship,
                    result_path="$.shipment",
                    retry=(Retry(("Unavailable",), interval_seconds=30),),
                    catch=(Catch(("States.ALL",), next="Rejected", result_path="$.error"),),
                    next="Settle",
                ),
                "Settle": Wait(seconds=60, next="Done"),
                "Done": Succeed(),
                "Rejected": Fail(error="Rejected"),
            },
        )
    )
    return ship


def test_a_paused_execution_starts_no_step_and_its_timers_stop(clock, gated, django_user_model):
    execution = execution_start(workflow="gated", input={})
    run_due()
    assert open_step(execution).state == "Approve"

    clock.advance(500)
    assert execution_pause(execution_id=execution.pk, reason="dispute dp_1 is open")
    assert not execution_pause(execution_id=execution.pk, reason="again")
    clock.advance(3600)  # far past the approval timeout, but paused
    run_due()
    assert open_step(execution).state == "Approve"

    # A decision is still taken while paused; the next task waits for the resume.
    staff = django_user_model.objects.create_user("clerk", is_staff=True)
    approval_decide(execution_id=execution.pk, decision="approved", user=staff)
    run_due()
    assert gated.inputs == []

    assert execution_resume(execution_id=execution.pk)
    run_due()
    assert len(gated.inputs) == 1
    assert open_step(execution).state == "Settle"


def test_resume_gives_a_timer_back_the_time_the_pause_took(clock, gated):
    execution = execution_start(workflow="gated", input={})
    run_due()
    approval = open_step(execution)
    due = approval.due_at
    clock.advance(100)
    execution_pause(execution_id=execution.pk, reason="hold")
    clock.advance(7200)
    execution_resume(execution_id=execution.pk)
    assert open_step(execution).due_at == due + dt.timedelta(seconds=7200)


def test_stop_cancels_the_open_step_and_ends_the_execution(clock, gated):
    execution = execution_start(workflow="gated", input={})
    run_due()
    assert execution_stop(execution_id=execution.pk, error="Order.Refunded", cause="refunded by staff")
    assert not execution_stop(execution_id=execution.pk, error="again", cause="")
    execution = reload(execution)
    assert (execution.status, execution.error, execution.cause) == ("aborted", "Order.Refunded", "refunded by staff")
    assert execution.steps.get(state="Approve").status == "cancelled"
    clock.advance(3600)
    assert run_due() == []


def test_the_timeline_shows_states_attempts_errors_and_waits_with_due_times(clock, gated, django_user_model):
    gated.failures = [Unavailable("carrier API down")]
    staff = django_user_model.objects.create_user("clerk", is_staff=True)
    execution = execution_start(workflow="gated", input={"order": 1})
    run_due()
    approval_decide(execution_id=execution.pk, decision="approved", user=staff, note="fine")
    run_due()

    timeline = execution_timeline(execution_id=execution.pk)
    rows = [(s.state, s.attempt, s.status, s.due_label) for s in timeline.steps]
    assert rows == [
        ("Prepare", 1, "succeeded", ""),
        ("Approve", 1, "succeeded", ""),
        ("Ship", 1, "failed", ""),
        ("Ship", 2, "scheduled", "retry at"),
    ]
    failed, retry = timeline.steps[2], timeline.steps[3]
    assert (failed.error, failed.cause) == ("Unavailable", "carrier API down")
    assert retry.due_at == clock.now() + dt.timedelta(seconds=30)
    assert (timeline.steps[1].decision, timeline.steps[1].decided_by) == ("approved", "clerk")

    clock.advance(30)
    run_due()
    timeline = execution_timeline(execution_id=execution.pk)
    wait = timeline.steps[-1]
    assert (wait.state, wait.status, wait.due_label, wait.due_at) == (
        "Settle",
        "waiting",
        "waits until",
        clock.now() + dt.timedelta(seconds=60),
    )
    as_json = timeline.as_json()
    assert as_json["steps"][-1]["due_at"] == (clock.now() + dt.timedelta(seconds=60)).isoformat().replace("+00:00", "Z")
    assert json.dumps(as_json)  # plain JSON for the API

    out = StringIO()
    call_command("workflow", "timeline", str(execution.pk), stdout=out)
    assert "Unavailable: carrier API down" in out.getvalue()
    assert "approved by clerk" in out.getvalue()
    assert "waits until" in out.getvalue()
