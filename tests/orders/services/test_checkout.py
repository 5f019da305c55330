import time

import pytest

from orders import errors
from orders.models import Order, OrderEvent, Payment, Product
from orders.services.checkout import CartItem, checkout
from tests.factories import make_product
from tests.fakes.stripe_api import bank_transfer_next_action, konbini_next_action, payment_intent_json

pytestmark = pytest.mark.django_db


def intent_from(request, **overrides):
    return payment_intent_json(
        id="pi_fake_1",
        amount=int(request.params["amount"]),
        currency=request.params["currency"],
        metadata={"order_number": request.params["metadata[order_number]"]},
        payment_method_types=[request.params["payment_method_types[0]"]],
        **overrides,
    )


def test_konbini_checkout_sends_a_confirmed_konbini_intent_and_stores_the_voucher(fake_stripe):
    # given
    product = make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    expires_at = int(time.time()) + 3 * 86400
    fake_stripe.responder = lambda r: (
        200,
        intent_from(r, status="requires_action", next_action=konbini_next_action(expires_at)),
    )
    # when
    result = checkout(items=[CartItem("TEA", 2)], email="Shopper@Example.com", method="konbini", locale="ja")
    # then: the request Stripe received
    (request,) = fake_stripe.requests_to("/v1/payment_intents")
    assert request.method == "POST"
    assert request.params["amount"] == "3000"
    assert request.params["currency"] == "jpy"
    assert request.params["payment_method_types[0]"] == "konbini"
    assert request.params["payment_method_data[type]"] == "konbini"
    assert request.params["payment_method_data[billing_details][email]"] == "shopper@example.com"
    assert request.params["payment_method_options[konbini][expires_after_days]"] == "3"
    assert request.params["confirm"] == "true"
    assert request.params["metadata[order_number]"] == result.order.number
    assert request.idempotency_key == f"payops:{result.order.number}:payment-intent"
    assert request.headers["authorization"].startswith("Bearer sk_test_")
    assert request.headers["stripe-version"]
    # and what payops kept
    order = result.order
    assert order.status == "awaiting_payment"
    assert order.payment_expires_at.timestamp() == expires_at
    assert order.customer.email == "shopper@example.com"
    assert result.payment.intent_id == "pi_fake_1"
    assert result.payment.next_action["konbini_display_details"]["stores"]["lawson"]["payment_code"] == "123456"
    product.refresh_from_db()
    assert (product.stock_reserved, product.stock_available) == (2, 3)
    assert list(OrderEvent.objects.filter(order=order).values_list("type", flat=True)) == [
        "order.created",
        "order.awaiting_payment",
    ]


def test_bank_transfer_checkout_creates_a_customer_and_stores_instructions(fake_stripe):
    make_product(sku="POT", price_amount=12800)

    def responder(r):
        if r.path == "/v1/customers":
            return 200, {"id": "cus_fake_1", "object": "customer", "email": r.params["email"]}
        return 200, intent_from(r, status="requires_action", next_action=bank_transfer_next_action(12800))

    fake_stripe.responder = responder
    result = checkout(items=[CartItem("POT", 1)], email="a@example.com", method="bank_transfer", locale="en")
    customer_request, intent_request = fake_stripe.requests
    assert customer_request.path == "/v1/customers"
    assert customer_request.idempotency_key == f"payops:customer:{result.order.customer.pk}"
    assert intent_request.params["customer"] == "cus_fake_1"
    assert intent_request.params["payment_method_types[0]"] == "customer_balance"
    assert intent_request.params["payment_method_options[customer_balance][funding_type]"] == "bank_transfer"
    assert intent_request.params["payment_method_options[customer_balance][bank_transfer][type]"] == "jp_bank_transfer"
    assert result.order.status == "awaiting_payment"
    assert result.payment.amount_remaining == 12800
    result.order.customer.refresh_from_db()
    assert result.order.customer.stripe_customer_id == "cus_fake_1"


def test_card_checkout_without_payment_method_returns_client_secret_and_waits(fake_stripe):
    make_product(sku="CUP", price_amount=4800)
    fake_stripe.responder = lambda r: (200, intent_from(r))
    result = checkout(items=[CartItem("CUP", 1)], email="a@example.com", method="card", locale="en")
    (request,) = fake_stripe.requests
    assert "confirm" not in request.params
    assert result.order.status == "pending_payment"
    assert result.payment.client_secret == "pi_fake_1_secret_abc"


def test_card_checkout_with_3ds_leaves_order_awaiting_payment(fake_stripe):
    make_product(sku="CUP", price_amount=4800)
    action = {"type": "redirect_to_url", "redirect_to_url": {"url": "https://hooks.stripe.com/3ds", "return_url": "x"}}
    fake_stripe.responder = lambda r: (200, intent_from(r, status="requires_action", next_action=action))
    result = checkout(
        items=[CartItem("CUP", 1)],
        email="a@example.com",
        method="card",
        locale="en",
        payment_method_id="pm_card_authenticationRequired",
    )
    (request,) = fake_stripe.requests
    assert request.params["payment_method"] == "pm_card_authenticationRequired"
    assert request.params["confirm"] == "true"
    assert request.params["return_url"] == result.order.status_url
    assert result.order.status == "awaiting_payment"


