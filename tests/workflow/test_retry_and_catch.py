"""Retry counts, intervals and backoff, and Catch routing, as Amazon States Language defines them."""

import datetime as dt

import pytest

from payops.workflow import engine
from payops.workflow.definition import Catch, Retry, StepError, Succeed, Task, Workflow
from payops.workflow.services import execution_start
from tests.workflow.helpers import Calls, open_step, reload, run_due, steps_of

pytestmark = pytest.mark.django_db


class Unavailable(Exception):
    pass


class Refused(Exception):
    pass


class CardRefused(Refused):
    pass


def flaky_workflow(registered, task, *, retry=(), catch=()):
    return registered(
        Workflow(
            "flaky",
            "Call",
            {
                "Call": Task(run=task, retry=retry, catch=catch, result_path="$.result", next="Done"),
                "Done": Succeed(),
                "Handled": Succeed(),
            }
            if catch
            else {"Call": Task(run=task, retry=retry, result_path="$.result", next="Done"), "Done": Succeed()},
        )
    )


def test_retries_wait_interval_times_backoff_and_not_less(clock, registered):
    task = Calls(result="ok", failures=[Unavailable("down")] * 3)
    flaky_workflow(registered, task, retry=(Retry(("Unavailable",), interval_seconds=2, backoff_rate=3),))
    execution = execution_start(workflow="flaky", input={})
    started = clock.now()

    run_due()
    expected_due = []
    for delay in (2, 6, 18):  # 2, 2*3, 2*3*3
        retry = open_step(execution)
        expected_due.append(retry.due_at - started)
        clock.advance(delay - 1)
        run_due()
        assert open_step(execution).pk == retry.pk, "a retry ran before its interval was over"
        clock.advance(1)
        run_due()
        started = clock.now()

    assert expected_due == [dt.timedelta(seconds=s) for s in (2, 6, 18)]
    assert len(task.inputs) == 4
    assert steps_of(execution) == [
        ("Call", 1, "failed"),
        ("Call", 2, "failed"),
        ("Call", 3, "failed"),
        ("Call", 4, "succeeded"),
        ("Done", 1, "succeeded"),
    ]
    assert reload(execution).output == {"result": "ok"}
    failed = execution.steps.filter(status="failed").first()
    assert (failed.error, failed.cause) == ("Unavailable", "down")


def test_max_attempts_counts_retries_and_max_delay_caps_the_backoff(clock, registered):
    task = Calls(failures=[Unavailable("down")] * 10)
    retry = Retry(("Unavailable",), interval_seconds=10, backoff_rate=10, max_attempts=2, max_delay_seconds=50)
    flaky_workflow(registered, task, retry=(retry,))
    execution = execution_start(workflow="flaky", input={})
    run_due()
    assert open_step(execution).due_at == clock.now() + dt.timedelta(seconds=10)
    clock.advance(10)
    run_due()
    assert open_step(execution).due_at == clock.now() + dt.timedelta(seconds=50)  # 100 capped at 50
    clock.advance(50)
    run_due()

    execution = reload(execution)
    assert len(task.inputs) == 3  # the first try and two retries
    assert (execution.status, execution.error, execution.cause) == ("failed", "Unavailable", "Call: down")


def test_full_jitter_draws_each_delay(clock, registered, monkeypatch):
    monkeypatch.setattr(engine._random, "random", lambda: 0.5)
    task = Calls(result="ok", failures=[Unavailable()])
    flaky_workflow(registered, task, retry=(Retry(("Unavailable",), interval_seconds=8, jitter="FULL"),))
    execution = execution_start(workflow="flaky", input={})
    run_due()
    assert open_step(execution).due_at == clock.now() + dt.timedelta(seconds=4)


def test_an_error_no_retrier_names_is_not_retried(clock, registered):
    task = Calls(failures=[Refused("no")])
    flaky_workflow(registered, task, retry=(Retry(("Unavailable",)),))
    execution = execution_start(workflow="flaky", input={})
    run_due()
    assert len(task.inputs) == 1
    assert (reload(execution).status, execution.error) == ("failed", "Refused")


