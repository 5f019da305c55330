"""Issue 13.2: a checkout that stopped after writing its order, with nobody to retry it, is
settled by the sweep within minutes, not after the konbini window."""

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from orders.models import Order, Payment, Product
from orders.services.checkout import CartItem, _create_order_reserving_stock
from orders.services.checkout_recovery import checkout_settle_abandoned
from tests.factories import make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json

pytestmark = pytest.mark.django_db


def half_made(method: str, *, minutes_ago: float) -> Order:
    """What a checkout leaves when its request dies between the order and the PaymentIntent."""
    order, payment = _create_order_reserving_stock(
        items=[CartItem("TEA", 2)], email="a@example.com", method=method, locale="ja", checkout_key=None
    )
    Payment.objects.filter(pk=payment.pk).update(created_at=timezone.now() - dt.timedelta(minutes=minutes_ago))
    return order


@pytest.fixture
def tea():
    return make_product(sku="TEA", price_amount=1500, stock_on_hand=5)


def reserved() -> int:
    return Product.objects.get(sku="TEA").stock_reserved


def test_the_sweep_is_scheduled_every_minute_and_settles_after_minutes():
    entry = next(e for e in settings.CELERY_BEAT_SCHEDULE.values() if e["task"].endswith("settle_abandoned_checkouts"))
    assert entry["schedule"] <= 60
    assert settings.PAYOPS_CHECKOUT_ABANDON_SECONDS <= 15 * 60
    assert settings.PAYOPS_CHECKOUT_ABANDON_SECONDS > settings.PAYOPS_IDEMPOTENCY_LOCK_SECONDS


def test_a_half_made_konbini_order_gets_the_intent_stripe_made_cancelled_and_its_stock_back(tea, fake_stripe):
    # given a konbini checkout that died after Stripe made its voucher intent
    order = half_made("konbini", minutes_ago=15)
    voucher = payment_intent_json(
        id="pi_orphan",
        amount=3000,
        status="requires_action",
        payment_method_types=["konbini"],
        next_action=KONBINI_ACTION,
    )

    def stripe(request):
        if request.path.endswith("/cancel"):
            return 200, {**voucher, "status": "canceled", "next_action": None}
        return 200, voucher

    fake_stripe.responder = stripe
    # when the sweep runs
    assert checkout_settle_abandoned() == 1
    # then Stripe was asked the same question with the same key (so it named the first intent),
    # that intent was cancelled, and the order gave its stock back
    create, cancel = fake_stripe.requests
    assert create.idempotency_key == f"payops:{order.number}:payment-intent"
    assert create.params["metadata[order_id]"] == str(order.pk)
    assert cancel.path == "/v1/payment_intents/pi_orphan/cancel"
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert order.payments.get().intent_id == "pi_orphan"
    assert reserved() == 0


def test_money_that_moved_finishes_the_order_instead(tea, fake_stripe):
    order = half_made("bank_transfer", minutes_ago=15)
    fake_stripe.responder = lambda r: (
        (200, {"id": "cus_1", "object": "customer"})
        if r.path == "/v1/customers"
        else (200, payment_intent_json(id="pi_paid", amount=3000, amount_received=3000, status="succeeded"))
    )
    checkout_settle_abandoned()
    order.refresh_from_db()
    assert order.status == "paid"
    assert not any(r.path.endswith("/cancel") for r in fake_stripe.requests)


def test_a_half_made_card_order_is_released_without_asking_stripe_to_charge(tea, fake_stripe):
    order = half_made("card", minutes_ago=15)
    checkout_settle_abandoned()
    order.refresh_from_db()
    payment = order.payments.get()
    assert order.status == "payment_failed"
    assert (payment.status, payment.failure_code) == ("setup_failed", "checkout_abandoned")
    assert reserved() == 0
    assert fake_stripe.requests == []


def test_a_checkout_still_within_its_retry_window_is_left_to_its_client(tea, fake_stripe):
    order = half_made("konbini", minutes_ago=1)
    assert checkout_settle_abandoned() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment" and reserved() == 2
    assert fake_stripe.requests == []


def test_stripe_unreachable_leaves_it_for_the_next_sweep(tea, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    order = half_made("konbini", minutes_ago=15)
    assert checkout_settle_abandoned() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment" and reserved() == 2


@pytest.mark.parametrize(("locked_for_minutes", "settled"), [(5, False), (-1, True)])
def test_a_checkout_whose_keyed_retry_is_running_is_left_to_it(tea, fake_stripe, locked_for_minutes, settled):
    from payops.idempotency.models import IdempotencyRecord

    now = timezone.now()
    record = IdempotencyRecord.objects.create(
        principal="anonymous",
        key="k",
        fingerprint="f",
        method="POST",
        path="/api/v1/checkout/",
        locked_until=now + dt.timedelta(minutes=locked_for_minutes),
        expires_at=now + dt.timedelta(days=1),
    )
    order = half_made("card", minutes_ago=15)
    Order.objects.filter(pk=order.pk).update(checkout_key=f"idempotency:{record.pk}")
    assert checkout_settle_abandoned() == 1
    order.refresh_from_db()
    assert (order.status == "payment_failed") is settled
