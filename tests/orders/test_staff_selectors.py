"""What staff may do with an order, decided once (orders/selectors.py) for the dashboard and the
API: the two edges must offer the same actions for the same order."""

from __future__ import annotations

import pytest

from orders.selectors import ORDER_STAFF_ACTIONS, allowed_staff_actions, refundable_amount, refundable_payment
from payops.workflow.definition import Approval, Fail, Succeed, Workflow
from payops.workflow.registry import register, unregister
from payops.workflow.services import execution_start
from tests.api.fixtures import as_token, make_staff
from tests.factories import make_order, make_payment, make_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def review_workflow():
    register(
        Workflow(
            "selector-review",
            "Approve",
            {
                "Approve": Approval(on_approve="Shipped", on_reject="Rejected", timeout_seconds=3600),
                "Shipped": Succeed(),
                "Rejected": Fail(error="Review.Rejected"),
            },
        )
    )
    yield "selector-review"
    unregister("selector-review")


def offered_by_both_edges(client, order):
    """The actions the API lists and the action forms the dashboard draws, for a refund-level user."""
    user = make_staff(f"both-{order.pk}", "refund")
    api = as_token(client, user).get(f"/api/v1/staff/orders/{order.number}/").json()["actions"]
    client.force_login(user)
    html = client.get(f"/dashboard/orders/{order.number}/").content.decode()
    dashboard = [name for name in ORDER_STAFF_ACTIONS if f'id="action-{name}"' in html]
    return api, dashboard


def test_an_order_held_without_a_workflow_can_be_approved_but_not_rejected_on_either_edge(client):
    # The API used to offer "reject" here, and then refuse it: no workflow waits to take it.
    order = make_order(status="awaiting_approval")
    api, dashboard = offered_by_both_edges(client, order)
    assert api == ["approve", "note"]
    assert dashboard == ["approve", "note"]


def test_an_order_a_workflow_waits_on_can_be_approved_or_rejected_on_either_edge(client, review_workflow):
    order = make_order(status="awaiting_approval")
    execution_start(workflow=review_workflow, input={"order_id": order.pk}, order_id=order.pk)
    api, dashboard = offered_by_both_edges(client, order)
    assert api == ["approve", "reject", "note"]
    assert dashboard == ["approve", "reject", "note"]


def test_the_user_narrows_the_offer_to_their_level():
    order = make_order(status="paid", product=make_product(price_amount=3000))
    make_payment(order, intent_id="pi_paid_x", status="succeeded", amount=3000, amount_received=3000)
    assert allowed_staff_actions(order) == ("refund", "note")
    assert allowed_staff_actions(order, user=make_staff("ref", "refund")) == ("refund", "note")
    assert allowed_staff_actions(order, user=make_staff("op", "operate")) == ("note",)
    assert allowed_staff_actions(order, user=make_staff("v", "view")) == ()


def test_the_refundable_payment_is_the_newest_succeeded_stripe_payment():
    order = make_order(status="paid", product=make_product(price_amount=3000))
    older = make_payment(order, intent_id="pi_old", status="succeeded", amount=3000, amount_received=3000)
    make_payment(order, intent_id="pi_failed", status="requires_payment_method")
    assert refundable_payment(order) == older
    newer = make_payment(order, intent_id="pi_new", status="succeeded", amount=3000, amount_received=3000)
    # Money recorded outside Stripe has no PaymentIntent to refund through.
    make_payment(order, intent_id=None, method="outside", status="succeeded", amount=3000, amount_received=3000)
    assert refundable_payment(order) == newer
    assert refundable_amount(newer) == 3000


def test_nothing_is_refundable_without_a_succeeded_stripe_payment():
    order = make_order(status="paid")
    make_payment(order, intent_id=None, method="outside", status="succeeded", amount=1500, amount_received=1500)
    assert refundable_payment(order) is None
    assert "refund" not in allowed_staff_actions(order)