def test_each_retrier_counts_its_own_attempts_and_the_first_match_decides(clock, registered):
    task = Calls(result="ok", failures=[Unavailable(), Refused(), Unavailable(), Refused()])
    retry = (Retry(("Unavailable",), interval_seconds=1, max_attempts=2), Retry(("States.ALL",), max_attempts=2))
    flaky_workflow(registered, task, retry=retry)
    execution = execution_start(workflow="flaky", input={})
    for _ in range(6):
        run_due()
        clock.advance(60)
    assert reload(execution).status == "succeeded"
    assert execution.steps.filter(state="Call").last().retries == {"0": 2, "1": 2}


def test_a_used_up_first_match_goes_to_catch_not_to_a_later_retrier(clock, registered):
    task = Calls(failures=[Unavailable()] * 5)
    retry = (Retry(("Unavailable",), max_attempts=1), Retry(("States.ALL",), max_attempts=5))
    flaky_workflow(registered, task, retry=retry, catch=(Catch(("States.ALL",), next="Handled"),))
    execution = execution_start(workflow="flaky", input={})
    for _ in range(4):
        run_due()
        clock.advance(60)
    assert len(task.inputs) == 2
    assert reload(execution).current_state == "Handled"


@pytest.mark.parametrize(
    ("error", "catch_names", "caught"),
    [
        (Refused("no"), ("Refused",), True),
        (CardRefused("no"), ("Refused",), True),  # a base class name matches, like an error family
        (Refused("no"), ("CardRefused",), False),
        (Refused("no"), ("States.ALL",), True),
        (Refused("no"), ("States.TaskFailed",), True),
        (StepError("Shop.OutOfStock", "SKU-1"), ("Shop.OutOfStock",), True),
        (StepError("Shop.OutOfStock"), ("StepError",), True),
    ],
)
def test_catch_routes_matching_errors_with_error_and_cause(clock, registered, error, catch_names, caught):
    task = Calls(failures=[error])
    flaky_workflow(registered, task, catch=(Catch(catch_names, next="Handled", result_path="$.error"),))
    execution = reload(execution_start(workflow="flaky", input={"keep": 1}))
    run_due()
    execution = reload(execution)
    if caught:
        assert (execution.status, execution.current_state) == ("succeeded", "Handled")
        name = error.error if isinstance(error, StepError) else type(error).__name__
        assert execution.output["keep"] == 1
        assert execution.output["error"]["Error"] == name
    else:
        assert execution.status == "failed"


def test_the_first_matching_catcher_wins(clock, registered):
    task = Calls(failures=[CardRefused("declined")])
    catch = (Catch(("CardRefused",), next="Handled"), Catch(("States.ALL",), next="Done"))
    flaky_workflow(registered, task, catch=catch)
    execution = execution_start(workflow="flaky", input={})
    run_due()
    assert reload(execution).current_state == "Handled"
    assert execution.output == {"Error": "CardRefused", "Cause": "declined"}  # ResultPath "$" replaces


def test_task_failed_does_not_catch_a_timeout_and_runtime_errors_are_never_caught(clock, registered):
    slow = Calls(result="late")
    registered(
        Workflow(
            "timeouts",
            "Slow",
            {
                "Slow": Task(
                    run=slow, timeout_seconds=30, catch=(Catch(("States.TaskFailed",), next="Caught"),), end=True
                ),
                "Caught": Succeed(),
            },
        )
    )
    registered(
        Workflow(
            "runtime",
            "Read",
            {
                "Read": Task(run=slow, input_path="$.missing", catch=(Catch(("States.ALL",), next="C"),), end=True),
                "C": Succeed(),
            },
        )
    )
    from payops.workflow.runner import workflow_recover

    timed = execution_start(workflow="timeouts", input={})
    step = open_step(timed)
    from payops.workflow.runner import _claim

    _claim(step.pk, None)  # a worker took it and never came back
    clock.advance(31)
    workflow_recover()
    assert (reload(timed).status, timed.error) == ("failed", "States.Timeout")

    runtime = execution_start(workflow="runtime", input={})
    assert (runtime.status, runtime.error) == ("failed", "States.Runtime")
