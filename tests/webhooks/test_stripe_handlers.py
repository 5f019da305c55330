import time

import pytest

from orders.models import Dispute, Product, Refund
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import bank_transfer_next_action, konbini_next_action, payment_intent_json
from tests.stripe_events import intent_object, stripe_event
from tests.webhooks.helpers import deliver

pytestmark = pytest.mark.django_db

T0 = int(time.time()) - 1000


@pytest.fixture
def konbini_order():
    order = make_order(status="pending_payment", product=make_product(price_amount=3000, stock_on_hand=4), quantity=2)
    payment = make_payment(order, intent_id="pi_h", method="konbini", status="requires_payment_method", amount=6000)
    return order, payment


def pi_event(type, status, *, created, amount=6000, **overrides):
    return stripe_event(type, intent_object("pi_h", status=status, amount=amount, **overrides), created=created)


def charge_object(amount_refunded):
    return {
        "id": "ch_h",
        "object": "charge",
        "payment_intent": "pi_h",
        "amount": 6000,
        "amount_refunded": amount_refunded,
        "refunded": amount_refunded >= 6000,
    }


def dispute_object(status):
    return {
        "id": "dp_h",
        "object": "dispute",
        "payment_intent": "pi_h",
        "charge": "ch_h",
        "amount": 6000,
        "currency": "jpy",
        "reason": "fraudulent",
        "status": status,
        "evidence_details": {"due_by": T0 + 7 * 86400},
    }


def test_requires_action_stores_the_voucher_and_awaits_payment(konbini_order):
    order, payment = konbini_order
    row = deliver(
        pi_event(
            "payment_intent.requires_action", "requires_action", created=T0, next_action=konbini_next_action(T0 + 86400)
        )
    )
    assert row.status == "processed"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "awaiting_payment"
    assert payment.next_action["type"] == "konbini_display_details"
    assert order.payment_expires_at.timestamp() == T0 + 86400


def test_succeeded_marks_paid_and_a_late_processing_changes_nothing(konbini_order):
    order, payment = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0 + 10))
    deliver(pi_event("payment_intent.processing", "processing", created=T0 + 5))
    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid"
    assert payment.status == "succeeded"
    assert payment.amount_received == 6000


def test_partial_funding_records_amount_remaining(konbini_order):
    order, payment = konbini_order
    deliver(
        pi_event(
            "payment_intent.requires_action", "requires_action", created=T0, next_action=bank_transfer_next_action(6000)
        )
    )
    deliver(
        pi_event(
            "payment_intent.partially_funded",
            "requires_action",
            created=T0 + 1,
            next_action=bank_transfer_next_action(2500),
        )
    )
    payment.refresh_from_db()
    assert payment.amount_remaining == 2500
    event = order.events.get(type="payment.partially_funded")
    assert event.data == {"payment_intent": "pi_h", "amount_remaining": 2500}
    order.refresh_from_db()
    assert order.status == "awaiting_payment"


def test_payment_failed_stores_reason_and_releases_stock(konbini_order):
    order, _ = konbini_order
    deliver(
        pi_event(
            "payment_intent.payment_failed",
            "requires_payment_method",
            created=T0,
            last_payment_error={"code": "payment_intent_payment_attempt_expired", "message": "The voucher expired."},
        )
    )
    order.refresh_from_db()
    assert order.status == "payment_failed"
    assert order.events.get(type="order.payment_failed").data["code"] == "payment_intent_payment_attempt_expired"
    assert Product.objects.get().stock_available == 4


def test_canceled_cancels_an_unpaid_order(konbini_order):
    order, _ = konbini_order
    deliver(pi_event("payment_intent.canceled", "canceled", created=T0))
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_intent_not_from_payops_is_ignored(konbini_order):
    row = deliver(
        stripe_event("payment_intent.succeeded", intent_object("pi_other", status="succeeded", amount=100), created=T0)
    )
    assert row.status == "ignored"
    assert "does not belong" in row.outcome


