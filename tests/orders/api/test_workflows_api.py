import pytest

from orders.models import Order
from payops.workflow.definition import Approval, Fail, Succeed, Workflow
from payops.workflow.models import StepRun
from payops.workflow.registry import register, unregister
from payops.workflow.services import execution_start
from tests.api.fixtures import as_token, assert_problem, new_key
from tests.factories import make_order

pytestmark = pytest.mark.django_db

EXECUTIONS = "/api/v1/staff/workflow-executions/"
APPROVALS = "/api/v1/staff/workflow-approvals/"


@pytest.fixture
def held_order():
    register(
        Workflow(
            "api-review",
            "Approve",
            {
                "Approve": Approval(
                    on_approve="Shipped",
                    on_reject="Rejected",
                    timeout_seconds=3600,
                    prompt="Ship this order?",
                    details_path="$.reasons",
                ),
                "Shipped": Succeed(),
                "Rejected": Fail(error="Review.Rejected"),
            },
        )
    )
    order = make_order(status="awaiting_approval")
    execution = execution_start(
        workflow="api-review", input={"order_id": order.pk, "reasons": ["first order"]}, order_id=order.pk
    )
    yield order, execution
    unregister("api-review")


def test_list_and_timeline(client, viewer, held_order):
    order, execution = held_order
    api = as_token(client, viewer)

    (row,) = api.get(f"{EXECUTIONS}?status=running&order={order.number}").json()["results"]
    assert (row["id"], row["workflow"], row["order_number"]) == (execution.pk, "api-review", order.number)
    assert api.get(f"{EXECUTIONS}?status=failed").json()["results"] == []

    timeline = api.get(f"{EXECUTIONS}{execution.pk}/").json()
    assert timeline["current_state"] == "Approve"
    (step,) = timeline["steps"]
    assert (step["state"], step["kind"], step["status"], step["due_label"]) == (
        "Approve",
        "approval",
        "waiting",
        "approval times out",
    )
    assert_problem(api.get(f"{EXECUTIONS}999999/"), 404)


def test_pending_approvals(client, viewer, held_order):
    order, execution = held_order
    (pending,) = as_token(client, viewer).get(APPROVALS).json()["results"]
    assert pending["execution_id"] == execution.pk
    assert pending["order_number"] == order.number
    assert pending["prompt"] == "Ship this order?"
    assert pending["details"] == ["first order"]


def test_decide_an_execution_approval(client, viewer, operator, refunder, held_order):
    _, execution = held_order
    url = f"{EXECUTIONS}{execution.pk}/decision/"
    assert_problem(as_token(client, viewer).post(url, {"decision": "approved"}), 403)
    assert "decision" in assert_problem(as_token(client, operator).post(url, {"decision": "maybe"}), 400)["errors"]

    response = as_token(client, operator).post(url, {"decision": "approved", "note": "known customer"})

    assert response.status_code == 200, response.content
    step = StepRun.objects.get(execution=execution, state="Approve")
    assert (step.decision, step.decided_by, step.decision_note) == ("approved", operator, "known customer")
    again = as_token(client, refunder).post(url, {"decision": "rejected"})
    assert "not waiting for approval" in assert_problem(again, 409, "not-waiting-for-approval")["detail"]
    assert_problem(as_token(client, operator).post(f"{EXECUTIONS}999999/decision/", {"decision": "approved"}), 404)


def test_reject_an_order_through_its_workflow(client, operator, refunder, held_order):
    # Rejecting refunds in the fulfilment workflow: it needs the refund level (issue 13.10).
    order, execution = held_order
    assert_problem(as_token(client, operator).post(f"/api/v1/staff/orders/{order.number}/reject/", {}), 403)
    api, key = as_token(client, refunder), new_key()

    response = api.post(f"/api/v1/staff/orders/{order.number}/reject/", {"note": "fraud signals"}, key=key)

    assert response.status_code == 200, response.content
    step = StepRun.objects.get(execution=execution, state="Approve")
    assert (step.decision, step.decided_by) == ("rejected", refunder)
    event = Order.objects.get(pk=order.pk).events.get(type="staff.approval_decided")
    assert event.data["decision"] == "rejected"
    replay = api.post(f"/api/v1/staff/orders/{order.number}/reject/", {"note": "fraud signals"}, key=key)
    assert replay["Idempotent-Replayed"] == "true"
    assert Order.objects.get(pk=order.pk).events.filter(type="staff.approval_decided").count() == 1


def test_approve_an_order_held_without_a_workflow(client, operator, viewer):
    order = make_order(status="awaiting_approval")
    assert_problem(as_token(client, viewer).post(f"/api/v1/staff/orders/{order.number}/approve/", {}), 403)
    response = as_token(client, operator).post(f"/api/v1/staff/orders/{order.number}/approve/", {"note": "ok"})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "fulfilling"


def test_rejecting_without_a_waiting_workflow_is_a_409(client, refunder):
    order = make_order(status="awaiting_approval")
    problem = assert_problem(
        as_token(client, refunder).post(f"/api/v1/staff/orders/{order.number}/reject/", {}), 409, "action-not-allowed"
    )
    assert "cancel or refund" in problem["detail"]


def test_approving_an_order_that_is_not_held_is_a_409(client, operator):
    order = make_order(status="paid")
    assert_problem(as_token(client, operator).post(f"/api/v1/staff/orders/{order.number}/approve/", {}), 409)
