"""Each state kind, run by the engine with a fake clock."""

import datetime as dt

import pytest

from payops.workflow.definition import Choice, Compare, Done, Fail, Rule, Succeed, Task, Wait, Workflow
from payops.workflow.models import StepRun
from payops.workflow.services import execution_send_failure, execution_send_success, execution_start
from tests.workflow.helpers import Calls, open_step, reload, run_due, steps_of

pytestmark = pytest.mark.django_db


def test_a_task_gets_its_input_path_and_its_result_lands_at_its_result_path(clock, registered):
    double = Calls(result={"total": 3000})
    registered(
        Workflow(
            "tasks",
            "Price",
            {
                "Price": Task(run=double, input_path="$.cart", result_path="$.price", next="Done"),
                "Done": Succeed(),
            },
        )
    )
    execution = execution_start(workflow="tasks", input={"cart": {"items": 2}, "customer": "c1"})
    assert steps_of(execution) == [("Price", 1, "scheduled")]

    run_due()

    execution = reload(execution)
    assert double.inputs == [{"items": 2}]
    assert execution.status == "succeeded"
    assert execution.output == {"cart": {"items": 2}, "customer": "c1", "price": {"total": 3000}}
    assert steps_of(execution) == [("Price", 1, "succeeded"), ("Done", 1, "succeeded")]
    price = execution.steps.get(state="Price")
    assert (price.input, price.output, price.started_at, price.finished_at) == (
        {"items": 2},
        {"total": 3000},
        clock.now(),
        clock.now(),
    )


def test_a_task_that_ends_the_workflow_and_a_discarded_result(clock, registered):
    registered(Workflow("end", "Only", {"Only": Task(run=Calls(result="x"), result_path=None, end=True)}))
    execution = execution_start(workflow="end", input={"a": 1})
    run_due()
    assert (reload(execution).status, execution.output) == ("succeeded", {"a": 1})


def test_choice_follows_the_first_matching_rule_or_the_default(clock, registered):
    registered(
        Workflow(
            "choice",
            "Route",
            {
                "Route": Choice(rules=(Rule(Compare("$.digital", "BooleanEquals", True), "Digital"),), default="Ship"),
                "Digital": Succeed(),
                "Ship": Succeed(),
            },
        )
    )
    digital = execution_start(workflow="choice", input={"digital": True})
    physical = execution_start(workflow="choice", input={"digital": False})
    # Choice and Succeed need no worker: decided when entered.
    assert steps_of(digital) == [("Route", 1, "succeeded"), ("Digital", 1, "succeeded")]
    assert digital.steps.get(state="Route").output == {"next": "Digital"}
    assert [s for s, _, _ in steps_of(physical)] == ["Route", "Ship"]


def test_choice_without_a_match_or_default_fails_the_execution(clock, registered):
    registered(
        Workflow(
            "nomatch",
            "Route",
            {"Route": Choice(rules=(Rule(Compare("$.x", "IsPresent", True), "End"),)), "End": Succeed()},
        )
    )
    execution = execution_start(workflow="nomatch", input={})
    assert (execution.status, execution.error) == ("failed", "States.NoChoiceMatched")


def test_fail_ends_the_execution_with_its_error_and_cause(clock, registered):
    registered(Workflow("fail", "Stop", {"Stop": Fail(error="Shop.Closed", cause="closed for the holidays")}))
    execution = execution_start(workflow="fail", input={})
    assert (execution.status, execution.error, execution.cause) == ("failed", "Shop.Closed", "closed for the holidays")
    assert steps_of(execution) == [("Stop", 1, "failed")]


@pytest.mark.parametrize(
    ("wait", "data"),
    [
        (Wait(seconds=90, next="After"), {}),
        (Wait(seconds_path="$.delay", next="After"), {"delay": 90}),
        (Wait(timestamp_path="$.at", next="After"), {"at": "2030-01-01T09:01:30+00:00"}),
        (Wait(timestamp=dt.datetime(2030, 1, 1, 9, 1, 30, tzinfo=dt.UTC), next="After"), {}),
    ],
)
def test_wait_holds_until_its_time_and_not_a_second_longer(clock, registered, wait, data):
    after = Calls(result="ran")
    registered(Workflow("wait", "Hold", {"Hold": wait, "After": Task(run=after, end=True)}))
    execution = execution_start(workflow="wait", input=data)
    hold = open_step(execution)
    assert (hold.status, hold.due_at) == ("waiting", clock.now() + dt.timedelta(seconds=90))

    clock.advance(89)
    run_due()
    assert after.inputs == []

    clock.advance(1)
    run_due()
    assert len(after.inputs) == 1
    assert steps_of(execution) == [("Hold", 1, "succeeded"), ("After", 1, "succeeded")]


