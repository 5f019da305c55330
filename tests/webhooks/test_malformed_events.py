"""Signed by Stripe but malformed (issue 14.10): stored as ignored with the reason, never a crash
that counts as a failed webhook and is retried for nothing."""

import time

import pytest

from tests.factories import make_order, make_payment
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 1000


def _without(obj, *keys):
    return {k: v for k, v in obj.items() if k not in keys}


def test_an_unknown_payment_without_status_is_ignored_with_the_reason():
    """The issue's case: it ended as a failed row with ``KeyError: 'status'``."""
    obj = _without(intent_object("pi_unknown", status="succeeded", amount=1500), "status")
    row = deliver(stripe_event("payment_intent.succeeded", obj, created=T0))
    assert (row.status, row.last_error) == ("ignored", "")
    assert row.outcome == "malformed payment_intent event: status missing or of the wrong type; nothing applied"


def test_a_known_payment_with_a_malformed_snapshot_is_ignored_and_left_alone():
    order = make_order(status="awaiting_payment")
    payment = make_payment(order, intent_id="pi_known", method="konbini", status="requires_action")
    obj = {**intent_object("pi_known", status="succeeded", amount=order.total_amount), "amount": "lots"}
    row = deliver(stripe_event("payment_intent.succeeded", obj, created=T0))
    assert row.status == "ignored"
    assert "amount" in row.outcome
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("requires_action", "awaiting_payment")


@pytest.mark.parametrize(
    ("type", "obj", "missing"),
    [
        ("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_known"}, "amount_refunded"),
        ("refund.updated", {"id": "re_1", "object": "refund", "payment_intent": "pi_known"}, "amount"),
        (
            "charge.dispute.created",
            {"id": "dp_1", "object": "dispute", "payment_intent": "pi_known", "amount": 1500},
            "status",
        ),
        ("review.opened", {"object": "review", "payment_intent": "pi_known", "open": True}, "id"),
        (
            "charge.refunded",
            {"id": "ch_1", "object": "charge", "payment_intent": "pi_known", "amount_refunded": True},
            "amount_refunded",
        ),
    ],
)
def test_malformed_charge_refund_dispute_and_review_events_are_ignored(type, obj, missing):
    order = make_order(status="paid")
    make_payment(order, intent_id="pi_known", status="succeeded", amount_received=order.total_amount)
    row = deliver(stripe_event(type, obj, created=T0))
    assert (row.status, row.last_error) == ("ignored", "")
    assert row.outcome.startswith("malformed ") and missing in row.outcome
    order.refresh_from_db()
    assert order.status == "paid"
    assert not order.events.exclude(type="order.created").exists()


def test_a_malformed_refund_in_a_charges_list_is_skipped_and_the_rest_applied():
    order = make_order(status="paid")
    make_payment(order, intent_id="pi_known", status="succeeded", amount_received=order.total_amount)
    good = {"id": "re_good", "object": "refund", "amount": 500, "currency": "jpy", "status": "succeeded"}
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": "pi_known",
        "amount_refunded": 500,
        "refunds": {"object": "list", "data": [{"id": "re_bad"}, good], "has_more": False},
    }
    row = deliver(stripe_event("charge.refunded", charge, created=T0))
    assert row.status == "processed"
    assert list(order.payments.get().refunds.values_list("refund_id", flat=True)) == ["re_good"]


@pytest.mark.parametrize("type", ["payment_intent.succeeded", "charge.refunded", "charge.dispute.created"])
@pytest.mark.parametrize("obj", [["not", "an", "object"], "text", None])
def test_an_object_that_is_no_json_object_is_ignored(type, obj):
    row = deliver(stripe_event(type, obj, created=T0))
    assert (row.status, row.last_error, row.order_id) == ("ignored", "", None)


@pytest.mark.parametrize("intent", [5, ["pi_known"], {"id": 7}])
def test_a_charge_naming_its_intent_oddly_belongs_to_no_order(intent):
    charge = {"id": "ch_1", "object": "charge", "payment_intent": intent, "amount_refunded": 100}
    row = deliver(stripe_event("charge.refunded", charge, created=T0))
    assert (row.status, row.last_error, row.order_id) == ("ignored", "", None)


@pytest.mark.parametrize("obj", [["a", "list"], {"object": "charge", "payment_intent": ["pi_known"]}])
def test_which_order_a_malformed_event_is_about_is_none_not_a_crash(obj):
    from orders.services.stripe_events import stripe_event_order_id
    from webhooks.handlers import StripeEvent

    assert stripe_event_order_id(StripeEvent("evt_odd", "charge.refunded", T0, obj)) is None
