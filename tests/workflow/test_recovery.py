"""Workers die, messages get lost, every worker is down during a wait: the step rows and the
sweep bring every execution through, and idempotent tasks do not repeat their side effects."""

import pytest

from payops.workflow import dispatch, runner
from payops.workflow.definition import Retry, Succeed, Task, Wait, Workflow
from payops.workflow.runner import step_run, workflow_recover
from payops.workflow.services import execution_start
from tests.workflow.helpers import Calls, open_step, reload, run_due, steps_of

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """Stands for the process dying: not an Exception, so nothing in payops handles it."""


def test_a_worker_killed_after_the_side_effect_does_not_repeat_it(clock, registered, monkeypatch):
    effects: dict[str, int] = {}

    def charge_once(ctx):
        # the side effect, keyed like a Stripe idempotency key or a mail key
        effects[ctx.idempotency_key] = effects.get(ctx.idempotency_key, 0) + 1
        return {"effect": ctx.idempotency_key}

    def idempotent(ctx):
        if ctx.idempotency_key not in effects:
            return charge_once(ctx)
        return {"effect": ctx.idempotency_key, "again": True}

    registered(
        Workflow(
            "killed",
            "Effect",
            {
                "Effect": Task(
                    run=idempotent,
                    timeout_seconds=60,
                    retry=(Retry(("States.Timeout",), interval_seconds=5),),
                    next="Done",
                ),
                "Done": Succeed(),
            },
        )
    )
    execution = execution_start(workflow="killed", input={})
    real_record = runner._record

    def die_before_recording(claim, **outcome):
        raise WorkerKilled

    monkeypatch.setattr(runner, "_record", die_before_recording)
    with pytest.raises(WorkerKilled):
        run_due()
    monkeypatch.setattr(runner, "_record", real_record)
    assert open_step(execution).status == "running"
    assert list(effects.values()) == [1]

    # A redelivered message while the lease holds does nothing.
    assert step_run(step_id=open_step(execution).pk) == "step running, due later"

    clock.advance(61)
    assert workflow_recover() == {"timed_out": 1, "sent": 0}
    clock.advance(5)
    run_due()

    execution = reload(execution)
    assert execution.status == "succeeded"
    assert list(effects.values()) == [1]
    assert steps_of(execution) == [("Effect", 1, "failed"), ("Effect", 2, "succeeded"), ("Done", 1, "succeeded")]
    lost = execution.steps.get(state="Effect", attempt=1)
    assert lost.error == "States.Timeout" and "its worker stopped" in lost.cause
    # the retry shares the visit, so it derives the same key and finds the effect done
    assert execution.output == {"effect": f"workflow:{execution.pk}:Effect:{lost.visit}", "again": True}


def test_a_result_that_comes_after_the_lease_was_given_up_is_dropped(clock, registered):
    def slow(ctx):
        clock.advance(120)  # longer than the timeout
        workflow_recover()  # meanwhile the sweep gives the step up
        return "late"

    registered(
        Workflow(
            "slow",
            "Slow",
            {"Slow": Task(run=slow, timeout_seconds=60, retry=(Retry(("States.Timeout",), max_attempts=0),), end=True)},
        )
    )
    execution = execution_start(workflow="slow", input={})
    assert run_due() == ["result dropped"]
    assert (reload(execution).status, execution.error) == ("failed", "States.Timeout")


def test_all_workers_down_during_a_wait_the_sweep_resumes_it(clock, registered, django_capture_on_commit_callbacks):
    after = Calls(result="resumed")
    registered(Workflow("wait", "Hold", {"Hold": Wait(seconds=300, next="After"), "After": Task(run=after, end=True)}))
    with django_capture_on_commit_callbacks(execute=True):
        execution = execution_start(workflow="wait", input={})
    clock.advance(3600)  # nobody ran anything for an hour

    # The sweep sends the due step; here Celery runs tasks in process (eager), so the whole
    # rest of the execution runs through the real dispatch path.
    with django_capture_on_commit_callbacks(execute=True):
        assert workflow_recover() == {"timed_out": 0, "sent": 1}

    assert reload(execution).status == "succeeded"
    assert after.inputs == [{}]


def test_a_lost_message_is_sent_again_after_the_redispatch_delay(clock, registered, monkeypatch, settings):
    settings.PAYOPS_WORKFLOW_REDISPATCH_SECONDS = 120
    sent: list[tuple[int, float]] = []
    monkeypatch.setattr(dispatch, "_runs_in_process", lambda: False)
    monkeypatch.setattr(
        dispatch, "send_step", lambda step_id, execution_id=None, delay=0.0: sent.append((step_id, delay))
    )
    monkeypatch.setattr(
        runner, "send_step", lambda step_id, execution_id=None, delay=0.0: sent.append((step_id, delay))
    )
    registered(Workflow("lost", "Hold", {"Hold": Wait(seconds=60, end=True)}))

    execution = execution_start(workflow="lost", input={})
    step = open_step(execution)
    assert step.dispatched_at == clock.now()  # an ETA message went out with the commit

    clock.advance(60 + 119)
    assert workflow_recover()["sent"] == 0  # it may still be on its way
    clock.advance(1)
    assert workflow_recover()["sent"] == 1
    assert workflow_recover()["sent"] == 0  # and not again at once


def test_far_future_steps_get_no_message_until_the_sweep_finds_them_due(clock, registered, monkeypatch, settings):
    settings.PAYOPS_WORKFLOW_ETA_HORIZON_SECONDS = 900
    monkeypatch.setattr(dispatch, "_runs_in_process", lambda: False)
    sent: list[int] = []
    monkeypatch.setattr(runner, "send_step", lambda step_id, execution_id=None, delay=0.0: sent.append(step_id))
    registered(Workflow("far", "Hold", {"Hold": Wait(seconds=86_400, end=True)}))

    execution = execution_start(workflow="far", input={})
    assert open_step(execution).dispatched_at is None
    clock.advance(86_399)
    workflow_recover()
    assert sent == []
    clock.advance(1)
    workflow_recover()
    assert sent == [open_step(execution).pk]
