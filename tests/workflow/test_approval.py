"""Approval: approve, reject, timeout to the default outcome; and the management command."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from payops.workflow.definition import Approval, Fail, Succeed, Task, Workflow
from payops.workflow.selectors import executions_awaiting_approval
from payops.workflow.services import WorkflowActionNotAllowed, approval_decide, execution_start
from tests.workflow.helpers import Calls, open_step, reload, run_due, steps_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user("clerk", is_staff=True)


@pytest.fixture
def review(registered):
    ship = Calls(result="shipped")
    registered(
        Workflow(
            "review",
            "Approve",
            {
                "Approve": Approval(
                    on_approve="Ship",
                    on_reject="Rejected",
                    timeout_seconds=3600,
                    prompt="Ship this order?",
                    details_path="$.reasons",
                ),
                "Ship": Task(run=ship, end=True, result_path="$.shipped"),
                "Rejected": Fail(error="Review.Rejected"),
            },
        )
    )
    return ship


def test_approve_records_who_and_goes_on(clock, review, staff):
    execution = execution_start(workflow="review", input={"reasons": ["first order"]})
    assert open_step(execution).due_at == clock.now() + dt.timedelta(hours=1)

    clock.advance(120)
    approval_decide(execution_id=execution.pk, decision="approved", user=staff, note="known customer")
    run_due()

    execution = reload(execution)
    assert execution.status == "succeeded"
    step = execution.steps.get(state="Approve")
    assert (step.decision, step.decided_by, step.decision_note) == ("approved", staff, "known customer")
    assert execution.output["approval"]["decided_by"] == staff.pk
    assert execution.output["approval"]["decided_by_name"] == "clerk"
    assert review.inputs[0]["approval"]["decision"] == "approved"


def test_reject_goes_to_the_rejection_path(clock, review, staff):
    execution = execution_start(workflow="review", input={})
    approval_decide(execution_id=execution.pk, decision="rejected", user=staff, note="fraud")
    execution = reload(execution)
    assert (execution.status, execution.error) == ("failed", "Review.Rejected")
    assert review.inputs == []


def test_no_decision_before_the_timeout_takes_the_default(clock, review):
    execution = execution_start(workflow="review", input={})
    clock.advance(3599)
    run_due()
    assert reload(execution).status == "running"
    clock.advance(1)
    run_due()
    execution = reload(execution)
    assert (execution.status, execution.current_state) == ("failed", "Rejected")
    step = execution.steps.get(state="Approve")
    assert (step.decision, step.decided_by, step.decision_note) == ("rejected", None, "no decision within 3600 s")


def test_deciding_twice_or_elsewhere_is_refused(clock, review, staff):
    execution = execution_start(workflow="review", input={})
    approval_decide(execution_id=execution.pk, decision="approved", user=staff)
    with pytest.raises(WorkflowActionNotAllowed, match="not waiting for approval"):
        approval_decide(execution_id=execution.pk, decision="rejected", user=staff)
    with pytest.raises(ValueError, match="decision must be"):
        approval_decide(execution_id=execution.pk, decision="maybe", user=staff)


def test_pending_approvals_are_listed_with_their_timeout_and_details(clock, review):
    execution = execution_start(workflow="review", input={"reasons": ["amount over 100000"]})
    (pending,) = executions_awaiting_approval()
    assert (pending.execution_id, pending.state, pending.prompt, pending.default) == (
        execution.pk,
        "Approve",
        "Ship this order?",
        "rejected",
    )
    assert pending.details == ["amount over 100000"]
    assert pending.times_out_at == clock.now() + dt.timedelta(hours=1)


def test_the_command_lists_approves_and_rejects(clock, review, staff):
    first = execution_start(workflow="review", input={"reasons": ["risk elevated"]})
    second = execution_start(workflow="review", input={})
    out = StringIO()
    call_command("workflow", "approvals", stdout=out)
    assert f"execution {first.pk}  review/Approve" in out.getvalue()
    assert "Ship this order?" in out.getvalue() and "risk elevated" in out.getvalue()

    call_command("workflow", "approve", str(first.pk), "--user", "clerk", "--note", "ok", stdout=StringIO())
    call_command("workflow", "reject", str(second.pk), "--user", "clerk", stdout=StringIO())
    assert reload(first).steps.get(state="Approve").decided_by == staff
    assert reload(second).error == "Review.Rejected"

    with pytest.raises(CommandError, match="not waiting for approval"):
        call_command("workflow", "approve", str(first.pk), "--user", "clerk")
    with pytest.raises(CommandError, match="no active staff user"):
        call_command("workflow", "approve", str(first.pk), "--user", "nobody")
    out = StringIO()
    call_command("workflow", "approvals", stdout=out)
    assert "nothing waits for approval" in out.getvalue()


def test_the_command_finds_an_execution_by_order_number(clock, registered, staff):
    from tests.factories import make_order

    registered(
        Workflow("gate", "Gate", {"Gate": Approval(on_approve="Yes", on_reject="No"), "Yes": Succeed(), "No": Fail()})
    )
    order = make_order(status="paid")
    execution = execution_start(workflow="gate", input={}, order_id=order.pk)
    call_command("workflow", "approve", order.number, "--user", "clerk", stdout=StringIO())
    assert steps_of(reload(execution))[-1] == ("Yes", 1, "succeeded")
