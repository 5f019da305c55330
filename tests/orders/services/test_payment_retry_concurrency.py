"""Two 'pay with this method' clicks at once (a double click, two tabs) make one new payment."""

import threading

import pytest
from django.db import connection

from orders import errors
from orders.models import Order, Product
from orders.services.checkout import CartItem, checkout
from orders.services.payment_retry import order_retry_payment
from tests.factories import make_product
from tests.markers import requires_postgres
from tests.orders.services.test_payment_retry import StripeLike

pytestmark = [requires_postgres, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_simultaneous_retries_make_one_new_payment_and_hold_the_stock_once(fake_stripe):
    # given a declined order and a Stripe that takes a moment to answer
    make_product(sku="BOWL", price_amount=38000, stock_on_hand=3)
    fake_stripe.responder = StripeLike()
    with pytest.raises(errors.PaymentDeclinedAtCheckout) as declined:
        checkout(
            items=[CartItem("BOWL", 2)],
            email="a@example.jp",
            method="card",
            locale="ja",
            payment_method_id="pm_card_chargeDeclined",
        )
    order_id = declined.value.order.pk
    fake_stripe.delay_seconds = 0.3
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def click() -> None:
        try:
            barrier.wait()
            order_retry_payment(order_id=order_id, method="konbini")
            outcomes.append("paying")
        except errors.PaymentRetryNotAllowed as exc:
            outcomes.append(exc.reason)
        except Exception as exc:
            outcomes.append(f"error: {exc!r}")
        finally:
            connection.close()

    # when four clicks arrive at once
    threads = [threading.Thread(target=click) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    # then one of them set up the new payment; the others were told it is under way
    assert sorted(outcomes) == ["in_progress"] * 3 + ["paying"], outcomes
    order = Order.objects.get(pk=order_id)
    assert order.status == "awaiting_payment"
    assert [p.method for p in order.payments.order_by("pk")] == ["card", "konbini"]
    assert Product.objects.get().stock_reserved == 2  # reserved again once, not per click
