"""Issue 14.1: shoppers are offered, and may use, only the payment methods meant for them.

"Paid outside Stripe" is how staff record money that arrived another way; a shopper who chose it
got a 500 and an order stuck in pending_payment holding stock. The shop form, the API and the
checkout service refuse the same methods, and a failure after the order row is written never
leaves the order half-made.
"""

import json

import pytest

from orders import errors
from orders.models import Order, Payment, Product
from orders.models.payments import PaymentMethod
from orders.services.checkout import CartItem, checkout, shopper_payment_methods
from tests.factories import make_product
from tests.fakes.stripe_api import KONBINI_ACTION, payment_intent_json

pytestmark = pytest.mark.django_db

SHOPPER_METHODS = {"card", "konbini", "bank_transfer"}


@pytest.fixture
def tea():
    return make_product(sku="TEA", price_amount=1500, stock_on_hand=5)


def test_shoppers_may_use_card_konbini_and_bank_transfer_but_not_outside():
    assert set(shopper_payment_methods()) == SHOPPER_METHODS
    assert PaymentMethod.OUTSIDE not in shopper_payment_methods()


def _cart_with_tea(client) -> None:
    assert client.post("/cart/add/", {"sku": "TEA", "quantity": "1"}).status_code == 302


def test_the_shop_offers_only_the_shopper_methods(client, tea):
    _cart_with_tea(client)
    html = client.get("/checkout/").content.decode()
    offered = set()
    for method in PaymentMethod.values:
        if f'value="{method}"' in html:
            offered.add(method)
    assert offered == SHOPPER_METHODS


def test_the_shop_form_refuses_outside_on_the_payment_method_field_and_creates_nothing(client, tea, fake_stripe):
    _cart_with_tea(client)
    response = client.post("/checkout/", {"email": "a@example.com", "payment_method": "outside"})
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors["payment_method"], form.errors
    # and the review step cannot be reached with it
    assert client.post("/checkout/review/")["Location"] == "/checkout/"
    assert not Order.objects.exists() and not Payment.objects.exists()
    assert fake_stripe.requests == []
    tea.refresh_from_db()
    assert tea.stock_reserved == 0


def test_the_api_refuses_outside_with_a_problem_on_the_payment_method_field(client, tea, fake_stripe):
    body = {"items": [{"sku": "TEA", "quantity": 1}], "email": "a@example.com", "payment_method": "outside"}
    response = client.post("/api/v1/checkout/", json.dumps({**body, "locale": "en"}), content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == ["payment_method"]
    assert not Order.objects.exists()
    assert fake_stripe.requests == []


def test_the_service_refuses_outside_before_writing_anything(tea, fake_stripe):
    with pytest.raises(errors.PaymentMethodNotAvailable) as refused:
        checkout(items=[CartItem("TEA", 1)], email="a@example.com", method="outside", locale="en")
    assert refused.value.field == "payment_method"
    assert not Order.objects.exists()
    assert Product.objects.get().stock_reserved == 0


def test_an_unexpected_failure_after_the_order_is_written_releases_it(tea, fake_stripe):
    # given Stripe answers something payops cannot read (a bug's stand-in: any exception)
    fake_stripe.responder = lambda r: (200, {"object": "payment_intent"})
    # when
    with pytest.raises(Exception):  # noqa: B017, PT011 - whichever error: the order must not stay half-made
        checkout(items=[CartItem("TEA", 2)], email="a@example.com", method="konbini", locale="en")
    # then the order gave its stock back and says it failed; its payment is not left `creating`
    order = Order.objects.get()
    assert order.status == "payment_failed"
    assert Product.objects.get().stock_reserved == 0
    assert order.payments.get().status != "creating"


def test_the_shop_answers_a_clear_page_not_a_500_when_setup_fails_unexpectedly(client, tea, fake_stripe):
    fake_stripe.responder = lambda r: (200, {"object": "payment_intent"})
    _cart_with_tea(client)
    client.post("/checkout/", {"email": "a@example.com", "payment_method": "konbini"})
    response = client.post("/checkout/review/")
    order = Order.objects.get()
    assert response.status_code == 302 and response["Location"] == order.get_absolute_url()
    assert order.status == "payment_failed"
    assert Product.objects.get().stock_reserved == 0


def test_a_working_checkout_is_unchanged(tea, fake_stripe):
    fake_stripe.responder = lambda r: (
        200,
        payment_intent_json(amount=int(r.params["amount"]), status="requires_action", next_action=KONBINI_ACTION),
    )
    result = checkout(items=[CartItem("TEA", 1)], email="a@example.com", method="konbini", locale="en")
    assert result.order.status == "awaiting_payment"


def test_a_voucher_stripe_made_for_an_order_released_by_a_failure_is_cancelled(tea, fake_stripe, monkeypatch):
    # given Stripe makes the konbini voucher, then recording it fails (a bug's stand-in)
    from orders.services import checkout as checkout_module

    voucher = payment_intent_json(id="pi_voucher", amount=3000, status="requires_action", next_action=KONBINI_ACTION)
    fake_stripe.responder = lambda r: (
        (200, {**voucher, "status": "canceled"}) if r.path.endswith("/cancel") else (200, voucher)
    )

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(checkout_module, "payment_apply_intent", broken)
    # when
    with pytest.raises(errors.PaymentProviderUnavailable):
        checkout(items=[CartItem("TEA", 2)], email="a@example.com", method="konbini", locale="ja")
    # then the order is released and the voucher can no longer be paid
    assert Order.objects.get().status == "payment_failed"
    assert Product.objects.get().stock_reserved == 0
    assert [r.path for r in fake_stripe.requests] == ["/v1/payment_intents", "/v1/payment_intents/pi_voucher/cancel"]


def test_an_order_whose_money_stripe_took_is_not_released_when_recording_fails(tea, fake_stripe, monkeypatch):
    from orders.services import checkout as checkout_module

    fake_stripe.responder = lambda r: (200, payment_intent_json(id="pi_paid", amount=1500, status="succeeded"))

    def broken(**kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(checkout_module, "payment_apply_intent", broken)
    with pytest.raises(checkout_module.PaymentNotRecorded):
        checkout(
            items=[CartItem("TEA", 1)], email="a@example.com", method="card", locale="en", payment_method_id="pm_x"
        )
    # the order keeps its stock: Stripe's webhook for pi_paid links it and marks it paid
    assert Order.objects.get().status == "pending_payment"
    assert Product.objects.get().stock_reserved == 1
    assert not any(r.path.endswith("/cancel") for r in fake_stripe.requests)
