"""Approve and reject through the workflow that waits for the decision; the approval queue; the
workflow's steps on the order's timeline."""

from __future__ import annotations

import pytest

from payops.workflow.definition import Approval, Fail, Succeed, Workflow
from payops.workflow.models import StepRun
from payops.workflow.registry import register, unregister
from payops.workflow.services import execution_start
from tests.dashboard.conftest import key
from tests.dashboard.test_actions import act, messages_of
from tests.factories import make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def held_order():
    register(
        Workflow(
            "dash-review",
            "Approve",
            {
                "Approve": Approval(
                    on_approve="Shipped", on_reject="Rejected", timeout_seconds=3600, prompt="Ship this order?"
                ),
                "Shipped": Succeed(),
                "Rejected": Fail(error="Review.Rejected"),
            },
        )
    )
    order = make_order(status="awaiting_approval", email="big-spender@example.com")
    execution = execution_start(workflow="dash-review", input={"order_id": order.pk}, order_id=order.pk)
    yield order, execution
    unregister("dash-review")


def test_the_queue_lists_waiting_executions_with_their_orders(as_user, held_order):
    order, _ = held_order
    html = as_user("view").get("/dashboard/operations/approvals/").content.decode()
    queue = html.split('id="approval-queue"')[1].split("</ol>")[0]
    assert order.number in queue and "Ship this order?" in queue and "big-spender@example.com" in queue
    assert f"/dashboard/orders/{order.number}/actions/approve/" not in queue  # a viewer decides nothing
    html = as_user("operate").get("/dashboard/operations/approvals/").content.decode()
    assert f"/dashboard/orders/{order.number}/actions/approve/" in html and "actions/reject/" not in html
    html = as_user("refund").get("/dashboard/operations/approvals/").content.decode()
    assert f"/dashboard/orders/{order.number}/actions/approve/" in html and "actions/reject/" in html


def test_approve_decides_the_workflow_once_with_the_staff_user(as_user, users, held_order):
    order, execution = held_order
    client = as_user("operate")
    request_key = key()
    url = f"/dashboard/orders/{order.number}/actions/approve/"
    assert act(client, url, {"note": "known customer"}, request_key=request_key).status_code == 303
    again = act(client, url, {"note": "known customer"}, request_key=request_key)
    assert "already done" in " ".join(messages_of(client, again))
    step = StepRun.objects.get(execution=execution, state="Approve")
    assert (step.decision, step.decided_by, step.decision_note) == ("approved", users["operate"], "known customer")
    (audit,) = order.events.filter(type="staff.approval_decided")
    assert audit.staff_user == users["operate"] and audit.data["decision"] == "approved"
    refused = act(as_user("refund"), f"/dashboard/orders/{order.number}/actions/reject/", {"note": ""})
    assert refused.status_code == 409


def test_reject_goes_down_the_workflows_reject_path(as_user, users, held_order):
    order, execution = held_order
    # Rejecting is a refund decision (issue 13.10): the refund level.
    html = as_user("refund").get(f"/dashboard/orders/{order.number}/").content.decode()
    assert (
        'id="action-reject"' in html and "Workflow dash-review: 1 step" in html and "<strong>Approve</strong>" in html
    )
    act(as_user("refund"), f"/dashboard/orders/{order.number}/actions/reject/", {"note": "stolen card"})
    step = StepRun.objects.get(execution=execution, state="Approve")
    assert (step.decision, step.decided_by) == ("rejected", users["refund"])
    execution.refresh_from_db()
    assert (execution.status, execution.error) == ("failed", "Review.Rejected")


def test_reject_without_a_workflow_is_refused(as_user):
    order = make_order(status="awaiting_approval")
    response = act(as_user("refund"), f"/dashboard/orders/{order.number}/actions/reject/", {"note": ""})
    assert response.status_code == 409 and "No workflow waits for a decision" in response.content.decode()
