import datetime as dt

import pytest
from django.utils import timezone

from orders.models import Product
from orders.services.expiry import EXPIRY_GRACE, expire_unpaid_orders
from orders.tasks import expire_unpaid_orders as expire_task
from tests.factories import make_order, make_payment, make_product
from tests.fakes.stripe_api import payment_intent_json

pytestmark = pytest.mark.django_db

PAST = timezone.now() - EXPIRY_GRACE - dt.timedelta(minutes=5)


def test_expired_bank_transfer_is_cancelled_at_stripe_and_releases_stock(fake_stripe):
    product = make_product(stock_on_hand=3)
    order = make_order(status="awaiting_payment", product=product, quantity=2, payment_expires_at=PAST)
    make_payment(order, intent_id="pi_bt", method="bank_transfer", status="requires_action")
    fake_stripe.responder = lambda r: (200, payment_intent_json(id="pi_bt", status="canceled"))

    assert expire_task.apply().result == 1

    (request,) = fake_stripe.requests
    assert request.path == "/v1/payment_intents/pi_bt/cancel"
    assert request.idempotency_key == f"payops:{order.number}:expire"
    order.refresh_from_db()
    assert order.status == "expired"
    assert order.payments.get().status == "canceled"
    assert Product.objects.get(pk=product.pk).stock_available == 3


def test_payment_that_succeeded_meanwhile_wins_over_expiry(fake_stripe):
    order = make_order(status="awaiting_payment", payment_expires_at=PAST)
    make_payment(order, intent_id="pi_paid", method="konbini", status="requires_action")

    def responder(request):
        if request.path.endswith("/cancel"):
            return 400, {"error": {"type": "invalid_request_error", "code": "payment_intent_unexpected_state"}}
        return 200, payment_intent_json(id="pi_paid", status="succeeded", amount_received=order.total_amount)

    fake_stripe.responder = responder
    assert expire_unpaid_orders() == 0
    order.refresh_from_db()
    assert order.status == "paid"


def test_orders_within_their_window_or_grace_are_kept(fake_stripe):
    make_order(status="awaiting_payment", payment_expires_at=timezone.now() + dt.timedelta(hours=1))
    make_order(status="awaiting_payment", payment_expires_at=timezone.now() - EXPIRY_GRACE / 2)
    make_order(status="paid", payment_expires_at=PAST)
    assert expire_unpaid_orders() == 0
    assert fake_stripe.requests == []


def test_stripe_unreachable_leaves_the_order_for_the_next_sweep(fake_stripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    order = make_order(status="awaiting_payment", payment_expires_at=PAST)
    make_payment(order, status="requires_action")
    assert expire_unpaid_orders() == 0
    order.refresh_from_db()
    assert order.status == "awaiting_payment"