def test_event_before_checkout_stored_the_intent_id_finds_the_order_by_metadata(fake_stripe):
    order = make_order(status="pending_payment")
    payment = make_payment(order, intent_id=None, status="creating")
    metadata = {"order_id": str(order.pk), "order_number": order.number}
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(
            id="pi_meta",
            amount=order.total_amount,
            amount_received=order.total_amount,
            status="succeeded",
            metadata=metadata,
        ),
    )
    deliver(
        stripe_event(
            "payment_intent.succeeded",
            intent_object("pi_meta", status="succeeded", amount=order.total_amount, metadata=metadata),
        )
    )
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.intent_id == "pi_meta"
    assert order.status == "paid"


def test_same_second_conflict_is_settled_by_reading_the_intent_from_stripe(konbini_order, fake_stripe):
    order, _ = konbini_order
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(id="pi_h", amount=6000, status="succeeded", amount_received=6000),
    )
    deliver(pi_event("payment_intent.requires_action", "requires_action", created=T0))
    deliver(pi_event("payment_intent.processing", "processing", created=T0))
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents/pi_h"]
    order.refresh_from_db()
    assert order.status == "paid"


def test_partial_then_full_refund(konbini_order):
    order, _ = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0))
    deliver(stripe_event("charge.refunded", charge_object(2000), created=T0 + 10))
    order.refresh_from_db()
    assert order.status == "partially_refunded"
    deliver(stripe_event("charge.refunded", charge_object(6000), created=T0 + 20))
    order.refresh_from_db()
    assert order.status == "refunded"


def test_refund_failure_is_recorded_and_visible(konbini_order):
    order, _ = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0))
    refund = {
        "id": "re_h",
        "object": "refund",
        "payment_intent": "pi_h",
        "amount": 6000,
        "currency": "jpy",
        "status": "pending",
    }
    deliver(stripe_event("refund.created", refund, created=T0 + 1))
    order.refresh_from_db()
    assert order.status == "refunded"  # a pending refund counts until it fails
    deliver(
        stripe_event(
            "refund.updated",
            {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"},
            created=T0 + 2,
        )
    )
    assert Refund.objects.get().status == "failed"
    failed = order.events.get(type="refund.failed")
    assert failed.data["failure_reason"] == "expired_or_canceled_card"


@pytest.mark.parametrize(("outcome", "final"), [("won", "paid"), ("lost", "refunded")])
def test_dispute_opens_then_closes(konbini_order, outcome, final):
    order, _ = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0))
    deliver(stripe_event("charge.dispute.created", dispute_object("needs_response"), created=T0 + 10))
    order.refresh_from_db()
    assert order.status == "disputed"
    dispute = Dispute.objects.get()
    assert dispute.evidence_due_by.timestamp() == T0 + 7 * 86400
    assert dispute.reason == "fraudulent"
    deliver(stripe_event("charge.dispute.closed", dispute_object(outcome), created=T0 + 20))
    order.refresh_from_db()
    assert order.status == final
    assert order.events.get(type="dispute.closed").data["outcome"] == outcome


def test_review_holds_and_releases_fulfilment(konbini_order):
    order, payment = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0))
    review = {"id": "prv_1", "object": "review", "payment_intent": "pi_h", "open": True, "reason": "rule"}
    deliver(stripe_event("review.opened", review, created=T0 + 1))
    payment.refresh_from_db()
    assert payment.review_open is True
    deliver(stripe_event("review.closed", {**review, "open": False, "reason": "approved"}, created=T0 + 2))
    payment.refresh_from_db()
    assert payment.review_open is False
    assert list(order.events.filter(type__startswith="payment.review").values_list("type", flat=True)) == [
        "payment.review_opened",
        "payment.review_closed",
    ]


def test_a_dispute_won_while_awaiting_approval_returns_the_order_to_its_approver(konbini_order):
    # given an order waiting for a person's approval when its charge is disputed
    order, _payment = konbini_order
    deliver(pi_event("payment_intent.succeeded", "succeeded", created=T0))
    order.refresh_from_db()
    order.status = "awaiting_approval"
    order.save(update_fields=["status"])
    deliver(stripe_event("charge.dispute.created", dispute_object("needs_response"), created=T0 + 10))
    order.refresh_from_db()
    assert order.status == "disputed"
    # when the merchant wins the dispute
    row = deliver(stripe_event("charge.dispute.closed", dispute_object("won"), created=T0 + 20))
    # then the order waits for its approval again (not failed, not skipped past approval)
    assert row.status == "processed", row.last_error
    order.refresh_from_db()
    assert order.status == "awaiting_approval"
