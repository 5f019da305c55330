"""Disputes and Radar reviews mid-workflow (as Stripe reports them, through the event handlers),
and the order leaving the workflow's hands."""

import datetime as dt
import time

import pytest

from orders.errors import ActionNotAllowed
from orders.services.fulfilment import order_mark_shipped
from orders.services.order_events import Cause
from orders.services.refunds import order_refund
from payops.workflow.models import WorkflowExecution
from tests.orders.workflow.conftest import refund_answer
from tests.stripe_events import stripe_event
from tests.workflow.helpers import open_step, reload, run_due
from webhooks.handlers import StripeEvent, stripe_handle

pytestmark = pytest.mark.django_db


def stripe_says(type, obj):
    stripe_handle(StripeEvent.from_payload(stripe_event(type, obj, created=int(time.time()))))


def dispute(order, status):
    return {
        "id": f"dp_{order.pk}",
        "object": "dispute",
        "payment_intent": f"pi_wf_{order.pk}",
        "status": status,
        "reason": "fraudulent",
        "amount": order.total_amount,
        "currency": "jpy",
        "evidence_details": {"due_by": 2_000_000_000},
    }


def review(order, kind, **fields):
    return {
        "id": f"prv_{order.pk}",
        "object": "review",
        "payment_intent": f"pi_wf_{order.pk}",
        "open": kind == "open",
        **fields,
    }


@pytest.fixture
def waiting_for_shipment(clock, pay):
    order, execution = pay()
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "WaitForShipment"
    return order, execution


def test_a_dispute_pauses_shipment_until_it_is_won(clock, waiting_for_shipment, staff):
    order, execution = waiting_for_shipment
    shipment_timeout = open_step(execution).due_at

    stripe_says("charge.dispute.created", dispute(order, "needs_response"))

    execution = reload(execution)
    assert execution.paused_at == clock.now()
    assert execution.pause_reason == f"dispute dp_{order.pk} is open"
    order.refresh_from_db()
    assert order.status == "disputed"
    with pytest.raises(ActionNotAllowed, match="on hold"):
        order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1")

    clock.advance(30 * 86400)  # the dispute takes a month; the shipment timeout does not run meanwhile
    run_due()
    assert reload(execution).status == "running"

    stripe_says("charge.dispute.closed", dispute(order, "won"))

    execution = reload(execution)
    assert execution.paused_at is None
    assert open_step(execution).due_at == shipment_timeout + dt.timedelta(days=30)


def test_a_won_dispute_returns_the_order_to_where_it_was_and_it_ships(clock, waiting_for_shipment, staff):
    order, execution = waiting_for_shipment
    stripe_says("charge.dispute.created", dispute(order, "needs_response"))
    stripe_says("charge.dispute.closed", dispute(order, "won"))
    assert reload(order).status == "fulfilling"
    order_mark_shipped(order_id=order.pk, cause=Cause.staff(staff), carrier="Yamato", tracking_number="1")
    run_due()
    assert reload(execution).current_state == "Fulfilled"


def test_a_dispute_lost_before_fulfilment_started_ends_the_execution(clock, pay):
    order, execution = pay()
    stripe_says("charge.dispute.created", dispute(order, "needs_response"))
    clock.advance(3600)
    run_due()
    assert reload(execution).current_state == "SettlePayment"  # nothing ran while paused
    assert order.events.filter(type="order.fulfilling").count() == 0

    stripe_says("charge.dispute.closed", dispute(order, "lost"))

    execution = reload(execution)
    assert (execution.status, execution.error) == ("aborted", "Fulfilment.Superseded")
    assert execution.cause.startswith("order.refunded by webhook")
    assert reload(order).status == "refunded"


def test_a_dispute_won_back_to_paid_does_not_start_a_second_execution(clock, pay):
    order, execution = pay()
    stripe_says("charge.dispute.created", dispute(order, "needs_response"))
    stripe_says("charge.dispute.closed", dispute(order, "won"))
    assert reload(order).status == "paid"  # an order.paid event again
    assert WorkflowExecution.objects.filter(order=order).count() == 1
    clock.advance(30)
    run_due()
    assert reload(execution).current_state == "WaitForShipment"


def test_a_radar_review_before_the_decision_asks_for_approval_after_it_pauses(clock, pay):
    reviewed, first = pay()
    stripe_says("review.opened", review(reviewed, "open", reason="rule"))
    clock.advance(30)
    run_due()
    first = reload(first)
    assert (first.current_state, first.paused_at) == ("Approval", None)
    assert "radar_review_open" in first.data["review"]["reasons"]

    order, later = pay(email="other@example.com")
    clock.advance(30)
    run_due()
    stripe_says("review.opened", review(order, "open", reason="manual"))
    assert reload(later).pause_reason == f"a Radar review of pi_wf_{order.pk} is open"
    stripe_says("review.closed", review(order, "closed", closed_reason="approved"))
    assert reload(later).paused_at is None


def test_a_refund_by_staff_mid_workflow_stops_it(clock, waiting_for_shipment, staff, fake_stripe):
    order, execution = waiting_for_shipment
    fake_stripe.responder = refund_answer()
    order_refund(order_id=order.pk, amount=None, reason="customer asked", cause=Cause.staff(staff), request_key="f1")
    execution = reload(execution)
    assert (execution.status, execution.error) == ("aborted", "Fulfilment.Superseded")
    assert execution.steps.get(state="WaitForShipment").status == "cancelled"


def test_a_partial_refund_does_not_stop_it(clock, waiting_for_shipment, staff, fake_stripe):
    order, execution = waiting_for_shipment
    fake_stripe.responder = refund_answer()
    order_refund(order_id=order.pk, amount=1000, reason="discount", cause=Cause.staff(staff), request_key="f2")
    assert reload(execution).status == "running"