def test_card_succeeding_at_once_marks_the_order_paid(fake_stripe):
    make_product(sku="CUP", price_amount=4800)
    fake_stripe.responder = lambda r: (200, intent_from(r, status="succeeded", amount_received=4800))
    result = checkout(
        items=[CartItem("CUP", 1)], email="a@example.com", method="card", locale="en", payment_method_id="pm_card_visa"
    )
    assert result.order.status == "paid"
    assert result.order.paid_at is not None
    assert result.payment.amount_received == 4800


def test_declined_card_fails_the_order_with_the_reason_and_releases_stock(fake_stripe):
    product = make_product(sku="CUP", price_amount=4800, stock_on_hand=1)
    decline = {
        "error": {
            "type": "card_error",
            "code": "card_declined",
            "decline_code": "insufficient_funds",
            "message": "Your card has insufficient funds.",
        }
    }
    fake_stripe.responder = lambda r: (402, decline)
    with pytest.raises(errors.PaymentDeclinedAtCheckout) as caught:
        checkout(
            items=[CartItem("CUP", 1)],
            email="a@example.com",
            method="card",
            locale="en",
            payment_method_id="pm_card_chargeDeclined",
        )
    order = caught.value.order
    assert order.status == "payment_failed"
    assert caught.value.reason_code == "insufficient_funds"
    failed = order.events.get(type="order.payment_failed")
    assert failed.data == {"code": "insufficient_funds", "message": "Your card has insufficient funds."}
    product.refresh_from_db()
    assert product.stock_available == 1


@pytest.mark.parametrize("failure", ["server_error", "timeout", "unreachable"])
def test_stripe_down_fails_cleanly_holding_no_stock(fake_stripe, settings, failure):
    product = make_product(sku="CUP", stock_on_hand=2)
    if failure == "server_error":
        fake_stripe.responder = lambda r: (500, {"error": {"type": "api_error", "message": "boom"}})
    elif failure == "timeout":
        settings.STRIPE_TIMEOUT_SECONDS = 0.3
        fake_stripe.delay_seconds = 1.0
        fake_stripe.responder = lambda r: (200, intent_from(r))
    else:
        settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    with pytest.raises(errors.PaymentProviderUnavailable) as caught:
        checkout(items=[CartItem("CUP", 2)], email="a@example.com", method="card", locale="en")
    assert caught.value.order.status == "payment_failed"
    product.refresh_from_db()
    assert product.stock_available == 2


def test_library_retries_reuse_the_idempotency_key(fake_stripe, settings):
    # given Stripe fails once with a retryable error, then answers
    settings.STRIPE_MAX_NETWORK_RETRIES = 2
    make_product(sku="CUP", price_amount=4800)
    answers = iter([(500, {"error": {"type": "api_error", "message": "try again"}})])
    fake_stripe.responder = lambda r: next(answers, None) or (200, intent_from(r))
    # when
    result = checkout(items=[CartItem("CUP", 1)], email="a@example.com", method="card", locale="en")
    # then two requests reached Stripe, both with the order's key: Stripe returns one intent
    keys = [r.idempotency_key for r in fake_stripe.requests_to("/v1/payment_intents")]
    assert keys == [f"payops:{result.order.number}:payment-intent"] * 2
    assert Payment.objects.filter(order=result.order).count() == 1


@pytest.mark.parametrize(
    ("items", "method", "error", "message"),
    [
        ([], "card", errors.InvalidCart, "empty"),
        ([CartItem("NOPE", 1)], "card", errors.UnknownProduct, "NOPE"),
        ([CartItem("TEA", 1), CartItem("TEA", 1)], "card", errors.InvalidCart, "more than once"),
        ([CartItem("TEA", 6)], "card", errors.InsufficientStock, "requested 6, available 5"),
        ([CartItem("TEA", 1), CartItem("USD-ITEM", 1)], "card", errors.InvalidCart, "different currencies"),
        ([CartItem("USD-ITEM", 1)], "konbini", errors.PaymentMethodNotAvailable, "only available for JPY"),
        ([CartItem("USD-ITEM", 1)], "bank_transfer", errors.PaymentMethodNotAvailable, "only available for JPY"),
        ([CartItem("CHEAP", 1)], "konbini", errors.PaymentMethodNotAvailable, "between ¥120"),
        ([CartItem("BIG", 1)], "konbini", errors.PaymentMethodNotAvailable, "between ¥120"),
    ],
)
def test_refused_carts_create_nothing_and_reserve_nothing(fake_stripe, items, method, error, message):
    make_product(sku="TEA", price_amount=1500, stock_on_hand=5)
    make_product(sku="USD-ITEM", price_amount=999, currency="USD")
    make_product(sku="CHEAP", price_amount=100)
    make_product(sku="BIG", price_amount=300_001)
    with pytest.raises(error, match=message):
        checkout(items=items, email="a@example.com", method=method, locale="en")
    assert not Order.objects.exists()
    assert fake_stripe.requests == []
    assert sum(Product.objects.values_list("stock_reserved", flat=True)) == 0