def test_a_wait_on_a_missing_path_is_a_runtime_error(clock, registered):
    registered(Workflow("badwait", "Hold", {"Hold": Wait(seconds_path="$.delay", end=True)}))
    execution = execution_start(workflow="badwait", input={})
    assert (execution.status, execution.error) == ("failed", "States.Runtime")


def _callback_workflow(registered, run):
    registered(
        Workflow(
            "callback",
            "AwaitShipment",
            {
                "AwaitShipment": Task(
                    run=run, callback=True, callback_timeout_seconds=3600, result_path="$.shipment", next="Done"
                ),
                "Done": Succeed(),
            },
        )
    )


def test_a_callback_task_waits_for_its_signal(clock, registered):
    _callback_workflow(registered, Calls(result=None))
    execution = execution_start(workflow="callback", input={})
    run_due()
    waiting = open_step(execution)
    assert (waiting.status, waiting.due_at) == ("waiting", clock.now() + dt.timedelta(seconds=3600))
    assert execution_send_success(execution_id=execution.pk, state="Elsewhere", output={}) is False

    assert execution_send_success(execution_id=execution.pk, state="AwaitShipment", output={"tracking": "T1"})

    execution = reload(execution)
    assert (execution.status, execution.output) == ("succeeded", {"shipment": {"tracking": "T1"}})


def test_a_callback_task_whose_event_already_happened_does_not_wait(clock, registered):
    _callback_workflow(registered, Calls(result=Done({"tracking": "T0"})))
    execution = execution_start(workflow="callback", input={})
    run_due()
    assert reload(execution).output == {"shipment": {"tracking": "T0"}}


def test_a_signal_that_arrives_while_the_callback_task_runs_is_not_lost(clock, registered):
    def run(ctx):
        # the awaited event happens while the task is still running
        assert execution_send_success(execution_id=ctx.execution_id, state=ctx.state, output={"tracking": "T2"})
        return None

    _callback_workflow(registered, run)
    execution = execution_start(workflow="callback", input={})
    run_due()
    assert reload(execution).output == {"shipment": {"tracking": "T2"}}


def test_a_callback_without_a_signal_times_out_and_a_failure_signal_fails_it(clock, registered):
    _callback_workflow(registered, Calls(result=None))
    first = execution_start(workflow="callback", input={})
    second = execution_start(workflow="callback", input={})
    run_due()

    assert execution_send_failure(execution_id=second.pk, state="AwaitShipment", error="Carrier.Lost", cause="gone")
    assert (reload(second).status, second.error, second.cause) == ("failed", "Carrier.Lost", "AwaitShipment: gone")

    clock.advance(3599)
    run_due()
    assert reload(first).status == "running"
    clock.advance(1)
    run_due()
    assert (reload(first).status, first.error) == ("failed", "States.Timeout")


def test_results_that_are_not_json_or_too_large_fail_the_step(clock, registered, settings):
    settings.PAYOPS_WORKFLOW_MAX_RESULT_BYTES = 100
    registered(Workflow("big", "Big", {"Big": Task(run=Calls(result="x" * 200), end=True)}))
    registered(Workflow("odd", "Odd", {"Odd": Task(run=Calls(result=object()), end=True)}))
    big = execution_start(workflow="big", input={})
    odd = execution_start(workflow="odd", input={})
    run_due()
    assert (reload(big).error, reload(odd).error) == ("States.DataLimitExceeded", "States.Runtime")


def test_one_execution_per_workflow_and_order(clock, registered):
    from tests.factories import make_order

    registered(Workflow("per-order", "Hold", {"Hold": Wait(seconds=60, end=True)}))
    order = make_order(status="paid")
    first = execution_start(workflow="per-order", input={}, order_id=order.pk)
    again = execution_start(workflow="per-order", input={"other": True}, order_id=order.pk)
    assert again.pk == first.pk
    assert StepRun.objects.filter(execution=first).count() == 1
